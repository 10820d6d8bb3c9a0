"""A 任务分解表 as the city's clerk fills it (minsheng.catalog.breakdown): the plan, five good rows (a task with a
district share, a yearly indicator, a task with written-out numbers, one without an indicator, a city-only one)
and the context the template is built with, for the parse tests and the gateway's and browser's imports."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from minsheng.catalog.breakdown import (
    CampaignHeading,
    KnownIndicators,
    build_breakdown_template,
    departments_of,
    fill_breakdown,
)
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.catalog.loader import read_catalog_file
from minsheng.orgunits import CITY_CODE, ORG_UNITS
from tests.conftest import ROOT

DOCS = [read_catalog_file(ROOT / "services" / c / f"minsheng_{c}" / "catalog.yaml") for c in CAMPAIGN_CODES]
CONTEXT = {
    "departments": departments_of(DOCS),
    "districts": [unit for unit in ORG_UNITS if unit.code != CITY_CODE],
    "campaigns": [CampaignHeading.of(doc) for doc in DOCS],
}
# The 2022–2024 plan's indicators: what a 接续指标 may name before any other plan is published.
KNOWN = KnownIndicators.of(DOCS[0].plan, (indicator.code for doc in DOCS for indicator in doc.all_indicators()))
NAMES = {doc.code: doc.name for doc in DOCS}
PLAN = {
    "name": "【演示】测试用民生行动方案",
    "document_number": "测试〔2031〕1号",
    "start_year": 2031,
    "end_year": 2033,
}

KINDERGARTENS = {
    "campaign": NAMES["education"],
    "number": 1,
    "item": "扩大优质教育资源供给",
    "text": "新改扩建公办幼儿园和中小学，扩大普惠性学前教育和义务教育优质学位供给。",
    "lead": "市教育局、市自然资源和规划局",
    "partners": "市住房城乡建设局、各区县（功能区）",
    "deadline": dt.date(2033, 12, 31),
    "indicator": "新改扩建公办幼儿园数量",
    "unit": "处",
    "target": 60,
    "kind": "累计值",
    "annual": "2031:20;2032:40",
    "quarterly": "2031Q2:6;2031Q4:20",
    "continues": "T002-1",
    "evidence": "是",
    "districts": {"370303": 8, "370302": 6},
}
SHARE = {
    "indicator": "公办园在园幼儿占比",
    "unit": "%",
    "target": 70,
    "baseline": 65,
    "kind": "水平值",
    "frequency": "年度",
}
BEDS = {
    "campaign": NAMES["eldercare"],
    "number": 2,
    "item": "完善居家社区养老服务",
    "text": "建设家庭养老床位，为经济困难失能老年人提供居家照护服务。",
    "lead": "市民政局",
    "deadline": "2032年底",
    "indicator": "家庭养老床位数量",
    "unit": "张",
    "comparator": "≥（不低于）",
    "target": "３，０００",  # full-width digits and separator: read as 3000
    "kind": "累计值",
    "annual": "2031：1,200",  # a full-width colon, a thousands separator
}
SCHOOLS = {
    "campaign": NAMES["education"],
    "number": 3,
    "item": "扩大优质教育资源供给",
    "text": "实施强镇筑基和乡村薄弱学校改造提升行动，改善农村学校办学条件。",
    "lead": "市教育局",
    "deadline": "长期",
    "evidence": "是",  # a task without indicators: its progress reports need evidence
}
UNEMPLOYMENT = {
    "campaign": "就业增收品质提升",  # the short name is accepted beside the drop-down's whole name
    "number": 4,
    "item": "稳定和扩大就业",
    "text": "实施就业优先战略，开展重点群体就业帮扶，稳定就业形势。",
    "lead": "市人力资源社会保障局",
    "deadline": dt.date(2033, 12, 31),
    "indicator": "城镇登记失业率",
    "unit": "%",
    "comparator": "≤（不超过）",
    "target": 3.5,
    "kind": "水平值",
    "level": "仅市级",
}
GOOD_ROWS = [KINDERGARTENS, SHARE, BEDS, SCHOOLS, UNEMPLOYMENT]


def template(**kwargs) -> bytes:
    return build_breakdown_template(**CONTEXT, **kwargs)


def filled(rows=GOOD_ROWS, plan=PLAN, edit=None) -> bytes:
    """The template filled with `rows`; `edit(workbook)` then does what a clerk's Excel might."""
    content = fill_breakdown(template(plan_years=range(2031, 2034)), plan=plan, rows=rows)
    return content if edit is None else edited(content, edit)


def edited(content: bytes, edit) -> bytes:  # noqa: ANN001 - edit(workbook)
    """The workbook `content` after `edit(workbook)` (openpyxl), as a clerk's Excel might change it."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""The city's 任务分解表: the workbook a next plan is loaded from (issue 26, point 5).

`build_breakdown_template` writes the template the city office fills: a sheet 任务分解表 (one row per task or
indicator), a sheet 方案 (the plan's own fields), a sheet 说明 (every column explained, with example rows) and
drop-downs from the current campaigns, departments and districts.  `parse_breakdown` reads a filled copy into
the plan (`PlanDoc`, state draft) and one `CampaignDoc` draft per campaign, with every error by sheet, row and
column in Chinese.  It is a dry run: nothing is created.  An uploaded file is read through
`UploadGuard.read(filename, content, parse_breakdown_upload, …)`, which judges the archive first (zip bombs,
sizes) and bounds the parse in time; this module bounds rows itself (`MAX_ROWS`).

Rules a clerk reads in the 说明 sheet, decided here once:
- A row with a 序号 starts a task (its 序号 is the task number, unique in the plan); a row with no 序号 is another
  indicator of the task above (its task columns left empty or repeating the task's).  Indicator codes are
  `T{task:03d}-n`, n counting the task's indicators in order; work items are numbered in order of first
  appearance, one per 所属领域 and 工作事项.
- Numbers may be written with thousands separators or full-width digits (１２，０００): they are read normalised.
  A number with words ("1.2万", "60以上") is refused: the unit goes to 单位, the direction to 比较方式.
- A formula or a merged cell where a value belongs is refused (the cell is named): a formula's value is not
  stored in a file every writer saves alike, and a merged cell leaves the rows below it empty.
- A number must appear in its source sentence (`CampaignDoc`'s rule).  A row of a 任务分解表 is its own source:
  the sentence is the row restated from its cells, e.g. "新改扩建公办幼儿园数量：到2027年累计不低于60处（基期值
  12处）", so that every figure stored is one the city wrote in that row.
- The horizon, the task numbers and every year come from the workbook; nothing here knows a plan's years.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, Field, ValidationError

from minsheng.catalog.document import (
    FREQUENCY_LABELS,
    Aggregation,
    CampaignDoc,
    Comparator,
    ContinuesDoc,
    DistrictTargetDoc,
    IndicatorDoc,
    IndicatorKind,
    MilestoneDoc,
    PlanDoc,
    PlanState,
    ReportingFrequency,
    TaskDoc,
    WorkItemDoc,
    default_frequency,
)
from minsheng.errors import DomainError
from minsheng.orgunits import ALL_DISTRICTS, OrgUnitSeed
from minsheng.reporting.files import load_workbook
from minsheng.settings import ProcessSettings
from minsheng.uploads import UNREADABLE_WORKBOOK, UploadLimits, bounded_rows

BREAKDOWN_SHEET = "任务分解表"
PLAN_SHEET = "方案"
GUIDE_SHEET = "说明"
OPTIONS_SHEET = "选项"
MAX_ROWS = 5000  # rows of tasks and indicators: a plan has a few hundred
MAX_ERRORS = 500  # listed at most; a workbook with more is wrong throughout and says so
HEADER_SCAN_ROWS = 10  # the header is looked for in a sheet's first rows (a title row may come first)
SEED = "分解表"  # the `seed` of what a 任务分解表 says: the row is its own source
TITLE_MAX = 40  # `TaskDoc.title`
UNIT_MAX = 20  # the catalog's column
XLSX_MAGIC = b"PK\x03\x04"

log = logging.getLogger(__name__)

HEADER_FILL = PatternFill("solid", fgColor="FF1F2D3D")
REQUIRED_FILL = PatternFill("solid", fgColor="FF8B1A1A")
DISTRICT_FILL = PatternFill("solid", fgColor="FF2F5D50")
WHITE_BOLD = Font(bold=True, color="FFFFFFFF")


# ---- the columns ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str
    width: int
    required: bool  # must be in the header
    help: str  # the 说明 sheet's line, and the header cell's comment
    aliases: tuple[str, ...] = ()  # headers other tables use for the same column


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "campaign", "所属领域", 22, True, "任务归属的攻坚行动，从下拉列表中选择（五个行动之一）。", ("领域", "所属行动")
    ),
    ColumnSpec(
        "number",
        "序号",
        6,
        True,
        "任务序号（正整数，全表不重复），即任务编号，指标编号由它生成（序号 12 的指标为 T012-1、T012-2…）。"
        "同一任务的第二个及以后的指标另起一行，序号留空。",
        ("任务序号", "编号"),
    ),
    ColumnSpec(
        "item",
        "工作事项",
        22,
        True,
        "任务所属的工作事项（同一领域中文字相同即为同一事项），任务行必填。",
        ("重点工作",),
    ),
    ColumnSpec(
        "text",
        "具体任务",
        50,
        True,
        "任务的完整表述（至少 10 个字），任务行必填；任务简称取第一个分句。",
        ("任务内容", "主要任务"),
    ),
    ColumnSpec(
        "lead",
        "主办单位",
        18,
        True,
        "牵头（主办）部门，任务行必填；多个部门用「、」分隔，须是下拉列表中的部门。",
        ("牵头单位", "牵头部门", "责任单位"),
    ),
    ColumnSpec(
        "partners",
        "协办单位",
        18,
        False,
        f"配合（协办）部门，可不填；多个用「、」分隔，可填部门、区县名称或「{ALL_DISTRICTS}」。",
        ("配合单位", "协办部门", "配合部门"),
    ),
    ColumnSpec(
        "indicator",
        "指标",
        24,
        True,
        "量化指标的名称（没有量化指标的任务留空）；一行一个指标。",
        ("指标名称",),
    ),
    ColumnSpec("unit", "单位", 8, True, "指标的计量单位，如 处、人、%、万元；填写目标值时必填。", ("计量单位",)),
    ColumnSpec(
        "comparator",
        "比较方式",
        11,
        False,
        "目标值的方向：≥（不低于，默认）、≤（不超过）、≈（左右）。",
    ),
    ColumnSpec(
        "target",
        "目标值",
        10,
        True,
        "到完成时限应达到的数值（只填数字，可带千分位；文字和单位请分别填在比较方式、单位列）。",
        ("目标", "目标数"),
    ),
    ColumnSpec("baseline", "基期值", 10, False, "方案开始前一年的数值，可不填。", ("基数", "基期数")),
    ColumnSpec(
        "deadline",
        "完成时限",
        12,
        True,
        "任务行必填：日期（如 {last}-12-31），或「{last}年」「{last}年底」；「长期」「持续推进」即方案结束。"
        "指标行可填本指标自己的时限，不填同任务。须在方案起止年份内。",
        ("完成时间", "时限"),
    ),
    ColumnSpec(
        "kind",
        "指标类型",
        10,
        True,
        "填写指标时必选：累计值（方案期内累计完成）、年度值（每年都要达到）、水平值（期末达到的水平、比率）、"
        "单年值（某一年的目标）。",
    ),
    ColumnSpec(
        "aggregation",
        "汇总方式",
        10,
        False,
        "区县数值怎样汇总成全市：求和、比率（按分子分母）、不汇总；不填时单位为 %、‰ 或「每…」的为比率，其余求和。",
    ),
    ColumnSpec(
        "frequency",
        "报送频次",
        10,
        False,
        "月度、季度、年度；不填时按指标类型和汇总方式确定（流量月报，存量季报，比率年报）。",
    ),
    ColumnSpec("level", "填报层级", 10, False, "市和区县（默认）或仅市级；仅市级的指标不能有区县分解。"),
    ColumnSpec(
        "annual",
        "分年度目标",
        22,
        False,
        "各年应达到的值，如「{first}:20;{second}:40」（年份:数值，用「;」分隔）；年份须在方案期内、不晚于完成时限，"
        "完成时限那一年的值须等于目标值。",
        ("年度目标",),
    ),
    ColumnSpec(
        "quarterly",
        "分季度目标",
        22,
        False,
        "季度里程碑，如「{first}Q2:8;{first}Q4:20」（年份Q季度:数值，用「;」分隔）；年份规则同分年度目标。",
        ("季度目标",),
    ),
    ColumnSpec(
        "continues",
        "接续指标",
        12,
        False,
        "本指标接续的上一轮方案指标的编号（如 T002-1），没有则留空；历史数据将跨方案连续显示。",
        ("接续指标编号",),
    ),
    ColumnSpec(
        "evidence",
        "须附佐证",
        10,
        False,
        "是或否（默认否）。指标行填「是」：填报该指标的数值时须同时上传佐证材料（照片、验收证明、名单等）；"
        "没有指标的任务行填「是」：填报该任务的进展时须附佐证材料。",
        ("需附佐证", "是否须附佐证"),
    ),
)
FIXED = {spec.key: spec for spec in COLUMNS}
REQUIRED_KEYS = tuple(spec.key for spec in COLUMNS if spec.required)
TASK_KEYS = ("campaign", "item", "text", "lead", "partners")  # may repeat the task's on its indicator rows
INDICATOR_KEYS = (
    "indicator",
    "unit",
    "comparator",
    "target",
    "baseline",
    "kind",
    "aggregation",
    "frequency",
    "level",
    "annual",
    "quarterly",
    "continues",
)
DISTRICT_HELP = "区县分解：表头为区县代码和名称，填该区县承担的目标值（须有全市目标值，可只填部分区县）。"

COMPARATOR_LABELS = {
    Comparator.at_least: "≥（不低于）",
    Comparator.at_most: "≤（不超过）",
    Comparator.about: "≈（左右）",
}
COMPARATOR_WORDS = {
    Comparator.at_least: ("不低于", ""),
    Comparator.at_most: ("不超过", ""),
    Comparator.about: ("", "左右"),
}
KIND_LABELS = {
    IndicatorKind.cumulative: "累计值",
    IndicatorKind.yearly: "年度值",
    IndicatorKind.level: "水平值",
    IndicatorKind.one_year: "单年值",
}
AGGREGATION_LABELS = {Aggregation.sum: "求和", Aggregation.ratio: "比率", Aggregation.none: "不汇总"}
LEVEL_LABELS = {False: "市和区县", True: "仅市级"}
EVIDENCE_LABELS = {True: "是", False: "否"}
RATIO_UNITS = ("%", "‰", "％")
OPEN_ENDED = ("长期", "长期坚持", "持续", "持续推进", "持续开展", "长期推进")

PLAN_FIELDS = (  # (key, label, help)
    ("name", "名称", "方案全称，如「关于……的行动方案（起止年份）」；演示用的方案以【演示】开头。"),
    ("document_number", "文号", "印发文件的文号，如「淄政办发〔年份〕N号」，尚未印发可不填。"),
    ("start_year", "开始年份", "方案第一年（四位数字），方案从该年 1 月 1 日开始。"),
    ("end_year", "结束年份", "方案最后一年（四位数字，不早于开始年份），方案到该年 12 月 31 日结束。"),
    ("code", "方案代码", "可不填：平台内的英文代码（小写字母、数字和 -），不填时为 plan-开始年份-结束年份。"),
)
PLAN_LABELS = {label: key for key, label, _ in PLAN_FIELDS} | {"方案名称": "name", "印发文号": "document_number"}


@dataclass(frozen=True)
class CampaignHeading:
    """A campaign as a 任务分解表 names it: the five current campaign services."""

    code: str
    number: int
    name: str
    title: str

    @classmethod
    def of(cls, doc: CampaignDoc) -> CampaignHeading:
        return cls(code=doc.code, number=doc.number, name=doc.name, title=doc.title)

    @property
    def short_name(self) -> str:
        """实施教育品质提升三年攻坚行动 → 教育品质提升: what a clerk may write instead of the whole name."""
        return self.name.removeprefix("实施").removesuffix("三年攻坚行动").removesuffix("攻坚行动")


def departments_of(docs: Iterable[CampaignDoc]) -> list[str]:
    """The lead departments of catalog documents, in the order the plan first names them."""
    return list(dict.fromkeys(d for doc in docs for task in doc.tasks() for d in task.lead_departments))


# ---- errors and the result --------------------------------------------------------------------------------


class BreakdownError(BaseModel):
    """One thing wrong in a 任务分解表, where a clerk finds it."""

    sheet: str | None = Field(default=None, description="工作表名称；整个文件有误时为空")
    row: int | None = Field(default=None, description="行号（与 Excel 左侧行号一致）")
    column: str | None = Field(default=None, description="列号，如 D")
    column_name: str | None = Field(default=None, description="列标题，如 具体任务")
    field: str = Field(default="", description="同 column_name（与其他接口的错误项一致）；整体有误时为空")
    code: str = Field(description="错误代码，如 unknown_department、duplicate_number")
    message: str = Field(description="给办事员看的中文说明，含位置和改法")


@dataclass(frozen=True)
class TaskExtras:
    """Where a task came from: its campaign and its row (its 协办单位 are the document's `partner_departments`)."""

    campaign: str
    row: int


@dataclass(frozen=True)
class IndicatorExtras:
    """What an indicator row says beyond `IndicatorDoc` (quarterly targets)."""

    row: int
    quarterly_targets: tuple[tuple[str, float], ...] = ()  # (period code such as 2026Q2, value)


@dataclass(frozen=True)
class KnownIndicators:
    """The indicators a 接续指标 may name: each plan the platform holds, with its indicators' codes.  The column
    holds an indicator code only, and codes repeat from plan to plan (T001-1), so the code is looked up in the
    plans begun before the workbook's, the latest holding it first: that plan is stored with the link."""

    plans: tuple[tuple[PlanDoc, frozenset[str]], ...]

    @classmethod
    def of(cls, plan: PlanDoc, codes: Iterable[str]) -> KnownIndicators:
        return cls(plans=((plan, frozenset(codes)),))

    def continued(self, code: str, plan: PlanDoc | None) -> ContinuesDoc | None:
        """The indicator `code` of the latest plan begun before `plan` (of any plan, when the plan sheet could not
        be read) that holds it; None: no such plan."""
        holding = [
            known
            for known, codes in self.plans
            if code in codes and (plan is None or (known.start < plan.start and known.code != plan.code))
        ]
        latest = max(holding, key=lambda known: known.start, default=None)
        return None if latest is None else ContinuesDoc(plan=latest.code, indicator=code)


@dataclass
class BreakdownResult:
    """A dry run's outcome: the plan and the campaign drafts (built from the rows without errors), every error
    and warning. `usable` is False when the workbook as a whole could not be read (no docs then)."""

    usable: bool
    errors: list[BreakdownError]
    warnings: list[BreakdownError] = field(default_factory=list)
    plan: PlanDoc | None = None
    campaigns: dict[str, CampaignDoc] = field(default_factory=dict)
    tasks: dict[int, TaskExtras] = field(default_factory=dict)
    indicators: dict[str, IndicatorExtras] = field(default_factory=dict)
    sheet: str | None = None  # the sheet the rows were read from
    rows: int = 0  # rows of tasks and indicators read

    @property
    def ok(self) -> bool:
        return self.usable and not self.errors and self.plan is not None


# ---- the template -----------------------------------------------------------------------------------------


def _example_years(plan_years: Sequence[int] | None, today: dt.date | None) -> list[int]:
    if plan_years:
        return list(plan_years)
    first = (today or dt.date.today()).year + 1  # a next plan: from next year
    return [first, first + 1, first + 2]


def _pick(options: Sequence[str], preferred: str) -> str:
    return preferred if preferred in options else (options[0] if options else preferred)


def _example_rows(
    campaigns: Sequence[CampaignHeading], departments: Sequence[str], districts: Sequence[OrgUnitSeed], years: list[int]
) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Two rows of one task (two indicators) for the 说明 sheet, and their district shares (first row)."""
    campaign = next((c for c in campaigns if c.code == "education"), campaigns[0] if campaigns else None)
    first, last = years[0], years[-1]
    task = {
        "campaign": campaign.name if campaign else "",
        "number": 1,
        "item": "扩大优质教育资源供给",
        "text": "新改扩建公办幼儿园和中小学，扩大普惠性学前教育和义务教育优质学位供给。",
        "lead": _pick(departments, "市教育局"),
        "partners": _pick(departments, "市自然资源和规划局") + "、" + ALL_DISTRICTS,
        "deadline": f"{last}-12-31",
    }
    first_row = task | {
        "indicator": "新改扩建公办幼儿园数量",
        "unit": "处",
        "comparator": COMPARATOR_LABELS[Comparator.at_least],
        "target": 60,
        "kind": KIND_LABELS[IndicatorKind.cumulative],
        "aggregation": AGGREGATION_LABELS[Aggregation.sum],
        "frequency": FREQUENCY_LABELS[ReportingFrequency.month],
        "level": LEVEL_LABELS[False],
        "annual": ";".join(f"{year}:{20 * (i + 1)}" for i, year in enumerate(years[:-1])),
        "quarterly": f"{first}Q2:8;{first}Q4:20",
        "continues": "T002-1",
        "evidence": EVIDENCE_LABELS[True],
    }
    second_row = {
        "indicator": "公办园在园幼儿占比",
        "unit": "%",
        "comparator": COMPARATOR_LABELS[Comparator.at_least],
        "target": 70,
        "baseline": 65,
        "kind": KIND_LABELS[IndicatorKind.level],
        "aggregation": AGGREGATION_LABELS[Aggregation.ratio],
        "frequency": FREQUENCY_LABELS[ReportingFrequency.year],
    }
    shares = {d.code: value for d, value in zip(districts, (10, 8), strict=False)}
    return [first_row, second_row], shares


def column_help(spec: ColumnSpec, years: Sequence[int]) -> str:
    """A column's help with the plan's years in its examples."""
    return spec.help.format(first=years[0], second=years[min(1, len(years) - 1)], last=years[-1])


def district_header(district: OrgUnitSeed) -> str:
    return f"{district.code} {district.name}"


def _options(campaigns: Sequence[CampaignHeading], departments: Sequence[str], districts: Sequence[OrgUnitSeed]):
    return {
        "所属领域": [c.name for c in campaigns],
        "主办单位": list(departments),
        "协办单位": [*departments, ALL_DISTRICTS, *(d.name for d in districts)],
        "比较方式": list(COMPARATOR_LABELS.values()),
        "指标类型": list(KIND_LABELS.values()),
        "汇总方式": list(AGGREGATION_LABELS.values()),
        "报送频次": list(FREQUENCY_LABELS.values()),
        "填报层级": list(LEVEL_LABELS.values()),
        "须附佐证": list(EVIDENCE_LABELS.values()),
    }


def build_breakdown_template(
    *,
    departments: Sequence[str],
    districts: Sequence[OrgUnitSeed],
    campaigns: Sequence[CampaignHeading],
    plan_years: Sequence[int] | None = None,
    today: dt.date | None = None,
) -> bytes:
    """The 任务分解表 template (.xlsx bytes). `plan_years`: the next plan's years when known (the 方案 sheet is
    pre-filled with them); otherwise the examples count from the year after `today`."""
    years = _example_years(plan_years, today)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = BREAKDOWN_SHEET
    headers = [spec.header for spec in COLUMNS] + [district_header(d) for d in districts]
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        spec = COLUMNS[index - 1] if index <= len(COLUMNS) else None
        cell.font = WHITE_BOLD
        cell.fill = DISTRICT_FILL if spec is None else REQUIRED_FILL if spec.required else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        comment = Comment(column_help(spec, years) if spec else DISTRICT_HELP, "民生平台")
        comment.width, comment.height = 300, 120
        cell.comment = comment
        sheet.column_dimensions[get_column_letter(index)].width = spec.width if spec else 12
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "C2"  # the header, 所属领域 and 序号 stay in view
    sheet.column_dimensions[get_column_letter(list(FIXED).index("deadline") + 1)].number_format = "yyyy-mm-dd"

    options = workbook.create_sheet(OPTIONS_SHEET)
    lists = _options(campaigns, departments, districts)
    for column, (title, values) in enumerate(lists.items(), start=1):
        options.cell(row=1, column=column, value=title)
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=column, value=value)
    options.sheet_state = "hidden"
    last_row = MAX_ROWS + 1
    for column, (title, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(column)
        several = title in ("主办单位", "协办单位")  # "市教育局、市卫生健康委": not one item of the list
        validation = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning" if several else "stop",
            errorTitle=f"{title}不在列表中",
            error=(
                "不在部门名单中。多个单位用「、」分隔时请点「是」保留；否则请从下拉列表中选择"
                if several
                else "请从下拉列表中选择"
            ),
        )
        sheet.add_data_validation(validation)
        target = get_column_letter(list(FIXED).index(_KEY_BY_HEADER[title]) + 1)
        validation.add(f"{target}2:{target}{last_row}")
    number = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2="999",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="序号应为正整数",
        error="序号是任务编号（1–999 的整数）；同一任务的下一个指标行请留空",
    )
    sheet.add_data_validation(number)
    number.add(f"B2:B{last_row}")

    _plan_sheet(workbook, plan_years)
    _guide_sheet(workbook, campaigns, departments, districts, years)
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_KEY_BY_HEADER = {spec.header: spec.key for spec in COLUMNS}


def _plan_sheet(workbook: openpyxl.Workbook, plan_years: Sequence[int] | None) -> None:
    sheet = workbook.create_sheet(PLAN_SHEET, 1)
    sheet.append(["项目", "内容", "填写说明"])
    values = {"start_year": plan_years[0], "end_year": plan_years[-1]} if plan_years else {}
    for key, label, help_text in PLAN_FIELDS:
        sheet.append([label, values.get(key), help_text])
    for cell in sheet[1]:
        cell.font = WHITE_BOLD
        cell.fill = HEADER_FILL
    for row in range(2, len(PLAN_FIELDS) + 2):
        sheet.cell(row=row, column=1).font = Font(bold=True)
    years = DataValidation(
        type="whole",
        operator="between",
        formula1="1000",
        formula2="9999",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="年份应为四位数字",
        error="请填写四位数的年份",
    )
    sheet.add_data_validation(years)
    years.add("B4:B5")
    for column, width in zip("ABC", (12, 60, 80), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"


def _guide_sheet(
    workbook: openpyxl.Workbook,
    campaigns: Sequence[CampaignHeading],
    departments: Sequence[str],
    districts: Sequence[OrgUnitSeed],
    years: list[int],
) -> None:
    sheet = workbook.create_sheet(GUIDE_SHEET, 2)
    rows, shares = _example_rows(campaigns, departments, districts, years)
    lines = [
        "任务分解表 · 填写说明",
        "",
        f"1. 「{PLAN_SHEET}」工作表填写方案名称、文号、开始年份和结束年份；"
        f"「{BREAKDOWN_SHEET}」工作表一行一个任务或指标。",
        "2. 有序号的行是一个任务；同一任务有多个指标时，第二个及以后的指标另起一行，"
        "序号和任务各列留空（或与任务相同）。",
        "3. 红色表头的列必须保留；不要修改、删除表头，不要合并单元格，不要用公式（请粘贴为数值）。",
        "4. 数字可带千分位或用全角数字（如 １２，０００），平台按数字读取；目标值、基期值等只填数字，"
        "「以上」「左右」等填在比较方式列，单位填在单位列。",
        f"5. 最多 {MAX_ROWS} 行任务和指标（空行不计）；工作表名称请保持「{BREAKDOWN_SHEET}」，"
        "若已改名，平台按表头找到它。",
        "6. 上传后平台先试运行：逐行逐列列出错误（工作表、行号、列号和原因），不创建任何数据；"
        "改正后重新上传，没有错误时方可发布方案。",
        "7. 所属领域、主办单位、协办单位、比较方式、指标类型、汇总方式、报送频次、填报层级、须附佐证都有下拉列表；"
        "主办、协办单位有多个时用「、」分隔。",
        "",
        "各列说明",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["列", "列名", "必填", "填写说明"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, spec in enumerate(COLUMNS, start=1):
        sheet.append([get_column_letter(index), spec.header, "是" if spec.required else "", column_help(spec, years)])
    if districts:
        first, last = get_column_letter(len(COLUMNS) + 1), get_column_letter(len(COLUMNS) + len(districts))
        sheet.append([f"{first}–{last}", "区县分解", "", DISTRICT_HELP])
    sheet.append([])
    sheet.append(["示例（两行：一个任务，两个指标）"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    example_districts = [d for d in districts if d.code in shares]
    sheet.append([spec.header for spec in COLUMNS] + [district_header(d) for d in example_districts])
    for cell in sheet[sheet.max_row]:
        cell.font = WHITE_BOLD
        cell.fill = HEADER_FILL
    for index, values in enumerate(rows):
        district_values = [shares[d.code] if index == 0 else None for d in example_districts]
        sheet.append([values.get(spec.key) for spec in COLUMNS] + district_values)
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 8
    sheet.column_dimensions["D"].width = 100


def fill_breakdown(template: bytes, *, plan: Mapping[str, object], rows: Sequence[Mapping[str, object]]) -> bytes:
    """The template filled as a clerk would: `plan` by the 方案 sheet's keys (name, document_number,
    start_year, end_year, code), `rows` by column key (campaign, number, item, …) with `districts` a mapping
    of district code to share. For tools and tests; a clerk fills the workbook in Excel."""
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    plan_sheet = workbook[PLAN_SHEET]
    for row in range(2, plan_sheet.max_row + 1):
        key = PLAN_LABELS.get(_norm(plan_sheet.cell(row=row, column=1).value))
        if key in plan:
            plan_sheet.cell(row=row, column=2, value=plan[key])
    sheet = workbook[BREAKDOWN_SHEET]
    district_columns = {
        code: column
        for column in range(len(COLUMNS) + 1, sheet.max_column + 1)
        if (code := _header_key(str(sheet.cell(row=1, column=column).value), {})[1])
    }
    for number, values in enumerate(rows, start=2):
        for column, spec in enumerate(COLUMNS, start=1):
            sheet.cell(row=number, column=column, value=values.get(spec.key))
        for code, share in dict(values.get("districts") or {}).items():
            sheet.cell(row=number, column=district_columns[code], value=share)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- reading cells ----------------------------------------------------------------------------------------


def _norm(text: object) -> str:
    """A header or a choice as compared: full-width folded, blanks and required marks dropped."""
    folded = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"[\s*]|\((必填|选填)\)", "", folded)


class _Bad(Exception):
    """A cell's value cannot be read as asked: the code and the message's reason."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def read_number(value: object, *, percent: bool = False) -> float:
    """A number as a clerk writes it: 12000, 12,000, １２，０００, 12 000; with `percent`, 65% too."""
    if isinstance(value, bool) or isinstance(value, dt.date | dt.datetime | dt.time):
        raise _Bad("not_a_number", "应为数字")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
        if percent and text.endswith("%"):
            text = text[:-1]
        if _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        elif "," in text:
            raise _Bad("not_a_number", f"「{value}」的逗号不是千分位（应每三位一个，如 12,000）")
        if not _PLAIN.fullmatch(text):
            raise _Bad(
                "not_a_number",
                f"「{value}」不是数字：只填数字（如 12000），单位填在单位列，「以上」「左右」选在比较方式列",
            )
        number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        raise _Bad("not_a_number", "应为有限的数字")
    if number < 0:
        raise _Bad("negative_number", f"「{value}」是负数：下降类目标请填下降后的值并选比较方式 ≤（不超过）")
    return number


def figure(value: float) -> str:
    """A number as a sentence writes it: 60, 1.5, 16300 (never 6e+01 or 60.0)."""
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _year_end(year: int, month: int = 12, day: int | None = None) -> dt.date:
    if day is not None:
        return dt.date(year, month, day)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


_DATE_PATTERNS = (
    (re.compile(r"(\d{4})年?(?:底|末|前|年底|年末)?"), lambda m: _year_end(int(m[1]))),
    (re.compile(r"(\d{4})[-/.年](\d{1,2})月?(?:底|末|前)?"), lambda m: _year_end(int(m[1]), int(m[2]))),
    (
        re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:前)?"),
        lambda m: _year_end(int(m[1]), int(m[2]), int(m[3])),
    ),
)


def read_deadline(value: object, plan: PlanDoc | None) -> dt.date:
    """A 完成时限: a date cell, 2027-12-31, 2027年6月, 2027年底, 2027; 长期 or 持续推进: the plan's end."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and len(str(int(value))) == 4:
            return _year_end(int(value))
        raise _Bad("bad_deadline", f"「{value}」不是日期或年份")
    text = _norm(value)
    if text in OPEN_ENDED:
        if plan is None:
            raise _Bad("bad_deadline", f"「{value}」要按方案结束日期计算，请先在「{PLAN_SHEET}」表填好起止年份")
        return plan.end
    for pattern, make in _DATE_PATTERNS:
        if match := pattern.fullmatch(text):
            try:
                return make(match)
            except ValueError:
                break
    year = plan.last_year if plan else "结束年份"
    raise _Bad("bad_deadline", f"「{value}」不是日期：请填如 {year}-12-31 的日期、「{year}年底」或「长期」")


def _split_names(value: object) -> list[str]:
    return [part.strip() for part in re.split(r"[、，,；;／/\n]+", str(value)) if part.strip()]


_ENTRY_SPLIT = re.compile(r"[;；\n]|[,，](?=\s*\d{4})")
_ANNUAL = re.compile(r"(\d{4})\s*年?\s*:\s*(.+)")
_QUARTERLY = re.compile(r"(\d{4})\s*(?:年\s*第?|-)?\s*[Qq]?\s*([1-4])\s*(?:季度)?\s*:\s*(.+)")


def _entries(value: object) -> list[str]:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return [part.strip() for part in _ENTRY_SPLIT.split(text) if part.strip()]


# ---- locating the sheets ----------------------------------------------------------------------------------


def _header_key(text: str, districts: dict[str, OrgUnitSeed]) -> tuple[str | None, str | None]:
    """(column key, district code) a header names; (None, None) for a header the template does not have."""
    name = _norm(text)
    for spec in COLUMNS:
        if name == spec.header or name in spec.aliases:
            return spec.key, None
    if match := re.search(r"\d{6}", name):
        return "district", match[0]
    for district in districts.values():
        if name in (district.name, f"{district.name}分解"):
            return "district", district.code
    return None, None


def _header_score(row: Sequence[object]) -> int:
    return sum(1 for value in row if value is not None and _header_key(str(value), {})[0] in FIXED)


def _find_header(rows: Iterable[Sequence[object]]) -> tuple[int, int]:
    """(row number, score) of the best header among a sheet's first rows; (0, 0) when none looks like one."""
    best = (0, 0)
    for number, row in enumerate(rows, start=1):
        if number > HEADER_SCAN_ROWS:
            break
        score = _header_score(row)
        if score > best[1]:
            best = (number, score)
    return best


def _is_plan_sheet(rows: Iterable[Sequence[object]]) -> bool:
    labels = set()
    for number, row in enumerate(rows, start=1):
        if number > HEADER_SCAN_ROWS:
            break
        if row and row[0] is not None:
            labels.add(PLAN_LABELS.get(_norm(row[0])))
    return {"name", "start_year"} <= labels


# ---- parsing ----------------------------------------------------------------------------------------------


CELL_CODES = ("merged_cell", "formula_in_cell", "cell_error_value")  # what a cell is, not what it lacks


class _TooManyErrors(Exception):
    pass


@dataclass
class _Errors:
    """Errors as they are found, each with its place.  A cell already reported for what it is (inside a merged
    range, a formula, an error value) is not reported again for what it lacks: that is the one thing to fix."""

    errors: list[BreakdownError] = field(default_factory=list)
    warnings: list[BreakdownError] = field(default_factory=list)
    covered: set[tuple[str, int, int]] = field(default_factory=set)  # (sheet, row, column) already reported

    def add(
        self,
        code: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: int | None = None,
        header: str | None = None,
        warning: bool = False,
    ) -> None:
        if code not in CELL_CODES and (sheet, row, column) in self.covered:
            return
        letter = get_column_letter(column) if column else None
        where = []
        if sheet:
            where.append(f"「{sheet}」")
        if row:
            where.append(f"第 {row} 行")
        if letter:
            where.append(f"{letter} 列" + (f"（{header}）" if header else ""))
        text = f"{' '.join(where)}：{message}" if where else message
        error = BreakdownError(
            sheet=sheet, row=row, column=letter, column_name=header, field=header or "", code=code, message=text
        )
        if warning:
            self.warnings.append(error)
            return
        self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            raise _TooManyErrors


def _fatal(errors: _Errors, code: str, message: str, **where: Any) -> BreakdownResult:
    try:
        errors.add(code, message, **where)
    except _TooManyErrors:
        pass
    return BreakdownResult(usable=False, errors=errors.errors, warnings=errors.warnings)


def default_limits() -> UploadLimits:
    """The upload limits every process has by default (`ProcessSettings`), for a parse outside a request."""
    return UploadLimits.from_settings(ProcessSettings.model_construct())


@dataclass
class _Located:
    data_sheet: str
    header_row: int
    plan_sheet: str | None
    renamed: bool


def _locate(content: bytes, limits: UploadLimits, max_rows: int, errors: _Errors) -> _Located | BreakdownResult:
    """First pass, streamed: which sheets hold the rows and the plan, where the header is, and whether there
    are more rows than allowed; stops reading at the first row past the limit."""
    workbook = load_workbook(content, read_only=True)
    try:
        sheets = workbook.worksheets
        named = next((s for s in sheets if s.title.strip() == BREAKDOWN_SHEET), None)
        found = _header_of(named) if named is not None else _best_header(sheets)
        if found is None:
            names = "、".join(f"「{s.title}」" for s in sheets)
            return _fatal(
                errors,
                "breakdown_sheet_missing",
                f"找不到任务分解表：工作簿中的工作表（{names}）没有名为「{BREAKDOWN_SHEET}」的，"
                f"也没有哪张表的表头有{'、'.join(FIXED[k].header for k in REQUIRED_KEYS)}等列。"
                "请使用平台下载的任务分解表模板填写",
            )
        sheet, header_row, score = found
        if score < 4:
            return _fatal(
                errors,
                "header_missing",
                f"前 {HEADER_SCAN_ROWS} 行中没有表头：第 1 行应为 {'、'.join(s.header for s in COLUMNS[:6])}……"
                "（表头可能被删除或覆盖）。请从模板复制表头后重新上传",
                sheet=sheet.title,
            )
        too_many = _check_row_count(sheet, header_row, limits, max_rows, errors)
        if too_many is not None:
            return too_many
        return _Located(sheet.title, header_row, _plan_sheet_title(sheets, sheet), renamed=named is None)
    finally:
        workbook.close()


def _header_of(sheet: Any) -> tuple[Any, int, int]:
    """`sheet` with its header row and the header's score."""
    sheet.reset_dimensions()
    header_row, score = _find_header(sheet.iter_rows(values_only=True))
    return sheet, header_row, score


def _best_header(sheets: Sequence[Any]) -> tuple[Any, int, int] | None:
    """Without a sheet named 任务分解表: the first sheet whose header scores highest, at least 4."""
    found: tuple[Any, int, int] | None = None
    for sheet in sheets:
        candidate = _header_of(sheet)
        if candidate[2] >= 4 and (found is None or candidate[2] > found[2]):
            found = candidate
    return found


def _check_row_count(
    sheet: Any, header_row: int, limits: UploadLimits, max_rows: int, errors: _Errors
) -> BreakdownResult | None:
    """The refusal when the rows below the header (blank rows not counted) are more than `max_rows`."""
    counted = 0
    where = f"工作表「{sheet.title}」"
    for number, row in enumerate(bounded_rows(sheet.iter_rows(values_only=True), limits, where), start=1):
        if number <= header_row or all(v is None or isinstance(v, str) and not v.strip() for v in row):
            continue
        counted += 1
        if counted > max_rows:
            return _fatal(
                errors,
                "too_many_rows",
                f"任务和指标超过 {max_rows} 行（上限 {max_rows} 行，空行不计），不予读取，未创建任何数据。"
                "请删除多余的行（如误填到表尾的内容）后重新上传",
                sheet=sheet.title,
                row=number,
            )
    return None


def _plan_sheet_title(sheets: Sequence[Any], data_sheet: Any) -> str | None:
    """The sheet named 方案, else the first other sheet that reads as one."""
    title = next((s.title for s in sheets if s.title.strip() == PLAN_SHEET), None)
    if title is not None:
        return title
    for candidate in sheets:
        if candidate is data_sheet:
            continue
        candidate.reset_dimensions()
        if _is_plan_sheet(candidate.iter_rows(values_only=True)):
            return candidate.title
    return None


def parse_breakdown(
    content: bytes,
    *,
    departments: Collection[str],
    districts: Sequence[OrgUnitSeed],
    campaigns: Sequence[CampaignHeading],
    known_indicators: KnownIndicators | None = None,
    limits: UploadLimits | None = None,
    max_rows: int = MAX_ROWS,
) -> BreakdownResult:
    """A filled 任务分解表 read into the plan and one campaign draft per campaign, with every error; nothing is
    created. `departments`: the departments a task may name; `districts`: the units shares are for;
    `known_indicators`: the plans' indicators a 接续指标 may name (None: not checked, and nothing linked)."""
    errors = _Errors()
    if not content.startswith(XLSX_MAGIC):
        return _fatal(
            errors,
            "not_xlsx",
            "文件不是 Excel 工作簿（.xlsx）：请用平台下载的任务分解表模板，在 Excel 或 WPS 中填写后保存为 .xlsx 上传"
            "（.xls、.et、.csv 请先另存为 .xlsx）",
        )
    limits = limits or default_limits()
    try:
        located = _locate(content, limits, max_rows, errors)
        if isinstance(located, BreakdownResult):
            return located
        workbook = load_workbook(content)
    except DomainError as exc:  # unreadable, too many rows or columns for the upload limits
        return _fatal(errors, exc.code, exc.detail)
    except Exception:  # noqa: BLE001 - a damaged part fails while its rows are read; the clerk's 422
        return _fatal(errors, "unreadable_file", UNREADABLE_WORKBOOK)
    try:
        return _Parser(
            workbook=workbook,
            located=located,
            errors=errors,
            departments=departments,
            districts=districts,
            campaigns=campaigns,
            known_indicators=known_indicators,
        ).parse()
    except Exception:  # noqa: BLE001 - content no rule foresaw: logged for us, a 422 for the clerk, never a 500
        log.exception("a 任务分解表 could not be read")
        return _fatal(_Errors(), "unreadable_content", f"{UNREADABLE_WORKBOOK}（工作簿中有平台无法识别的内容）")
    finally:
        workbook.close()


def parse_breakdown_upload(
    filename: str,
    content: bytes,
    limits: UploadLimits,
    departments: Collection[str],
    districts: Sequence[OrgUnitSeed],
    campaigns: Sequence[CampaignHeading],
    known_indicators: KnownIndicators | None = None,
) -> BreakdownResult:
    """`parse_breakdown` as `UploadGuard.read` runs it, in its bounded child process."""
    return parse_breakdown(
        content,
        departments=departments,
        districts=districts,
        campaigns=campaigns,
        known_indicators=known_indicators,
        limits=limits,
    )


@dataclass
class _IndicatorDraft:
    row: int
    values: dict[str, Any]  # IndicatorDoc's fields but the code
    quarterly: tuple[tuple[str, float], ...]
    continues: ContinuesDoc | None


@dataclass
class _Choices:
    """An indicator row's drop-down columns as read; `ok` is False when one is not an option."""

    comparator: Comparator | None
    kind: IndicatorKind | None
    aggregation: Aggregation | None
    frequency: ReportingFrequency | None
    city_only: bool | None
    evidence_required: bool | None
    ok: bool


def _default_aggregation(unit: str | None) -> Aggregation:
    """汇总方式 left empty: a rate or a per-something unit rolls up as a ratio; any other unit is summed."""
    if unit and (unit in RATIO_UNITS or unit.startswith("每") or "/" in unit):
        return Aggregation.ratio
    return Aggregation.sum


@dataclass
class _TaskDraft:
    row: int
    number: int | None
    campaign: str | None
    item: str | None
    text: str | None
    leads: tuple[str, ...]
    partners: tuple[str, ...]
    deadline: dt.date | None
    raw: dict[str, object]  # the task columns as written, to compare the rows below with
    valid: bool = True
    evidence_required: bool = False  # 须附佐证 on a task row without an indicator: the task's own
    indicators: list[_IndicatorDraft] = field(default_factory=list)


class _Parser:
    def __init__(
        self,
        *,
        workbook: openpyxl.Workbook,
        located: _Located,
        errors: _Errors,
        departments: Collection[str],
        districts: Sequence[OrgUnitSeed],
        campaigns: Sequence[CampaignHeading],
        known_indicators: KnownIndicators | None,
    ):
        self.workbook = workbook
        self.located = located
        self.errors = errors
        self.sheet: Worksheet = workbook[located.data_sheet]
        self.districts = {d.code: d for d in districts}
        self.departments = {_norm(d): d for d in departments}
        self.partners = (
            self.departments | {_norm(d.name): d.name for d in districts} | {_norm(ALL_DISTRICTS): ALL_DISTRICTS}
        )
        self.partners[_norm("各区县")] = ALL_DISTRICTS
        self.campaigns = {c.code: c for c in campaigns}
        self.campaign_names: dict[str, str] = {}
        for c in campaigns:
            for name in (c.code, c.name, c.short_name, c.title):
                self.campaign_names[_norm(name)] = c.code
        self.known_indicators = known_indicators
        self.plan: PlanDoc | None = None
        self.columns: dict[str, int] = {}  # key → column index
        self.district_columns: dict[int, str] = {}  # column index → district code
        self.headers: dict[int, str] = {}  # column index → header as written

    # -- helpers

    def error(self, code: str, message: str, row: int | None = None, key: str | None = None, **kw: Any) -> None:
        column = self.columns.get(key) if key else kw.pop("column", None)
        header = self.headers.get(column) if column else None
        self.errors.add(code, message, sheet=self.sheet.title, row=row, column=column, header=header, **kw)

    def covered(self, row: int, key: str) -> bool:
        """Whether the cell of `key` in `row` was reported for what it is (merged, a formula, an error value)."""
        return (self.sheet.title, row, self.columns.get(key)) in self.errors.covered

    def cell(self, row: int, column: int | None) -> object:
        """A cell's value, None when empty; a formula or an error value is reported and read as empty."""
        if column is None:
            return None
        cell = self.sheet.cell(row=row, column=column)
        value = cell.value
        if cell.data_type == "f":
            self.error(
                "formula_in_cell",
                f"单元格是公式（{str(value)[:40]}），这里应填数值或文字：请复制后「选择性粘贴 → 数值」",
                row,
                column=column,
            )
            self.errors.covered.add((self.sheet.title, row, column))
            return None
        if cell.data_type == "e":
            self.error("cell_error_value", f"单元格是错误值 {value}，请改为应填的内容", row, column=column)
            self.errors.covered.add((self.sheet.title, row, column))
            return None
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    # -- the whole

    def parse(self) -> BreakdownResult:
        try:
            self.plan = self.parse_plan()
            usable = self.read_header()
            if not usable:
                return BreakdownResult(usable=False, errors=self.errors.errors, warnings=self.errors.warnings)
            self.mark_merges()
            tasks, rows = self.read_rows()
            result = self.build(tasks)
            result.rows = rows
        except _TooManyErrors:
            self.errors.errors.append(
                BreakdownError(
                    code="too_many_errors",
                    message=f"错误超过 {MAX_ERRORS} 处，只列出前 {MAX_ERRORS} 处："
                    "请先改正这些（可能整列填错了位置）后重新上传",
                )
            )
            result = BreakdownResult(usable=True, errors=self.errors.errors)
        result.errors, result.warnings = self.errors.errors, self.errors.warnings
        result.sheet = self.sheet.title
        return result

    # -- the plan

    def parse_plan(self) -> PlanDoc | None:
        title = self.located.plan_sheet
        if title is None:
            self.errors.add(
                "plan_sheet_missing",
                f"找不到「{PLAN_SHEET}」工作表：方案的名称、文号、开始年份和结束年份填在模板的「{PLAN_SHEET}」表中",
            )
            return None
        if title != PLAN_SHEET:
            self.errors.add(
                "sheet_renamed",
                f"工作表「{title}」按内容识别为「{PLAN_SHEET}」表",
                sheet=title,
                warning=True,
            )
        cells = self.plan_cells(title)
        name = self.plan_name(title, cells)
        years = self.plan_years(title, cells)
        if years is None or name is None:
            return None
        start_year, end_year = years
        code = self.plan_code(title, cells, start_year, end_year)
        if code is None:
            return None
        document_number = cells.get("document_number", (0, None))[1]
        return PlanDoc(
            code=code,
            name=name,
            document_number=str(document_number) if document_number else None,
            start=dt.date(start_year, 1, 1),
            end=dt.date(end_year, 12, 31),
            state=PlanState.draft,
        )

    def plan_cells(self, title: str) -> dict[str, tuple[int, object]]:
        """The plan sheet's fields by key: (row, value) of the first row labelled with each in the first 50."""
        sheet = self.workbook[title]
        cells: dict[str, tuple[int, object]] = {}
        for row in range(1, min(sheet.max_row, 50) + 1):
            label = sheet.cell(row=row, column=1).value
            key = PLAN_LABELS.get(_norm(label)) if label is not None else None
            if key and key not in cells:
                cell = sheet.cell(row=row, column=2)
                value = cell.value
                if cell.data_type == "f":
                    self.errors.add(
                        "formula_in_cell",
                        "这里应填数值或文字，不能是公式",
                        sheet=title,
                        row=row,
                        column=2,
                        header=label,
                    )
                    value = None
                cells[key] = (row, value.strip() if isinstance(value, str) else value)
        return cells

    def plan_error(self, title: str, cells: dict[str, tuple[int, object]], key: str, code: str, message: str) -> None:
        """An error on a plan field, at its value cell when the field's label is there."""
        row = cells[key][0] if key in cells else None
        label = next(lbl for k, lbl, _ in PLAN_FIELDS if k == key)
        self.errors.add(code, message, sheet=title, row=row, column=2 if row else None, header=label)

    def plan_name(self, title: str, cells: dict[str, tuple[int, object]]) -> str | None:
        name = cells.get("name", (0, None))[1]
        if not name or len(str(name)) < 2:
            self.plan_error(title, cells, "name", "plan_name_missing", "请填写方案名称")
            return None
        return str(name)

    def plan_years(self, title: str, cells: dict[str, tuple[int, object]]) -> tuple[int, int] | None:
        """The start and end years: both four-digit years, the end not before the start."""
        years = {}
        for key in ("start_year", "end_year"):
            value = cells.get(key, (0, None))[1]
            label = "开始年份" if key == "start_year" else "结束年份"
            if value is None:
                self.plan_error(title, cells, key, "plan_year_missing", f"请填写{label}（四位数字）")
                continue
            try:
                years[key] = _read_year(value)
            except _Bad as bad:
                self.plan_error(title, cells, key, bad.code, f"{label}{bad.reason}")
        if len(years) < 2:
            return None
        if years["end_year"] < years["start_year"]:
            self.plan_error(
                title,
                cells,
                "end_year",
                "plan_end_before_start",
                f"结束年份 {years['end_year']} 早于开始年份 {years['start_year']}："
                "方案至少一年，结束年份不能早于开始年份",
            )
            return None
        return years["start_year"], years["end_year"]

    def plan_code(self, title: str, cells: dict[str, tuple[int, object]], start_year: int, end_year: int) -> str | None:
        """The 方案代码 as written, or plan-<start>-<end> when left empty."""
        code = cells.get("code", (0, None))[1]
        code = str(code).strip() if code else f"plan-{start_year}-{end_year}"
        if not re.fullmatch(r"[a-z][a-z0-9-]{2,39}", code):
            self.plan_error(
                title,
                cells,
                "code",
                "bad_plan_code",
                f"方案代码「{code}」只能用小写字母、数字和 -，以字母开头，3–40 个字符；也可不填",
            )
            return None
        return code

    # -- the header

    def read_header(self) -> bool:
        row = self.located.header_row
        unknown = []
        for column in range(1, self.sheet.max_column + 1):
            value = self.sheet.cell(row=row, column=column).value
            if value is None or not str(value).strip():
                continue
            self.headers[column] = str(value).strip()
            key, district = _header_key(str(value), self.districts)
            if key == "district":
                if district not in self.districts:
                    self.error(
                        "unknown_district",
                        f"区县分解列的表头「{value}」不是本市的区县代码：请使用模板中的区县列（代码和名称）",
                        row,
                        column=column,
                    )
                elif district in self.district_columns.values():
                    self.error("duplicate_column", f"区县「{value}」的分解列重复，请删除多余的一列", row, column=column)
                else:
                    self.district_columns[column] = district
            elif key is None:
                unknown.append(column)
            elif key in self.columns:
                self.error(
                    "duplicate_column",
                    f"「{value}」列与 {get_column_letter(self.columns[key])} 列重复，请删除其中一列",
                    row,
                    column=column,
                )
            else:
                self.columns[key] = column
        missing = [FIXED[k].header for k in REQUIRED_KEYS if k not in self.columns]
        if missing:
            others = "、".join(f"{get_column_letter(c)} 列「{self.headers[c]}」" for c in unknown)
            self.errors.add(
                "bad_header",
                f"表头缺少列：{'、'.join(missing)}"
                + (f"（表头中不认识的列：{others}，是否被改了名？）" if others else "（可能被删除）")
                + "。请把表头改回模板的列名后重新上传",
                sheet=self.sheet.title,
                row=row,
            )
            return False
        for column in unknown:
            self.error(
                "unknown_column",
                f"「{self.headers[column]}」不是模板的列，已忽略其内容（若是改了名的列，请改回模板的列名）",
                row,
                column=column,
                warning=True,
            )
        if self.located.renamed:
            self.errors.add(
                "sheet_renamed",
                f"没有名为「{BREAKDOWN_SHEET}」的工作表，已按表头读取工作表「{self.sheet.title}」",
                sheet=self.sheet.title,
                warning=True,
            )
        return True

    def mark_merges(self) -> None:
        header_row = self.located.header_row
        for merged in sorted(self.sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            if merged.max_row < header_row:
                continue  # a title above the header
            self.error(
                "merged_cell",
                f"{merged.coord} 是合并单元格：请取消合并，并在每一行填写各自的内容"
                "（同一任务的下一个指标行，任务各列可留空）",
                merged.min_row,
                column=merged.min_col,
            )
            for row in range(merged.min_row, merged.max_row + 1):
                for column in range(merged.min_col, merged.max_col + 1):
                    self.errors.covered.add((self.sheet.title, row, column))

    # -- the rows

    def read_rows(self) -> tuple[list[_TaskDraft], int]:
        tasks: list[_TaskDraft] = []
        numbers: dict[int, int] = {}  # task number → its row
        current: _TaskDraft | None = None
        counted = 0
        for row in range(self.located.header_row + 1, self.sheet.max_row + 1):
            raw = {key: self.cell(row, column) for key, column in self.columns.items()}
            shares = {code: self.cell(row, column) for column, code in self.district_columns.items()}
            if all(v is None for v in raw.values()) and all(v is None for v in shares.values()):
                continue
            counted += 1
            # A formula in 序号 still starts a task (refused); a merged 序号 is read as the clerk meant it: the
            # rows below belong to the task above (the merge itself is refused).
            if (
                raw.get("number") is not None
                or self.covered(row, "number")
                and ((self.sheet.title, row - 1, self.columns["number"]) not in self.errors.covered)
            ):
                current = self.task_row(row, raw, numbers)
                tasks.append(current)
            elif current is None:
                self.error(
                    "row_without_task",
                    "这一行没有序号，上面也没有任务：新任务请填写序号",
                    row,
                    "number",
                )
                continue
            else:
                self.continuation_row(row, raw, current)
            self.indicator_row(row, raw, shares, current)
        return tasks, counted

    def task_row(self, row: int, raw: dict[str, object], numbers: dict[int, int]) -> _TaskDraft:
        task = _TaskDraft(
            row=row,
            number=None,
            campaign=None,
            item=None,
            text=None,
            leads=(),
            partners=(),
            deadline=None,
            raw={k: raw.get(k) for k in (*TASK_KEYS, "deadline")},
        )
        number = raw.get("number")
        try:
            task.number = _read_task_number(number)
        except _Bad as bad:
            self.error(bad.code, f"序号{bad.reason}", row, "number")
            task.valid = False
        if task.number is not None:
            if task.number in numbers:
                self.error(
                    "duplicate_number",
                    f"序号 {task.number} 与第 {numbers[task.number]} 行重复：序号是任务编号，全表不能重复"
                    "（同一任务的下一个指标行请把序号留空）",
                    row,
                    "number",
                )
                task.valid = False
            else:
                numbers[task.number] = row
        campaign = raw.get("campaign")
        if campaign is None:
            self.error(
                "campaign_missing",
                "请选择所属领域：每个任务须归入五个行动之一（教育、医疗健康、养老、就业、宜居）",
                row,
                "campaign",
            )
            task.valid = False
        else:
            task.campaign = self.campaign_names.get(_norm(campaign))
            if task.campaign is None:
                names = "、".join(c.name for c in self.campaigns.values())
                self.error(
                    "unknown_campaign",
                    f"「{campaign}」不属于任何一个行动：所属领域请从下拉列表中选择（{names}）",
                    row,
                    "campaign",
                )
                task.valid = False
        item = raw.get("item")
        if item is None:
            self.error("item_missing", "请填写工作事项（任务所属的工作事项）", row, "item")
            task.valid = False
        else:
            task.item = str(item)
        text = raw.get("text")
        if text is None:
            self.error("task_text_missing", "请填写具体任务", row, "text")
            task.valid = False
        elif len(str(text)) < 10:
            self.error(
                "task_text_too_short", f"具体任务「{text}」太短：请写出任务的完整表述（至少 10 个字）", row, "text"
            )
            task.valid = False
        else:
            task.text = str(text)
        lead = raw.get("lead")
        if lead is None:
            self.error("lead_missing", "请填写主办单位（牵头部门）", row, "lead")
            task.valid = False
        else:
            task.leads, ok = self.names(row, "lead", lead, self.departments)
            task.valid &= ok
        if raw.get("partners") is not None:
            task.partners, ok = self.names(row, "partners", raw["partners"], self.partners)
            task.valid &= ok
            both = [name for name in task.partners if name in task.leads]
            if both:
                self.error(
                    "lead_and_partner",
                    f"「{'、'.join(both)}」既是主办单位又是协办单位：主办单位对整个任务负责，不再列为协办单位",
                    row,
                    "partners",
                )
                task.valid = False
        deadline = raw.get("deadline")
        if deadline is None:
            year = self.plan.last_year if self.plan else "结束年份"
            self.error("deadline_missing", f"请填写完成时限（如 {year}-12-31、{year}年底或「长期」）", row, "deadline")
            task.valid = False
        else:
            task.deadline = self.deadline(row, deadline)
            task.valid &= task.deadline is not None
        if raw.get("indicator") is None:  # on a row with an indicator, 须附佐证 is the indicator's (indicator_row)
            required = self.choice(row, "evidence", raw, _EVIDENCE, False)
            task.evidence_required = bool(required)
            task.valid &= required is not None
        return task

    def names(self, row: int, key: str, value: object, known: dict[str, str]) -> tuple[tuple[str, ...], bool]:
        found, ok = [], True
        for name in _split_names(value):
            canonical = known.get(_norm(name))
            if canonical is None:
                which = "主办单位" if key == "lead" else "协办单位"
                self.error(
                    "unknown_department",
                    f"{which}「{name}」不在部门名单中：请从下拉列表中选择（名单为现行目录中的牵头部门"
                    + ("" if key == "lead" else "和区县")
                    + "）；多个单位用「、」分隔",
                    row,
                    key,
                )
                ok = False
            elif canonical not in found:
                found.append(canonical)
        return tuple(found), ok

    def deadline(self, row: int, value: object) -> dt.date | None:
        try:
            day = read_deadline(value, self.plan)
        except _Bad as bad:
            self.error(bad.code, f"完成时限{bad.reason}", row, "deadline")
            return None
        if self.plan is not None and not self.plan.covers_year(day.year):
            self.error(
                "year_outside_plan",
                f"完成时限 {day:%Y-%m-%d} 不在方案期（{self.plan.span_label}）内",
                row,
                "deadline",
            )
            return None
        return day

    def continuation_row(self, row: int, raw: dict[str, object], task: _TaskDraft) -> None:
        """A row without 序号: another indicator of `task`; its task columns are empty or the task's."""
        for key in TASK_KEYS:
            value = raw.get(key)
            if value is not None and value != task.raw.get(key):
                self.error(
                    "row_without_number",
                    f"这一行没有序号，是第 {task.row} 行任务的又一个指标，但{FIXED[key].header}与该任务不同："
                    "新任务请填写序号；同一任务的指标行，任务各列请留空或与任务相同",
                    row,
                    key,
                )
                task.valid = False
                return
        if raw.get("indicator") is None:
            self.error(
                "indicator_missing", "这一行没有序号，应是上面任务的又一个指标，但没有填写指标", row, "indicator"
            )

    def indicator_row(self, row: int, raw: dict[str, object], shares: dict[str, object], task: _TaskDraft) -> None:
        if raw.get("indicator") is None:
            self.indicator_without_name(row, raw, shares)
            return
        name = str(raw["indicator"])
        ok = self.indicator_name(row, name)
        unit, unit_ok = self.indicator_unit(row, raw)
        target, target_ok = self.indicator_target(row, raw, name, unit)
        baseline, baseline_ok = self.indicator_baseline(row, raw, unit)
        choices = self.indicator_choices(row, raw, unit)
        deadline, deadline_ok = self.indicator_deadline(row, raw, task)
        horizon = deadline.year if deadline else None
        usable_unit = unit if unit_ok else None  # a refused unit is not written into the targets' sentences
        milestones = self.annual(
            row, raw.get("annual"), target, horizon, name, usable_unit, choices.comparator, choices.kind
        )
        quarterly = self.quarterly(row, raw.get("quarterly"), horizon, usable_unit)
        district_targets, shares_ok = self.district_shares(row, raw, shares, usable_unit, choices.city_only)
        continues, continues_ok = self.indicator_continues(row, raw)
        ok &= unit_ok and target_ok and baseline_ok and choices.ok and deadline_ok and shares_ok and continues_ok
        ok &= milestones is not None and quarterly is not None
        if not ok or target is None or choices.kind is None or horizon is None or unit is None:
            task.valid = False
            return
        values = self.indicator_values(
            name=name,
            unit=unit,
            target=target,
            baseline=baseline,
            choices=choices,
            horizon=horizon,
            milestones=milestones,
            district_targets=district_targets,
        )
        task.indicators.append(_IndicatorDraft(row=row, values=values, quarterly=quarterly, continues=continues))

    def indicator_without_name(self, row: int, raw: dict[str, object], shares: dict[str, object]) -> None:
        """A row without 指标 may hold no indicator content: no other indicator column, no district share."""
        indicator_keys = [k for k in INDICATOR_KEYS if k != "indicator" and raw.get(k) is not None]
        if indicator_keys or any(v is not None for v in shares.values()):
            first = indicator_keys[0] if indicator_keys else None
            self.error(
                "indicator_name_missing",
                "填写了目标值等指标内容，但没有填写指标名称",
                row,
                first or "indicator",
            )

    def indicator_name(self, row: int, name: str) -> bool:
        if len(name) < 2:
            self.error("indicator_name_too_short", f"指标名称「{name}」太短", row, "indicator")
            return False
        return True

    def indicator_unit(self, row: int, raw: dict[str, object]) -> tuple[str | None, bool]:
        unit = raw.get("unit")
        unit = str(unit) if unit is not None else None
        if unit is not None and len(unit) > UNIT_MAX:
            self.error("unit_too_long", f"单位「{unit}」超过 {UNIT_MAX} 个字", row, "unit")
            return unit, False
        if unit is not None and any(character.isdecimal() for character in unit):
            # A digit in the unit ("3", "万人3") would be read into every target's sentence as part of its number.
            self.error(
                "unit_with_digits",
                f"单位「{unit}」含有数字：单位只写文字（如 处、张、%、万人、平方米），数量写在目标值里",
                row,
                "unit",
            )
            return unit, False
        return unit, True

    def indicator_target(
        self, row: int, raw: dict[str, object], name: str, unit: str | None
    ) -> tuple[float | None, bool]:
        """The 目标值: required, a number (a percentage when the unit is one), and with a unit."""
        target_value = raw.get("target")
        if target_value is None:
            self.error("target_missing", f"指标「{name}」没有目标值：请填写数字", row, "target")
            return None, False
        target, ok = None, True
        try:
            target = read_number(target_value, percent=unit in RATIO_UNITS)
        except _Bad as bad:
            self.error(bad.code, f"目标值{bad.reason}", row, "target")
            ok = False
        if unit is None:
            self.error(
                "target_without_unit",
                f"目标值 {target_value} 没有单位：请在单位列填写（如 处、人、%）",
                row,
                "unit",
            )
            ok = False
        return target, ok

    def indicator_baseline(self, row: int, raw: dict[str, object], unit: str | None) -> tuple[float | None, bool]:
        if raw.get("baseline") is None:
            return None, True
        try:
            return read_number(raw["baseline"], percent=unit in RATIO_UNITS), True
        except _Bad as bad:
            self.error(bad.code, f"基期值{bad.reason}", row, "baseline")
            return None, False

    def indicator_choices(self, row: int, raw: dict[str, object], unit: str | None) -> _Choices:
        """The drop-down columns (比较、指标类型、汇总方式、报送频次、填报层级); 指标类型 has no default."""
        comparator = self.choice(row, "comparator", raw, _COMPARATORS, Comparator.at_least)
        kind = self.choice(row, "kind", raw, _KINDS, None)
        if kind is None and raw.get("kind") is None:
            self.error(
                "kind_missing",
                f"请选择指标类型（{'、'.join(KIND_LABELS.values())}）：它决定序时进度和完成情况的算法",
                row,
                "kind",
            )
        aggregation = self.choice(row, "aggregation", raw, _AGGREGATIONS, _default_aggregation(unit))
        frequency = self.choice(row, "frequency", raw, _FREQUENCIES, None)
        city_only = self.choice(row, "level", raw, _LEVELS, False)
        evidence_required = self.choice(row, "evidence", raw, _EVIDENCE, False)
        ok = None not in (comparator, kind, aggregation, city_only, evidence_required) and (
            frequency is not None or raw.get("frequency") is None
        )
        return _Choices(comparator, kind, aggregation, frequency, city_only, evidence_required, ok)

    def indicator_deadline(self, row: int, raw: dict[str, object], task: _TaskDraft) -> tuple[dt.date | None, bool]:
        """The horizon: the row's own 完成时限 on an indicator row, else the task's."""
        if raw.get("deadline") is not None and task.row != row:
            deadline = self.deadline(row, raw["deadline"])
            return deadline, deadline is not None
        return task.deadline, True

    def district_shares(
        self,
        row: int,
        raw: dict[str, object],
        shares: dict[str, object],
        unit: str | None,
        city_only: bool | None,
    ) -> tuple[list[tuple[str, float]], bool]:
        """The district shares: each needs the city's 目标值, an indicator not 仅市级, and a number."""
        district_targets, ok = [], True
        target_value = raw.get("target")
        for column, code in self.district_columns.items():
            value = shares.get(code)
            if value is None:
                continue
            district = self.districts[code]
            if target_value is None and self.covered(row, "target"):
                ok = False  # the target cell is reported already: a formula, or merged
                continue
            if target_value is None:
                self.error(
                    "district_without_city_target",
                    f"{district.name}的分解值 {value} 没有对应的全市目标值：请先填写目标值",
                    row,
                    column=column,
                )
                ok = False
                continue
            if city_only:
                self.error(
                    "city_only_with_districts",
                    f"填报层级为「仅市级」的指标不能分解到区县（{district.name}）：请删除区县分解值或改为「市和区县」",
                    row,
                    column=column,
                )
                ok = False
                continue
            try:
                share = read_number(value, percent=unit in RATIO_UNITS)
            except _Bad as bad:
                self.error(bad.code, f"{district.name}的分解值{bad.reason}", row, column=column)
                ok = False
                continue
            district_targets.append((code, share))
        return district_targets, ok

    def indicator_continues(self, row: int, raw: dict[str, object]) -> tuple[ContinuesDoc | None, bool]:
        """The 接续指标: an indicator code, and when the known indicators are given, one of an earlier plan's, linked
        to that plan (`KnownIndicators.continued`)."""
        if raw.get("continues") is None:
            return None, True
        continues = _norm(raw["continues"]).upper()
        if not re.fullmatch(r"T\d{3}-\d{1,2}|H-[A-Z]{3}-\d{1,2}", continues):
            self.error(
                "bad_continues",
                f"接续指标「{raw['continues']}」不是指标编号：应如 T002-1 或 H-EDU-1",
                row,
                "continues",
            )
            return None, False
        if self.known_indicators is None:
            return None, True
        link = self.known_indicators.continued(continues, self.plan)
        if link is None:
            self.error(
                "unknown_continues",
                f"接续指标 {continues} 不是本方案之前的方案中的指标：请核对编号（见平台往期方案的指标页）",
                row,
                "continues",
            )
            return None, False
        return link, True

    def indicator_values(
        self,
        *,
        name: str,
        unit: str,
        target: float,
        baseline: float | None,
        choices: _Choices,
        horizon: int,
        milestones: tuple[MilestoneDoc, ...],
        district_targets: list[tuple[str, float]],
    ) -> dict[str, Any]:
        """The fields of the indicator's `IndicatorDoc`, from a row without errors."""
        comparator, kind, aggregation = choices.comparator, choices.kind, choices.aggregation
        frequency = choices.frequency or default_frequency(kind, aggregation)
        sentence = _sentence(name, target, unit, comparator, kind, horizon)
        return {
            "name": name,
            "unit": unit,
            "target_value": target,
            "comparator": comparator,
            "kind": kind,
            "horizon": horizon,
            "aggregation": aggregation,
            "frequency": frequency,
            "baseline_value": baseline,
            "baseline_year": self.plan.first_year - 1 if baseline is not None and self.plan else None,
            "city_only": choices.city_only,
            "evidence_required": choices.evidence_required,
            "source": sentence + (f"（基期值{figure(baseline)}{unit}）" if baseline is not None else ""),
            "seed": SEED,
            "milestones": milestones,
            "district_targets": tuple(
                DistrictTargetDoc(
                    org_unit=code,
                    target_value=share,
                    source=self.districts[code].name + _sentence(name, share, unit, comparator, kind, horizon),
                    seed=SEED,
                )
                for code, share in district_targets
            ),
        }

    def choice(self, row: int, key: str, raw: dict[str, object], options: dict[str, Any], default: Any) -> Any:
        value = raw.get(key)
        if value is None:
            return default
        chosen = options.get(_norm(value))
        if chosen is None:
            labels = {
                "comparator": COMPARATOR_LABELS.values(),
                "kind": KIND_LABELS.values(),
                "aggregation": AGGREGATION_LABELS.values(),
                "frequency": FREQUENCY_LABELS.values(),
                "level": LEVEL_LABELS.values(),
                "evidence": EVIDENCE_LABELS.values(),
            }[key]
            self.error(
                f"unknown_{key}",
                f"{FIXED[key].header}「{value}」不是可选值：请从下拉列表中选择（{'、'.join(labels)}）",
                row,
                key,
            )
        return chosen

    def annual(
        self,
        row: int,
        value: object,
        target: float | None,
        horizon: int | None,
        name: str,
        unit: str | None,
        comparator: Comparator | None,
        kind: IndicatorKind | None,
    ) -> tuple[MilestoneDoc, ...] | None:
        if value is None:
            return ()
        found: dict[int, float] = {}
        ok = True
        for entry in _entries(value):
            match = _ANNUAL.fullmatch(entry)
            if not match:
                self.error(
                    "bad_annual_targets",
                    f"「{entry}」看不懂：分年度目标写作「年份:数值」，多个用「;」分隔",
                    row,
                    "annual",
                )
                return None
            year = int(match[1])
            try:
                number = read_number(match[2], percent=unit in RATIO_UNITS)
            except _Bad as bad:
                self.error(bad.code, f"分年度目标 {year} 年的值{bad.reason}", row, "annual")
                ok = False
                continue
            if year in found:
                self.error("duplicate_year", f"分年度目标中 {year} 年出现了两次", row, "annual")
                ok = False
            elif not self.year_in_plan(row, "annual", year, "分年度目标"):
                ok = False
            elif horizon is not None and year > horizon:
                self.error(
                    "year_after_deadline",
                    f"分年度目标的 {year} 年晚于本指标的完成时限（{horizon} 年）",
                    row,
                    "annual",
                )
                ok = False
            elif year == horizon and target is not None and abs(number - target) > 1e-9:
                self.error(
                    "annual_conflicts_target",
                    f"分年度目标中 {year} 年（完成时限那一年）的值 {figure(number)} 与目标值 {figure(target)} 不一致",
                    row,
                    "annual",
                )
                ok = False
            found[year] = number
        if not ok or unit is None or comparator is None or kind is None:
            return None
        # A year's value of a flow is that year's; of a total or a level, where it stands by then.
        milestone_kind = IndicatorKind.one_year if kind is IndicatorKind.yearly else kind
        return tuple(
            MilestoneDoc(
                year=year, value=v, source=_sentence(name, v, unit, comparator, milestone_kind, year), seed=SEED
            )
            for year, v in sorted(found.items())
            if year != horizon
        )

    def quarterly(
        self, row: int, value: object, horizon: int | None, unit: str | None
    ) -> tuple[tuple[str, float], ...] | None:
        if value is None:
            return ()
        found: dict[str, float] = {}
        for entry in _entries(value):
            match = _QUARTERLY.fullmatch(entry)
            if not match:
                self.error(
                    "bad_quarterly_targets",
                    f"「{entry}」看不懂：分季度目标写作「年份Q季度:数值」"
                    f"（如 {self.plan.first_year if self.plan else '开始年份'}Q2:30），多个用「;」分隔",
                    row,
                    "quarterly",
                )
                return None
            year, quarter = int(match[1]), int(match[2])
            code = f"{year}Q{quarter}"
            try:
                number = read_number(match[3], percent=unit in RATIO_UNITS)
            except _Bad as bad:
                self.error(bad.code, f"分季度目标 {code} 的值{bad.reason}", row, "quarterly")
                return None
            if code in found:
                self.error("duplicate_quarter", f"分季度目标中 {code} 出现了两次", row, "quarterly")
                return None
            if not self.year_in_plan(row, "quarterly", year, "分季度目标"):
                return None
            if horizon is not None and year > horizon:
                self.error(
                    "year_after_deadline",
                    f"分季度目标的 {code} 晚于本指标的完成时限（{horizon} 年）",
                    row,
                    "quarterly",
                )
                return None
            found[code] = number
        return tuple(sorted(found.items()))

    def year_in_plan(self, row: int, key: str, year: int, what: str) -> bool:
        if self.plan is None or self.plan.covers_year(year):
            return True
        self.error("year_outside_plan", f"{what}的 {year} 年不在方案期（{self.plan.span_label}）内", row, key)
        return False

    # -- the documents

    def build(self, tasks: list[_TaskDraft]) -> BreakdownResult:
        result = BreakdownResult(usable=True, errors=[], plan=self.plan)
        items: dict[tuple[str, str], int] = {}  # (campaign, 工作事项) → work item number
        by_item: dict[int, list[TaskDoc]] = {}
        for task in tasks:
            if not task.valid or task.campaign is None or task.number is None or task.item is None:
                continue
            number = items.setdefault((task.campaign, task.item), len(items) + 1)
            indicators = []
            if len(task.indicators) > 99:
                self.error("too_many_indicators", "一个任务最多 99 个指标", task.row, "indicator")
                continue
            for n, draft in enumerate(task.indicators, start=1):
                code = f"T{task.number:03d}-{n}"
                try:
                    indicators.append(IndicatorDoc(code=code, continues=draft.continues, **draft.values))
                except ValidationError as exc:
                    self.error("invalid_indicator", _first_message(exc), draft.row, "indicator")
                    continue
                result.indicators[code] = IndicatorExtras(row=draft.row, quarterly_targets=draft.quarterly)
            try:
                doc = TaskDoc(
                    number=task.number,
                    title=task_title(task.text or ""),
                    text=task.text or "",
                    lead_departments=task.leads,
                    partner_departments=task.partners,
                    deadline=task.deadline,
                    evidence_required=task.evidence_required,
                    indicators=tuple(indicators),
                )
            except ValidationError as exc:
                self.error("invalid_task", _first_message(exc), task.row, "text")
                continue
            by_item.setdefault(number, []).append(doc)
            result.tasks[task.number] = TaskExtras(campaign=task.campaign, row=task.row)
        if self.plan is None:
            return result
        for code, heading in self.campaigns.items():
            work_items = [
                WorkItemDoc(number=number, title=title, tasks=tuple(by_item[number]))
                for (campaign, title), number in items.items()
                if campaign == code and number in by_item
            ]
            if not work_items:
                self.errors.add(
                    "campaign_without_tasks",
                    f"{heading.name}没有任何任务：发布后该行动在新方案中没有任务和指标",
                    sheet=self.sheet.title,
                    warning=True,
                )
                continue
            try:
                result.campaigns[code] = CampaignDoc(
                    code=code,
                    number=heading.number,
                    name=heading.name,
                    title=heading.title,
                    plan=self.plan,
                    items=tuple(work_items),
                )
            except ValidationError as exc:
                self.errors.add("invalid_campaign", f"{heading.name}：{_first_message(exc)}", sheet=self.sheet.title)
        return result


def _first_message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error.get('loc', ()))} {error.get('msg', '')}".strip()


def _read_task_number(value: object) -> int:
    try:
        number = read_number(value)
    except _Bad as bad:
        raise _Bad("bad_number", "应为正整数（任务编号）") from bad
    if not number.is_integer() or not 1 <= number <= 999:
        raise _Bad("bad_number", f"「{value}」应为 1–999 的整数（任务编号）")
    return int(number)


def _read_year(value: object) -> int:
    if isinstance(value, dt.date | dt.datetime):
        return value.year
    text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix("年")
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not re.fullmatch(r"[1-9]\d{3}", text):
        raise _Bad("bad_year", f"「{value}」应为四位数字的年份")
    return int(text)


def task_title(text: str) -> str:
    """A task's short title (the catalog's `title`, at most 40 characters): its text's first clause."""
    first = re.split(r"[，。；：,;:！？!?]", text, maxsplit=1)[0].strip()
    if len(first) < 2:
        first = text.strip()
    return first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1] + "…"


def _sentence(name: str, value: float, unit: str, comparator: Comparator, kind: IndicatorKind, year: int) -> str:
    """The row restated from its cells: the source sentence the catalog keeps beside each number."""
    before, after = COMPARATOR_WORDS[comparator]
    when = {
        IndicatorKind.cumulative: f"到{year}年累计",
        IndicatorKind.yearly: "每年",
        IndicatorKind.level: f"到{year}年",
        IndicatorKind.one_year: f"{year}年",
    }[kind]
    return f"{name}：{when}{before}{figure(value)}{unit}{after}"


def _choices(labels: dict[Any, str], extra: dict[str, Any]) -> dict[str, Any]:
    found = {_norm(label): member for member, label in labels.items()}
    return found | {_norm(k): v for k, v in extra.items()}


_COMPARATORS = _choices(
    COMPARATOR_LABELS,
    {
        "≥": Comparator.at_least,
        ">=": Comparator.at_least,
        "不低于": Comparator.at_least,
        "以上": Comparator.at_least,
        "≤": Comparator.at_most,
        "<=": Comparator.at_most,
        "不超过": Comparator.at_most,
        "以内": Comparator.at_most,
        "≈": Comparator.about,
        "~": Comparator.about,
        "左右": Comparator.about,
    },
)
_KINDS = _choices(
    KIND_LABELS, {"累计": IndicatorKind.cumulative, "年度": IndicatorKind.yearly, "水平": IndicatorKind.level}
)
_AGGREGATIONS = _choices(AGGREGATION_LABELS, {})
_FREQUENCIES = _choices(
    FREQUENCY_LABELS, {"月": ReportingFrequency.month, "季": ReportingFrequency.quarter, "年": ReportingFrequency.year}
)
_LEVELS = _choices(LEVEL_LABELS, {"市级": True, "全市": True, "区县": False})
_EVIDENCE = _choices(EVIDENCE_LABELS, {"需要": True, "须附": True, "不需要": False, "无": False})


# ---- what a dry run would create ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCounts:
    code: str
    name: str
    work_items: int
    tasks: int
    indicators: int
    district_targets: int
    annual_targets: int
    quarterly_targets: int
    continued: int


def campaign_counts(result: BreakdownResult) -> list[CampaignCounts]:
    counts = []
    for code, doc in result.campaigns.items():
        indicators = doc.all_indicators()
        extras = [result.indicators[i.code] for i in indicators if i.code in result.indicators]
        counts.append(
            CampaignCounts(
                code=code,
                name=doc.name,
                work_items=len(doc.items),
                tasks=len(doc.tasks()),
                indicators=len(indicators),
                district_targets=sum(len(i.district_targets) for i in indicators),
                annual_targets=sum(len(i.milestones) for i in indicators),
                quarterly_targets=sum(len(e.quarterly_targets) for e in extras),
                continued=sum(1 for i in indicators if i.continues),
            )
        )
    return counts

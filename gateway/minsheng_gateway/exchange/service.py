"""Standard exports of a plan's approved values, from the gateway's read model (`official_value`) and its
catalog: ADX (IHE QRPH ADX, the ISO 17369 SDMX profile) with its schema generated from the catalog, SDMX-JSON 2.0
data messages, and the 数据目录 registration sheet a 大数据局 asks for. Queries only: nothing here writes."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal

from lxml import etree
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from minsheng.catalog import service as catalog_service
from minsheng.catalog.document import CAMPAIGN_CODES, FREQUENCY_LABELS, ReportingFrequency
from minsheng.catalog.models import Campaign, Indicator, OrgUnit
from minsheng.catalog.snapshot import CatalogCache, plan_of
from minsheng.errors import Unprocessable
from minsheng.progress.periods import Period, requested_period
from minsheng.reporting.calendar import ReportingCalendar
from minsheng_gateway.exchange.models import (
    ADX_NAMESPACE,
    ADX_PERIOD_PATTERN,
    SDMX_JSON_SCHEMA,
    SENDER_ID,
    SENDER_NAME,
    ApprovedValue,
    DataItem,
    adx_period,
    sdmx_period,
)
from minsheng_gateway.projection.models import OfficialValue

XS = "http://www.w3.org/2001/XMLSchema"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def approved_values(
    *, session: Session, catalog: CatalogCache, campaign: str | None, period: str | None, org_unit: str | None
) -> list[ApprovedValue]:
    """The plan's official values of its active indicators, within `period` (a month, quarter or year: the values
    whose period lies inside it) and of `org_unit` when named; ordered by period, org unit, indicator."""
    if campaign is not None and campaign not in CAMPAIGN_CODES:
        raise Unprocessable(f"行动「{campaign}」不存在，可选值：{'、'.join(CAMPAIGN_CODES)}", code="unknown_campaign")
    within = requested_period(period) if period else None
    if org_unit is not None:
        catalog_service.get_org_unit(session=session, code=org_unit)
    active = catalog.snapshot(session).indicators
    query = select(OfficialValue)
    if campaign is not None:
        query = query.where(OfficialValue.campaign == campaign)
    if org_unit is not None:
        query = query.where(OfficialValue.org_unit_code == org_unit)
    rows = []
    for row in session.exec(query):
        if row.indicator_code not in active:
            continue
        row_period = Period.parse(row.period)
        if within is not None and not (within.start <= row_period.start and row_period.end <= within.end):
            continue
        rows.append(ApprovedValue(row.campaign, row.indicator_code, row.org_unit_code, row_period, row.value))
    return sorted(rows, key=lambda v: (v.period, v.org_unit, v.indicator))


def _number(value: float) -> str:
    """xs:decimal: no exponent, integers without a fraction."""
    return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")


# ---- ADX -----------------------------------------------------------------------------------------------


def _enumeration(schema: etree._Element, name: str, values: Iterable[tuple[str, str]]) -> None:
    simple = etree.SubElement(schema, f"{{{XS}}}simpleType", name=name)
    restriction = etree.SubElement(simple, f"{{{XS}}}restriction", base="xs:string")
    for code, label in values:
        enumeration = etree.SubElement(restriction, f"{{{XS}}}enumeration", value=code)
        documentation = etree.SubElement(etree.SubElement(enumeration, f"{{{XS}}}annotation"), f"{{{XS}}}documentation")
        documentation.set(XML_LANG, "zh")
        documentation.text = label


def _attribute(parent: etree._Element, name: str, type_: str) -> None:
    etree.SubElement(parent, f"{{{XS}}}attribute", name=name, type=type_, use="required")


def adx_schema(*, session: Session) -> bytes:
    """The ADX data structure definition of the plan's catalog as an XML schema: its indicators (dataElement), org
    units (orgUnit) and campaigns (dataSet) as enumerations, periods in ADX's ISO 8601 form (2025-01-01/P1M)."""
    plan = plan_of(session)
    schema = etree.Element(
        f"{{{XS}}}schema",
        nsmap={"xs": XS, None: ADX_NAMESPACE},
        targetNamespace=ADX_NAMESPACE,
        elementFormDefault="qualified",
        attributeFormDefault="unqualified",
    )
    documentation = etree.SubElement(etree.SubElement(schema, f"{{{XS}}}annotation"), f"{{{XS}}}documentation")
    documentation.set(XML_LANG, "zh")
    documentation.text = f"{plan.name}（{plan.code}）的 ADX 数据结构定义，由指标目录生成"
    indicators = session.exec(select(Indicator).where(Indicator.retired.is_(False)).order_by(Indicator.code)).all()
    _enumeration(schema, "dataElementType", ((i.code, f"{i.name}（{i.unit}）") for i in indicators))
    units = session.exec(select(OrgUnit).order_by(OrgUnit.code)).all()
    _enumeration(schema, "orgUnitType", ((u.code, u.name) for u in units))
    campaigns = session.exec(select(Campaign).order_by(Campaign.number)).all()
    _enumeration(schema, "dataSetType", ((c.code, c.title) for c in campaigns))
    period = etree.SubElement(schema, f"{{{XS}}}simpleType", name="periodType")
    restriction = etree.SubElement(period, f"{{{XS}}}restriction", base="xs:string")
    etree.SubElement(restriction, f"{{{XS}}}pattern", value=ADX_PERIOD_PATTERN)

    data_value = etree.SubElement(schema, f"{{{XS}}}complexType", name="dataValueType")
    sequence = etree.SubElement(data_value, f"{{{XS}}}sequence")
    etree.SubElement(sequence, f"{{{XS}}}element", name="annotation", type="xs:string", minOccurs="0")
    _attribute(data_value, "dataElement", "dataElementType")
    _attribute(data_value, "value", "xs:decimal")

    group = etree.SubElement(schema, f"{{{XS}}}complexType", name="groupType")
    sequence = etree.SubElement(group, f"{{{XS}}}sequence")
    etree.SubElement(sequence, f"{{{XS}}}element", name="dataValue", type="dataValueType", maxOccurs="unbounded")
    for name, type_ in (("dataSet", "dataSetType"), ("period", "periodType"), ("orgUnit", "orgUnitType")):
        _attribute(group, name, type_)

    adx = etree.SubElement(etree.SubElement(schema, f"{{{XS}}}element", name="adx"), f"{{{XS}}}complexType")
    sequence = etree.SubElement(adx, f"{{{XS}}}sequence")
    etree.SubElement(sequence, f"{{{XS}}}element", name="group", type="groupType", minOccurs="0", maxOccurs="unbounded")
    _attribute(adx, "exported", "xs:dateTime")
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def adx_message(*, values: list[ApprovedValue], exported: dt.datetime) -> bytes:
    """An ADX data message: a group per campaign, period and org unit, a dataValue per indicator."""
    adx = etree.Element(f"{{{ADX_NAMESPACE}}}adx", nsmap={None: ADX_NAMESPACE}, exported=exported.isoformat())
    groups: dict[tuple[str, str, str], etree._Element] = {}
    for v in values:
        key = (v.campaign, adx_period(v.period), v.org_unit)
        group = groups.get(key)
        if group is None:
            group = groups[key] = etree.SubElement(
                adx, f"{{{ADX_NAMESPACE}}}group", dataSet=key[0], period=key[1], orgUnit=key[2]
            )
        etree.SubElement(group, f"{{{ADX_NAMESPACE}}}dataValue", dataElement=v.indicator, value=_number(v.value))
    return etree.tostring(adx, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---- SDMX-JSON 2.0 ---------------------------------------------------------------------------------------


def sdmx_json_message(*, session: Session, values: list[ApprovedValue], prepared: dt.datetime) -> dict:
    """An SDMX-JSON 2.0 data message: a series per indicator and org unit (INDICATOR, REF_AREA), its observations
    keyed by TIME_PERIOD, OBS_VALUE the measure, the unit a series attribute."""
    plan = plan_of(session)
    indicators = {i.code: i for i in session.exec(select(Indicator))}
    units = {u.code: u.name for u in session.exec(select(OrgUnit))}
    codes = sorted({v.indicator for v in values})
    areas = sorted({v.org_unit for v in values})
    periods = sorted({v.period for v in values})
    measure_units = sorted({indicators[c].unit for c in codes})
    series: dict[str, dict] = {}
    for v in values:
        key = f"{codes.index(v.indicator)}:{areas.index(v.org_unit)}"
        entry = series.setdefault(
            key, {"attributes": [measure_units.index(indicators[v.indicator].unit)], "observations": {}}
        )
        entry["observations"][str(periods.index(v.period))] = [v.value]
    title = f"{plan.name}：审核通过的指标数据"
    return {
        "meta": {
            "schema": SDMX_JSON_SCHEMA,
            "id": f"MINSHENG-{plan.code}-{prepared.strftime('%Y%m%dT%H%M%S')}",
            "test": False,
            "prepared": prepared.isoformat(),
            "contentLanguages": ["zh"],
            "name": title,
            "sender": {"id": SENDER_ID, "name": SENDER_NAME},
        },
        "data": {
            "structures": [
                {
                    "name": title,
                    "names": {"zh": title},
                    "dimensions": {
                        "dataSet": [],
                        "series": [
                            {
                                "id": "INDICATOR",
                                "name": "指标",
                                "keyPosition": 0,
                                "values": [{"id": c, "name": indicators[c].name} for c in codes],
                            },
                            {
                                "id": "REF_AREA",
                                "name": "单位",
                                "keyPosition": 1,
                                "values": [{"id": a, "name": units.get(a, a)} for a in areas],
                            },
                        ],
                        "observation": [
                            {
                                "id": "TIME_PERIOD",
                                "name": "期间",
                                "keyPosition": 2,
                                "roles": ["TIME_PERIOD"],
                                "values": [
                                    {
                                        "id": sdmx_period(p),
                                        "start": f"{p.start.isoformat()}T00:00:00",
                                        "end": f"{p.end.isoformat()}T23:59:59",
                                    }
                                    for p in periods
                                ],
                            }
                        ],
                    },
                    "measures": {"observation": [{"id": "OBS_VALUE", "name": "数值"}]},
                    "attributes": {
                        "dataSet": [],
                        "series": [
                            {
                                "id": "UNIT_MEASURE",
                                "name": "计量单位",
                                "relationship": {"dimensions": ["INDICATOR"]},
                                "values": [{"id": u, "name": u} for u in measure_units],
                            }
                        ],
                        "observation": [],
                    },
                }
            ],
            "dataSets": [{"structure": 0, "action": "Information", "series": series}],
        },
    }


# ---- 数据目录 --------------------------------------------------------------------------------------------

DATA_ITEM_HEADER = ["数据项编码", "数据项名称", "计量单位", "更新频率", "牵头部门", "更新周期", "所属行动", "所属规划"]
INTERFACE_HEADER = ["接口路径", "请求方法", "接口说明", "接口分类"]


def update_cycle(frequency: ReportingFrequency, calendar: ReportingCalendar) -> str:
    when = {
        ReportingFrequency.month: f"每月：次月{calendar.due_day}日前报送",
        ReportingFrequency.quarter: f"每季度：季后次月{calendar.due_day}日前报送",
        ReportingFrequency.year: f"每年：次年1月{calendar.year_due_day}日前报送",
    }[frequency]
    return f"{when}，审核通过后即时更新"


def data_items(*, session: Session, catalog: CatalogCache, calendar: ReportingCalendar) -> list[DataItem]:
    snapshot = catalog.snapshot(session)
    campaigns = {c.code: c.title for c in session.exec(select(Campaign))}
    indicators = session.exec(
        select(Indicator).where(Indicator.retired.is_(False)).order_by(Indicator.campaign_code, Indicator.code)
    ).all()
    return [
        DataItem(
            code=i.code,
            name=i.name,
            unit=i.unit,
            frequency=FREQUENCY_LABELS[i.frequency],
            # a campaign's overall goals (no task) are the city office's, as the reporting rules have it
            departments="、".join(snapshot.lead_departments.get(i.task_number, ())) or "市民生办",
            update_cycle=update_cycle(i.frequency, calendar),
            campaign=campaigns.get(i.campaign_code, i.campaign_code),
            plan=snapshot.plan.name,
        )
        for i in indicators
    ]


def public_interfaces(openapi: dict) -> list[tuple[str, str, str, str]]:
    """(path, method, summary, tag) of each operation of the gateway's API in its OpenAPI document."""
    rows = []
    for path, operations in openapi.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                tags = operation.get("tags") or [""]
                rows.append((path, method.upper(), operation.get("summary", ""), tags[0]))
    return rows


def data_catalog_xlsx(*, items: list[DataItem], interfaces: list[tuple[str, str, str, str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "数据项"
    sheet.append(DATA_ITEM_HEADER)
    for item in items:
        sheet.append(
            [
                item.code,
                item.name,
                item.unit,
                item.frequency,
                item.departments,
                item.update_cycle,
                item.campaign,
                item.plan,
            ]
        )
    _finish(sheet, (12, 40, 10, 10, 30, 36, 24, 30))
    sheet = workbook.create_sheet("接口")
    sheet.append(INTERFACE_HEADER)
    for row in interfaces:
        sheet.append(list(row))
    _finish(sheet, (50, 10, 60, 24))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _finish(sheet, widths: tuple[int, ...]) -> None:  # noqa: ANN001 - an openpyxl worksheet
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGH", widths, strict=False):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"

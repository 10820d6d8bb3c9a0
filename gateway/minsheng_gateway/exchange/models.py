"""What the standard exports are made of: one approved value with its catalog facts, and the export formats'
fixed names (the ADX namespace, the SDMX-JSON schema, the media types)."""

from __future__ import annotations

from dataclasses import dataclass

from minsheng.progress.periods import Period, PeriodType

ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"  # IHE QRPH ADX (ISO 17369 SDMX profile): data messages
ADX_MEDIA_TYPE = "application/adx+xml"
XSD_MEDIA_TYPE = "application/xml"
SDMX_JSON_SCHEMA = "https://json.sdmx.org/2.0.0/sdmx-json-data-schema.json"
SDMX_JSON_MEDIA_TYPE = "application/vnd.sdmx.data+json;version=2.0.0"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SENDER_ID = "ZIBO-MINSHENG"
SENDER_NAME = "淄博市高品质民生三年行动平台"

# ADX's periods are ISO 8601 intervals: a start date and a duration.
ADX_DURATIONS = {PeriodType.month: "P1M", PeriodType.quarter: "P3M", PeriodType.year: "P1Y"}
ADX_PERIOD_PATTERN = r"\d{4}-\d{2}-\d{2}/P(1M|3M|1Y)"


def adx_period(period: Period) -> str:
    return f"{period.start.isoformat()}/{ADX_DURATIONS[period.type]}"


def sdmx_period(period: Period) -> str:
    """SDMX's reporting-period form: 2022-06, 2022-Q2, 2022."""
    if period.type is PeriodType.quarter:
        return f"{period.year}-Q{(period.start.month + 2) // 3}"
    return period.code


@dataclass(frozen=True)
class ApprovedValue:
    """An official (approved, current) value of the gateway's read model, with what the exports say of it."""

    campaign: str
    indicator: str
    org_unit: str
    period: Period
    value: float


@dataclass(frozen=True)
class DataItem:
    """An indicator as the 数据目录 registers it."""

    code: str
    name: str
    unit: str
    frequency: str  # 月度 / 季度 / 年度
    departments: str  # lead departments of its task, 、-separated
    update_cycle: str
    campaign: str  # the campaign's title
    plan: str  # the plan's name

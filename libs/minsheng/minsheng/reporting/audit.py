"""The audit export: a campaign's change history for a period (who, when, what, the previous value), as
.xlsx or CSV for the records archive; city office only.

A change belongs to the period its subject is for (a report's or task status's period, the locked
period), not to the day it was made: exporting 2024Q2 gives every change ever made to 2024Q2's months
and quarter, late revisions included, which is what is archived once a period is locked.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlmodel import Session, select

from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.models import Campaign, Indicator, OrgUnit, Task
from minsheng.clock import CHINA, as_utc
from minsheng.progress.periods import Period, PeriodType, requested_period
from minsheng.reporting.models import (
    CHANGE_ACTION_LABELS,
    REPORT_STATUS_LABELS,
    TASK_STATE_LABELS,
    ChangeRecord,
    ReportStatus,
    TaskState,
)
from minsheng.reporting.workbook import XlsxFile

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class AuditFormat(str, enum.Enum):
    xlsx = "xlsx"
    csv = "csv"


COLUMNS = (
    ("时间", 20),
    ("操作人", 36),
    ("操作", 10),
    ("对象", 16),
    ("指标", 36),
    ("单位", 16),
    ("期间", 10),
    ("原值", 28),
    ("新值", 28),
    ("说明", 30),
    ("佐证材料（SHA-256）", 60),
)
HEADER_FILL = PatternFill("solid", fgColor="FF1F2D3D")


def contained_periods(period: Period) -> list[str]:
    """The codes of the period and of the shorter periods inside it (a year: its quarters and months)."""
    months = {PeriodType.month: 1, PeriodType.quarter: 3, PeriodType.year: 12}[period.type]
    first = period.start.month
    codes = [period.code]
    codes += [f"{period.year}-{m:02d}" for m in range(first, first + months)] if months > 1 else []
    if period.type is PeriodType.year:
        codes += [f"{period.year}Q{q}" for q in range(1, 5)]
    return codes


# A change's subject period: the third part of a report's or task status's series key
# (indicator/org unit/period, task<n>/org unit/period[/partner department]), the whole key of a period lock.
_SUBJECT_PERIOD = sa.case(
    (ChangeRecord.entity == "period_lock", ChangeRecord.series_key),
    else_=sa.func.split_part(ChangeRecord.series_key, "/", 3),
)


def changes_in(*, session: Session, period: Period) -> list[ChangeRecord]:
    return list(
        session.exec(
            select(ChangeRecord)
            .where(_SUBJECT_PERIOD.in_(contained_periods(period)))
            .order_by(ChangeRecord.at, ChangeRecord.id)
        )
    )


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def _state_text(entity: str, state: dict | None) -> str:
    """A recorded state as a clerk reads it: the value with its status, or a task's state and narrative."""
    if not state:
        return ""
    if entity == "report":
        text = _number(state.get("value"))
        if state.get("numerator") is not None and state.get("denominator") is not None:
            text += f"（{_number(state['numerator'])}/{_number(state['denominator'])}）"
        status = state.get("status")
        if status:
            text += f"，{REPORT_STATUS_LABELS[ReportStatus(status)]}"
        if state.get("revision"):
            text += f"，第{state['revision']}版"
        return text
    if entity == "task_status":
        label = TASK_STATE_LABELS.get(TaskState(state["state"]), state["state"]) if state.get("state") else ""
        return "：".join(part for part in (label, state.get("narrative") or "") if part)
    if entity == "period_lock":
        return f"已锁定{'（' + state['locked_by'] + '）' if state.get('locked_by') else ''}"
    return json.dumps(state, ensure_ascii=False)


def audit_rows(*, session: Session, period: Period) -> list[list[str]]:
    """One row per change, in the order they were made, columns as `COLUMNS`."""
    changes = changes_in(session=session, period=period)
    indicators = dict(session.exec(select(Indicator.code, Indicator.name)).all())
    units = dict(session.exec(select(OrgUnit.code, OrgUnit.name)).all())
    tasks = dict(session.exec(select(Task.number, Task.title)).all())
    rows = []
    for change in changes:
        indicator = unit = ""
        if change.entity == "period_lock":
            subject, subject_period = "期间锁定", change.series_key
        else:
            # task_status.task_series: a partner's part names its department after the period.
            first, unit_code, subject_period, *part = change.series_key.split("/")
            unit = f"{unit_code} {units.get(unit_code, '')}".strip()
            if change.entity == "report":
                subject = f"报告 {change.entity_id}"
                indicator = f"{first} {indicators.get(first, '')}".strip()
            else:
                number = int(first.removeprefix("task"))
                subject = f"任务{number}协办进展（{part[0]}）" if part else f"任务{number}进展"
                indicator = tasks.get(number, "")
        previous = json.loads(change.previous) if change.previous else None
        current = json.loads(change.current) if change.current else None
        rows.append(
            [
                f"{as_utc(change.at).astimezone(CHINA):%Y-%m-%d %H:%M:%S}",
                change.actor,
                CHANGE_ACTION_LABELS.get(change.action, change.action),  # type: ignore[call-overload]  # a str enum: its text finds it
                subject,
                indicator,
                unit,
                subject_period,
                _state_text(change.entity, previous),
                _state_text(change.entity, current),
                change.reason or "",
                _evidence_text(current),
            ]
        )
    return rows


def _evidence_text(state: dict | None) -> str:
    """The files saved with a revision, each with the SHA-256 of what is stored: a restored or handed-over file
    can be checked against the record."""
    return "\n".join(f"{item['name']}  SHA-256 {item['sha256']}" for item in (state or {}).get("evidence", []))


def export_changes(
    *, session: Session, principal: Principal, campaign: str, period: str, format: AuditFormat
) -> XlsxFile:
    """The change history of `period` as a file (its media type follows `format`; `XlsxFile` carries any
    download's content and names, the CSV's too)."""
    require_city_office(principal, "导出修改记录（审计）")
    checked = requested_period(period)
    rows = audit_rows(session=session, period=checked)
    campaign_row = session.get(Campaign, campaign)
    name = campaign_row.name if campaign_row else campaign
    filename = f"{name}修改记录_{checked.code}.{format.value}"
    ascii_filename = f"minsheng-audit-{campaign}-{checked.code}.{format.value}"
    if format is AuditFormat.csv:
        content = _csv(rows)
    else:
        content = _xlsx(rows, title=f"{name} · 修改记录（{checked.code}）", count=len(rows))
    return XlsxFile(content=content, filename=filename, ascii_filename=ascii_filename)


# Free text (a return reason, a name) that Excel would take for a formula is kept as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for header, _ in COLUMNS])
    writer.writerows([["'" + v if v.startswith(FORMULA_PREFIXES) else v for v in row] for row in rows])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read it as UTF-8


def _xlsx(rows: list[list[str]], *, title: str, count: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "修改记录"
    sheet.append([header for header, _ in COLUMNS])
    for index, (_, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = Font(bold=True, color="FFFFFFFF"), HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = width
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.data_type == "f":  # openpyxl reads any text starting with "=" as a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = sheet.dimensions
    about = workbook.create_sheet("说明")
    for line in (
        title,
        f"共 {count} 条；导出时间 {dt.datetime.now(CHINA):%Y-%m-%d %H:%M:%S}（北京时间）",
        "期间：列出对象期间在所选期间之内的全部修改（所选为年时含其各季、各月），不论修改发生在哪一天。",
        "原值、新值：报告为数值（比率类附分子/分母）、状态和版本；任务进展为状态和进展说明。",
        "佐证材料：随该版本提交的文件名及所存文件的 SHA-256，可据此核对文件是否被改动。",
    ):
        about.append([line])
    about["A1"].font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""Data value sets (DHIS2's `dataValueSets`): an import checked against the catalog at the gateway, then sent per
campaign to that service's bulk write (`POST /api/v1/reports/bulk`, all or nothing) as the caller, answered with an
import summary; and the export of official values for incremental sync. The services decide what is written."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from fastapi import Request
from pydantic import ValidationError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from minsheng.auth.models import Role
from minsheng.catalog.document import CAMPAIGN_CODES, PlanDoc
from minsheng.catalog.models import OrgUnit
from minsheng.catalog.snapshot import CatalogSnapshot
from minsheng.errors import Unprocessable, describe_validation_error
from minsheng.progress.periods import Period, parse_plan_period, requested_period
from minsheng_gateway.identity.deps import Caller
from minsheng_gateway.projection.models import OfficialValue, ReportView
from minsheng_gateway.proxy import proxy_client, service_label, service_token
from minsheng_gateway.valuesets.models import (
    CSV_COLUMNS,
    ID_SCHEMES,
    IMPORT_STRATEGY,
    MAX_GROUP_ROWS,
    CampaignImport,
    Conflict,
    DataValue,
    DataValueOut,
    DataValueSet,
    ImportCount,
    ImportStatus,
    ImportSummary,
)

DHIS2_MONTH = re.compile(r"^(\d{4})(\d{2})$")  # DHIS2 writes a month 202206; we write 2022-06


def check_options(*, id_schemes: dict[str, str | None], import_strategy: str) -> None:
    """The import's options: our codes under any name of theirs, create-and-update only (422 otherwise)."""
    for name, scheme in id_schemes.items():
        if scheme is not None and scheme.lower() not in ID_SCHEMES:
            raise Unprocessable(
                f"{name}={scheme} 不受支持：本平台只按代码识别指标和单位（idScheme=code，即指标编号如 T002-1、"
                "单位代码如 370303；uid 与 code 相同）",
                code="id_scheme_unsupported",
            )
    if import_strategy.upper() != IMPORT_STRATEGY:
        raise Unprocessable(
            f"importStrategy={import_strategy} 不受支持：只能新增或更新（CREATE_AND_UPDATE）。平台没有撤回已报数据的"
            "操作：要更正请重新报送新值（即为修订），要作废请联系市民生办退回该报告",
            code="import_strategy_unsupported",
        )


# ---- reading the body -------------------------------------------------------------------------------------


def parse_json(content: bytes) -> list[DataValue]:
    try:
        return DataValueSet.model_validate_json(content).dataValues
    except ValidationError as exc:
        # described as the kernel describes a refused request body, each error located under `body`
        errors = [describe_validation_error({**e, "loc": ("body", *e["loc"])}) for e in exc.errors()[:20]]
        raise Unprocessable(
            f'请求内容不是数据值集（{{"dataValues": [...]}}）：{errors[0]["message"]}',
            code="invalid_data_value_set",
            extra={"errors": errors},
        ) from None


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return content.decode("gbk")  # what a spreadsheet saves on a Chinese Windows
        except UnicodeDecodeError:
            raise Unprocessable("CSV 文件的编码无法识别，请另存为 UTF-8 或 GBK", code="invalid_csv") from None


def parse_csv(content: bytes) -> list[DataValue]:
    """A header row naming the columns (dataElement, period, orgUnit, value, comment; case does not matter), then a
    row per value."""
    reader = csv.reader(io.StringIO(_decode(content)))
    header = next(reader, None)
    names = {name.strip().lower(): i for i, name in enumerate(header or [])}
    missing = [c for c in CSV_COLUMNS[:4] if c.lower() not in names]
    if missing:
        raise Unprocessable(
            f"CSV 第一行须为列名，缺少：{'、'.join(missing)}（列名为 {', '.join(CSV_COLUMNS)}）",
            code="invalid_csv",
            extra={"columns": list(CSV_COLUMNS)},
        )

    def cell(row: list[str], column: str) -> str:
        i = names.get(column.lower())
        return row[i].strip() if i is not None and i < len(row) else ""

    rows = []
    try:
        lines = list(reader)
    except csv.Error as exc:  # a NUL byte, a field beyond the csv module's limit
        raise Unprocessable(f"CSV 文件无法读取（{exc}），请检查文件内容", code="invalid_csv") from None
    for row in lines:
        if not any(c.strip() for c in row):
            continue
        rows.append(
            DataValue.model_construct(
                dataElement=cell(row, "dataElement"),
                period=cell(row, "period"),
                orgUnit=cell(row, "orgUnit"),
                value=cell(row, "value") or None,
                comment=cell(row, "comment"),
            )
        )
    return rows


# ---- checking -----------------------------------------------------------------------------------------------


@dataclass
class Checked:
    """The rows that passed the gateway's checks, per campaign (their 1-based row numbers and report bodies)."""

    conflicts: list[Conflict] = field(default_factory=list)
    groups: dict[str, list[tuple[int, dict]]] = field(default_factory=lambda: defaultdict(list))
    refused_groups: set[str] = field(default_factory=set)  # a campaign with a conflicting row: nothing sent
    orphans: int = 0  # rows of no campaign (an unknown indicator)


def _number(value: float | str | None) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip().replace(",", ""))
    except (ValueError, OverflowError):  # text, or an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _period(code: str) -> str:
    month = DHIS2_MONTH.match(code.strip())
    return f"{month[1]}-{month[2]}" if month else code.strip()


def check_rows(
    *, rows: list[DataValue], snapshot: CatalogSnapshot, plan: PlanDoc, today: dt.date, caller: Caller
) -> Checked:
    """Every row against the plan's catalog before anything is sent: the indicator and org unit codes, the period,
    the value a number, no series twice, and (a system account) its granted indicators."""
    checked = Checked()
    principal = caller.account.principal()
    first_of: dict[tuple[str, str, str], int] = {}
    bad: set[int] = set()

    def conflict(number: int, obj: str, code: str, message: str) -> None:
        checked.conflicts.append(Conflict(object=obj, value=number, errorCode=code, message=message))
        bad.add(number)

    candidates: list[tuple[int, str, dict]] = []
    for number, row in enumerate(rows, start=1):
        indicator = snapshot.indicators.get(row.dataElement.strip())
        if indicator is None:
            conflict(
                number,
                row.dataElement,
                "unknown_data_element",
                f"第 {number} 行：指标编号「{row.dataElement}」不存在于本方案的指标目录",
            )
            checked.orphans += 1
            continue
        if row.orgUnit.strip() not in snapshot.org_units:
            conflict(number, row.orgUnit, "unknown_org_unit", f"第 {number} 行：单位代码「{row.orgUnit}」不存在")
        period, code, message = parse_plan_period(_period(row.period), today, plan=plan)
        if period is None:
            conflict(number, row.period, code or "invalid_period", f"第 {number} 行：{message}")
        value = _number(row.value)
        if value is None:
            what = "为空" if row.value in (None, "") else f"「{row.value}」不是数字"
            conflict(number, str(row.value or ""), "value_not_numeric", f"第 {number} 行：数值{what}，须为数字")
        if principal.role is Role.integration and indicator.code not in principal.indicators:
            allowed = "、".join(sorted(principal.indicators)) or "无"
            conflict(
                number,
                indicator.code,
                "indicator_not_granted",
                f"第 {number} 行：{principal.name}只能写入指定指标（{allowed}），不含 {indicator.code}",
            )
        if period is not None:
            key = (indicator.code, row.orgUnit.strip(), period.code)
            if key in first_of:
                first = first_of[key]
                conflict(
                    number,
                    f"{key[0]}/{key[1]}/{key[2]}",
                    "duplicate_data_value",
                    f"第 {number} 行与第 {first} 行是同一指标、单位和期间，无法判断以哪个为准，两行均未导入",
                )
                if first not in bad:
                    conflict(
                        first,
                        f"{key[0]}/{key[1]}/{key[2]}",
                        "duplicate_data_value",
                        f"第 {first} 行与第 {number} 行是同一指标、单位和期间，无法判断以哪个为准，两行均未导入",
                    )
            else:
                first_of[key] = number
        body = {
            "indicator": indicator.code,
            "org_unit": row.orgUnit.strip(),
            "period": period.code if period is not None else row.period,
            "value": value,
            "note": row.comment,
        }
        candidates.append((number, indicator.campaign_code, body))
    for number, campaign, body in candidates:
        checked.groups[campaign].append((number, body))
        if number in bad:
            checked.refused_groups.add(campaign)
    for campaign, group in checked.groups.items():
        if len(group) > MAX_GROUP_ROWS:
            raise Unprocessable(
                f"{service_label(campaign)}的数据有 {len(group)} 行，一次最多 {MAX_GROUP_ROWS} 行，请分批导入",
                code="too_many_rows",
            )
    checked.conflicts.sort(key=lambda c: c.value)
    return checked


# ---- sending ------------------------------------------------------------------------------------------------


def _existing(session: Session, bodies: list[dict]) -> set[tuple[str, str, str]]:
    """The series that already have a report in the read model (a dry run's imported / updated estimate)."""
    indicators = {b["indicator"] for b in bodies}
    if not indicators:
        return set()
    query = select(ReportView.indicator_code, ReportView.org_unit_code, ReportView.period).where(
        ReportView.indicator_code.in_(indicators), ReportView.is_current.is_(True)
    )
    return {tuple(r) for r in session.exec(query)}


async def _send(
    request: Request, caller: Caller, plan: PlanDoc, campaign: str, group: list[tuple[int, dict]]
) -> tuple[CampaignImport, list[Conflict]]:
    """One campaign's rows to its service's bulk write, as the caller; its answer as that group's result."""
    label = service_label(campaign)
    numbers = [n for n, _ in group]
    url = f"{request.app.state.settings.service_url(campaign)}/api/v1/reports/bulk"
    headers = {"authorization": f"Bearer {service_token(request, caller, campaign)}"}
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    try:
        answer = await proxy_client(request.app).post(
            url, params={"plan": plan.code}, json={"rows": [b for _, b in group]}, headers=headers
        )
    except httpx.TransportError:  # a timeout too
        message = f"{label}暂时无法访问，本组数据未写入，请稍后重试"
        return _refused(campaign, label, numbers, message), [
            Conflict(object=campaign, value=n, errorCode="service_unavailable", message=message) for n in numbers
        ]
    if answer.status_code == 201:
        written = answer.json()["data"]
        count = ImportCount(
            imported=sum(1 for r in written if r["revision"] == 1),
            updated=sum(1 for r in written if r["revision"] > 1),
        )
        message = f"已写入 {len(written)} 行，待市民生办审核" if written else "没有数据"
        return CampaignImport(
            campaign=campaign,
            label=label,
            rows=len(group),
            status=ImportStatus.success,
            importCount=count,
            message=message,
        ), []
    refusal = _json_object(answer)
    detail = _text(refusal.get("detail")) or f"{label}拒绝了本组数据（{answer.status_code}）"
    code = _text(refusal.get("code")) or "refused"
    row_errors = refusal.get("errors") if isinstance(refusal.get("errors"), list) else []
    conflicts = []
    for error in row_errors:
        position = error.get("row") if isinstance(error, dict) else None
        if not isinstance(position, int) or not 1 <= position <= len(group):
            continue
        number, body = group[position - 1]
        conflicts.append(
            Conflict(
                object=str(body.get(_text(error.get("field")), body["indicator"])),
                value=number,
                errorCode=_text(error.get("code")) or code,
                message=f"第 {number} 行：{_text(error.get('message')) or detail}",
            )
        )
    if not conflicts:  # refused as a whole (a closed plan, a locked period, …): every row says why
        conflicts = [
            Conflict(object=campaign, value=n, errorCode=code, message=f"第 {n} 行：{detail}") for n in numbers
        ]
    message = f"{label}拒绝了本组数据（{len({c.value for c in conflicts})} 行有误），本组 {len(group)} 行均未写入"
    return _refused(campaign, label, numbers, message), conflicts


def _json_object(answer: httpx.Response) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _refused(campaign: str, label: str, numbers: list[int], message: str) -> CampaignImport:
    return CampaignImport(
        campaign=campaign,
        label=label,
        rows=len(numbers),
        status=ImportStatus.error,
        importCount=ImportCount(ignored=len(numbers)),
        message=message,
    )


async def import_values(
    *, request: Request, session: Session, caller: Caller, plan: PlanDoc, checked: Checked, dry_run: bool
) -> ImportSummary:
    """The checked rows sent (or, a dry run, counted) per campaign, all at once; the summary of what was written."""
    results: list[CampaignImport] = []
    conflicts = list(checked.conflicts)
    sending = []
    for campaign in sorted(checked.groups, key=CAMPAIGN_CODES.index):
        group = checked.groups[campaign]
        label = service_label(campaign)
        if campaign in checked.refused_groups:
            bad = len({c.value for c in checked.conflicts if c.value in {n for n, _ in group}})
            message = f"本组有 {bad} 行有误（见冲突列表），{label}的 {len(group)} 行均未{'试' if dry_run else ''}导入"
            results.append(_refused(campaign, label, [n for n, _ in group], message))
        elif dry_run:
            # a query: off the event loop, as every database call of an async route
            existing = await run_in_threadpool(_existing, session, [b for _, b in group])
            updated = sum(1 for _, b in group if (b["indicator"], b["org_unit"], b["period"]) in existing)
            results.append(
                CampaignImport(
                    campaign=campaign,
                    label=label,
                    rows=len(group),
                    status=ImportStatus.success,
                    importCount=ImportCount(imported=len(group) - updated, updated=updated),
                    message=f"试导入：{len(group)} 行通过网关检查，未写入"
                    f"（期间锁定、数据质量等规则在正式导入时由{label}检查）",
                )
            )
        else:
            sending.append(_send(request, caller, plan, campaign, group))
    for result, refused in await asyncio.gather(*sending):
        results.append(result)
        conflicts.extend(refused)
    results.sort(key=lambda r: CAMPAIGN_CODES.index(r.campaign))
    conflicts.sort(key=lambda c: c.value)
    count = ImportCount(
        imported=sum(r.importCount.imported for r in results),
        updated=sum(r.importCount.updated for r in results),
        ignored=sum(r.importCount.ignored for r in results) + checked.orphans,
    )
    done = count.imported + count.updated
    status = ImportStatus.success if not conflicts else ImportStatus.warning if done else ImportStatus.error
    verb = "可导入" if dry_run else "已导入"
    description = f"{'试导入（未写入任何数据）：' if dry_run else ''}"
    description += f"{verb}新增 {count.imported} 行、更新 {count.updated} 行，忽略 {count.ignored} 行"
    if conflicts:
        description += f"；{len({c.value for c in conflicts})} 行有误，见冲突列表"
    return ImportSummary(
        status=status,
        description=description,
        dryRun=dry_run,
        importCount=count,
        conflicts=conflicts,
        campaigns=results,
    )


# ---- export -------------------------------------------------------------------------------------------------


def _descendants(session: Session, root: str) -> set[str]:
    children: dict[str, list[str]] = defaultdict(list)
    for unit in session.exec(select(OrgUnit)):
        if unit.parent_code:
            children[unit.parent_code].append(unit.code)
    found, todo = {root}, [root]
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _moment(text: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Unprocessable(
            f"{name}={text} 不是日期或时间，请写成 2026-12-01 或 2026-12-01T08:00:00+08:00", code="invalid_datetime"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # no zone given: UTC, as the docs say


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Unprocessable(f"{name}={text} 不是日期，请写成 2026-12-01", code="invalid_date") from None


def official_values(
    *,
    session: Session,
    snapshot: CatalogSnapshot,
    campaign: str | None,
    period: str | None,
    start_date: str | None,
    end_date: str | None,
    org_unit: str | None,
    children: bool,
    last_updated: str | None,
) -> list[DataValueOut]:
    """The plan's official (approved, current) values of its active indicators, as filtered; `last_updated`: only
    those approved after it. Ordered by period, org unit, indicator."""
    if campaign is not None and campaign not in CAMPAIGN_CODES:
        raise Unprocessable(f"行动「{campaign}」不存在，可选值：{'、'.join(CAMPAIGN_CODES)}", code="unknown_campaign")
    within = requested_period(_period(period)) if period else None
    start = _date(start_date, "startDate") if start_date else None
    end = _date(end_date, "endDate") if end_date else None
    if start and end and start > end:
        raise Unprocessable("startDate 不能晚于 endDate", code="invalid_date_range")
    since = _moment(last_updated, "lastUpdated") if last_updated else None
    units = None
    if org_unit is not None:
        if org_unit not in snapshot.org_units:
            raise Unprocessable(f"单位代码「{org_unit}」不存在", code="unknown_org_unit")
        units = _descendants(session, org_unit) if children else {org_unit}
    query = select(OfficialValue, ReportView).join(
        ReportView,
        (ReportView.campaign == OfficialValue.campaign) & (ReportView.report_id == OfficialValue.report_id),
    )
    if campaign is not None:
        query = query.where(OfficialValue.campaign == campaign)
    if units is not None:
        query = query.where(OfficialValue.org_unit_code.in_(units))
    rows = []
    for value, report in session.exec(query):
        if value.indicator_code not in snapshot.indicators:
            continue
        row_period = Period.parse(value.period)
        if within is not None and not (within.start <= row_period.start and row_period.end <= within.end):
            continue
        if (start and row_period.start < start) or (end and row_period.end > end):
            continue
        changed = report.reviewed_at or report.updated_at
        if changed.tzinfo is None:
            changed = changed.replace(tzinfo=dt.UTC)
        if since is not None and changed <= since:
            continue
        rows.append(
            (
                row_period,
                DataValueOut(
                    dataElement=value.indicator_code,
                    period=value.period,
                    orgUnit=value.org_unit_code,
                    value=value.value,
                    campaign=value.campaign,
                    lastUpdated=changed.isoformat(),
                ),
            )
        )
    rows.sort(key=lambda r: (r[0], r[1].orgUnit, r[1].dataElement))
    return [r for _, r in rows]

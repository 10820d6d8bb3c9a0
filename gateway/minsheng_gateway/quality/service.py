"""Rule failures as the gateway folded them (`quality_flag_view`): open ones beside a value in 审核, all of them on the
数据质量 page (by campaign, district, period, newest first) and in its export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.auth.models import Role
from minsheng.errors import Forbidden
from minsheng.pagination import PageParams
from minsheng.quality.models import IMPORTANCE_LABELS, Importance
from minsheng.quality.schemas import OutlierCheck
from minsheng.quality.service import SeriesValue, checks_of
from minsheng_gateway.identity.deps import Caller
from minsheng_gateway.projection.models import FollowUpView
from minsheng_gateway.review.schemas import QualityFlagPublic

_FLAGS_SQL = """
SELECT f.campaign, f.rule, f.name, f.expression, f.importance, f.instruction, f.indicators,
       f.org_unit_code AS org_unit, coalesce(o.name, f.org_unit_code) AS org_unit_name, f.period,
       f.indicator_code AS indicator, f.report_id, f.left_value, f.right_value, f.explained, f.failed_at, f.resolved_at
FROM quality_flag_view f
LEFT JOIN org_unit o ON o.code = f.org_unit_code
"""
_FILTERS = {
    "campaign": "f.campaign = :campaign",
    "org_unit": "f.org_unit_code = :org_unit",
    "period": "f.period = :period",
}


def _flag(row: dict) -> QualityFlagPublic:
    return QualityFlagPublic(
        **{**row, "indicators": [c for c in row["indicators"].split(",") if c]},
        importance_label=IMPORTANCE_LABELS[Importance(row["importance"])],
    )


def open_flags(session: Session, where: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], list]:
    """The open flags of each (campaign, org unit, period)."""
    keys = sorted(set(where))
    if not keys:
        return {}
    rows = (
        session.connection()
        .execute(
            sa.text(
                f"{_FLAGS_SQL} WHERE f.resolved_at IS NULL AND (f.campaign, f.org_unit_code, f.period) IN "
                "(SELECT * FROM unnest(CAST(:campaigns AS text[]), CAST(:units AS text[]), CAST(:periods AS text[])))"
                " ORDER BY f.rule"
            ),
            {"campaigns": [k[0] for k in keys], "units": [k[1] for k in keys], "periods": [k[2] for k in keys]},
        )
        .mappings()
    )
    found: dict[tuple[str, str, str], list] = {}
    for row in rows:
        found.setdefault((row["campaign"], row["org_unit"], row["period"]), []).append(_flag(dict(row)))
    return found


def require_city_office(caller: Caller) -> None:
    if caller.account.role not in (Role.city_office, Role.leader):
        raise Forbidden("数据质量页只对市民生办和市领导开放", code="city_office_only")


def list_flags(
    *,
    session: Session,
    caller: Caller,
    page: PageParams | None,
    campaign: str | None = None,
    org_unit: str | None = None,
    period: str | None = None,
    open_only: bool = False,
) -> tuple[list[QualityFlagPublic], int, int]:
    """(flags, count, open count) matching the filters: newest period first, then the latest failure first."""
    require_city_office(caller)
    wanted = {"campaign": campaign, "org_unit": org_unit, "period": period}
    params = {name: value for name, value in wanted.items() if value}
    conditions = [_FILTERS[name] for name in params] + (["f.resolved_at IS NULL"] if open_only else [])
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    connection = session.connection()
    count, open_count = connection.execute(
        sa.text(f"SELECT count(*), count(*) FILTER (WHERE f.resolved_at IS NULL) FROM quality_flag_view f{where}"),
        params,
    ).one()
    order = " ORDER BY length(f.period) DESC, f.period DESC, f.failed_at DESC, f.campaign, f.rule, f.org_unit_code"
    limit = "" if page is None else f" LIMIT {int(page.limit)} OFFSET {int(page.offset)}"
    rows = connection.execute(sa.text(f"{_FLAGS_SQL}{where}{order}{limit}"), params).mappings()
    return [_flag(dict(row)) for row in rows], count, open_count


EXPORT_HEADER = (
    "行动",
    "单位",
    "期间",
    "规则",
    "表达式",
    "重要程度",
    "左边",
    "右边",
    "说明（填报人解释）",
    "核对要求",
    "发现时间",
    "状态",
)


def export_csv(flags: list[QualityFlagPublic]) -> bytes:
    """The flags as a CSV a spreadsheet opens (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for f in flags:
        writer.writerow(
            (
                f.campaign,
                f.org_unit_name,
                f.period,
                f.name,
                f.expression,
                f.importance_label,
                f"{f.left_value:g}",
                f"{f.right_value:g}",
                f.explained,
                f.instruction,
                f.failed_at.isoformat(timespec="seconds"),
                "已解决" if f.resolved_at else "未解决",
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_LATEST_PERIOD_SQL = (
    "SELECT period FROM report_view WHERE is_current AND length(period) = 7 AND position('-' in period) > 0 "
    "AND (CAST(:campaign AS text) IS NULL OR campaign = :campaign) ORDER BY period DESC LIMIT 1"
)
_SERIES_SQL = """
SELECT r.campaign, r.indicator_code, r.report_id, r.org_unit_code, r.period, r.value
FROM report_view r
WHERE r.is_current AND length(r.period) = length(:period) AND r.period <= :period
  AND (CAST(:campaign AS text) IS NULL OR r.campaign = :campaign)
  AND r.indicator_code IN (
      SELECT indicator_code FROM report_view WHERE is_current AND period = :period
      AND (CAST(:campaign AS text) IS NULL OR campaign = :campaign)
  )
ORDER BY r.indicator_code
"""


def list_outliers(
    *, session: Session, caller: Caller, threshold: float, campaign: str | None = None, period: str | None = None
) -> tuple[str | None, list[tuple[str, OutlierCheck]]]:
    """(the period checked, the flagged values with their campaign): each current value of the period (default: the
    latest month reported) against its org unit's history and the other districts (the kernel's modified z-score).
    Bounds are the services' (`/api/v1/campaigns/<campaign>/quality/outliers`); here the scores only."""
    require_city_office(caller)
    connection = session.connection()
    if period is None:
        period = connection.execute(sa.text(_LATEST_PERIOD_SQL), {"campaign": campaign}).scalar()
        if period is None:
            return None, []
    series: dict[tuple[str, str], list[SeriesValue]] = {}
    for row in connection.execute(sa.text(_SERIES_SQL), {"period": period, "campaign": campaign}):
        series.setdefault((row.campaign, row.indicator_code), []).append(
            SeriesValue(row.report_id, row.org_unit_code, row.period, row.value)
        )
    flagged = [
        (campaign_code, check)
        for (campaign_code, indicator), values in series.items()
        for check in checks_of(indicator, period, values, bounds={}, threshold=threshold)
        if check.flagged
    ]
    return period, flagged


def list_follow_ups(*, session: Session, caller: Caller, open_only: bool = False) -> list[FollowUpView]:
    """The follow-up marks (待核实) as folded: open ones first, then the newest mark first."""
    require_city_office(caller)
    query = select(FollowUpView).order_by(
        FollowUpView.closed_at.is_not(None), FollowUpView.opened_at.desc(), FollowUpView.follow_up.desc()
    )
    if open_only:
        query = query.where(FollowUpView.closed_at == None)  # noqa: E711
    return list(session.exec(query))

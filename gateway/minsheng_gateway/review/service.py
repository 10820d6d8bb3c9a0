"""The reports awaiting review across the five campaigns, read from the gateway's own tables
(`report_view`, `official_value`, the catalog), never from the services.  Each row beside the value
it would replace: the previous official value, the revision it supersedes, and the trajectory's
expected value from the kernel's progress model."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from minsheng.auth.models import Role
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import Forbidden
from minsheng.pagination import PageParams
from minsheng.progress.assemble import indicator_progress
from minsheng.progress.model import Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.queries import load_facts
from minsheng_gateway.identity.deps import Caller
from minsheng_gateway.projection.models import pending_condition
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.quality.service import open_flags
from minsheng_gateway.review.schemas import PendingReportPublic, PendingReviewPage

# Period codes of one type sort as their periods do (2024-04 < 2024-05, 2024Q1 < 2024Q2, 2023 < 2024),
# and the types differ in length: the previous official value is the greatest shorter code of the same
# length.  The jump rule is here and nowhere else: the change against it, as a share of it.
_PENDING_SQL = """
SELECT r.campaign, r.report_id, r.indicator_code AS indicator, i.name AS indicator_name, i.unit, i.kind,
       i.evidence_required,
       i.task_number, r.org_unit_code AS org_unit, coalesce(o.name, r.org_unit_code) AS org_unit_name,
       r.period, r.value, r.numerator, r.denominator, r.submitted_by, r.updated_at AS submitted_at, r.revision,
       previous.period AS previous_period, previous.value AS previous_value,
       replaced.value AS replaced_value, replaced.status AS replaced_status,
       CASE WHEN previous.value <> 0 THEN abs(r.value - previous.value) / abs(previous.value) END AS change_share,
       coalesce(previous.value <> 0 AND abs(r.value - previous.value) / abs(previous.value) > :share, false)
           AS jump
FROM report_view r
JOIN indicator i ON i.code = r.indicator_code
LEFT JOIN org_unit o ON o.code = r.org_unit_code
LEFT JOIN LATERAL (
    SELECT ov.period, ov.value FROM official_value ov
    WHERE ov.indicator_code = r.indicator_code AND ov.org_unit_code = r.org_unit_code
      AND length(ov.period) = length(r.period) AND ov.period < r.period
    ORDER BY ov.period DESC LIMIT 1
) previous ON true
LEFT JOIN report_view replaced
    ON replaced.campaign = r.campaign AND replaced.indicator_code = r.indicator_code
   AND replaced.org_unit_code = r.org_unit_code AND replaced.period = r.period AND replaced.revision = r.revision - 1
WHERE {pending} {filters}
"""
_FILTERS = {
    "campaign": "r.campaign = :campaign",
    "org_unit": "r.org_unit_code = :org_unit",
    "period": "r.period = :period",
    "department": (
        "EXISTS (SELECT 1 FROM task_lead_department d "
        "WHERE d.task_number = i.task_number AND d.department = :department)"
    ),
}
_LEADS_SQL = (
    "SELECT task_number, department FROM task_lead_department "
    "WHERE task_number = ANY(:numbers) ORDER BY task_number, position"
)


def require_reviewer(caller: Caller) -> None:
    if caller.account.role is not Role.city_office:
        raise Forbidden(
            "待审核列表只对市民生办开放；填报人请在「数据填报」中查看自己报告的状态", code="city_office_only"
        )


def pending_reports(
    *,
    session: Session,
    catalog: CatalogCache,
    caller: Caller,
    page: PageParams,
    thresholds: Thresholds,
    jump_share: float,
    campaign: str | None = None,
    department: str | None = None,
    org_unit: str | None = None,
    period: str | None = None,
) -> PendingReviewPage:
    """Current revisions awaiting review, oldest first, filtered by campaign, lead department (of the
    indicator's task), org unit and period; `count` and `jumps` over everything the filters match."""
    require_reviewer(caller)
    wanted = {"campaign": campaign, "department": department, "org_unit": org_unit, "period": period}
    params = {name: value for name, value in wanted.items() if value} | {"share": jump_share}
    base = _PENDING_SQL.format(
        pending=pending_condition("r"), filters="".join(f" AND {_FILTERS[name]}" for name in params if name in _FILTERS)
    )
    connection = session.connection()
    count, jumps = connection.execute(
        sa.text(f"SELECT count(*), count(*) FILTER (WHERE jump) FROM ({base}) pending"), params
    ).one()
    rows = connection.execute(
        sa.text(f"{base} ORDER BY r.updated_at, r.campaign, r.report_id LIMIT :limit OFFSET :offset"),
        params | {"limit": page.limit, "offset": page.offset},
    ).mappings()
    rows = [dict(row) for row in rows]
    leads: dict[int, list[str]] = {}
    numbers = sorted({row["task_number"] for row in rows if row["task_number"] is not None})
    for number, department_name in connection.execute(sa.text(_LEADS_SQL), {"numbers": numbers}):
        leads.setdefault(number, []).append(department_name)
    expected = _expected_values(session, catalog, rows, thresholds)
    flags = open_flags(session, [(row["campaign"], row["org_unit"], row["period"]) for row in rows])
    data = [
        PendingReportPublic(
            **row,
            lead_departments=leads.get(row["task_number"], []),
            expected_value=expected.get((row["indicator"], row["org_unit"], row["period"])),
            quality=[
                flag
                for flag in flags.get((row["campaign"], row["org_unit"], row["period"]), [])
                if row["indicator"] in flag.indicators
            ],
        )
        for row in rows
    ]
    return PendingReviewPage(
        data=data, count=count, jumps=jumps, jump_share=jump_share, summary=_summary(count, jumps, jump_share)
    )


def _expected_values(
    session: Session, catalog: CatalogCache, rows: list[dict], thresholds: Thresholds
) -> dict[tuple[str, str, str], float | None]:
    """The expected value (应达值) of each row's indicator × org unit at its period's end: the progress
    answer as of that day, computed by the kernel from the official values, as the summaries do."""
    codes = sorted({row["indicator"] for row in rows})
    facts = load_facts(session, catalog, codes=codes)
    official = GatewaySource(session).official([code for code in codes if code in facts])
    expected: dict[tuple[str, str, str], float | None] = {}
    for row in rows:
        key = (row["indicator"], row["org_unit"], row["period"])
        if key in expected or row["indicator"] not in facts:
            continue
        answer = indicator_progress(
            facts[row["indicator"]],
            row["org_unit"],
            official.get(row["indicator"], []),
            [],
            Period.parse(row["period"]).end,
            thresholds,
        )
        expected[key] = answer.expected_value
    return expected


def _summary(count: int, jumps: int, share: float) -> str:
    if count == 0:
        return "没有待审核的报告"
    text = f"共 {count} 份报告待审核"
    if jumps:
        text += f"，其中 {jumps} 份与上期已审核值相比变化超过 {share:.0%}，标为异常波动，请重点核对"
    return text

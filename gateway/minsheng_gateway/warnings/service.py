"""预警: the indicators and tasks at risk or behind, and the tasks reported blocked, read from the
gateway's own tables (as stored today, or judged again for a past day).  Tasks counted apart (暂缓实施,
已取消, 待确定: `reads.tasks_apart`) and their indicators warn of nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, select

from minsheng.catalog.models import OrgUnit
from minsheng.catalog.snapshot import CatalogCache
from minsheng.progress.assemble import IndicatorFacts, indicator_progress, progress_from_inputs
from minsheng.progress.model import STATUS_LABELS, Status, Thresholds
from minsheng.progress.queries import load_facts
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng_gateway.projection.answers import usable_inputs
from minsheng_gateway.projection.models import IndicatorProgressView, TaskStatusView
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.reads import counted_facts, tasks_and_leads, tasks_apart
from minsheng_gateway.warnings.schemas import Warning

WARNED = (Status.at_risk, Status.behind)


def _warned_today(session: Session) -> list[tuple[IndicatorProgressView, list[str]]]:
    """The rows at risk or behind as stored, with their reasons."""
    rows = session.exec(select(IndicatorProgressView).where(IndicatorProgressView.status.in_(WARNED)))
    return [(row, IndicatorProgressPublic.model_validate_json(row.payload).reasons) for row in rows]


def _warned_on(
    session: Session, facts: dict[str, IndicatorFacts], day: dt.date, thresholds: Thresholds
) -> list[tuple[IndicatorProgressView, list[str]]]:
    """The rows at risk or behind as the plan stood on `day` (时间回溯): each row judged again for that
    day, from its stored inputs where they serve, else from the official values.  The rows are
    detached copies carrying that day's status; since when is known only if it is the stored status
    and began by then, otherwise the day itself is given."""
    rows = [row for row in session.exec(select(IndicatorProgressView)) if row.indicator_code in facts]
    answers: dict[tuple[str, str], IndicatorProgressPublic] = {}
    in_full: list[IndicatorProgressView] = []
    for row in rows:
        inputs = usable_inputs(row.inputs, facts[row.indicator_code])
        if inputs is None:
            in_full.append(row)
        else:
            answers[(row.indicator_code, row.org_unit_code)] = progress_from_inputs(
                facts[row.indicator_code], row.org_unit_code, inputs, day, thresholds
            )
    if in_full:
        official = GatewaySource(session).official(sorted({row.indicator_code for row in in_full}))
        for row in in_full:
            answers[(row.indicator_code, row.org_unit_code)] = indicator_progress(
                facts[row.indicator_code], row.org_unit_code, official.get(row.indicator_code, []), [], day, thresholds
            )
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    warned = []
    for row in rows:
        answer = answers[(row.indicator_code, row.org_unit_code)]
        if answer.status not in WARNED:
            continue
        since = row.status_since if row.status == answer.status and row.status_since <= day_start else day_start
        copy = IndicatorProgressView.model_validate(row.model_dump() | {"status": answer.status, "status_since": since})
        warned.append((copy, answer.reasons))
    return warned


def warnings(
    *,
    session: Session,
    catalog: CatalogCache,
    today: dt.date,
    limit: int,
    as_of: dt.date | None = None,
    thresholds: Thresholds | None = None,
) -> list[Warning]:
    """The warnings today (as stored), or as the plan stood on `as_of` (computed for that day)."""
    apart = tasks_apart(session)
    facts = counted_facts(load_facts(session, catalog), apart)
    names = dict(session.exec(select(OrgUnit.code, OrgUnit.name)).all())
    tasks, leads = tasks_and_leads(session)
    titles = {t.number: t.title for t in tasks}
    day = as_of or today
    if day == today:
        warned = _warned_today(session)
    else:
        warned = _warned_on(session, facts, day, thresholds or Thresholds())
    result: list[Warning] = []
    by_task: dict[tuple[int, str], list[IndicatorProgressView]] = defaultdict(list)
    for row, reasons in warned:
        f = facts.get(row.indicator_code)
        if f is None:
            continue
        result.append(
            Warning(
                kind="indicator",
                id=row.indicator_code,
                name=f.name,
                campaign=f.campaign,
                task_number=f.task_number,
                org_unit=row.org_unit_code,
                org_unit_name=names.get(row.org_unit_code, row.org_unit_code),
                status=row.status,
                status_label=STATUS_LABELS[row.status],
                since=row.status_since,
                lead_departments=leads.get(f.task_number, []),
                reasons=reasons,
            )
        )
        if f.task_number is not None:
            by_task[(f.task_number, row.org_unit_code)].append(row)
    for (number, org_unit), task_rows in by_task.items():
        worst = max(task_rows, key=lambda r: (r.status == Status.behind, r.status_since))
        result.append(
            Warning(
                kind="task",
                id=str(number),
                name=titles.get(number, ""),
                campaign=worst.campaign,
                task_number=number,
                org_unit=org_unit,
                org_unit_name=names.get(org_unit, org_unit),
                status=worst.status,
                status_label=STATUS_LABELS[worst.status],
                since=max(r.status_since for r in task_rows),
                lead_departments=leads.get(number, []),
                reasons=[
                    f"指标 {'、'.join(sorted(r.indicator_code for r in task_rows))} {STATUS_LABELS[worst.status]}"
                ],
            )
        )
    for row in session.exec(
        select(TaskStatusView).where(TaskStatusView.state.in_(["blocked"]), TaskStatusView.period_end <= day)
    ):
        if row.task_number in apart:
            continue
        result.append(
            Warning(
                kind="task",
                id=str(row.task_number),
                name=titles.get(row.task_number, ""),
                campaign=row.campaign,
                task_number=row.task_number,
                org_unit=row.org_unit_code,
                org_unit_name=names.get(row.org_unit_code, row.org_unit_code),
                status=Status.behind,
                status_label=STATUS_LABELS[Status.behind],
                since=row.reported_at,
                lead_departments=leads.get(row.task_number, []),
                reasons=[f"{row.period}填报受阻：{row.problems or row.narrative}"],
            )
        )
    result.sort(key=lambda w: w.since, reverse=True)
    return result[:limit]


__all__ = ["WARNED", "warnings"]

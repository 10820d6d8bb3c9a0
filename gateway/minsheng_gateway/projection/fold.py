"""The fold's rules: one handler per event data model, each writing a run of its events into the read
models in one set of statements (a single event is a run of one).  The live consumer and the rebuild
use the same handlers (`view_handlers`); the rows travel by `upsert`'s fast path.

The rules, each stated once, in the statements that implement them:
- never back in time: a report's older state arriving late (a retried publish) changes nothing
  (`NEWER_STATE_WINS`); the same for a task status's older revision (`NEWER_REVISION_WINS`);
- the later approval wins: an official value is replaced only by the same or a later approved
  revision of its series (`LATER_APPROVAL_STAYS`): the kernel's rule of what is official
  (`minsheng.reporting.official`: `OFFICIAL_STATUS`, `replaces_official`), kept as a projection;
- a snapshot is the whole truth for its indicator × org unit: what we had is replaced;
- a task's state change is kept once per revision (`EACH_REVISION_ONCE`): its history, the highest its state;
- a catalog may arrive after its reports: what its campaign already has is recomputed;
- an event is its plan's (decision 0017): `data.plan`, absent for the legacy plan; each handler writes a run of
  one plan's events into that plan's tables (`routed`, `GatewayPlans.folding`).
Each handler notes in the transaction's `StaleProgress` which progress rows it made stale; `refresh`
recomputes them before the commit (`progress.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.catalog.document import CampaignDoc
from minsheng.catalog.loader import apply_catalog, holds_catalog
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import bulk
from minsheng.messaging import EventHandlers
from minsheng.messaging.consumer import TypedEvent
from minsheng.progress.periods import Period
from minsheng.reporting.events import (
    FOLLOW_UP_ANSWERED,
    FOLLOW_UP_OPENED,
    CatalogPublished,
    FollowUpChanged,
    ReportChanged,
    ReportSnapshot,
    ReportState,
    RuleFailed,
    RuleResolved,
    TaskStateChanged,
    TaskStatusReported,
)
from minsheng.reporting.models import ReportStatus
from minsheng.reporting.official import OFFICIAL_STATUS, replaces_official
from minsheng_gateway.plans.scope import GatewayPlans, PlanSlot, register_plan, schema_of
from minsheng_gateway.projection.models import (
    FollowUpView,
    OfficialValue,
    QualityFlagView,
    ReportView,
    TaskPartView,
    TaskStateView,
    TaskStatusView,
)
from minsheng_gateway.projection.progress import StaleProgress
from minsheng_gateway.projection.upsert import insert_rows, update_rows

_REPORT_VALUES = (
    "indicator_code",
    "org_unit_code",
    "period",
    "period_end",
    "value",
    "numerator",
    "denominator",
    "status",
    "revision",
    "is_current",
    "submitted_by",
    "updated_at",
    "return_reason",
)
# When a revision was handed in is kept from the first state that says so; when it was decided, from the
# state that decides it (`reads.py` replays past days from them).
NEWER_STATE_WINS = bulk.OnConflict(
    key=("campaign", "report_id"),
    set_=tuple((c, f"excluded.{c}") for c in _REPORT_VALUES)
    + (
        ("submitted_at", "COALESCE(report_view.submitted_at, excluded.submitted_at)"),
        ("reviewed_at", "COALESCE(excluded.reviewed_at, report_view.reviewed_at)"),
    ),
    where="report_view.updated_at <= excluded.updated_at",
)
# `replaces_official` in SQL: the row held is replaced by the same or a later revision.
LATER_APPROVAL_STAYS = bulk.OnConflict(
    key=("indicator_code", "org_unit_code", "period"),
    set_=tuple(
        (c, f"excluded.{c}") for c in ("campaign", "value", "numerator", "denominator", "report_id", "revision")
    ),
    where="official_value.revision <= excluded.revision",
)
NEWER_REVISION_WINS = bulk.OnConflict(
    key=("task_number", "org_unit_code", "period"),
    set_=tuple(
        (c, f"excluded.{c}")
        for c in ("campaign", "period_end", "state", "narrative", "problems", "revision", "reported_by", "reported_at")
    ),
    where="task_status_view.revision <= excluded.revision",
)
PART_NEWER_REVISION_WINS = bulk.OnConflict(
    key=("task_number", "department", "period"),
    set_=tuple(
        (c, f"excluded.{c}")
        for c in (
            "campaign",
            "org_unit_code",
            "period_end",
            "state",
            "narrative",
            "problems",
            "revision",
            "reported_by",
            "reported_at",
        )
    ),
    where="task_part_view.revision <= excluded.revision",
)
# A rule's later failure there replaces an earlier one and opens it again; an older one arriving late changes nothing.
_FLAG_VALUES = (
    "name",
    "expression",
    "importance",
    "instruction",
    "indicators",
    "indicator_code",
    "report_id",
    "left_value",
    "right_value",
    "explained",
    "failed_at",
)
# A mark is opened once: the same opening again (redelivered, replayed) changes nothing.
FOLLOW_UP_ONCE = bulk.OnConflict(key=("campaign", "follow_up"))
LATER_FAILURE_WINS = bulk.OnConflict(
    key=("campaign", "rule", "org_unit_code", "period"),
    set_=tuple((c, f"excluded.{c}") for c in _FLAG_VALUES) + (("resolved_at", "NULL"),),
    where="quality_flag_view.failed_at <= excluded.failed_at",
)
# A revision of a task's state never changes: the same one again (redelivered, republished) is kept as it was.
EACH_REVISION_ONCE = bulk.OnConflict(key=("task_number", "revision"))

State = tuple[str, ReportState, dt.datetime]  # campaign, the report's state, when it was so


def _write_states(session: Session, states: list[State], stale: StaleProgress) -> None:
    """Report states into `report_view` and, the approved ones, `official_value`; in the statements'
    order, so within the list too, a later time (a later revision) wins."""
    latest: dict[tuple[str, int], State] = {}
    submitted_at: dict[tuple[str, int], dt.datetime] = {}
    official: dict[tuple[str, str, str], tuple[str, ReportState]] = {}
    for campaign, state, at in states:
        key = (campaign, state.report_id)
        if key not in latest or latest[key][2] <= at:
            latest[key] = (campaign, state, at)
        if state.status == ReportStatus.submitted.value and (key not in submitted_at or at < submitted_at[key]):
            submitted_at[key] = at
        if state.status == OFFICIAL_STATUS.value:
            series = (state.indicator, state.org_unit, state.period)
            held = official.get(series)
            if replaces_official(state.revision, None if held is None else held[1].revision):
                official[series] = (campaign, state)
    if not latest:
        return
    period_ends: dict[str, dt.date] = {}

    def period_end(code: str) -> dt.date:
        if code not in period_ends:
            period_ends[code] = Period.parse(code).end
        return period_ends[code]

    insert_rows(
        session,
        ReportView.__table__,
        [
            dict(
                campaign=campaign,
                report_id=s.report_id,
                indicator_code=s.indicator,
                org_unit_code=s.org_unit,
                period=s.period,
                period_end=period_end(s.period),
                value=s.value,
                numerator=s.numerator,
                denominator=s.denominator,
                status=s.status,
                revision=s.revision,
                is_current=s.is_current,
                submitted_by=s.submitted_by,
                updated_at=at,
                return_reason=s.return_reason,
                submitted_at=submitted_at.get(key),
                reviewed_at=None if s.status == ReportStatus.submitted.value else at,
            )
            for key, (campaign, s, at) in latest.items()
        ],
        NEWER_STATE_WINS,
    )
    if official:
        insert_rows(
            session,
            OfficialValue.__table__,
            [
                dict(
                    indicator_code=s.indicator,
                    org_unit_code=s.org_unit,
                    period=s.period,
                    campaign=campaign,
                    value=s.value,
                    numerator=s.numerator,
                    denominator=s.denominator,
                    report_id=s.report_id,
                    revision=s.revision,
                )
                for campaign, s in official.values()
            ],
            LATER_APPROVAL_STAYS,
        )
        for _, state in official.values():
            stale.official_changed(state.indicator, state.org_unit, state.period)


def fold_reports(session: Session, events: list[TypedEvent], stale: StaleProgress) -> None:
    """Report revisions submitted, revised, approved or returned; a revision replaced by a newer one
    is no longer current."""
    states: list[State] = []
    superseded: dict[tuple[str, int], None] = {}
    for event in events:
        change: ReportChanged = event.typed_data()
        states.append((change.campaign, change.report, event.time))
        if change.supersedes is not None:
            superseded[(change.campaign, change.supersedes)] = None
    _write_states(session, states, stale)
    if superseded:
        update_rows(
            session,
            ReportView.__table__,
            [{"campaign": c, "report_id": r} for c, r in superseded],
            {"is_current": False},
        )


def fold_snapshots(session: Session, events: list[TypedEvent], stale: StaleProgress) -> None:
    """A snapshot is the whole truth for its indicator × org unit: what we had is replaced (by the
    run's last snapshot of it)."""
    last: dict[tuple[str, str, str], ReportSnapshot] = {}
    for event in events:
        snapshot: ReportSnapshot = event.typed_data()
        last[(snapshot.campaign, snapshot.indicator, snapshot.org_unit)] = snapshot
    reports, official = ReportView.__table__, OfficialValue.__table__
    connection = session.connection()
    for campaign, indicator, org_unit in last:
        connection.execute(
            reports.delete().where(
                reports.c.campaign == campaign,
                reports.c.indicator_code == indicator,
                reports.c.org_unit_code == org_unit,
            )
        )
        connection.execute(
            official.delete().where(official.c.indicator_code == indicator, official.c.org_unit_code == org_unit)
        )
    _write_states(session, [(s.campaign, state, s.taken_at) for s in last.values() for state in s.reports], stale)
    stale.anything_changed((indicator, org_unit) for _, indicator, org_unit in last)  # values may have gone


def fold_task_statuses(session: Session, events: list[TypedEvent], stale: StaleProgress) -> None:  # noqa: ARG001
    """Task statuses as reported (they make no progress row stale: a task's status is judged when read); a partner
    department's part of a task (`partner_department`) into its own table, never taken for the task's status."""
    latest: dict[tuple[int, str, str], dict] = {}
    parts: dict[tuple[int, str, str], dict] = {}
    for event in events:
        data: TaskStatusReported = event.typed_data()
        period = Period.parse(data.period)
        row = dict(
            task_number=data.task,
            org_unit_code=data.org_unit,
            period=period.code,
            campaign=data.campaign,
            period_end=period.end,
            state=data.state,
            narrative=data.narrative,
            problems=data.problems,
            revision=data.revision,
            reported_by=data.actor,
            reported_at=data.occurred_at,
        )
        if data.partner_department is not None:
            rows, key = parts, (data.task, data.partner_department, period.code)
            row["department"] = data.partner_department
        else:
            rows, key = latest, (data.task, data.org_unit, period.code)
        if key not in rows or rows[key]["revision"] <= data.revision:
            rows[key] = row
    if latest:
        insert_rows(session, TaskStatusView.__table__, list(latest.values()), NEWER_REVISION_WINS)
    if parts:
        insert_rows(session, TaskPartView.__table__, list(parts.values()), PART_NEWER_REVISION_WINS)


def fold_task_states(session: Session, events: list[TypedEvent], stale: StaleProgress) -> None:  # noqa: ARG001
    """The city office's decisions on tasks, each revision once (they make no progress row stale: which tasks
    count is decided when a view is read)."""
    rows: dict[tuple[int, int], dict] = {}
    for event in events:
        data: TaskStateChanged = event.typed_data()
        rows[(data.task, data.revision)] = dict(
            task_number=data.task,
            revision=data.revision,
            campaign=data.campaign,
            state=data.state,
            previous_state=data.previous_state,
            reason=data.reason,
            changed_by=data.actor,
            changed_at=data.occurred_at,
        )
    insert_rows(session, TaskStateView.__table__, list(rows.values()), EACH_REVISION_ONCE)


def fold_quality(session: Session, events: list[TypedEvent], stale: StaleProgress) -> None:  # noqa: ARG001
    """Validation rules failed and resolved (decision 0024), in their order: a resolution closes the failure it
    follows, never a later one."""
    flags = QualityFlagView.__table__
    for event in events:
        data = event.typed_data()
        if isinstance(data, RuleFailed):
            row = dict(
                campaign=data.campaign,
                rule=data.rule,
                org_unit_code=data.org_unit,
                period=data.period,
                name=data.name,
                expression=data.expression,
                importance=data.importance,
                instruction=data.instruction,
                indicators=",".join(data.indicators),
                indicator_code=data.indicator,
                report_id=data.report_id,
                left_value=data.left_value,
                right_value=data.right_value,
                explained=data.explained,
                failed_at=data.occurred_at,
                resolved_at=None,
            )
            insert_rows(session, flags, [row], LATER_FAILURE_WINS)
        elif isinstance(data, RuleResolved):
            session.connection().execute(
                flags.update()
                .where(
                    flags.c.campaign == data.campaign,
                    flags.c.rule == data.rule,
                    flags.c.org_unit_code == data.org_unit,
                    flags.c.period == data.period,
                    flags.c.failed_at <= data.occurred_at,
                    flags.c.resolved_at == None,  # noqa: E711
                )
                .values(resolved_at=data.occurred_at)
            )


def fold_follow_ups(session: Session, events: list[TypedEvent], stale: StaleProgress) -> None:  # noqa: ARG001
    """Follow-up marks opened, answered and closed, in their order (one key per mark): the view keeps the mark, its
    latest answer and whether it is closed; a step redelivered finds its row already so."""
    marks = FollowUpView.__table__
    for event in events:
        data: FollowUpChanged = event.typed_data()
        mark = (marks.c.campaign == data.campaign, marks.c.follow_up == data.follow_up)
        if event.type == FOLLOW_UP_OPENED:
            row = dict(
                campaign=data.campaign,
                follow_up=data.follow_up,
                report_id=data.report_id,
                indicator_code=data.indicator,
                org_unit_code=data.org_unit,
                period=data.period,
                comment=data.comment,
                opened_by=data.actor,
                opened_at=data.occurred_at,
            )
            insert_rows(session, marks, [row], FOLLOW_UP_ONCE)
        elif event.type == FOLLOW_UP_ANSWERED:
            later = sa.or_(marks.c.answered_at == None, marks.c.answered_at < data.occurred_at)  # noqa: E711
            session.connection().execute(
                marks.update().where(*mark, later).values(answer=data.comment, answered_at=data.occurred_at)
            )
        else:  # closed
            session.connection().execute(marks.update().where(*mark).values(closed_at=data.occurred_at))


def fold_catalogs(session: Session, events: list[TypedEvent], stale: StaleProgress, *, catalog: CatalogCache) -> None:
    """A campaign's catalog, stored unless it is the one held already (pulled from the service, or
    published before, and again at every rebuild: the digest of what was last applied says so)."""
    for event in events:
        data: CatalogPublished = event.typed_data()
        doc = CampaignDoc.model_validate(data.catalog)
        if not holds_catalog(session, doc):
            apply_catalog(session=session, doc=doc, catalog=catalog)
            session.flush()
        # Reports may have arrived before their catalog (they travel on other partitions): whatever this
        # campaign already has is recomputed now that its indicators are known (or were corrected).
        series = session.exec(
            select(ReportView.indicator_code, ReportView.org_unit_code)
            .where(ReportView.campaign == data.campaign)
            .distinct()
        ).all()
        stale.anything_changed(series)  # aggregation or scale may have changed: no partial roll-up


def event_plan(event: TypedEvent) -> str | None:
    """The plan an event belongs to: `data.plan` (absent: the legacy plan); a catalog's, the plan its document
    carries (the record itself, whoever published it)."""
    data = event.typed_data()
    if isinstance(data, CatalogPublished):
        plan = data.catalog.get("plan")
        return plan.get("code") if isinstance(plan, dict) else None
    return getattr(data, "plan", None)


PlanWork = dict[str | None, StaleProgress]  # a transaction's stale progress rows, per plan (None: the legacy plan)
Finish = Callable[[Session, StaleProgress, PlanSlot], None]


def routed(handler: Callable, plans: GatewayPlans, *, with_catalog: bool = False) -> Callable:
    """`handler` over a run of events, one plan's at a time (each plan's in their order), in that plan's tables."""

    def run(session: Session, events: list[TypedEvent], work: PlanWork) -> None:
        by_plan: dict[str | None, list[TypedEvent]] = {}
        for event in events:
            code = event_plan(event)
            by_plan.setdefault(None if schema_of(code) is None else code, []).append(event)
        for code, run_ in by_plan.items():
            with plans.folding(session, code) as slot:
                extra = {"catalog": slot.catalog} if with_catalog else {}
                handler(session, run_, work.setdefault(code, StaleProgress()), **extra)
            if with_catalog and code is not None:
                # The registry in public lists the plan as its catalog says (published, closed).
                for event in run_:
                    register_plan(session, CampaignDoc.model_validate(event.typed_data().catalog).plan)
                session.flush()

    return run


def view_handlers(finish: Finish, plans: GatewayPlans) -> EventHandlers[PlanWork]:
    """The gateway's handlers; `finish(session, stale, slot)` completes a transaction's stale progress, plan by
    plan in each plan's tables (the live consumer refreshes the progress rows; a rebuild collects them for the end);
    a catalog applied drops its plan's catalog snapshot.  Status-changed and period events have no handler: the
    gateway computes statuses itself from the values."""

    def finish_plans(session: Session, work: PlanWork) -> None:
        for code, stale in work.items():
            with plans.folding(session, code) as slot:
                finish(session, stale, slot)

    handlers = EventHandlers(start=dict, finish=finish_plans)
    handlers.register(ReportChanged, routed(fold_reports, plans))
    handlers.register(ReportSnapshot, routed(fold_snapshots, plans))
    handlers.register(TaskStatusReported, routed(fold_task_statuses, plans))
    handlers.register(TaskStateChanged, routed(fold_task_states, plans))
    handlers.register(CatalogPublished, routed(fold_catalogs, plans, with_catalog=True))
    handlers.register(RuleFailed, routed(fold_quality, plans))
    handlers.register(RuleResolved, routed(fold_quality, plans))
    handlers.register(FollowUpChanged, routed(fold_follow_ups, plans))
    return handlers


__all__ = [
    "EACH_REVISION_ONCE",
    "LATER_APPROVAL_STAYS",
    "NEWER_REVISION_WINS",
    "NEWER_STATE_WINS",
    "PlanWork",
    "event_plan",
    "fold_catalogs",
    "fold_follow_ups",
    "fold_quality",
    "fold_reports",
    "fold_snapshots",
    "fold_task_states",
    "fold_task_statuses",
    "view_handlers",
]

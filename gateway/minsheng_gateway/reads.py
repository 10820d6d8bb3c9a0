"""What the read side's screens share: the as-of query parameters (时间回溯, docs/decisions/0014), the
thresholds, the stored answers of the progress rows, which tasks count (the city office's decisions,
`task_states`), and a report revision as it stood at the end of a past day (北京时间), for the views that
replay the plan's past (`as_of`): who had reported, what awaited review, what was overdue, a value's history.

The rule of the replay, stated once:
- a revision is known from the moment it was handed in (`submitted_at`);
- until it was approved or returned (`reviewed_at`) it was awaiting review (待审核), whatever became of it
  since;
- of a series' revisions known by then, the latest is the one that counted.
A revision whose submission the fold never saw (folded from a snapshot, or before these times were kept)
is known from its last change (`updated_at`), and decided then if it is decided.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated

import sqlalchemy as sa
from fastapi import Query, Request
from sqlmodel import Session, select

from minsheng.catalog.models import Task, TaskLeadDepartment
from minsheng.catalog.snapshot import CatalogCache
from minsheng.clock import CHINA, as_utc
from minsheng.progress.assemble import IndicatorFacts, pending_of, with_pending
from minsheng.progress.model import Thresholds
from minsheng.progress.queries import load_facts
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng.reporting.models import ReportStatus, counts_in_progress
from minsheng_gateway.projection.ahead import answer_for
from minsheng_gateway.projection.models import IndicatorProgressView, ReportView, TaskStateView
from minsheng_gateway.projection.source import GatewaySource

VIEWS_TAG = "全市与区县视图 views"  # the OpenAPI tag of every read-side screen

# 时间回溯 (docs/decisions/0014): every view answers for a chosen day; none: today.  Figures as the plan
# stood then (approved values of periods ending by that day):
AsOf = Annotated[dt.date | None, Query(description="回溯：按哪一天的情况计算（截至该日已结束期间的审定值），默认今天")]
# The views of reporting itself (who had reported, what was overdue) replay what was known at that day's end.
AsOfReported = Annotated[
    dt.date | None,
    Query(description="回溯：按哪一天结束时的报送与审核情况（之后才报送、审核的按当时的状态计），默认今天"),
]
AsOfRoutines = Annotated[dt.date | None, Query(description="以哪一天为准推算上月末、上季末、上年末，默认今天")]


def thresholds(request: Request) -> Thresholds:
    return Thresholds.from_settings(request.app.state.settings)


def tasks_and_leads(session: Session) -> tuple[list[Task], dict[int, list[str]]]:
    tasks = list(session.exec(select(Task).where(Task.retired == False).order_by(Task.number)))  # noqa: E712
    leads: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(
        select(TaskLeadDepartment).order_by(TaskLeadDepartment.task_number, TaskLeadDepartment.position)
    ):
        leads[row.task_number].append(row.department)
    return tasks, leads


def task_states(session: Session) -> dict[int, TaskStateView]:
    """Each task's implementation state as the city office last set it (its highest revision); a task
    without one is in progress.  As decided now, whatever day a view is for: like the catalog, a decision
    applies to the plan's past figures too (the history says since when)."""
    states: dict[int, TaskStateView] = {}
    for row in session.exec(select(TaskStateView).order_by(TaskStateView.task_number, TaskStateView.revision)):
        states[row.task_number] = row
    return states


def tasks_apart(session: Session) -> dict[int, TaskStateView]:
    """The tasks counted apart (暂缓实施, 已取消, 待确定), with their state: the kernel's rule
    (`counts_in_progress`) over the decisions folded here.  Every view leaves them and their indicators out of
    its shares, rankings, warnings and what is owed, and counts them apart."""
    return {number: row for number, row in task_states(session).items() if not counts_in_progress(row.state)}


def counted_facts(
    facts: dict[str, IndicatorFacts], apart: dict[int, TaskStateView] | set[int]
) -> dict[str, IndicatorFacts]:
    """`facts` without the indicators of the tasks `apart` (a campaign's headline indicators always count)."""
    return {code: f for code, f in facts.items() if f.task_number is None or f.task_number not in apart}


def stored_answer(session: Session, catalog: CatalogCache, code: str, org_unit: str, today: dt.date) -> str | None:
    """The answer stored for `today` (as JSON, an `IndicatorProgressPublic`; `ahead.answer_for`), if
    the indicator is in the catalog, with the reports awaiting review now (stored answers hold none:
    `projection/answers.py`' docstring).  None: compute it."""
    if not load_facts(session, catalog, codes=[code]):
        return None
    view = IndicatorProgressView
    stored = session.execute(
        sa.select(answer_for(today, view.payload, view.next_payload)).where(
            view.indicator_code == code, view.org_unit_code == org_unit
        )
    ).scalar()
    if stored is None:
        return None
    pending = pending_of(org_unit, GatewaySource(session).pending([code]).get(code, []))
    if not pending and '"pending":[]' in stored:
        return stored  # the usual case: served as stored, not parsed
    return with_pending(IndicatorProgressPublic.model_validate_json(stored), pending).model_dump_json()


SUBMITTED = ReportStatus.submitted.value


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of `day` in Beijing (the day the city office means): the first moment of the next."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=CHINA)


def known_by(day: dt.date) -> sa.ColumnElement[bool]:
    """The revisions handed in by the end of `day` (a query's criterion)."""
    return sa.func.coalesce(ReportView.submitted_at, ReportView.updated_at) < end_of_day(day)


def as_it_stood(row: ReportView, day: dt.date) -> ReportView:
    """`row` (known by the end of `day`) as it stood then: decided later, it was still awaiting review.
    A detached copy where it differs; the row itself where not."""
    if row.status == SUBMITTED or as_utc(row.reviewed_at or row.updated_at) < end_of_day(day):
        return row
    return ReportView.model_validate(row.model_dump() | {"status": SUBMITTED, "return_reason": None})


def current_as_of(rows: list[ReportView], day: dt.date) -> dict[tuple[str, str, str], ReportView]:
    """Of the revisions known by the end of `day`, the one that counted per indicator × org unit × period,
    as it stood then."""
    latest: dict[tuple[str, str, str], ReportView] = {}
    for row in rows:
        key = (row.indicator_code, row.org_unit_code, row.period)
        if key not in latest or latest[key].revision < row.revision:
            latest[key] = row
    return {key: as_it_stood(row, day) for key, row in latest.items()}


__all__ = [
    "VIEWS_TAG",
    "AsOf",
    "AsOfReported",
    "AsOfRoutines",
    "as_it_stood",
    "counted_facts",
    "current_as_of",
    "end_of_day",
    "known_by",
    "stored_answer",
    "task_states",
    "tasks_and_leads",
    "tasks_apart",
    "thresholds",
]

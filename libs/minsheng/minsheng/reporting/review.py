"""Review by the city office: a pending report approved (its value becomes official, through group
commit) or returned with a reason for the reporter to correct."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from prometheus_client import Counter
from sqlmodel import Session

from minsheng.auth.principal import Principal, require_city_office
from minsheng.db import bulk
from minsheng.db.group_commit import GroupCommitWriter
from minsheng.errors import Conflict, DomainError, NotFound
from minsheng.messaging import OutboxEvent
from minsheng.messaging.outbox import outbox_rows
from minsheng.progress.model import Thresholds
from minsheng.progress.periods import Period
from minsheng.reporting.changes import change_columns, commit, now, record_change, recorded_state, report_series
from minsheng.reporting.events import report_changed_event
from minsheng.reporting.locks import PeriodLocks, lock_covering
from minsheng.reporting.models import REPORT_STATUS_LABELS, ChangeRecord, PeriodLock, Report, ReportRow, ReportStatus
from minsheng.reporting.status_tracking import StatusTracker
from minsheng.reporting.submissions import get_report

REPORTS_REVIEWED = Counter(
    "minsheng_reports_reviewed_total", "Reports reviewed by the city office, by decision", ["campaign", "decision"]
)


def check_reviewable(locks: list[PeriodLock], report: Report | ReportRow) -> None:
    if not report.is_current:
        raise Conflict(
            f"报告 {report.id} 已被第{report.revision + 1}版或更新的版本取代，请审核最新版本", code="superseded"
        )
    if report.status is not ReportStatus.submitted:
        raise Conflict(
            f"只有待审核的报告可以审核；报告 {report.id} 的状态是「{REPORT_STATUS_LABELS[report.status]}」",
            code="not_pending",
        )
    lock = lock_covering(locks, Period.parse(report.period))
    if lock is not None:
        raise Conflict(f"{lock.period} 已锁定，不能再审核或退回", code="period_locked")


@dataclass(frozen=True)
class Approval:
    report_id: int
    reviewed_by: str  # the principal's label
    today: dt.date
    thresholds: Thresholds


class ApprovalWriter:
    """Writes approvals (`write`) for the group-commit writer of approvals.  Holds the period locks
    it checks at write time and the status tracker that re-checks the indicators approved; one per
    app."""

    def __init__(self, *, locks: PeriodLocks, tracker: StatusTracker | None = None):
        self.locks = locks
        self.tracker = tracker or StatusTracker()

    def write(self, session: Session, approvals: Sequence[Approval]) -> list[ReportRow | DomainError]:
        """Approve each report, in the caller's transaction: its status, its change record and its
        event, three statements for the whole batch (the reports read and locked; the reports
        approved with their history records and events; the statuses that moved with theirs).
        Approval changes an official figure, so each indicator touched has its computed status
        re-checked once for the batch (for the approved org units and the city), and a move (on
        track → at risk → behind …) becomes a status_changed event.

        Returns, per approval, the approved report or the error that refused it (unknown report, not
        the current revision, not pending, period locked)."""
        at = now()
        reports = _reports_by_id(session, {a.report_id for a in approvals})
        locks = self.locks.get(session)
        outcomes: list[ReportRow | DomainError] = []
        approved: list[tuple[ReportRow, dict, Approval]] = []
        for approval in approvals:
            report = reports.get(approval.report_id)
            if report is None:
                outcomes.append(NotFound(f"报告 {approval.report_id} 不存在", code="report_not_found"))
                continue
            try:
                check_reviewable(locks, report)
            except DomainError as refusal:
                outcomes.append(refusal)
                continue
            before = recorded_state(report)
            report.status, report.reviewed_by, report.reviewed_at = ReportStatus.approved, approval.reviewed_by, at
            approved.append((report, before, approval))
            outcomes.append(report)
        if not approved:
            return outcomes
        changes = [
            change_columns(
                entity="report",
                entity_id=str(report.id),
                action="approved",
                actor=approval.reviewed_by,
                at=at,
                series_key=report_series(report),
                previous=before,
                current=recorded_state(report),
            )
            for report, before, approval in approved
        ]
        events = [
            report_changed_event(session, action="approved", actor=approval.reviewed_by, at=at, report=report)
            for report, _, approval in approved
        ]
        connection = session.connection()
        # One statement: the reports approved, their history records and events, and how many
        # reports of each indicator were approved before (the status check's version of its values).
        status = Report.__table__.c.status.type.bind_processor(connection.dialect)(ReportStatus.approved)
        approved_before = {
            code: (count, last_id)
            for code, count, last_id in bulk.insert_together(
                connection,
                [(ChangeRecord.__table__, changes), (OutboxEvent.__table__, outbox_rows(events))],
                before=[
                    (
                        _APPROVE_SQL,
                        (status, at, [r.id for r, _, _ in approved], [r.reviewed_by for r, _, _ in approved]),
                    )
                ],
                then=(_APPROVED_SO_FAR_SQL, (sorted({r.indicator_code for r, _, _ in approved}), status)),
            )
        }
        first = approved[0][2]
        self.tracker.track(
            session=session,
            approved=[report for report, _, _ in approved],
            as_of=first.today,
            thresholds=first.thresholds,
            approved_before=approved_before,
        )
        return outcomes


_APPROVE_SQL = (
    "UPDATE report SET status = %s, reviewed_by = approval.reviewed_by, reviewed_at = %s "
    "FROM unnest(%s::int[], %s::text[]) AS approval(id, reviewed_by) WHERE report.id = approval.id"
)
_APPROVED_SO_FAR_SQL = (
    "SELECT indicator_code, count(*), max(id) FROM report "
    "WHERE indicator_code = ANY(%s::text[]) AND status = %s GROUP BY indicator_code"
)


def _reports_by_id(session: Session, ids: set[int]) -> dict[int, ReportRow]:
    """Reports by id, locked (a concurrent review of the same report waits)."""
    table = Report.__table__
    query = sa.select(table).where(table.c.id.in_(sorted(ids))).order_by(table.c.id).with_for_update()
    return {row["id"]: ReportRow.from_mapping(row) for row in session.connection().execute(query).mappings()}


async def _approval_writer(request: Request) -> GroupCommitWriter[Approval, ReportRow]:
    return request.app.state.approval_writer


ApprovalWriterDep = Annotated[GroupCommitWriter[Approval, ReportRow], Depends(_approval_writer)]


async def approve_report(
    *,
    writer: GroupCommitWriter[Approval, ReportRow],
    campaign: str,
    report_id: int,
    principal: Principal,
    today: dt.date,
    thresholds: Thresholds,
) -> ReportRow:
    """Approval, written by the group-commit writer of approvals (`ApprovalWriter.write`); counted
    once committed."""
    require_city_office(principal, "审核通过")
    report = await writer.write(
        Approval(report_id=report_id, reviewed_by=principal.label, today=today, thresholds=thresholds)
    )
    REPORTS_REVIEWED.labels(campaign, "approved").inc()
    return report


def return_report(
    *, session: Session, locks: PeriodLocks, campaign: str, report_id: int, reason: str, principal: Principal
) -> Report:
    require_city_office(principal, "退回报告")
    report = get_report(session=session, report_id=report_id)
    check_reviewable(locks.get(session), report)
    before = recorded_state(report)
    report.status, report.return_reason = ReportStatus.returned, reason
    report.reviewed_by, report.reviewed_at = principal.label, now()
    session.add(report)
    record_change(
        session,
        entity="report",
        row=report,
        action="returned",
        actor=principal,
        series_key=report_series(report),
        previous=before,
        current=recorded_state(report),
        reason=reason,
    )
    commit(session)
    REPORTS_REVIEWED.labels(campaign, "returned").inc()
    return report

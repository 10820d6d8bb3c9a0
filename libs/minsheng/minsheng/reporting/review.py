"""Review by the city office: pending reports approved (their values become official, through group
commit), one or many at once and all or none, or returned with a reason for the reporter to correct."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from prometheus_client import Counter
from sqlmodel import Session

from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import bulk, request_plan, session_plan
from minsheng.db.group_commit import GroupCommitWriter
from minsheng.errors import Conflict, DomainError, NotFound, Unprocessable
from minsheng.messaging import OutboxEvent
from minsheng.messaging.outbox import outbox_rows
from minsheng.progress.periods import Period
from minsheng.reporting.changes import change_columns, commit, now, record_change, recorded_state, report_series
from minsheng.reporting.events import campaign_of_indicator, report_changed_event
from minsheng.reporting.locks import PeriodLocks, lock_covering
from minsheng.reporting.models import REPORT_STATUS_LABELS, ChangeRecord, PeriodLock, Report, ReportRow, ReportStatus
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
    """One request's approval: its reports are approved together or not at all (a single approval
    is the batch of one)."""

    report_ids: tuple[int, ...]  # distinct
    reviewed_by: str  # the principal's label


class ApprovalWriter:
    """Writes approvals (`write`) for the group-commit writer of approvals.  Holds the period locks
    it checks at write time; one per app."""

    def __init__(self, *, locks: PeriodLocks, catalog: CatalogCache):
        self.locks = locks
        self.catalog = catalog

    def write(self, session: Session, approvals: Sequence[Approval]) -> list[list[ReportRow] | DomainError]:
        """Approve each approval's reports, in the caller's transaction: their status, their change
        records and their events, two statements for the whole batch (the reports read and locked;
        the reports approved with their history records and events).

        Returns, per approval, its approved reports, or the error that refused it: an approval is all
        or none, so one report that cannot be approved (unknown, not the current revision, not
        pending, period locked) refuses the whole approval (`refused_approval`)."""
        at = now()
        reports = _reports_by_id(session, {i for a in approvals for i in a.report_ids})
        locks = self.locks.get(session)
        outcomes: list[list[ReportRow] | DomainError] = []
        approved: list[tuple[ReportRow, dict, Approval]] = []
        for approval in approvals:
            refusals: list[tuple[int, DomainError]] = []
            for report_id in approval.report_ids:
                report = reports.get(report_id)
                if report is None:
                    refusals.append((report_id, NotFound(f"报告 {report_id} 不存在", code="report_not_found")))
                    continue
                try:
                    check_reviewable(locks, report)
                except DomainError as refusal:
                    refusals.append((report_id, refusal))
            if refusals:
                outcomes.append(refused_approval(len(approval.report_ids), refusals))
                continue
            for report_id in approval.report_ids:
                report = reports[report_id]
                before = recorded_state(report)
                report.status, report.reviewed_by, report.reviewed_at = ReportStatus.approved, approval.reviewed_by, at
                approved.append((report, before, approval))
            outcomes.append([reports[i] for i in approval.report_ids])
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
        catalog = self.catalog.snapshot(session)
        events = [
            report_changed_event(
                campaign=campaign_of_indicator(session, catalog, report.indicator_code),
                action="approved",
                actor=approval.reviewed_by,
                at=at,
                report=report,
            )
            for report, _, approval in approved
        ]
        connection = session.connection()
        # One statement: the reports approved, their history records and events.
        status = Report.__table__.c.status.type.bind_processor(connection.dialect)(ReportStatus.approved)
        bulk.insert_together(
            connection,
            [
                (ChangeRecord.__table__, changes),
                (OutboxEvent.__table__, outbox_rows(events, plan=session_plan(session))),
            ],
            before=[(_APPROVE_SQL, (status, at, [r.id for r, *_ in approved], [r.reviewed_by for r, *_ in approved]))],
        )
        return outcomes


def refused_approval(size: int, refusals: list[tuple[int, DomainError]]) -> DomainError:
    """The answer to an approval refused: a single report's own refusal as it is; for many, one error
    naming each refused report and why (409 when any was refused by its state or a lock, 422 when
    the request only named reports that do not exist)."""
    if size == 1:
        return refusals[0][1]
    error = Conflict if any(isinstance(e, Conflict) for _, e in refusals) else Unprocessable
    return error(
        f"共 {len(refusals)} 份报告不能审核通过，本次 {size} 份全部未通过，请去掉或处理这些报告后重试："
        + "；".join(e.detail for _, e in refusals[:20]),
        code="approval_refused",
        extra={"refused": [{"id": i, "code": e.code, "reason": e.detail} for i, e in refusals]},
    )


_APPROVE_SQL = (
    "UPDATE report SET status = %s, reviewed_by = approval.reviewed_by, reviewed_at = %s "
    "FROM unnest(%s::int[], %s::text[]) AS approval(id, reviewed_by) WHERE report.id = approval.id"
)


def _reports_by_id(session: Session, ids: set[int]) -> dict[int, ReportRow]:
    """Reports by id, locked (a concurrent review of the same report waits)."""
    table = Report.__table__
    query = sa.select(table).where(table.c.id.in_(sorted(ids))).order_by(table.c.id).with_for_update()
    return {row["id"]: ReportRow.from_mapping(row) for row in session.connection().execute(query).mappings()}


async def _approval_writer(request: Request) -> GroupCommitWriter[Approval, list[ReportRow]]:
    return request_plan(request).approval_writer


ApprovalWriterDep = Annotated[GroupCommitWriter[Approval, list[ReportRow]], Depends(_approval_writer)]


async def approve_reports(
    *,
    writer: GroupCommitWriter[Approval, list[ReportRow]],
    campaign: str,
    report_ids: Sequence[int],
    principal: Principal,
) -> list[ReportRow]:
    """Approval of one or many reports, all or none, written by the group-commit writer of approvals
    (`ApprovalWriter.write`); counted once committed."""
    require_city_office(principal, "审核通过")
    reports = await writer.write(
        Approval(
            report_ids=tuple(dict.fromkeys(report_ids)),
            reviewed_by=principal.label,
        )
    )
    REPORTS_REVIEWED.labels(campaign, "approved").inc(len(reports))
    return reports


async def approve_report(
    *,
    writer: GroupCommitWriter[Approval, list[ReportRow]],
    campaign: str,
    report_id: int,
    principal: Principal,
) -> ReportRow:
    (report,) = await approve_reports(writer=writer, campaign=campaign, report_ids=[report_id], principal=principal)
    return report


def return_report(
    *, session: Session, locks: PeriodLocks, campaign: str, report_id: int, reason: str, principal: Principal
) -> Report:
    require_city_office(principal, "退回报告")
    # Locked, as approvals lock: a return racing an approval or a new revision sees their outcome.
    report = get_report(session=session, report_id=report_id, for_update=True)
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

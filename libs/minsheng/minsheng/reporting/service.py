"""Reporting service functions: keyword-only, plain, testable without HTTP. Each write commits its
own transaction: the report, its history record (and, with the outbox, its event) together."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from minsheng.auth.principal import Principal, authorize_task_status, require_city_office
from minsheng.catalog.models import Task, TaskLeadDepartment
from minsheng.db import bulk
from minsheng.db.group_commit import GroupCommitWriter
from minsheng.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from minsheng.messaging import OutboxEvent, add_events
from minsheng.messaging.outbox import outbox_rows
from minsheng.pagination import PageParams
from minsheng.progress.model import Thresholds
from minsheng.progress.periods import Period
from minsheng.reporting.events import emit_change, report_changed_event
from minsheng.reporting.status_tracking import track_status_changes
from minsheng.reporting.models import (
    REPORT_STATUS_LABELS,
    ChangeRecord,
    PeriodLock,
    Report,
    ReportRow,
    ReportStatus,
    TaskStatusReport,
)
from minsheng.reporting.schemas import (
    ChangePublic,
    ReportCreate,
    ReportHistory,
    ReportPublic,
    ReportResubmit,
    RowError,
    TaskStatusCreate,
    TaskStatusPublic,
)
from minsheng.reporting.validation import (
    CheckedReport,
    ReportContext,
    check_report,
    forget_period_locks,
    lock_covering,
    locked_message,
    period_locks,
    parse_plan_period,
)

class BulkRejected(DomainError):
    status_code = 422
    code = "bulk_rejected"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _state(report: Report | ReportRow) -> dict:
    return {"value": report.value, "numerator": report.numerator, "denominator": report.denominator,
            "note": report.note, "status": report.status.value, "revision": report.revision}


def _series_key(indicator: str, org_unit: str, period: str) -> str:
    return f"{indicator}/{org_unit}/{period}"


def _record(session: Session, *, entity: str, row, action: str, actor: Principal | str, series_key: str,
            previous: dict | None, current: dict | None, reason: str | None = None,
            supersedes: int | None = None) -> ChangeRecord:
    """The history record and the integration event of a change, in the caller's transaction."""
    change = ChangeRecord(**_change_columns(
        entity=entity, entity_id=str(getattr(row, "id", None) or getattr(row, "period", "")), series_key=series_key,
        action=action, actor=actor.label if isinstance(actor, Principal) else actor, at=_now(), previous=previous,
        current=current, reason=reason))
    session.add(change)
    emit_change(session, change, row, supersedes=supersedes)
    return change


def to_public(report: Report | ReportRow) -> ReportPublic:
    return ReportPublic(
        id=report.id, indicator=report.indicator_code, org_unit=report.org_unit_code, period=report.period,
        value=report.value, numerator=report.numerator, denominator=report.denominator, note=report.note,
        status=report.status, status_label=REPORT_STATUS_LABELS[report.status], revision=report.revision,
        is_current=report.is_current, return_reason=report.return_reason, submitted_by=report.submitted_by,
        submitted_at=report.submitted_at, reviewed_by=report.reviewed_by, reviewed_at=report.reviewed_at,
    )


@dataclass(frozen=True)
class Submission:
    """A report that passed every rule, to be written as the new current revision of its series."""

    checked: CheckedReport
    submitted_by: str  # the principal's label
    resubmission: bool = False  # a returned report corrected (POST /reports/{id}/resubmit)


def write_revisions(session: Session, submissions: Sequence[Submission]) -> list[ReportRow | DomainError]:
    """Write each submission as the new current revision of its series, with its change record and
    its event, in the caller's transaction — a few statements for the whole batch, whatever its size.

    Returns, per submission, the new report or the Conflict that refused it (a period locked, checked
    here, at write time, so a lock taken after the request's own checks still holds).  A later
    submission of the same series builds on an earlier one of the same batch.  The current revisions
    are locked and retired by one statement (`_retire_current_revisions`), which serializes
    concurrent writers of a series and keeps its events in order in the outbox.

    The statements are Core on the session's connection, or on PostgreSQL driver SQL
    (`minsheng.db.bulk`), and rows are plain `ReportRow`s: the ORM's execution machinery and its
    instances cost a writer more than the SQL itself."""
    now = _now()
    locks = period_locks(session)
    accepted: list[Submission] = []
    outcomes: list[ReportRow | DomainError | None] = []
    for submission in submissions:
        lock = lock_covering(locks, submission.checked.period)
        if lock is not None:
            outcomes.append(Conflict(locked_message(lock), code="period_locked"))
        else:
            accepted.append(submission)
            outcomes.append(None)  # the new revision, below
    if not accepted:
        return outcomes
    current = _retire_current_revisions(session, {_key(s.checked) for s in accepted})
    written: list[tuple[ReportRow, ReportRow | None, Submission]] = []
    for submission in accepted:
        checked, row = submission.checked, submission.checked.row
        previous = current.get(_key(checked))
        report = ReportRow(
            id=None, indicator_code=checked.indicator.code, org_unit_code=row.org_unit, period=checked.period.code,
            period_start=checked.period.start, period_end=checked.period.end, value=checked.value,
            numerator=row.numerator, denominator=row.denominator, note=row.note, status=ReportStatus.submitted,
            revision=(previous.revision + 1) if previous else 1, is_current=True, return_reason=None,
            submitted_by=submission.submitted_by, submitted_at=now, reviewed_by=None, reviewed_at=None,
        )
        if previous is not None:
            previous.is_current = False
        current[_key(checked)] = report
        written.append((report, previous, submission))
    connection, table = session.connection(), Report.__table__
    # A group-commit batch on PostgreSQL: driver SQL, the history records and events in one statement
    # (`minsheng.db.bulk`); elsewhere, and for a bulk upload of more rows, Core.
    driver_sql = connection.dialect.name == "postgresql" and len(written) <= bulk.MAX_ROWS
    if driver_sql:  # ids drawn ahead: the reports are inserted below, with their history and events
        for (report, _, _), report_id in zip(written, _report_ids.take(connection, table, len(written)), strict=True):
            report.id = report_id
    else:
        ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                 [report.columns() for report, _, _ in written]).scalars().all()
        for (report, _, _), report_id in zip(written, ids, strict=True):
            report.id = report_id
    changes, events = [], []
    for report, previous, submission in written:
        if previous is None:
            action = "submitted"
        elif previous.status is ReportStatus.returned or submission.resubmission:
            action = "resubmitted"
        else:
            action = "revised"
        changes.append(_change_columns(entity="report", entity_id=str(report.id), action=action,
                                       actor=submission.submitted_by, at=now, series_key=_report_series(report),
                                       previous=_state(previous) if previous else None, current=_state(report)))
        events.append(report_changed_event(session, action=action, actor=submission.submitted_by, at=now,
                                           report=report, supersedes=previous.id if previous else None))
    if driver_sql:
        bulk.insert_together(connection, [(table, [report.columns(with_id=True) for report, _, _ in written]),
                                          (ChangeRecord.__table__, changes),
                                          (OutboxEvent.__table__, outbox_rows(events))])
    else:
        connection.execute(insert(ChangeRecord.__table__), changes)
        add_events(session, events)
    new_revisions = iter(report for report, _, _ in written)
    return [outcome if outcome is not None else next(new_revisions) for outcome in outcomes]


_report_ids = bulk.IdBlocks()


def _key(checked: CheckedReport) -> tuple[str, str, str]:
    return checked.indicator.code, checked.row.org_unit, checked.period.code


def _report_series(report: Report | ReportRow) -> str:
    return _series_key(report.indicator_code, report.org_unit_code, report.period)


def _change_columns(*, entity: str, entity_id: str, action: str, actor: str, at: dt.datetime, series_key: str,
                    previous: dict | None, current: dict | None, reason: str | None = None) -> dict:
    return {"entity": entity, "entity_id": entity_id, "series_key": series_key, "action": action, "actor": actor,
            "at": at, "previous": json.dumps(previous, ensure_ascii=False) if previous is not None else None,
            "current": json.dumps(current, ensure_ascii=False) if current is not None else None, "reason": reason}


def _retire_current_revisions(session: Session, keys: set[tuple[str, str, str]]
                              ) -> dict[tuple[str, str, str], ReportRow]:
    """The current revision of each series (indicator, org unit, period), as it was, now no longer
    current: locked (in id order, as approvals lock) and retired by one statement, so that the new
    revisions may be inserted next (the partial unique index allows one current revision)."""
    table = Report.__table__
    current = (sa.select(table.c.id).where(table.c.is_current == True,  # noqa: E712
                                           sa.tuple_(table.c.indicator_code, table.c.org_unit_code, table.c.period)
                                           .in_(sorted(keys))).order_by(table.c.id))
    if session.get_bind().dialect.name == "postgresql":
        current = current.with_for_update()
    retire = update(table).where(table.c.id.in_(current.scalar_subquery())).values(is_current=False).returning(table)
    found = {}
    for row in session.connection().execute(retire).mappings():
        report = ReportRow.from_mapping(row)
        report.is_current = True  # as it was: the new revision's change record shows what it replaced
        found[(report.indicator_code, report.org_unit_code, report.period)] = report
    return found


def _raise_first(outcomes: Sequence[Report | DomainError]) -> list[Report]:
    """All or nothing: the first refusal refuses the whole request (the caller rolls back)."""
    for outcome in outcomes:
        if isinstance(outcome, DomainError):
            raise outcome
    return list(outcomes)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("同一指标、单位、期间的报告正被另一请求同时提交，请稍后重试", code="concurrent_submission") from exc


def _raise_row_errors(errors: list[RowError], permission: list[RowError], *, bulk: bool) -> None:
    if permission:
        detail = "；".join(f"第{e.row}行：{e.message}" if bulk else e.message for e in permission)
        raise Forbidden(detail, code=permission[0].code if not bulk else "bulk_forbidden",
                        extra={"errors": [e.model_dump() for e in permission + errors]} if bulk else None)
    if errors:
        if not bulk and errors[0].code == "period_locked":
            raise Conflict(errors[0].message, code="period_locked")
        if bulk:
            raise BulkRejected(f"共 {len({e.row for e in errors})} 行有误，全部未保存，请改正后重新提交："
                               + "；".join(f"第{e.row}行 {e.message}" for e in errors[:20]),
                               extra={"errors": [e.model_dump() for e in errors]})
        raise Unprocessable("；".join(e.message for e in errors), code=errors[0].code,
                            extra={"errors": [e.model_dump() for e in errors]})


async def submit_report(*, writer: GroupCommitWriter, session: Session, report_in: ReportCreate,
                        principal: Principal, today: dt.date) -> Report:
    """One report: checked here (in memory: the catalog snapshot), written by the group-commit writer
    together with the other requests' reports of the moment (`write_revisions`)."""
    checked, errors, permission = check_report(ReportContext(session, today, check_locks=False), report_in,
                                               principal)
    _raise_row_errors(errors, permission, bulk=False)
    return await writer.write(Submission(checked=checked, submitted_by=principal.label),
                              shard_key=checked.indicator.code)


def _conflict_on_integrity_error(message: str, code: str) -> Callable[[Exception], DomainError | None]:
    """Group commit's `on_error`: a write that failed alone on a constraint raced by another writer."""
    def answer(exc: Exception) -> DomainError | None:
        return Conflict(message, code=code) if isinstance(exc, IntegrityError) else None
    return answer


submission_conflict = _conflict_on_integrity_error("同一指标、单位、期间的报告正被另一请求同时提交，请稍后重试",
                                                   "concurrent_submission")
review_conflict = _conflict_on_integrity_error("同一指标的另一份报告正在同时审核，本次审核未生效，请重试",
                                               "concurrent_review")


def submit_reports(*, session: Session, rows: Sequence[ReportCreate], principal: Principal, today: dt.date,
                   row_numbers: Sequence[int] | None = None, parse_errors: Sequence[RowError] = ()) -> list[Report]:
    """All or nothing: every row is checked first; one bad row and nothing is written.

    `row_numbers` and `parse_errors` come from file uploads, where some rows may not even parse:
    their errors are reported together with the others.
    """
    ctx = ReportContext(session, today)
    checked_rows, errors, permission = [], list(parse_errors), []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in zip(row_numbers or range(1, len(rows) + 1), rows, strict=True):
        checked, row_errors, row_permission = check_report(ctx, row, principal, number=number, bulk=True)
        errors += row_errors
        permission += row_permission
        if checked:
            key = (row.indicator, row.org_unit, checked.period.code)
            if key in seen:
                errors.append(RowError(row=number, field="period", code="duplicate_row",
                                       message=f"与第{seen[key]}行重复（同一指标、单位、期间）"))
            seen[key] = number
            checked_rows.append(checked)
    errors.sort(key=lambda e: e.row)
    _raise_row_errors(errors, permission, bulk=True)
    try:
        reports = _raise_first(write_revisions(session, [Submission(checked=checked, submitted_by=principal.label)
                                                         for checked in checked_rows]))
    except DomainError:
        session.rollback()
        raise
    _commit(session)
    return reports


def get_report(*, session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"报告 {report_id} 不存在", code="report_not_found")
    return report


def _check_reviewable(locks: list[PeriodLock], report: Report | ReportRow) -> None:
    if not report.is_current:
        raise Conflict(f"报告 {report.id} 已被第{report.revision + 1}版或更新的版本取代，请审核最新版本",
                       code="superseded")
    if report.status is not ReportStatus.submitted:
        raise Conflict(f"只有待审核的报告可以审核；报告 {report.id} 的状态是「{REPORT_STATUS_LABELS[report.status]}」",
                       code="not_pending")
    lock = lock_covering(locks, Period.parse(report.period))
    if lock is not None:
        raise Conflict(f"{lock.period} 已锁定，不能再审核或退回", code="period_locked")


@dataclass(frozen=True)
class Approval:
    report_id: int
    reviewed_by: str  # the principal's label
    today: dt.date
    thresholds: Thresholds


async def approve_report(*, writer: GroupCommitWriter, report_id: int, principal: Principal, today: dt.date,
                         thresholds: Thresholds) -> Report:
    """Approval, written by the group-commit writer of approvals (`write_approvals`)."""
    require_city_office(principal, "审核通过")
    return await writer.write(Approval(report_id=report_id, reviewed_by=principal.label, today=today,
                                       thresholds=thresholds))


def write_approvals(session: Session, approvals: Sequence[Approval]) -> list[ReportRow | DomainError]:
    """Approve each report, in the caller's transaction: its status, its change record and its event,
    a few statements for the whole batch.  Approval changes an official figure, so each indicator
    touched has its computed status re-checked once for the batch (for the approved org units and
    the city), and a move (on track → at risk → behind …) becomes a status_changed event.

    Returns, per approval, the approved report or the error that refused it (unknown report, not
    the current revision, not pending, period locked)."""
    now = _now()
    reports = _reports_by_id(session, {a.report_id for a in approvals})
    locks = period_locks(session)
    outcomes: list[ReportRow | DomainError] = []
    approved: list[tuple[ReportRow, dict, Approval]] = []
    for approval in approvals:
        report = reports.get(approval.report_id)
        if report is None:
            outcomes.append(NotFound(f"报告 {approval.report_id} 不存在", code="report_not_found"))
            continue
        try:
            _check_reviewable(locks, report)
        except DomainError as refusal:
            outcomes.append(refusal)
            continue
        before = _state(report)
        report.status, report.reviewed_by, report.reviewed_at = ReportStatus.approved, approval.reviewed_by, now
        approved.append((report, before, approval))
        outcomes.append(report)
    if not approved:
        return outcomes
    changes = [_change_columns(entity="report", entity_id=str(report.id), action="approved", actor=approval.reviewed_by,
                               at=now, series_key=_report_series(report), previous=before, current=_state(report))
               for report, before, approval in approved]
    events = [report_changed_event(session, action="approved", actor=approval.reviewed_by, at=now, report=report)
              for report, _, approval in approved]
    connection, table = session.connection(), Report.__table__
    approved_before = None
    if connection.dialect.name == "postgresql" and len(approved) <= bulk.MAX_ROWS:
        # One statement: the reports approved, their history records and events, and how many
        # reports of each indicator were approved before (the status check's version of its values).
        status = table.c.status.type.bind_processor(connection.dialect)(ReportStatus.approved)
        approved_before = {code: (count, last_id) for code, count, last_id in bulk.insert_together(
            connection, [(ChangeRecord.__table__, changes), (OutboxEvent.__table__, outbox_rows(events))],
            before=[(_APPROVE_SQL, (status, now, [r.id for r, _, _ in approved],
                                    [r.reviewed_by for r, _, _ in approved]))],
            then=(_APPROVED_SO_FAR_SQL, (sorted({r.indicator_code for r, _, _ in approved}), status)))}
    else:
        connection.execute(
            update(table).where(table.c.id == sa.bindparam("report_id"))
            .values(status=sa.bindparam("new_status"), reviewed_by=sa.bindparam("new_reviewed_by"),
                    reviewed_at=sa.bindparam("new_reviewed_at")),
            [{"report_id": r.id, "new_status": r.status.value, "new_reviewed_by": r.reviewed_by,
              "new_reviewed_at": r.reviewed_at} for r, _, _ in approved])
        connection.execute(insert(ChangeRecord.__table__), changes)
        add_events(session, events)
    first = approved[0][2]
    track_status_changes(session=session, approved=[report for report, _, _ in approved], as_of=first.today,
                         thresholds=first.thresholds, approved_before=approved_before)
    return outcomes


_APPROVE_SQL = ("UPDATE report SET status = %s, reviewed_by = approval.reviewed_by, reviewed_at = %s "
                "FROM unnest(%s::int[], %s::text[]) AS approval(id, reviewed_by) WHERE report.id = approval.id")
_APPROVED_SO_FAR_SQL = ("SELECT indicator_code, count(*), max(id) FROM report "
                        "WHERE indicator_code = ANY(%s::text[]) AND status = %s GROUP BY indicator_code")


def _reports_by_id(session: Session, ids: set[int]) -> dict[int, ReportRow]:
    """Reports by id, locked on PostgreSQL (a concurrent review of the same report waits)."""
    table = Report.__table__
    query = sa.select(table).where(table.c.id.in_(sorted(ids))).order_by(table.c.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {row["id"]: ReportRow.from_mapping(row) for row in session.connection().execute(query).mappings()}


def return_report(*, session: Session, report_id: int, reason: str, principal: Principal) -> Report:
    require_city_office(principal, "退回报告")
    report = get_report(session=session, report_id=report_id)
    _check_reviewable(period_locks(session), report)
    before = _state(report)
    report.status, report.return_reason = ReportStatus.returned, reason
    report.reviewed_by, report.reviewed_at = principal.label, _now()
    session.add(report)
    _record(session, entity="report", row=report, action="returned", actor=principal,
            series_key=_series_key(report.indicator_code, report.org_unit_code, report.period),
            previous=before, current=_state(report), reason=reason)
    _commit(session)
    return report


def resubmit_report(*, session: Session, report_id: int, values: ReportResubmit, principal: Principal,
                    today: dt.date) -> Report:
    """A returned report corrected: a new revision of the same series, pending review again."""
    report = get_report(session=session, report_id=report_id)
    if not report.is_current or report.status is not ReportStatus.returned:
        raise Conflict(f"只有被退回的最新版本可以重新提交；报告 {report.id} 的状态是「{REPORT_STATUS_LABELS[report.status]}」"
                       f"{'' if report.is_current else '（已被新版本取代）'}", code="not_returned")
    row = ReportCreate(indicator=report.indicator_code, org_unit=report.org_unit_code, period=report.period,
                       **values.model_dump())
    checked, errors, permission = check_report(ReportContext(session, today), row, principal)
    _raise_row_errors(errors, permission, bulk=False)
    try:
        [new] = _raise_first(write_revisions(session, [Submission(checked=checked, submitted_by=principal.label,
                                                                  resubmission=True)]))
    except DomainError:
        session.rollback()
        raise
    _commit(session)
    return new


def list_reports(*, session: Session, page: PageParams, indicator: str | None = None, org_unit: str | None = None,
                 period: str | None = None, status: ReportStatus | None = None,
                 current_only: bool = True) -> tuple[list[Report], int]:
    query = select(Report)
    if indicator:
        query = query.where(Report.indicator_code == indicator)
    if org_unit:
        query = query.where(Report.org_unit_code == org_unit)
    if period:
        query = query.where(Report.period == period)
    if status:
        query = query.where(Report.status == status)
    if current_only:
        query = query.where(Report.is_current == True)  # noqa: E712
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Report.id.desc()).offset(page.offset).limit(page.limit))
    return list(rows), count


def report_history(*, session: Session, report_id: int) -> ReportHistory:
    report = get_report(session=session, report_id=report_id)
    key = _series_key(report.indicator_code, report.org_unit_code, report.period)
    revisions = session.exec(select(Report).where(
        Report.indicator_code == report.indicator_code, Report.org_unit_code == report.org_unit_code,
        Report.period == report.period).order_by(Report.revision))
    changes = session.exec(select(ChangeRecord).where(ChangeRecord.entity == "report", ChangeRecord.series_key == key)
                           .order_by(ChangeRecord.at, ChangeRecord.id))
    return ReportHistory(
        report=to_public(report), revisions=[to_public(r) for r in revisions],
        changes=[ChangePublic(id=c.id, entity=c.entity, entity_id=c.entity_id, action=c.action, actor=c.actor,
                              at=c.at, previous=json.loads(c.previous) if c.previous else None,
                              current=json.loads(c.current) if c.current else None, reason=c.reason)
                 for c in changes],
    )


# ---- period locks -------------------------------------------------------------------------------


def lock_period(*, session: Session, period_code: str, principal: Principal) -> PeriodLock:
    require_city_office(principal, "锁定期间")
    period, code, message = parse_plan_period(period_code, dt.date.max)
    if code:
        raise Unprocessable(message, code=code)
    if session.get(PeriodLock, period.code):
        raise Conflict(f"{period.code} 已经锁定", code="already_locked")
    pending = session.exec(select(Report).where(
        Report.is_current == True, Report.status == ReportStatus.submitted,  # noqa: E712
        Report.period_start >= period.start, Report.period_end <= period.end).order_by(Report.id)).all()
    if pending:
        examples = "、".join(f"{r.indicator_code}/{r.org_unit_code}/{r.period}" for r in pending[:5])
        raise Conflict(f"{period.code} 仍有 {len(pending)} 份报告待审核（如 {examples}），请先审核或退回再锁定",
                       code="pending_reports")
    lock = PeriodLock(period=period.code, period_start=period.start, period_end=period.end, locked_by=principal.label,
                      locked_at=_now())
    session.add(lock)
    _record(session, entity="period_lock", row=lock, action="locked", actor=principal, series_key=period.code,
            previous=None, current={"period": period.code})
    _commit(session)
    forget_period_locks()
    return lock


def unlock_period(*, session: Session, period_code: str, principal: Principal) -> None:
    require_city_office(principal, "解锁期间")
    try:
        code = Period.parse(period_code).code
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_period") from exc
    lock = session.get(PeriodLock, code)
    if lock is None:
        raise NotFound(f"{code} 没有锁定", code="not_locked")
    _record(session, entity="period_lock", row=lock, action="unlocked", actor=principal, series_key=code,
            previous={"period": code, "locked_by": lock.locked_by}, current=None)
    session.delete(lock)
    _commit(session)
    forget_period_locks()


def list_locks(*, session: Session) -> list[PeriodLock]:
    return list(session.exec(select(PeriodLock).order_by(PeriodLock.period_start)))


# ---- qualitative task status --------------------------------------------------------------------


def task_status_public(row: TaskStatusReport) -> TaskStatusPublic:
    return TaskStatusPublic(id=row.id, task=row.task_number, org_unit=row.org_unit_code, period=row.period,
                            state=row.state, narrative=row.narrative, problems=row.problems, revision=row.revision,
                            is_current=row.is_current, reported_by=row.reported_by, reported_at=row.reported_at)


def report_task_status(*, session: Session, status_in: TaskStatusCreate, principal: Principal,
                       today: dt.date) -> TaskStatusReport:
    ctx = ReportContext(session, today)
    task = session.get(Task, status_in.task)
    if task is None or task.retired:
        raise Unprocessable(f"任务编号 {status_in.task} 不属于本行动", code="unknown_task")
    if not ctx.org_unit_exists(status_in.org_unit):
        raise Unprocessable(f"单位代码「{status_in.org_unit}」不存在", code="unknown_org_unit")
    period, code, message = parse_plan_period(status_in.period, today)
    if code:
        raise Unprocessable(message, code=code)
    leads = tuple(session.exec(select(TaskLeadDepartment.department).where(
        TaskLeadDepartment.task_number == task.number).order_by(TaskLeadDepartment.position)))
    authorize_task_status(principal, task.number, leads, status_in.org_unit)
    if (lock := ctx.lock_covering(period)) is not None:
        raise Conflict(f"{lock.period} 已锁定，不能再填报", code="period_locked")
    previous = session.exec(select(TaskStatusReport).where(
        TaskStatusReport.task_number == task.number, TaskStatusReport.org_unit_code == status_in.org_unit,
        TaskStatusReport.period == period.code, TaskStatusReport.is_current == True)).first()  # noqa: E712
    row = TaskStatusReport(task_number=task.number, org_unit_code=status_in.org_unit, period=period.code,
                           period_end=period.end, state=status_in.state, narrative=status_in.narrative,
                           problems=status_in.problems, revision=(previous.revision + 1) if previous else 1,
                           reported_by=principal.label, reported_at=_now())
    if previous:
        previous.is_current = False
        session.add(previous)
        session.flush()
    session.add(row)
    session.flush()
    _record(session, entity="task_status", row=row, action="revised" if previous else "submitted", actor=principal,
            series_key=f"task{task.number}/{status_in.org_unit}/{period.code}",
            previous={"state": previous.state.value, "narrative": previous.narrative} if previous else None,
            current={"state": row.state.value, "narrative": row.narrative, "problems": row.problems})
    _commit(session)
    return row


def list_task_statuses(*, session: Session, page: PageParams, task: int | None = None,
                       org_unit: str | None = None) -> tuple[list[TaskStatusReport], int]:
    query = select(TaskStatusReport).where(TaskStatusReport.is_current == True)  # noqa: E712
    if task is not None:
        query = query.where(TaskStatusReport.task_number == task)
    if org_unit:
        query = query.where(TaskStatusReport.org_unit_code == org_unit)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(TaskStatusReport.period_end.desc(), TaskStatusReport.id.desc())
                        .offset(page.offset).limit(page.limit))
    return list(rows), count


def official_values(*, session: Session, page: PageParams, indicator: str | None = None) -> tuple[list[Report], int]:
    """The latest approved revision of every indicator × org unit × period: the official figures."""
    latest = (select(Report.indicator_code, Report.org_unit_code, Report.period,
                     func.max(Report.revision).label("revision"))
              .where(Report.status == ReportStatus.approved)
              .group_by(Report.indicator_code, Report.org_unit_code, Report.period))
    if indicator:
        latest = latest.where(Report.indicator_code == indicator)
    latest = latest.subquery()
    query = select(Report).join(latest, (Report.indicator_code == latest.c.indicator_code)
                                & (Report.org_unit_code == latest.c.org_unit_code)
                                & (Report.period == latest.c.period) & (Report.revision == latest.c.revision))
    count = session.exec(select(func.count()).select_from(latest)).one()
    rows = session.exec(query.order_by(Report.indicator_code, Report.org_unit_code, Report.period_start)
                        .offset(page.offset).limit(page.limit))
    return list(rows), count

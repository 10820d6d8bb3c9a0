"""Report submissions: a value of an indicator for an org unit and a period becomes the new current
revision of its series (one at a time through group commit, or a whole upload at once), and the
reads of reports and their history."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from minsheng.auth.principal import Principal
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import bulk, request_plan, session_plan
from minsheng.db.group_commit import GroupCommitWriter
from minsheng.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from minsheng.evidence import service as evidence
from minsheng.evidence.models import EvidenceAttachment
from minsheng.evidence.service import EvidencePolicy
from minsheng.messaging import OutboxEvent
from minsheng.messaging.outbox import outbox_rows
from minsheng.pagination import PageParams
from minsheng.quality.follow_ups import follow_ups_of_series
from minsheng.quality.schemas import RuleFailure
from minsheng.quality.service import QUALITY_RULE_FAILED, Saved, needs_evaluation, record_failures, rule_set
from minsheng.reporting.changes import (
    change_columns,
    commit,
    lock_series,
    now,
    recorded_state,
    report_series,
    series_key,
    submission_conflict,
)
from minsheng.reporting.events import report_changed_event
from minsheng.reporting.files import Column
from minsheng.reporting.implementation import TaskStates, refusal
from minsheng.reporting.locks import PeriodLocks, lock_covering, locked_message
from minsheng.reporting.models import REPORT_STATUS_LABELS, ChangeRecord, Report, ReportRow, ReportStatus
from minsheng.reporting.schemas import ChangePublic, ReportCreate, ReportHistory, ReportPublic, ReportResubmit, RowError
from minsheng.reporting.validation import CheckedReport, ReportContext, check_report, quality_refusal, with_quality


class BulkRejected(DomainError):
    status_code = 422
    code = "bulk_rejected"


@dataclass(frozen=True)
class Submission:
    """A report that passed every rule, to be written as the new current revision of its series."""

    checked: CheckedReport
    submitted_by: str  # the principal's label
    resubmission: bool = False  # a returned report corrected (POST /reports/{id}/resubmit)


class RevisionWriter:
    """Writes submissions as new revisions (`write`): for the group-commit writer of submissions and
    for the requests that write many at once (uploads) or alone (resubmissions).  Holds the period
    locks and the tasks' states it checks at write time and the report ids it draws ahead; one per app."""

    def __init__(self, *, locks: PeriodLocks, task_states: TaskStates, catalog: CatalogCache, evidence: EvidencePolicy):
        self.locks = locks
        self.task_states = task_states
        self.catalog = catalog
        self.evidence = evidence
        self.report_ids = bulk.IdBlocks(Report.__table__)

    def context(self, session: Session, today: dt.date) -> ReportContext:
        """The checks of a request that writes through this writer in its own transaction (an upload, a
        resubmission): the catalog, the period locks and the tasks' states, all as this writer sees them."""
        return ReportContext(
            session, today, self.catalog.snapshot(session), locks=self.locks, task_states=self.task_states
        )

    def write(self, session: Session, submissions: Sequence[Submission]) -> list[ReportRow | DomainError]:
        """Write each submission as the new current revision of its series, with its change record and
        its event, in the caller's transaction: three statements for a batch of up to `bulk.MAX_ROWS`.

        Returns, per submission, the new report or the error that refused it (a period locked, a task
        suspended or cancelled: checked here, at write time, so a lock or a decision taken after the
        request's own checks still holds).  A later submission of the same series builds on an earlier
        one of the same batch.  Every writer
        of a series (this batch, an upload in a request's thread, another replica) first takes the
        series' lock (`lock_series`), then reads and retires its current revision in one statement
        (`_retire_current_revisions`): so each sees the revision the writer before it committed, and
        the events of a series stay in order in the outbox; the reports, their history records and
        their events are then written together (driver SQL, `minsheng.db.bulk`, with ids drawn
        ahead).  Rows are plain `ReportRow`s: the ORM's execution
        machinery and its instances cost a writer more than the SQL itself."""
        at = now()
        connection = session.connection()
        # The files named, locked before the series (every writer in this order); one the clean-up took
        # meanwhile refuses its submission, not the batch.
        claimed = evidence.claim_files(connection, (ref.id for s in submissions for ref in s.checked.row.evidence))
        outcomes = self._write_time_refusals(session, submissions, claimed)
        accepted = [s for s, outcome in zip(submissions, outcomes, strict=True) if outcome is None]
        if not accepted:
            return outcomes
        keys = {_key(s.checked) for s in accepted}
        lock_series(connection, (series_key(*key) for key in keys))
        current = _retire_current_revisions(session, keys)
        new_ids = self.report_ids.take(connection, len(accepted))
        written = _new_revisions(accepted, current, new_ids, at)
        _insert_revisions(connection, written, claimed, at, plan=session_plan(session))
        new_revisions = iter(report for report, _, _ in written)
        return [outcome if outcome is not None else next(new_revisions) for outcome in outcomes]

    def _write_time_refusals(
        self, session: Session, submissions: Sequence[Submission], claimed: dict[str, evidence.ClaimedFile]
    ) -> list[DomainError | None]:
        """Per submission, what refuses it at write time (its period locked, its task suspended or
        cancelled, a file of its gone), or None: it is written."""
        locks, states = self.locks.get(session), self.task_states.get(session)
        outcomes: list[DomainError | None] = []
        for submission in submissions:
            lock = lock_covering(locks, submission.checked.period)
            task = submission.checked.indicator.task_number
            if lock is not None:
                outcomes.append(Conflict(locked_message(lock), code="period_locked"))
            elif task is not None and (refused := refusal(states.get(task))) is not None:
                outcomes.append(refused)
            elif not evidence.usable(submission.checked.row.evidence, claimed):
                outcomes.append(evidence.gone(self.evidence))
            else:
                outcomes.append(None)
        return outcomes


Written = list[tuple[ReportRow, ReportRow | None, Submission]]  # (new revision, the one it replaced, its submission)


def _new_revisions(
    accepted: Sequence[Submission], current: dict[tuple[str, str, str], ReportRow], ids: Iterable[int], at: dt.datetime
) -> Written:
    """Each accepted submission as the next revision of its series: a later one of the same series in the
    batch builds on the earlier one."""
    new_ids = iter(ids)
    written: Written = []
    for submission in accepted:
        checked, row = submission.checked, submission.checked.row
        previous = current.get(_key(checked))
        report = ReportRow(
            id=next(new_ids),
            indicator_code=checked.indicator.code,
            org_unit_code=row.org_unit,
            period=checked.period.code,
            period_start=checked.period.start,
            period_end=checked.period.end,
            value=checked.value,
            numerator=row.numerator,
            denominator=row.denominator,
            note=row.note,
            status=ReportStatus.submitted,
            revision=(previous.revision + 1) if previous else 1,
            is_current=True,
            return_reason=None,
            submitted_by=submission.submitted_by,
            submitted_at=at,
            reviewed_by=None,
            reviewed_at=None,
        )
        if previous is not None:
            previous.is_current = False
        current[_key(checked)] = report
        written.append((report, previous, submission))
    return written


def _change_action(previous: ReportRow | None, submission: Submission) -> str:
    """submitted (a series' first), resubmitted (a returned one corrected), or revised."""
    if previous is None:
        return "submitted"
    if previous.status is ReportStatus.returned or submission.resubmission:
        return "resubmitted"
    return "revised"


def _insert_revisions(
    connection: sa.Connection,
    written: Written,
    claimed: dict[str, evidence.ClaimedFile],
    at: dt.datetime,
    *,
    plan: str | None,
) -> None:
    """The new revisions with their change records, their events and their files' attachments."""
    changes, events, attachments = [], [], []
    for report, previous, submission in written:
        action = _change_action(previous, submission)
        refs = submission.checked.row.evidence
        changes.append(
            change_columns(
                entity="report",
                entity_id=str(report.id),
                action=action,
                actor=submission.submitted_by,
                at=at,
                series_key=report_series(report),
                previous=recorded_state(previous) if previous else None,
                current=recorded_state(report, evidence.recorded(refs, claimed)),
            )
        )
        events.append(
            report_changed_event(
                campaign=submission.checked.indicator.campaign_code,
                action=action,
                actor=submission.submitted_by,
                at=at,
                report=report,
                supersedes=previous.id if previous else None,
                evidence=evidence.digests(refs, claimed),
            )
        )
        attachments += evidence.attachment_rows(refs, report_id=report.id)
    reports = [report for report, _, _ in written]
    for start in range(0, len(reports), bulk.MAX_ROWS):
        end = start + bulk.MAX_ROWS
        bulk.insert_together(
            connection,
            [
                (Report.__table__, [report.columns() for report in reports[start:end]]),
                (ChangeRecord.__table__, changes[start:end]),
                (OutboxEvent.__table__, outbox_rows(events[start:end], plan=plan)),
            ],
        )
    # The rules evaluated for them (issue 30): failures recorded and resolved, in the same transaction.
    saved = [
        Saved(
            report_id=report.id,
            indicator=report.indicator_code,
            campaign=submission.checked.indicator.campaign_code,
            actor=submission.submitted_by,
            note=report.note,
            evaluation=submission.checked.quality,
        )
        for report, _, submission in written
        if submission.checked.quality is not None
    ]
    if saved:
        record_failures(connection, saved, at, plan=plan)
    # The files with their revisions, in the same transaction: saved together or not at all.
    for start in range(0, len(attachments), bulk.MAX_ROWS):
        bulk.insert_together(connection, [(EvidenceAttachment.__table__, attachments[start : start + bulk.MAX_ROWS])])
    evidence.mark_attached(connection, (row["evidence_id"] for row in attachments), at)


def _key(checked: CheckedReport) -> tuple[str, str, str]:
    return checked.indicator.code, checked.row.org_unit, checked.period.code


def _retire_current_revisions(
    session: Session, keys: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], ReportRow]:
    """The current revision of each series (indicator, org unit, period), as it was, now no longer
    current: locked (in id order, as approvals lock) and retired by one statement, so that the new
    revisions may be inserted next (the partial unique index allows one current revision).  The
    caller holds the series' locks (`lock_series`): the row locks alone would not stop two writers of
    a series without a current revision, nor show a writer the revision its predecessor just wrote."""
    table = Report.__table__
    current = (
        sa.select(table.c.id)
        .where(
            table.c.is_current == True,  # noqa: E712
            sa.tuple_(table.c.indicator_code, table.c.org_unit_code, table.c.period).in_(sorted(keys)),
        )
        .order_by(table.c.id)
        .with_for_update()
    )
    retire = update(table).where(table.c.id.in_(current.scalar_subquery())).values(is_current=False).returning(table)
    found = {}
    for row in session.connection().execute(retire).mappings():
        report = ReportRow.from_mapping(row)
        report.is_current = True  # as it was: the new revision's change record shows what it replaced
        found[(report.indicator_code, report.org_unit_code, report.period)] = report
    return found


async def _revisions(request: Request) -> RevisionWriter:
    return request_plan(request).revisions


async def _submission_writer(request: Request) -> GroupCommitWriter[Submission, ReportRow]:
    return request_plan(request).submission_writer


RevisionWriterDep = Annotated[RevisionWriter, Depends(_revisions)]
SubmissionWriterDep = Annotated[GroupCommitWriter[Submission, ReportRow], Depends(_submission_writer)]


def _where(error: RowError) -> str:
    return f"第{error.row}行" + (f" {error.column}列（{error.column_name}）" if error.column else "")


def raise_row_errors(errors: list[RowError], permission: list[RowError], *, bulk: bool) -> None:
    if permission:
        detail = "；".join(f"{_where(e)}：{e.message}" if bulk else e.message for e in permission)
        raise Forbidden(
            detail,
            code=permission[0].code if not bulk else "bulk_forbidden",
            extra={"errors": [e.model_dump() for e in permission + errors]} if bulk else None,
        )
    if errors:
        if not bulk and errors[0].code == "period_locked":
            raise Conflict(errors[0].message, code="period_locked")
        if bulk:
            raise BulkRejected(
                f"共 {len({e.row for e in errors})} 行有误，全部未保存，请改正后重新提交："
                + "；".join(f"{_where(e)} {e.message}" for e in errors[:20]),
                extra={"errors": [e.model_dump() for e in errors]},
            )
        raise Unprocessable(
            "；".join(e.message for e in errors),
            code=errors[0].code,
            extra={"errors": [e.model_dump() for e in errors]},
        )


def _write_all(session: Session, revisions: RevisionWriter, submissions: list[Submission]) -> list[ReportRow]:
    """All or nothing: the first refusal refuses the whole request, and nothing is stored."""
    try:
        outcomes = revisions.write(session, submissions)
        for outcome in outcomes:
            if isinstance(outcome, DomainError):
                raise outcome
    except DomainError:
        session.rollback()
        raise
    except IntegrityError as exc:  # a constraint raced all the same (a writer that skipped the series lock): 409
        session.rollback()
        raise submission_conflict(exc) from exc
    commit(session)
    return outcomes


async def submit_report(
    *,
    writer: GroupCommitWriter[Submission, ReportRow],
    session: Session,
    catalog: CatalogCache,
    policy: EvidencePolicy,
    report_in: ReportCreate,
    principal: Principal,
    today: dt.date,
) -> tuple[ReportRow, list[RuleFailure]]:
    """One report (with the rules that failed for it): checked here (in memory: the catalog snapshot; the files it
    names, if any, in the database), written by the group-commit writer together with the other requests' reports of the
    moment (`RevisionWriter.write`)."""
    ctx = ReportContext(session, today, catalog.snapshot(session))
    checked, errors, permission = check_report(ctx, report_in, principal)
    raise_row_errors(errors, permission, bulk=False)
    if needs_evaluation(rule_set(session, ctx.catalog), [checked.entry]):
        [checked] = await asyncio.to_thread(with_quality, ctx, [checked])
        refuse_unexplained(checked)
    if report_in.evidence:
        item = evidence.Submitted(1, series_key(*_key(checked)), report_in.evidence)
        errors = await asyncio.to_thread(evidence.check_refs, session, policy, principal, [item])
        raise_row_errors(errors, [], bulk=False)
    report = await writer.write(
        Submission(checked=checked, submitted_by=principal.label), shard_key=checked.indicator.code
    )
    return report, failures_of(checked)


def failures_of(checked: CheckedReport) -> list[RuleFailure]:
    return checked.quality.failures if checked.quality is not None else []


def refuse_unexplained(checked: CheckedReport) -> None:
    """422 `quality_rule_failed`: a 高 rule failed and the 说明 does not explain it (the failures in `failures`)."""
    if (refused := quality_refusal(checked)) is not None:
        failures = [f.model_dump(mode="json") for f in checked.quality.blocking]
        raise Unprocessable(refused, code=QUALITY_RULE_FAILED, extra={"failures": failures})


def check_reports(
    *,
    ctx: ReportContext,
    rows: Sequence[ReportCreate],
    principal: Principal,
    row_numbers: Sequence[int] | None = None,
    parse_errors: Sequence[RowError] = (),
    columns: Mapping[str, Column] | None = None,
) -> tuple[list[CheckedReport], list[RowError], list[RowError]]:
    """(checked rows, validation errors, permission errors) of many rows written together: the one
    place that decides what is wrong with an upload (its refusal and its marked workbook both ask).

    `row_numbers` and `parse_errors` come from file uploads, where some rows may not even parse:
    their errors are reported together with the others; `columns` (Excel) names each error's column.
    """
    checked_rows, errors, permission = [], list(parse_errors), []
    checked_numbers: list[int] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in zip(row_numbers or range(1, len(rows) + 1), rows, strict=True):
        checked, row_errors, row_permission = check_report(ctx, row, principal, number=number, bulk=True)
        errors += row_errors
        permission += row_permission
        if checked:
            key = (row.indicator, row.org_unit, checked.period.code)
            if key in seen:
                errors.append(
                    RowError(
                        row=number,
                        field="period",
                        code="duplicate_row",
                        message=f"与第{seen[key]}行重复（同一指标、单位、期间）",
                    )
                )
            seen[key] = number
            checked_rows.append(checked)
            checked_numbers.append(number)
    if checked_rows and not permission:
        checked_rows = with_quality(ctx, checked_rows)
        for number, checked in zip(checked_numbers, checked_rows, strict=True):
            if (refused := quality_refusal(checked)) is not None:
                errors.append(RowError(row=number, field="value", code=QUALITY_RULE_FAILED, message=refused))
    errors.sort(key=lambda e: e.row)
    if columns:
        errors, permission = _locate(errors, columns), _locate(permission, columns)
    return checked_rows, errors, permission


def _locate(errors: list[RowError], columns: Mapping[str, Column]) -> list[RowError]:
    """Each error with its workbook column; a whole row's error (or a field without a column) at the indicator."""
    located = []
    for error in errors:
        column = columns.get(error.field) or columns.get("indicator")
        located.append(error.model_copy(update={"column": column.letter, "column_name": column.header}))
    return located


def submit_reports(
    *,
    session: Session,
    revisions: RevisionWriter,
    rows: Sequence[ReportCreate],
    principal: Principal,
    today: dt.date,
    row_numbers: Sequence[int] | None = None,
    parse_errors: Sequence[RowError] = (),
    columns: Mapping[str, Column] | None = None,
) -> tuple[list[ReportRow], dict[int, list[RuleFailure]]]:
    """All or nothing: every row is checked first (`check_reports`); one bad row and nothing is written.  With the
    rules that failed for each report written (by its id)."""
    checked_rows, errors, permission = check_reports(
        ctx=revisions.context(session, today),
        rows=rows,
        principal=principal,
        row_numbers=row_numbers,
        parse_errors=parse_errors,
        columns=columns,
    )
    numbers = {id(row): number for number, row in zip(row_numbers or range(1, len(rows) + 1), rows, strict=True)}
    items = [
        evidence.Submitted(numbers[id(checked.row)], series_key(*_key(checked)), checked.row.evidence)
        for checked in checked_rows
        if checked.row.evidence
    ]
    if items and not permission:
        errors = sorted(
            errors + evidence.check_refs(session, revisions.evidence, principal, items), key=lambda e: e.row
        )
    raise_row_errors(errors, permission, bulk=True)
    reports = _write_all(
        session, revisions, [Submission(checked=checked, submitted_by=principal.label) for checked in checked_rows]
    )
    return reports, {report.id: failures_of(checked) for report, checked in zip(reports, checked_rows, strict=True)}


def resubmit_report(
    *,
    session: Session,
    revisions: RevisionWriter,
    report_id: int,
    values: ReportResubmit,
    principal: Principal,
    today: dt.date,
) -> ReportRow:
    """A returned report corrected: a new revision of the same series, pending review again."""
    report = get_report(session=session, report_id=report_id)
    # Checked under the series' lock, as it stands now: of two resubmissions at once (or one racing a
    # new revision) the later finds the report no longer current and is refused, not stacked on it.
    lock_series(session.connection(), [report_series(report)])
    session.refresh(report)
    if not report.is_current or report.status is not ReportStatus.returned:
        label = REPORT_STATUS_LABELS[report.status]
        raise Conflict(
            f"只有被退回的最新版本可以重新提交；报告 {report.id} 的状态是「{label}」"
            f"{'' if report.is_current else '（已被新版本取代）'}",
            code="not_returned",
        )
    row = ReportCreate(
        indicator=report.indicator_code, org_unit=report.org_unit_code, period=report.period, **values.model_dump()
    )
    ctx = revisions.context(session, today)
    checked, errors, permission = check_report(ctx, row, principal)
    raise_row_errors(errors, permission, bulk=False)
    [checked] = with_quality(ctx, [checked])
    refuse_unexplained(checked)
    item = evidence.Submitted(1, report_series(report), row.evidence)
    raise_row_errors(evidence.check_refs(session, revisions.evidence, principal, [item]), [], bulk=False)
    [new] = _write_all(
        session, revisions, [Submission(checked=checked, submitted_by=principal.label, resubmission=True)]
    )
    return new


def get_report(*, session: Session, report_id: int, for_update: bool = False) -> Report:
    """`for_update`: locked and read as committed (a review's decision waits for a concurrent one)."""
    report = session.get(Report, report_id, with_for_update=for_update or None, populate_existing=for_update)
    if report is None:
        raise NotFound(f"报告 {report_id} 不存在", code="report_not_found")
    return report


def list_reports(
    *,
    session: Session,
    page: PageParams,
    indicator: str | None = None,
    org_unit: str | None = None,
    period: str | None = None,
    status: ReportStatus | None = None,
    current_only: bool = True,
) -> tuple[list[Report], int]:
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


def with_evidence(
    session: Session, reports: Sequence[Report | ReportRow], quality: Mapping[int, list[RuleFailure]] | None = None
) -> list[ReportPublic]:
    """The reports as the API shows them, each with its files (one query for all) and, just saved, the rules that
    failed for it."""
    files = evidence.files_of(session, report_ids=[report.id for report in reports])
    quality = quality or {}
    return [
        ReportPublic.model_validate(report).model_copy(
            update={"evidence": files.get(("report", report.id), []), "quality": quality.get(report.id, [])}
        )
        for report in reports
    ]


def report_history(*, session: Session, report_id: int) -> ReportHistory:
    report = get_report(session=session, report_id=report_id)
    revisions = session.exec(
        select(Report)
        .where(
            Report.indicator_code == report.indicator_code,
            Report.org_unit_code == report.org_unit_code,
            Report.period == report.period,
        )
        .order_by(Report.revision)
    )
    changes = session.exec(
        select(ChangeRecord)
        .where(ChangeRecord.entity == "report", ChangeRecord.series_key == report_series(report))
        .order_by(ChangeRecord.at, ChangeRecord.id)
    )
    revisions = with_evidence(session, list(revisions))
    return ReportHistory(
        report=next(r for r in revisions if r.id == report.id),
        revisions=revisions,
        follow_ups=follow_ups_of_series(session=session, report=report),
        changes=[
            ChangePublic(
                id=c.id,
                entity=c.entity,
                entity_id=c.entity_id,
                action=c.action,
                actor=c.actor,
                at=c.at,
                previous=json.loads(c.previous) if c.previous else None,
                current=json.loads(c.current) if c.current else None,
                reason=c.reason,
            )
            for c in changes
        ],
    )

"""Qualitative task status: for tasks without numbers, a state per period (not started, in
progress, completed, blocked) with what was done and the problems met; and a partner department's own part of a
task (协办进展, decision 0020), a status of its own beside the task's."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from minsheng.auth.principal import Principal, TaskScope, authorize_task_status
from minsheng.catalog.models import Task, TaskLeadDepartment, TaskPartnerDepartment
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import Conflict, Unprocessable
from minsheng.evidence import service as evidence
from minsheng.evidence.models import EvidenceAttachment
from minsheng.evidence.service import EvidencePolicy
from minsheng.pagination import PageParams
from minsheng.progress.periods import parse_plan_period
from minsheng.reporting.changes import commit, lock_series, now, record_change
from minsheng.reporting.implementation import refusal
from minsheng.reporting.locks import PeriodLocks
from minsheng.reporting.models import TaskImplementation, TaskStatusReport
from minsheng.reporting.schemas import TaskStatusCreate, TaskStatusPublic
from minsheng.reporting.submissions import raise_row_errors
from minsheng.reporting.validation import ReportContext, refuse_without_evidence


def report_task_status(
    *,
    session: Session,
    catalog: CatalogCache,
    locks: PeriodLocks,
    policy: EvidencePolicy,
    status_in: TaskStatusCreate,
    principal: Principal,
    today: dt.date,
) -> TaskStatusReport:
    ctx = ReportContext(session, today, catalog.snapshot(session), locks=locks)
    task = session.get(Task, status_in.task)
    if task is None or task.retired:
        raise Unprocessable(f"任务编号 {status_in.task} 不属于本行动", code="unknown_task")
    if not ctx.org_unit_exists(status_in.org_unit):
        raise Unprocessable(f"单位代码「{status_in.org_unit}」不存在", code="unknown_org_unit")
    period, code, message = parse_plan_period(status_in.period, today, plan=ctx.catalog.plan)
    if code:
        raise Unprocessable(message, code=code)
    authorize_task_status(principal, task_scope(session, task.number), status_in.org_unit, status_in.partner_department)
    part = status_in.partner_department or ""
    if (refused := refusal(session.get(TaskImplementation, task.number))) is not None:
        raise refused
    if (lock := ctx.lock_covering(period)) is not None:
        raise Conflict(f"{lock.period} 已锁定，不能再填报", code="period_locked")
    series = task_series(task.number, status_in.org_unit, period.code, part)
    refs = status_in.evidence
    refuse_without_evidence(task.evidence_required, refs, f"任务 {task.number}（{task.title}）的进展")
    raise_row_errors(
        evidence.check_refs(session, policy, principal, [evidence.Submitted(1, series, refs)]), [], bulk=False
    )
    # The files first, then the series (every writer in this order); one the clean-up took meanwhile refuses it.
    claimed = evidence.claim_files(session.connection(), (ref.id for ref in refs))
    if not evidence.usable(refs, claimed):
        raise evidence.gone(policy)
    # As report revisions: under the series' lock, the current revision read is the latest committed.
    lock_series(session.connection(), [series])
    previous = session.exec(
        select(TaskStatusReport).where(
            TaskStatusReport.task_number == task.number,
            TaskStatusReport.org_unit_code == status_in.org_unit,
            TaskStatusReport.period == period.code,
            TaskStatusReport.partner_department == part,
            TaskStatusReport.is_current == True,
        )
    ).first()  # noqa: E712
    row = TaskStatusReport(
        task_number=task.number,
        org_unit_code=status_in.org_unit,
        period=period.code,
        partner_department=part,
        period_end=period.end,
        state=status_in.state,
        narrative=status_in.narrative,
        problems=status_in.problems,
        revision=(previous.revision + 1) if previous else 1,
        reported_by=principal.label,
        reported_at=now(),
    )
    if previous:
        previous.is_current = False
        session.add(previous)
        session.flush()
    session.add(row)
    session.flush()
    current = {"state": row.state.value, "narrative": row.narrative, "problems": row.problems}
    if refs:
        current["evidence"] = evidence.recorded(refs, claimed)
    record_change(
        session,
        entity="task_status",
        row=row,
        action="revised" if previous else "submitted",
        actor=principal,
        series_key=series,
        previous={"state": previous.state.value, "narrative": previous.narrative} if previous else None,
        current=current,
        evidence=evidence.digests(refs, claimed),
    )
    # The files with the status, in its transaction.
    for attachment in evidence.attachment_rows(refs, task_status_id=row.id):
        session.add(EvidenceAttachment(**attachment))
    session.flush()
    evidence.mark_attached(session.connection(), (ref.id for ref in refs), row.reported_at)
    commit(session)
    return row


def task_scope(session: Session, number: int) -> TaskScope:
    """The task's lead and partner departments, as the permission rules read them."""

    def departments(model: type[TaskLeadDepartment] | type[TaskPartnerDepartment]) -> tuple[str, ...]:
        return tuple(session.exec(select(model.department).where(model.task_number == number).order_by(model.position)))

    return TaskScope(number, departments(TaskLeadDepartment), departments(TaskPartnerDepartment))


def task_series(number: int, org_unit: str, period: str, partner_department: str = "") -> str:
    """A task status's series key (`ChangeRecord.series_key`, the series lock, the evidence check): the period third,
    as the audit export reads it; a partner's part names its department last."""
    key = f"task{number}/{org_unit}/{period}"
    return f"{key}/{partner_department}" if partner_department else key


def with_evidence(session: Session, rows: list[TaskStatusReport]) -> list[TaskStatusPublic]:
    """The task statuses as the API shows them, each with its files (one query for all)."""
    files = evidence.files_of(session, task_status_ids=[row.id for row in rows])
    return [
        TaskStatusPublic.model_validate(row).model_copy(update={"evidence": files.get(("task_status", row.id), [])})
        for row in rows
    ]


def list_task_statuses(
    *,
    session: Session,
    page: PageParams,
    task: int | None = None,
    org_unit: str | None = None,
    parts: bool | None = None,
) -> tuple[list[TaskStatusReport], int]:
    """The current revisions; `parts`: True only the partners' parts, False only the tasks' own, None both."""
    query = select(TaskStatusReport).where(TaskStatusReport.is_current == True)  # noqa: E712
    if task is not None:
        query = query.where(TaskStatusReport.task_number == task)
    if org_unit:
        query = query.where(TaskStatusReport.org_unit_code == org_unit)
    if parts is not None:
        query = query.where((TaskStatusReport.partner_department != "") == parts)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(TaskStatusReport.period_end.desc(), TaskStatusReport.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return list(rows), count

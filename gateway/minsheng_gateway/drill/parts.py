"""A task's 主办 and 协办 departments and each partner's own part (decision 0020), from the gateway's own tables:
a partner department's parts in `task_part_view`, a partner district's as its own task status in `task_status_view`."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from minsheng.auth.principal import Principal, TaskScope, own_part
from minsheng.catalog.models import OrgUnit, Task, TaskLeadDepartment, TaskPartnerDepartment
from minsheng.catalog.snapshot import plan_of
from minsheng.errors import NotFound
from minsheng.orgunits import districts_named
from minsheng.reporting.calendar import ReportingCalendar
from minsheng_gateway.drill.schemas import OwnPart, PartnerProgress, TaskPartEntry, TaskParts
from minsheng_gateway.inbox.service import PART_FREQUENCY, part_relevance
from minsheng_gateway.projection.models import TaskPartView, TaskStatusView


def _departments(session: Session, model: type[TaskLeadDepartment] | type[TaskPartnerDepartment], number: int):
    return list(session.exec(select(model.department).where(model.task_number == number).order_by(model.position)))


def task_parts(
    *, session: Session, number: int, principal: Principal, calendar: ReportingCalendar, today: dt.date
) -> TaskParts:
    """Who leads the task, who partners it, each partner's latest part and how many of its units reported this
    quarter, every department's part (latest period first), and what the caller reports of it as a partner."""
    task = session.get(Task, number)
    if task is None or task.retired:
        raise NotFound(f"任务编号 {number} 不存在：本方案的任务编号见 /api/v1/tasks", code="task_not_found")
    leads = _departments(session, TaskLeadDepartment, number)
    partners = _departments(session, TaskPartnerDepartment, number)
    plan = plan_of(session)
    current = calendar.current(PART_FREQUENCY, today, plan=plan)
    names = dict(session.exec(select(OrgUnit.code, OrgUnit.name)).all())

    def entry(partner: str, row: TaskPartView | TaskStatusView) -> TaskPartEntry:
        return TaskPartEntry.of(row, names, partner=partner)

    parts = [
        entry(row.department, row)
        for row in session.exec(
            select(TaskPartView)
            .where(TaskPartView.task_number == number, TaskPartView.period_end <= today)
            .order_by(TaskPartView.period_end.desc(), TaskPartView.department)
        )
    ]
    districts = districts_named(tuple(partners))
    own = (
        list(
            session.exec(
                select(TaskStatusView)
                .where(
                    TaskStatusView.task_number == number,
                    TaskStatusView.org_unit_code.in_(sorted(districts)),
                    TaskStatusView.period_end <= today,
                )
                .order_by(TaskStatusView.period_end.desc(), TaskStatusView.org_unit_code)
            )
        )
        if districts
        else []
    )
    this_quarter = current.period.code if current is not None else None
    progress = []
    for partner in partners:
        units = districts_named((partner,))
        if units:  # districts: their own task statuses
            theirs = [entry(partner, row) for row in own if row.org_unit_code in units]
            reported = {p.org_unit for p in theirs if p.period == this_quarter}
        else:
            theirs = [p for p in parts if p.partner == partner]
            reported = {p.partner for p in theirs if p.period == this_quarter}
        progress.append(
            PartnerProgress(
                partner=partner,
                units=len(units) or 1,
                reported_units=len(reported),
                latest=theirs[0] if theirs else None,
            )
        )

    mine = own_part(principal, TaskScope(number, tuple(leads), tuple(partners)))
    relevance = part_relevance(task.deadline, plan)
    due = calendar.due_periods(PART_FREQUENCY, today, plan=plan, relevance=relevance) if mine is not None else []
    return TaskParts(
        task=number,
        campaign=task.campaign_code,
        lead_departments=leads,
        partner_departments=partners,
        period=this_quarter,
        partners=progress,
        parts=parts,
        own_part=OwnPart(
            org_unit=mine.org_unit, partner_department=mine.department, periods=[d.period.code for d in reversed(due)]
        )
        if mine is not None
        else None,
    )

"""Task implementation states: the city office marks a task 暂缓实施, 已取消 or 待确定 (always with the reason)
or back 执行中.  Each change is a new revision of the task's `TaskImplementation`, kept in the history
(`ChangeRecord`, entity task_state) and announced (minsheng.task.state_changed.v1) in the same transaction.
A suspended or cancelled task takes no reports (`refusal`); which tasks count in the views is the kernel's
rule next to the states (`models.counts_in_progress`)."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, select

from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.document import PlanState
from minsheng.catalog.models import Task
from minsheng.catalog.snapshot import plan_of
from minsheng.clock import CHINA, as_utc
from minsheng.db import request_plan
from minsheng.errors import NotFound, Unprocessable
from minsheng.reporting.changes import commit, lock_series, now, record_change
from minsheng.reporting.models import (
    IMPLEMENTATION_STATE_LABELS,
    ChangeAction,
    ChangeRecord,
    ImplementationState,
    TaskImplementation,
    takes_reports,
)
from minsheng.reporting.schemas import TaskImplementationPublic, TaskStateChange, TaskStateChangePublic

ENTITY = "task_state"  # `ChangeRecord.entity` of a state change


def series_key(task_number: int) -> str:
    """The history's series of a task's state changes (and the key its writers lock)."""
    return f"task{task_number}"


class TaskStates:
    """The implementation states of this service's tasks, as last read (tasks without a row are in progress).

    Every report write asks them, and they change a few times a year: as `PeriodLocks`, read at most once per
    `max_age` seconds, stale at once in this process when a state is set (`forget`), within `max_age` when
    another replica set it.  One per app (`app.state.task_states`)."""

    def __init__(self, max_age: float = 1.0):
        self.max_age = max_age
        self._read: tuple[float, dict[int, TaskImplementation]] | None = None  # (valid until, detached copies)

    def get(self, session: Session) -> dict[int, TaskImplementation]:
        read = self._read
        if read is not None and read[0] > time.monotonic():
            return read[1]
        rows = session.exec(select(TaskImplementation))
        states = {row.task_number: TaskImplementation(**row.model_dump()) for row in rows}
        self._read = (time.monotonic() + self.max_age, states)
        return states

    def forget(self) -> None:
        self._read = None


async def _task_states(request: Request) -> TaskStates:
    return request_plan(request).task_states


TaskStatesDep = Annotated[TaskStates, Depends(_task_states)]


def refusal(decision: TaskImplementation | None) -> Unprocessable | None:
    """Why a report for the task is refused (a suspended or cancelled task), or None: it may be reported."""
    if decision is None or takes_reports(decision.state):
        return None
    label = IMPLEMENTATION_STATE_LABELS[decision.state]
    reason = f"（{decision.reason}）" if decision.reason else ""
    day = as_utc(decision.changed_at).astimezone(CHINA)
    return Unprocessable(
        f"任务{decision.task_number}{label}{reason}，市民生办于{day:%Y-%m-%d}决定，不再接受填报；如需恢复实施请联系市民生办",
        code=f"task_{decision.state.value}",
    )


def set_task_state(
    *, session: Session, states: TaskStates, number: int, change: TaskStateChange, principal: Principal
) -> TaskImplementationPublic:
    """The city office's decision on task `number`: recorded with who, when, from what and why, and announced.
    The same state with the same reason again changes nothing (a repeated PUT)."""
    require_city_office(principal, "调整任务实施状态")
    task = _task(session, number)
    if (plan := plan_of(session)).state is PlanState.closed:  # a closed plan stands as it ended
        raise Unprocessable(f"《{plan.name}》已关闭，只能查看，不能再调整任务实施状态", code="plan_not_open")
    reason = (change.reason or "").strip() or None
    if change.state is not ImplementationState.in_progress and reason is None:
        label = IMPLEMENTATION_STATE_LABELS[change.state]
        raise Unprocessable(f"将任务{number}设为「{label}」须说明原因，如「因政策调整」", code="reason_required")
    # Two decisions on one task at once: the second waits, then builds on the first (its revision follows).
    lock_series(session.connection(), [f"{series_key(number)}/state"])
    current = session.get(TaskImplementation, number, populate_existing=True)
    previous_state = current.state if current else ImplementationState.in_progress
    if previous_state is change.state and (current.reason if current else None) == reason:
        return task_state(session=session, number=number)
    if current is None:
        current = TaskImplementation(
            task_number=number, state=change.state, revision=0, changed_by=principal.label, changed_at=now()
        )
    previous = {"state": previous_state.value, "reason": current.reason}
    current.state, current.reason, current.revision = change.state, reason, current.revision + 1
    current.changed_by = principal.label
    recorded = record_change(
        session,
        entity=ENTITY,
        row=current,
        action=ChangeAction.state_changed.value,
        actor=principal,
        series_key=series_key(number),
        previous=previous,
        current={"state": change.state.value, "reason": reason, "revision": current.revision},
        reason=reason,
    )
    current.changed_at = recorded.at  # the state says the time its history and its event say
    session.add(current)
    commit(session)
    states.forget()
    return task_state(session=session, number=task.number)


def task_state(*, session: Session, number: int) -> TaskImplementationPublic:
    """Task `number`'s state as it stands, with every change to it, oldest first."""
    task = _task(session, number)
    current = session.get(TaskImplementation, number)
    state = current.state if current else ImplementationState.in_progress
    history = []
    for record in session.exec(
        select(ChangeRecord)
        .where(ChangeRecord.entity == ENTITY, ChangeRecord.series_key == series_key(number))
        .order_by(ChangeRecord.id)
    ):
        before, after = json.loads(record.previous or "{}"), json.loads(record.current)
        previous_state = ImplementationState(before.get("state", ImplementationState.in_progress.value))
        new_state = ImplementationState(after["state"])
        history.append(
            TaskStateChangePublic(
                revision=after["revision"],
                previous_state=previous_state,
                previous_state_label=IMPLEMENTATION_STATE_LABELS[previous_state],
                state=new_state,
                state_label=IMPLEMENTATION_STATE_LABELS[new_state],
                reason=record.reason,
                changed_by=record.actor,
                changed_at=record.at,
            )
        )
    return TaskImplementationPublic(
        task=task.number,
        campaign=task.campaign_code,
        state=state,
        state_label=IMPLEMENTATION_STATE_LABELS[state],
        reason=current.reason if current else None,
        revision=current.revision if current else 0,
        changed_by=current.changed_by if current else None,
        changed_at=current.changed_at if current else None,
        history=history,
    )


def _task(session: Session, number: int) -> Task:
    task = session.get(Task, number)
    if task is None or task.retired:
        raise NotFound(f"任务编号 {number} 不属于本行动：本服务的任务编号见 /api/v1/tasks", code="task_not_found")
    return task

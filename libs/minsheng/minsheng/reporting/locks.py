"""Period locks: the city office freezes a period (and the months and quarters inside it) once
nothing in it is pending; no report for it may change until it is unlocked."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, select

from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.snapshot import plan_of
from minsheng.db import request_plan
from minsheng.errors import Conflict, NotFound, Unprocessable
from minsheng.progress.periods import Period, parse_plan_period
from minsheng.reporting.changes import commit, now, record_change
from minsheng.reporting.models import PeriodLock, Report, ReportStatus


class PeriodLocks:
    """The period locks of this service's database, as last read.

    Locks change a few times a year and every report write checks them: reading them at most once
    per `max_age` seconds instead of once per write saves a round trip per batch.  Stale when a lock
    is taken or released: at once in this process (`lock_period`/`unlock_period` call `forget`),
    within `max_age` when another replica did it.  One per app (`app.state.period_locks`), so a test
    that starts its own app starts with none read."""

    def __init__(self, max_age: float = 1.0):
        self.max_age = max_age
        self._read: tuple[float, list[PeriodLock]] | None = None  # (valid until, detached copies)

    def get(self, session: Session) -> list[PeriodLock]:
        read = self._read
        if read is not None and read[0] > time.monotonic():
            return read[1]
        locks = [PeriodLock(**lock.model_dump()) for lock in session.exec(select(PeriodLock))]
        self._read = (time.monotonic() + self.max_age, locks)
        return locks

    def covering(self, session: Session, period: Period) -> PeriodLock | None:
        return lock_covering(self.get(session), period)

    def forget(self) -> None:
        self._read = None


async def _period_locks(request: Request) -> PeriodLocks:
    return request_plan(request).period_locks


PeriodLocksDep = Annotated[PeriodLocks, Depends(_period_locks)]


def lock_covering(locks: list[PeriodLock], period: Period) -> PeriodLock | None:
    return next((lock for lock in locks if lock.period_start <= period.start and period.end <= lock.period_end), None)


def locked_message(lock: PeriodLock) -> str:
    return (
        f"{lock.period} 的数据已由{lock.locked_by}于 {lock.locked_at:%Y-%m-%d} 锁定，不能再修改；"
        "如需更正请联系市民生办解锁"
    )


def lock_period(*, session: Session, locks: PeriodLocks, period_code: str, principal: Principal) -> PeriodLock:
    require_city_office(principal, "锁定期间")
    period, code, message = parse_plan_period(period_code, dt.date.max, plan=plan_of(session))
    if code:
        raise Unprocessable(message, code=code)
    if session.get(PeriodLock, period.code):
        raise Conflict(f"{period.code} 已经锁定", code="already_locked")
    pending = session.exec(
        select(Report)
        .where(
            Report.is_current == True,
            Report.status == ReportStatus.submitted,  # noqa: E712
            Report.period_start >= period.start,
            Report.period_end <= period.end,
        )
        .order_by(Report.id)
    ).all()
    if pending:
        examples = "、".join(f"{r.indicator_code}/{r.org_unit_code}/{r.period}" for r in pending[:5])
        raise Conflict(
            f"{period.code} 仍有 {len(pending)} 份报告待审核（如 {examples}），请先审核或退回再锁定",
            code="pending_reports",
        )
    lock = PeriodLock(
        period=period.code, period_start=period.start, period_end=period.end, locked_by=principal.label, locked_at=now()
    )
    session.add(lock)
    record_change(
        session,
        entity="period_lock",
        row=lock,
        action="locked",
        actor=principal,
        series_key=period.code,
        previous=None,
        current={"period": period.code},
    )
    commit(session)
    locks.forget()
    return lock


def unlock_period(*, session: Session, locks: PeriodLocks, period_code: str, principal: Principal) -> None:
    require_city_office(principal, "解锁期间")
    try:
        code = Period.parse(period_code).code
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_period") from exc
    lock = session.get(PeriodLock, code)
    if lock is None:
        raise NotFound(f"{code} 没有锁定", code="not_locked")
    record_change(
        session,
        entity="period_lock",
        row=lock,
        action="unlocked",
        actor=principal,
        series_key=code,
        previous={"period": code, "locked_by": lock.locked_by},
        current=None,
    )
    session.delete(lock)
    commit(session)
    locks.forget()


def list_locks(*, session: Session) -> list[PeriodLock]:
    return list(session.exec(select(PeriodLock).order_by(PeriodLock.period_start)))

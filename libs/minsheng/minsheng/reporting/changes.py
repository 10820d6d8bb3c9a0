"""A change and what goes with it: its history record (who, when, what before and after), its
integration event, and the commit that stores them together with the change."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Callable, Iterable

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from minsheng.auth.principal import Principal
from minsheng.errors import Conflict, DomainError
from minsheng.reporting.events import EvidenceDigests, emit_change
from minsheng.reporting.models import (
    ChangeRecord,
    PeriodLock,
    Report,
    ReportRow,
    TaskImplementation,
    TaskStatusReport,
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def recorded_state(report: Report | ReportRow, evidence: list[dict] | None = None) -> dict:
    """What a report revision's history record shows of it, before and after a change; with the files saved with
    it (name, SHA-256, caption) when a submission had any."""
    state = {
        "value": report.value,
        "numerator": report.numerator,
        "denominator": report.denominator,
        "note": report.note,
        "status": report.status.value,
        "revision": report.revision,
    }
    if evidence:
        state["evidence"] = evidence
    return state


def series_key(indicator: str, org_unit: str, period: str) -> str:
    return f"{indicator}/{org_unit}/{period}"


def report_series(report: Report | ReportRow) -> str:
    return series_key(report.indicator_code, report.org_unit_code, report.period)


# pg_advisory_xact_lock(class, key) class of the series locks ("ser"), apart from the relay's one-key lock.
SERIES_LOCK_CLASS = 0x736572
_LOCK_SERIES_SQL = (
    "SELECT pg_advisory_xact_lock(%s, series.key) FROM unnest(%s::int[]) WITH ORDINALITY AS series(key, n) ORDER BY n"
)


def lock_series(connection: Connection, keys: Iterable[str]) -> None:
    """Serialise the writers of these series (`series_key`s, or a task status's) until the transaction
    ends: whoever writes a new revision takes its series' lock first, then reads the current revision
    (in a later statement, so it sees what the writer before it committed).  A row lock cannot do it: a
    series without a revision yet has no row to lock.  Locks are taken in one order (of their keys) by
    every writer, so writers of overlapping sets never deadlock; a hash collision only makes two series
    wait for each other."""
    locks = sorted({_signed_int32(zlib.crc32(key.encode())) for key in keys})
    if locks:
        connection.exec_driver_sql(_LOCK_SERIES_SQL, (SERIES_LOCK_CLASS, locks)).all()


def _signed_int32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def change_columns(
    *,
    entity: str,
    entity_id: str,
    action: str,
    actor: str,
    at: dt.datetime,
    series_key: str,
    previous: dict | None,
    current: dict | None,
    reason: str | None = None,
) -> dict:
    """A history record's columns, for the set-based writers and `record_change` alike."""
    return {
        "entity": entity,
        "entity_id": entity_id,
        "series_key": series_key,
        "action": action,
        "actor": actor,
        "at": at,
        "previous": json.dumps(previous, ensure_ascii=False) if previous is not None else None,
        "current": json.dumps(current, ensure_ascii=False) if current is not None else None,
        "reason": reason,
    }


def record_change(
    session: Session,
    *,
    entity: str,
    row: Report | TaskStatusReport | PeriodLock | TaskImplementation,
    action: str,
    actor: Principal,
    series_key: str,
    previous: dict | None,
    current: dict | None,
    reason: str | None = None,
    evidence: EvidenceDigests | None = None,
) -> ChangeRecord:
    """The history record and the integration event of a change (with the digests of the files saved with it),
    in the caller's transaction."""
    if isinstance(row, PeriodLock):
        entity_id = row.period
    elif isinstance(row, TaskImplementation):
        entity_id = str(row.task_number)
    else:
        entity_id = str(row.id)
    change = ChangeRecord(
        **change_columns(
            entity=entity,
            entity_id=entity_id,
            series_key=series_key,
            action=action,
            actor=actor.label,
            at=now(),
            previous=previous,
            current=current,
            reason=reason,
        )
    )
    session.add(change)
    emit_change(session, change, row, evidence)
    return change


# Two writers of one series raced: the partial unique index on the current revision refused one.
CONCURRENT_SUBMISSION = ("同一指标、单位、期间的报告正被另一请求同时提交，请稍后重试", "concurrent_submission")
CONCURRENT_REVIEW = ("同一指标的另一份报告正在同时审核，本次审核未生效，请重试", "concurrent_review")


def conflict_on_integrity_error(message: str, code: str) -> Callable[[Exception], DomainError | None]:
    """A write that failed on a constraint raced by another writer: the request's answer (group
    commit's `on_error`, and `commit`)."""

    def answer(exc: Exception) -> DomainError | None:
        return Conflict(message, code=code) if isinstance(exc, IntegrityError) else None

    return answer


submission_conflict = conflict_on_integrity_error(*CONCURRENT_SUBMISSION)
review_conflict = conflict_on_integrity_error(*CONCURRENT_REVIEW)


def commit(session: Session) -> None:
    """Commit a request's change; a constraint raced by another writer answers 409, nothing stored."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise submission_conflict(exc) from exc

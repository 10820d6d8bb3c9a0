"""The transactional outbox: an event is a row written in the same transaction as the change it reports.

    with database.session() as session:
        report.status = "approved"
        session.add(report)
        add_event(session, topic=topic_for("education"), key=report.indicator_code, event=event)
        session.commit()          # the change and its event exist together, or neither does

The relay (`minsheng.messaging.relay`) publishes committed rows to Kafka in `id` order and marks
them published once the broker has acknowledged them.  A rolled-back transaction leaves no row,
so nothing is ever published for a change that did not happen.

Order: events are published in `id` order, and PostgreSQL hands out ids at INSERT, not at COMMIT.
Two transactions emitting events with the same key must therefore be serialized before the event
row is written: lock the aggregate first (`select(...).with_for_update()`, or `session.flush()` the
UPDATE of the row that both change), then `add_event`.  Otherwise the transaction that commits last
may hold the smaller id and its event may be published after the other one's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from minsheng.messaging.events import IntegrationEvent, utc_now

Timestamp = sa.DateTime(timezone=True)


class OutboxEvent(SQLModel, table=True):
    """An integration event waiting for (or done with) publication. `id` is the publish order."""

    __tablename__ = "outbox_event"
    # The relay's scan, `WHERE published_at IS NULL ORDER BY id LIMIT n`, walks this partial index in
    # id order and stops after n rows.  Marking a row published leaves a dead entry here until
    # VACUUM; an index scan marks such entries dead as it meets them (later scans skip them without
    # reading the table).  The former (published_at, id) index led the planner to a bitmap scan,
    # which never does: it re-read every published row's page on every cycle, ever slower as they grew
    # (docs/decisions/0002).
    __table_args__ = (sa.Index("ix_outbox_event_pending", "id", postgresql_where=sa.text("published_at IS NULL")),)

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True))
    event_id: str = Field(max_length=64, unique=True)
    topic: str = Field(max_length=249)  # Kafka's limit on topic names
    key: str = Field(max_length=255)  # the partition key: events with the same key keep their order
    type: str = Field(max_length=200)
    payload: str = Field(sa_type=sa.Text)  # the CloudEvent, structured-mode JSON, exactly as published
    created_at: dt.datetime = Field(default_factory=utc_now, sa_type=Timestamp)
    published_at: dt.datetime | None = Field(default=None, sa_type=Timestamp)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=Timestamp)


OUTBOX_TABLES = frozenset({OutboxEvent.__tablename__})


def add_event(session: Session, *, topic: str, key: str, event: IntegrationEvent) -> OutboxEvent:
    """Add `event` to the caller's session, to be committed with the caller's own change.

    Does not flush or commit: the caller's transaction decides whether the event exists.
    """
    if not isinstance(event, IntegrationEvent):
        raise TypeError("add_event takes an IntegrationEvent")
    if not topic:
        raise ValueError("an outbox event needs a topic")
    if not key:
        raise ValueError("an outbox event needs a partition key (e.g. the indicator code)")
    event = for_plan(event, session.info.get("plan"))
    row = OutboxEvent(
        event_id=event.id, topic=topic, key=key, type=event.type, payload=event.to_json_bytes().decode("utf-8")
    )
    session.add(row)
    return row


def add_events(session: Session, events: Sequence[tuple[str, str, IntegrationEvent]]) -> None:
    """Insert many `(topic, key, event)` with one statement, in the caller's transaction (for the
    set-based writes of group commit).  Ids follow the order given, which is the publish order."""
    if not events:
        return
    session.connection().execute(sa.insert(OutboxEvent.__table__), outbox_rows(events, plan=session.info.get("plan")))


def for_plan(event: IntegrationEvent, plan: str | None) -> IntegrationEvent:
    """The event as written by a session of a plan other than the legacy one: its data names the plan (decision
    0017: additive, absent = the legacy plan).  Stamped here, where every event is written, so no emitter forgets."""
    if plan is None or event.data.get("plan") == plan:
        return event
    return event.model_copy(update={"data": {**event.data, "plan": plan}})


def outbox_rows(events: Sequence[tuple[str, str, IntegrationEvent]], *, plan: str | None = None) -> list[dict]:
    """The outbox rows of `(topic, key, event)`s, for a caller that inserts them itself (`plan`: the session's,
    `minsheng.db.session_plan`)."""
    now = utc_now()
    events = [(topic, key, for_plan(event, plan)) for topic, key, event in events]
    return [
        {
            "event_id": event.id,
            "topic": topic,
            "key": key,
            "type": event.type,
            "payload": event.to_json_bytes().decode("utf-8"),
            "created_at": now,
            "attempts": 0,
        }
        for topic, key, event in events
    ]


__all__ = ["OUTBOX_TABLES", "OutboxEvent", "add_event", "add_events", "for_plan", "outbox_rows"]

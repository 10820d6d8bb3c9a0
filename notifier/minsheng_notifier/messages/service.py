"""Recording messages (once per key) and reading them: the 消息中心, what was sent to me, the 催办记录."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, func, select

from minsheng.errors import NotFound
from minsheng_notifier.messages.models import (
    CHANNEL_LABELS,
    DELIVERY_LABELS,
    REASON_LABELS,
    Channel,
    Delivery,
    Message,
    MessagePublic,
    MessageRef,
    Reason,
    ReminderRecord,
)


def record(
    session: Session,
    *,
    key: str,
    channel: Channel,
    reason: Reason,
    recipient: str,
    subject: str,
    body: str,
    not_before: dt.datetime,
    now: dt.datetime,
    refs: list[str],
    account_id: int | None = None,
    address: str = "",
    plan: str | None = None,
    link: str = "",
    template: str | None = None,
    params: dict | None = None,
) -> int | None:
    """Record a message unless its key is recorded already (then None): the unique key is what makes a
    planner that runs twice, or two replicas, record it once."""
    values = dict(
        key=key,
        account_id=account_id,
        recipient=recipient[:100],
        channel=channel,
        address=address,
        reason=reason,
        plan=plan,
        subject=subject[:200],
        body=body,
        link=link,
        template=template,
        params=params or {},
        status=Delivery.pending,
        attempts=0,
        not_before=not_before,
        created_at=now,
    )
    statement = insert(Message).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(Message.id)
    message_id = session.execute(statement).scalar()
    if message_id is not None and refs:
        session.execute(insert(MessageRef).values([{"message_id": message_id, "ref": ref} for ref in set(refs)]))
    return message_id


def public(message: Message) -> MessagePublic:
    return MessagePublic(
        id=message.id,
        channel=message.channel,
        channel_label=CHANNEL_LABELS[message.channel],
        reason=message.reason,
        reason_label=REASON_LABELS[message.reason],
        subject=message.subject,
        body=message.body,
        link=message.link,
        status=message.status,
        status_label=DELIVERY_LABELS[message.status],
        created_at=message.created_at,
        sent_at=message.sent_at,
        read=message.read_at is not None,
    )


def _inbox(account_id: int):  # noqa: ANN202 - a where clause
    # 站内消息 show once their time has come (a message held over the quiet hours shows in the morning).
    return sa.and_(Message.account_id == account_id, Message.channel == Channel.inapp, Message.status == Delivery.sent)


def unread(*, session: Session, account_id: int) -> int:
    return session.exec(select(func.count()).where(_inbox(account_id), Message.read_at.is_(None))).one()


def inbox(
    *, session: Session, account_id: int, unread_only: bool, limit: int, offset: int
) -> tuple[list[Message], int]:
    where = [_inbox(account_id)] + ([Message.read_at.is_(None)] if unread_only else [])
    count = session.exec(select(func.count()).where(*where)).one()
    rows = session.exec(
        select(Message).where(*where).order_by(Message.sent_at.desc(), Message.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), count


def mark_read(*, session: Session, account_id: int, message_id: int | None, now: dt.datetime) -> int:
    """Mark one (or, with None, every) 站内消息 of the person read; how many changed."""
    query = sa.update(Message).where(_inbox(account_id), Message.read_at.is_(None)).values(read_at=now)
    if message_id is not None:
        if session.exec(select(Message.id).where(_inbox(account_id), Message.id == message_id)).first() is None:
            raise NotFound("消息不存在", code="message_not_found")
        query = query.where(Message.id == message_id)
    changed = session.execute(query).rowcount
    session.commit()
    return changed


def sent_to(*, session: Session, account_id: int, limit: int, offset: int) -> tuple[list[Message], int]:
    """Everything recorded for the person, every channel: what was sent to me."""
    where = Message.account_id == account_id
    count = session.exec(select(func.count()).where(where)).one()
    rows = session.exec(
        select(Message).where(where).order_by(Message.created_at.desc(), Message.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), count


def reminder_log(*, session: Session, ref: str) -> list[ReminderRecord]:
    rows = session.exec(
        select(Message)
        .join(MessageRef, MessageRef.message_id == Message.id)
        .where(MessageRef.ref == ref)
        .order_by(Message.created_at, Message.id)
    )
    return [
        ReminderRecord(
            recipient=m.recipient,
            channel=m.channel,
            channel_label=CHANNEL_LABELS[m.channel],
            address=m.address,
            reason=m.reason,
            reason_label=REASON_LABELS[m.reason],
            created_at=m.created_at,
            sent_at=m.sent_at,
            status=m.status,
            status_label=DELIVERY_LABELS[m.status],
            attempts=m.attempts,
            last_error=m.last_error,
        )
        for m in rows
    ]

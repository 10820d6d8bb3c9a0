"""The rules in force for a plan: its own, else the default row, else the built-in defaults."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from minsheng.clock import CHINA
from minsheng_notifier.rules.models import DEFAULT_PLAN, NotifyRules, RulesPublic, RulesUpdate


def rules_for(*, session: Session, plan: str | None) -> RulesPublic:
    own = session.get(NotifyRules, plan) if plan else None
    if own is not None:
        return RulesPublic.model_validate(own, from_attributes=True)
    default = session.get(NotifyRules, DEFAULT_PLAN)
    base = RulesPublic.model_validate(default, from_attributes=True) if default else RulesPublic(plan=DEFAULT_PLAN)
    return base.model_copy(update={"plan": plan or DEFAULT_PLAN, "inherited": plan not in (None, DEFAULT_PLAN)})


def set_rules(*, session: Session, plan: str, rules: RulesUpdate, by: str, now: dt.datetime) -> RulesPublic:
    row = session.get(NotifyRules, plan) or NotifyRules(plan=plan)
    for name, value in rules.model_dump().items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = by, now
    session.add(row)
    session.flush()
    _rehold(session, plan=plan, now=now)
    session.commit()
    return rules_for(session=session, plan=plan)


def _rehold(session: Session, *, plan: str, now: dt.datetime) -> None:
    """Messages held for the quiet hours (not yet tried) follow the new ones: released now, or at their new end."""
    from minsheng_notifier.messages.models import Delivery, Message

    query = select(Message).where(Message.status == Delivery.pending, Message.attempts == 0, Message.not_before > now)
    if plan != DEFAULT_PLAN:
        query = query.where(Message.plan == plan)
    for message in session.exec(query):
        message.not_before = release_time(now, rules_for(session=session, plan=message.plan))
        session.add(message)


def release_time(now: dt.datetime, rules: RulesPublic) -> dt.datetime:
    """`now`, or the end of the quiet hours (Beijing time) when `now` falls inside them."""
    local = now.astimezone(CHINA)
    start, end, t = dt.time.fromisoformat(rules.quiet_start), dt.time.fromisoformat(rules.quiet_end), local.time()
    if start > end:  # across midnight, e.g. 22:00–07:30
        if t >= start:
            day = local.date() + dt.timedelta(days=1)
        elif t < end:
            day = local.date()
        else:
            return now
    elif start <= t < end:
        day = local.date()
    else:
        return now
    return dt.datetime.combine(day, end, tzinfo=CHINA).astimezone(dt.UTC)

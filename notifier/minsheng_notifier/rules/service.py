"""The rules in force for a plan: its own, else the default row, else the built-in defaults."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

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
    session.commit()
    return rules_for(session=session, plan=plan)


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

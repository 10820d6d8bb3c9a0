"""The view generation names the gateway's consumer group: a fresh database (or a rebuild) gets a
new generation, hence a new group that reads every topic from the beginning."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Session

from minsheng_gateway.projection.models import ViewGeneration


def current_generation(session: Session) -> str:
    row = session.get(ViewGeneration, 1)
    if row is None:
        row = ViewGeneration(id=1, generation=uuid.uuid4().hex[:12], created_at=dt.datetime.now(dt.UTC))
        session.add(row)
        session.commit()
    return row.generation


def group_id(generation: str) -> str:
    return f"minsheng-gateway-{generation}"

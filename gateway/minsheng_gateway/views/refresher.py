"""Statuses move with the calendar (the expected value grows every day), not only with events: once a
day's first minute has passed, progress rows computed on an earlier day are recomputed and stored."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from sqlmodel import select

from minsheng.clock import today_in_china
from minsheng.progress.model import Thresholds
from minsheng_gateway.views.fold import DIRTY, refresh
from minsheng_gateway.views.models import IndicatorProgressView

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 60.0


def refresh_stale_rows(app: FastAPI) -> int:
    today = today_in_china()
    with app.state.database.session() as session:
        stale = session.exec(select(IndicatorProgressView.indicator_code, IndicatorProgressView.org_unit_code)
                             .where(IndicatorProgressView.computed_on < today)).all()
        if not stale:
            return 0
        session.info[DIRTY] = set(stale)
        count = refresh(session, Thresholds.from_settings(app.state.settings), today)
        session.commit()
    return count


async def refresh_stale_progress(app: FastAPI) -> None:
    """Background job of the gateway."""
    while True:
        try:
            count = await asyncio.to_thread(refresh_stale_rows, app)
            if count:
                log.info("recomputed %d progress rows for a new day", count)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again at the next check
            log.exception("could not refresh stale progress rows")
        await asyncio.sleep(CHECK_EVERY_SECONDS)

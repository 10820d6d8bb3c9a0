"""Statuses move with the calendar (the expected value grows every day), not only with events: within a
minute of midnight (`progress_refresh_seconds`), progress rows computed on an earlier day are recomputed
and stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from fastapi import FastAPI
from sqlmodel import select

from minsheng.clock import today_in_china
from minsheng.progress.model import Thresholds
from minsheng.progress.queries import load_facts
from minsheng_gateway.views.fold import DIRTY, answers_for_new_day, refresh, store_progress_many
from minsheng_gateway.views.models import IndicatorProgressView

log = logging.getLogger(__name__)


def refresh_stale_rows(app: FastAPI) -> int:
    """Answer every row computed on an earlier day for today: from its stored inputs where it has them
    (`answers_for_new_day`, no official value read), in full otherwise.  Returns how many rows."""
    today = today_in_china()
    thresholds = Thresholds.from_settings(app.state.settings)
    with app.state.database.session() as session:
        stale = list(session.exec(select(IndicatorProgressView).where(IndicatorProgressView.computed_on < today)))
        if not stale:
            return 0
        facts = load_facts(session, codes=sorted({row.indicator_code for row in stale}))
        renewed, in_full = answers_for_new_day(stale, facts, today, thresholds)
        store_progress_many(session, renewed, dt.datetime.now(dt.UTC))
        session.info[DIRTY] = {(row.indicator_code, row.org_unit_code) for row in in_full}
        count = len(renewed) + refresh(session, thresholds, today)
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
        await asyncio.sleep(app.state.settings.progress_refresh_seconds)

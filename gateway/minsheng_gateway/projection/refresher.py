"""Statuses move with the calendar (the expected value grows every day), not only with events.

The refresher keeps the stored answers today's, so that summaries and warnings can read them: every
`progress_refresh_seconds` it answers the rows computed on an earlier day for today, from the inputs
stored with them (in full where they have none), and in the last `progress_ahead_minutes` of a day
it stores the next day's answers ahead (`projection/ahead.py`, which says why)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from fastapi import FastAPI
from sqlmodel import select

from minsheng.clock import today_in_china
from minsheng.progress.model import Thresholds
from minsheng.progress.queries import load_facts
from minsheng_gateway.plans.scope import PlanSlot
from minsheng_gateway.projection.ahead import next_day_due, store_answers_ahead
from minsheng_gateway.projection.answers import answers_for_new_day
from minsheng_gateway.projection.models import IndicatorProgressView
from minsheng_gateway.projection.progress import StaleProgress, refresh, store_progress_many

log = logging.getLogger(__name__)


def refresh_stale_rows(app: FastAPI, today: dt.date | None = None) -> int:
    """Answer every row computed on an earlier day for today, in every plan: from its stored inputs where it has
    them (`answers_for_new_day`, no official value read), in full otherwise.  Returns how many rows."""
    today = today or today_in_china()
    thresholds = Thresholds.from_settings(app.state.settings)
    return sum(refresh_plan(slot, today, thresholds) for slot in app.state.plans.slots())


def refresh_plan(slot: PlanSlot, today: dt.date, thresholds: Thresholds) -> int:
    now = dt.datetime.now(dt.UTC)
    with slot.database.session() as session:
        stale = list(session.exec(select(IndicatorProgressView).where(IndicatorProgressView.computed_on < today)))
        count = 0
        if stale:
            facts = load_facts(session, slot.catalog, codes=sorted({row.indicator_code for row in stale}))
            renewed, in_full = answers_for_new_day(stale, facts, today, thresholds)
            store_progress_many(session, renewed, now)
            in_full = StaleProgress(series={(row.indicator_code, row.org_unit_code) for row in in_full})
            count = len(renewed) + refresh(session, in_full, thresholds, slot.catalog, today)
        session.commit()
    return count


async def refresh_stale_progress(app: FastAPI) -> None:
    """Background job of the gateway."""
    settings = app.state.settings
    while True:
        try:
            count = await asyncio.to_thread(refresh_stale_rows, app)
            if count:
                log.info("renewed %d progress rows for a new day", count)
            day = next_day_due(dt.datetime.now(dt.UTC), dt.timedelta(minutes=settings.progress_ahead_minutes))
            if day is not None:
                stored = 0
                for slot in await asyncio.to_thread(app.state.plans.slots):
                    stored += await asyncio.to_thread(
                        store_answers_ahead, slot.database, slot.catalog, day, Thresholds.from_settings(settings)
                    )
                if stored:
                    log.info("stored %d progress answers ahead for %s", stored, day)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again at the next check
            log.exception("could not refresh stale progress rows")
        await asyncio.sleep(settings.progress_refresh_seconds)

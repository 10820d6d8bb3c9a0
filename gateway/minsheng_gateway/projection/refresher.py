"""Statuses move with the calendar (the expected value grows every day), not only with events.

The refresher keeps the stored answers current across midnight, so that summaries can read them:
- in the last `progress_ahead_minutes` of a day (Beijing time), it computes every row's answer for the
  next day from the inputs stored with it and keeps it beside today's (`store_answers_ahead`); a row
  that changes afterwards loses it (`progress.store_progress_many`) and gets it again at the next run;
- after midnight, rows computed on an earlier day take the answer stored ahead for the new day
  (`promote_answers_ahead`, one statement); the others, whose answer was not stored ahead (the
  gateway was down at midnight, or the row changed in the last minute), are computed for the new day
  from their stored inputs, or in full where they have none.
It runs every `progress_refresh_seconds`.  Between midnight and its first run, summaries read the
answers stored ahead themselves (`summaries/service.py: statuses_for_unit`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session, select

from minsheng.catalog.snapshot import CatalogCache
from minsheng.clock import CHINA, today_in_china
from minsheng.db import Database
from minsheng.progress.model import Thresholds
from minsheng.progress.queries import load_facts
from minsheng_gateway.projection.answers import answers_for_new_day
from minsheng_gateway.projection.models import IndicatorProgressView
from minsheng_gateway.projection.progress import StaleProgress, refresh, store_progress_many

log = logging.getLogger(__name__)

AHEAD_CHUNK = 20  # indicators per transaction: their rows are locked while their next answers are computed


def promote_answers_ahead(session: Session, today: dt.date, now: dt.datetime) -> int:
    """Rows computed on an earlier day take the answer stored ahead for `today`, where there is one.
    `status_since` moves to `now` only where the status changes.  Returns how many rows."""
    table = IndicatorProgressView.__table__
    result = session.connection().execute(
        table.update()
        .where(table.c.computed_on < today, table.c.next_on == today)
        .values(
            status=table.c.next_status,
            payload=table.c.next_payload,
            computed_on=table.c.next_on,
            status_since=sa.case((table.c.status == table.c.next_status, table.c.status_since), else_=now),
            next_on=None,
            next_status=None,
            next_payload=None,
        )
    )
    return result.rowcount or 0


def store_answers_ahead(database: Database, catalog: CatalogCache, day: dt.date, thresholds: Thresholds) -> int:
    """Store `day`'s answer beside the current one in every row computed before `day` that has none
    for it yet, computed from the row's stored inputs (`answers_for_new_day`; rows without usable
    inputs are left to the refresher's run after midnight).  A few indicators per transaction, their
    rows locked meanwhile: a fold that stores a new answer for one of them waits, then clears the
    answer stored ahead, so an answer ahead is never computed from inputs that are no longer the
    row's.  Returns how many rows."""
    table = IndicatorProgressView.__table__
    needs_answer = sa.and_(table.c.computed_on < day, sa.or_(table.c.next_on.is_(None), table.c.next_on != day))
    with database.session() as session:
        codes = list(
            session.execute(
                sa.select(table.c.indicator_code).where(needs_answer).distinct().order_by(table.c.indicator_code)
            ).scalars()
        )
    stored = 0
    for start in range(0, len(codes), AHEAD_CHUNK):
        chunk = codes[start : start + AHEAD_CHUNK]
        with database.session() as session:
            rows = session.exec(
                select(IndicatorProgressView)
                .where(IndicatorProgressView.indicator_code.in_(chunk), needs_answer)
                .order_by(IndicatorProgressView.indicator_code, IndicatorProgressView.org_unit_code)
                .with_for_update()
            ).all()
            renewed, _ = answers_for_new_day(rows, load_facts(session, catalog, codes=chunk), day, thresholds)
            answers = [
                {
                    "k_code": answer.id,
                    "k_unit": answer.org_unit,
                    "k_day": day,
                    "k_status": answer.status,
                    "k_payload": answer.model_dump_json(),
                }
                for answer, _ in renewed
            ]
            if answers:
                session.connection().execute(
                    table.update()
                    .where(
                        table.c.indicator_code == sa.bindparam("k_code"),
                        table.c.org_unit_code == sa.bindparam("k_unit"),
                    )
                    .values(
                        next_on=sa.bindparam("k_day"),
                        next_status=sa.bindparam("k_status", type_=table.c.next_status.type),
                        next_payload=sa.bindparam("k_payload"),
                    ),
                    answers,
                )
            session.commit()
            stored += len(answers)
    return stored


def refresh_stale_rows(app: FastAPI, today: dt.date | None = None) -> int:
    """Answer every row computed on an earlier day for today: with the answer stored ahead where there
    is one; from its stored inputs where it has them (`answers_for_new_day`, no official value read);
    in full otherwise.  Returns how many rows."""
    today = today or today_in_china()
    thresholds = Thresholds.from_settings(app.state.settings)
    now = dt.datetime.now(dt.UTC)
    with app.state.database.session() as session:
        count = promote_answers_ahead(session, today, now)
        stale = list(session.exec(select(IndicatorProgressView).where(IndicatorProgressView.computed_on < today)))
        if stale:
            facts = load_facts(session, app.state.catalog, codes=sorted({row.indicator_code for row in stale}))
            renewed, in_full = answers_for_new_day(stale, facts, today, thresholds)
            store_progress_many(session, renewed, now)
            in_full = StaleProgress(series={(row.indicator_code, row.org_unit_code) for row in in_full})
            count += len(renewed) + refresh(session, in_full, thresholds, app.state.catalog, today)
        session.commit()
    return count


def next_day_due(now: dt.datetime, ahead: dt.timedelta) -> dt.date | None:
    """The next day (Beijing time) if it starts within `ahead` of `now`, else None."""
    local = now.astimezone(CHINA)
    tomorrow = local.date() + dt.timedelta(days=1)
    starts = dt.datetime.combine(tomorrow, dt.time(0), tzinfo=CHINA)
    return tomorrow if starts - local <= ahead else None


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
                stored = await asyncio.to_thread(
                    store_answers_ahead, app.state.database, app.state.catalog, day, Thresholds.from_settings(settings)
                )
                if stored:
                    log.info("stored %d progress answers ahead for %s", stored, day)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - try again at the next check
            log.exception("could not refresh stale progress rows")
        await asyncio.sleep(settings.progress_refresh_seconds)

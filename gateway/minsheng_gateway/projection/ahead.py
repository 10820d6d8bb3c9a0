"""Answers stored ahead for a new day: the one module that knows of them.

The rule, stated once.  In the last `progress_ahead_minutes` of a Beijing day, every progress row computed
before the next day gets that day's answer beside its own (`next_on`, `next_status`, `next_payload`),
computed from the inputs stored with the row (`store_answers_ahead`).  Asked for a day's answer, a reader
takes the row's own if it was computed for that day, else the answer stored ahead for that day
(`answer_for`).  Every answer written for a row clears its answer ahead (`CLEARED`), so an answer ahead
is only ever the next day's answer to the row's current inputs.  After midnight the refresher answers
the rows of an earlier day for the new one as it would without them, which clears them too.

Why it exists: the expected value moves with the date, so at midnight every stored answer is a day old.
Without answers ahead, a new day's first summaries compute every row from its stored inputs, until the
refresher has run: a p99 2.5–3.4× that at 10 k reports with 1 M stored, where benchmark (c) allows 1.5×
(docs/decisions/0005 and 0018).  A gateway that was down at midnight answers from inputs all the
same, for a minute.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import select

from minsheng.catalog.snapshot import CatalogCache
from minsheng.clock import CHINA
from minsheng.db import Database
from minsheng.progress.model import Thresholds
from minsheng.progress.queries import load_facts
from minsheng_gateway.projection.answers import answers_for_new_day
from minsheng_gateway.projection.models import IndicatorProgressView

CHUNK = 20  # indicators per transaction: their rows are locked while their next answers are computed

# The upsert's clause for a row given a new answer (`progress.KEEP_STATUS_SINCE`).
CLEARED = tuple((column, "NULL") for column in ("next_on", "next_status", "next_payload"))


def answer_for(day: dt.date, own: sa.ColumnElement, ahead: sa.ColumnElement) -> sa.ColumnElement:
    """A progress row's `own` column if the row was computed for `day`, its `ahead` column if the answer
    stored ahead is for `day`, else NULL: the row holds no answer for `day`."""
    view = IndicatorProgressView
    return sa.case((view.computed_on == day, own), (view.next_on == day, ahead), else_=sa.null())


def next_day_due(now: dt.datetime, ahead: dt.timedelta) -> dt.date | None:
    """The next day (Beijing time) if it starts within `ahead` of `now`, else None."""
    local = now.astimezone(CHINA)
    tomorrow = local.date() + dt.timedelta(days=1)
    starts = dt.datetime.combine(tomorrow, dt.time(0), tzinfo=CHINA)
    return tomorrow if starts - local <= ahead else None


def store_answers_ahead(database: Database, catalog: CatalogCache, day: dt.date, thresholds: Thresholds) -> int:
    """Store `day`'s answer beside the current one in every row computed before `day` that has none for
    it yet, from the row's stored inputs (rows without usable inputs get none).  A few indicators per
    transaction, their rows locked meanwhile: a fold that stores a new answer for one of them waits,
    then clears the answer ahead, so none is computed from inputs that are no longer the row's.
    Returns how many rows."""
    table = IndicatorProgressView.__table__
    needs_answer = sa.and_(table.c.computed_on < day, sa.or_(table.c.next_on.is_(None), table.c.next_on != day))
    with database.session() as session:
        codes = list(
            session.execute(
                sa.select(table.c.indicator_code).where(needs_answer).distinct().order_by(table.c.indicator_code)
            ).scalars()
        )
    stored = 0
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start : start + CHUNK]
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


__all__ = ["CLEARED", "answer_for", "next_day_due", "store_answers_ahead"]

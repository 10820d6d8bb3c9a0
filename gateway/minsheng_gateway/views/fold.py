"""Folding events into the read models.  Called by the consumer inside the transaction that also
records the event id, so a redelivered event changes nothing.

Folding is split in two: `apply` updates the raw views and notes which indicator × org unit
progress rows became stale; `refresh` recomputes those with the kernel's status functions.  The live
consumer does both per event; a rebuild applies a whole batch and refreshes once.

Only official values (approvals, snapshots, catalogs) make a progress row stale.  The reports awaiting
review that an answer lists change neither its figures nor its status, so stored answers hold none:
they are added when an answer is read (`summaries.stored_answer`).  Recomputing and rewriting both
rows of a series at every submission had been half the gateway's work at 200 reports/s, and kept
benchmark (b)'s p99 at 430 ms where it is now ~210 ms.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import operator
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, delete, select

from minsheng.catalog.document import CampaignDoc
from minsheng.catalog.loader import apply_catalog, holds_catalog
from minsheng.clock import today_in_china
from minsheng.db import bulk
from minsheng.messaging import ProcessedEvent
from minsheng.messaging.consumer import ReceivedEvent
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import (
    IndicatorFacts,
    ProgressInputs,
    city_inputs_rolled_up_again,
    progress_from_inputs,
    progress_inputs,
)
from minsheng.progress.model import Observation, Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.queries import load_facts
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng.reporting.events import (
    CATALOG_PUBLISHED,
    REPORT_EVENT_TYPES,
    REPORT_SNAPSHOT,
    TASK_STATUS_REPORTED,
    CatalogPublished,
    ReportChanged,
    ReportSnapshot,
    ReportState,
    TaskStatusReported,
)
from minsheng_gateway.views.models import IndicatorProgressView, OfficialValue, ReportView, TaskStatusView
from minsheng_gateway.views.source import GatewaySource

log = logging.getLogger(__name__)

REPORT_TYPES = frozenset(REPORT_EVENT_TYPES.values())
FOLDED_ONE_BY_ONE = frozenset({REPORT_SNAPSHOT, TASK_STATUS_REPORTED, CATALOG_PUBLISHED})
DIRTY = "dirty_progress"  # session.info key: {(indicator, org unit)} to recompute
# session.info key: {indicator: the periods whose official values changed, or None: not known}.  An
# indicator listed with its periods has its city row rolled up again for those periods only; any
# other is recomputed from all its official values (as a rebuild or the refresher asks, by DIRTY alone).
CHANGED_PERIODS = "changed_periods"


def _dirty(session: Session) -> set[tuple[str, str]]:
    return session.info.setdefault(DIRTY, set())


def _changed_periods(session: Session) -> dict[str, set[str] | None]:
    return session.info.setdefault(CHANGED_PERIODS, {})


def _official_changed(session: Session, indicator: str, org_unit: str, period: str) -> None:
    _dirty(session).update({(indicator, org_unit), (indicator, CITY_CODE)})
    periods = _changed_periods(session).setdefault(indicator, set())
    if periods is not None:
        periods.add(period)


def _anything_changed(session: Session, series: set[tuple[str, str]]) -> None:
    _dirty(session).update(series | {(indicator, CITY_CODE) for indicator, _ in series})
    _changed_periods(session).update({indicator: None for indicator, _ in series})


def _upsert_report(session: Session, campaign: str, state: ReportState, at: dt.datetime) -> None:
    row = session.get(ReportView, (campaign, state.report_id))
    if row is not None and _utc(row.updated_at) > _utc(at):
        return  # an older state arriving late (a retried publish) never moves a report back in time
    values = dict(indicator_code=state.indicator, org_unit_code=state.org_unit, period=state.period,
                  period_end=Period.parse(state.period).end, value=state.value, numerator=state.numerator,
                  denominator=state.denominator, status=state.status, revision=state.revision,
                  is_current=state.is_current, submitted_by=state.submitted_by, updated_at=at)
    if row is None:
        session.add(ReportView(campaign=campaign, report_id=state.report_id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
    if state.status == "approved":
        _offer_official(session, campaign, state)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _offer_official(session: Session, campaign: str, state: ReportState) -> None:
    """An approved revision is official unless a later approved revision of the series already is."""
    key = (state.indicator, state.org_unit, state.period)
    row = session.get(OfficialValue, key)
    if row is not None and row.revision > state.revision:
        return
    values = dict(campaign=campaign, value=state.value, numerator=state.numerator, denominator=state.denominator,
                  report_id=state.report_id, revision=state.revision)
    if row is None:
        session.add(OfficialValue(indicator_code=state.indicator, org_unit_code=state.org_unit, period=state.period,
                                  **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
    _official_changed(session, state.indicator, state.org_unit, state.period)


def _fold_report(session: Session, event: ReceivedEvent) -> None:
    data: ReportChanged = event.typed_data()
    if data.supersedes is not None:
        previous = session.get(ReportView, (data.campaign, data.supersedes))
        if previous is not None and previous.is_current:
            previous.is_current = False
            session.add(previous)
    _upsert_report(session, data.campaign, data.report, event.time)
    session.flush()


def _fold_snapshot(session: Session, event: ReceivedEvent) -> None:
    """A snapshot is the whole truth for its indicator × org unit: replace what we had."""
    data: ReportSnapshot = event.typed_data()
    session.exec(delete(ReportView).where(ReportView.campaign == data.campaign,
                                          ReportView.indicator_code == data.indicator,
                                          ReportView.org_unit_code == data.org_unit))
    session.exec(delete(OfficialValue).where(OfficialValue.indicator_code == data.indicator,
                                             OfficialValue.org_unit_code == data.org_unit))
    session.flush()
    for state in data.reports:
        _upsert_report(session, data.campaign, state, data.taken_at)
        session.flush()
    _anything_changed(session, {(data.indicator, data.org_unit)})  # values may have gone: no partial roll-up


def _fold_task_status(session: Session, event: ReceivedEvent) -> None:
    data: TaskStatusReported = event.typed_data()
    period = Period.parse(data.period)
    row = session.get(TaskStatusView, (data.task, data.org_unit, period.code))
    if row is not None and row.revision > data.revision:
        return  # an older revision arriving late (e.g. from a snapshot) never overwrites a newer one
    values = dict(campaign=data.campaign, period_end=period.end, state=data.state, narrative=data.narrative,
                  problems=data.problems, revision=data.revision, reported_by=data.actor,
                  reported_at=data.occurred_at)
    if row is None:
        session.add(TaskStatusView(task_number=data.task, org_unit_code=data.org_unit, period=period.code, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def _fold_catalog(session: Session, event: ReceivedEvent) -> None:
    data: CatalogPublished = event.typed_data()
    doc = CampaignDoc.model_validate(data.catalog)
    # Mostly the catalog the gateway already holds (pulled from the service, or published before, and
    # again at every rebuild): the digest of what was last applied says so without reading the rows.
    if not holds_catalog(session, doc):
        apply_catalog(session=session, doc=doc)
    # Reports may have arrived before their catalog (they travel on other partitions): whatever this
    # campaign already has is recomputed now that its indicators are known (or were corrected).
    series = session.exec(select(ReportView.indicator_code, ReportView.org_unit_code)
                          .where(ReportView.campaign == data.campaign).distinct()).all()
    _anything_changed(session, set(series))  # aggregation or scale may have changed: no partial roll-up


def apply(session: Session, event: ReceivedEvent) -> None:
    """Update the raw read models for one event (types the gateway does not fold are ignored)."""
    if event.type in REPORT_TYPES:
        _fold_report(session, event)
    elif event.type == REPORT_SNAPSHOT:
        _fold_snapshot(session, event)
    elif event.type == TASK_STATUS_REPORTED:
        _fold_task_status(session, event)
    elif event.type == CATALOG_PUBLISHED:
        _fold_catalog(session, event)
    # status_changed and period events: the gateway computes statuses itself from the values.


def refresh(session: Session, thresholds: Thresholds, today: dt.date | None = None) -> int:
    """Recompute the progress rows the applied events made stale.

    A district's row is computed from its own official values.  The city's is rolled up from every
    org unit's, except where the events said which periods changed (a live poll's approvals): then
    only those periods are rolled up again, on the inputs stored with the row
    (`city_inputs_rolled_up_again`), so a poll's cost does not grow with the districts' values stored.
    Computed without values awaiting review (see the module's docstring)."""
    dirty = session.info.pop(DIRTY, set())
    changed = session.info.pop(CHANGED_PERIODS, {})
    if not dirty:
        return 0
    today = today or today_in_china()
    codes = sorted({code for code, _ in dirty})
    facts = load_facts(session, codes=codes)  # (a catalog not yet arrived: its fold will recompute)
    stored = _city_inputs_to_roll_up_again(session, facts, {code: periods for code, periods in changed.items()
                                                            if periods is not None and (code, CITY_CODE) in dirty})
    source = GatewaySource(session)
    official = source.official(
        [code for code in codes if code in facts and code not in stored],
        series=sorted((code, unit) for code, unit in dirty if code in stored and unit != CITY_CODE),
        periods={code: changed[code] for code in stored})
    answers = []
    for code, org_unit in sorted(dirty):
        if code not in facts:
            continue
        if org_unit == CITY_CODE and code in stored:
            inputs = city_inputs_rolled_up_again(facts[code], stored[code], changed[code], official.get(code, []))
            answers.append((progress_from_inputs(facts[code], org_unit, inputs, today, thresholds), inputs))
        else:
            answers.append(computed(facts[code], org_unit, official.get(code, []), today, thresholds))
    store_progress_many(session, answers, dt.datetime.now(dt.UTC))
    return len(dirty)


def _city_inputs_to_roll_up_again(session: Session, facts: dict[str, IndicatorFacts],
                                  changed: dict[str, set[str]]) -> dict[str, ProgressInputs]:
    """The stored city inputs of the indicators in `changed` that can be rolled up again in part."""
    if not changed:
        return {}
    stored = {}
    for code, text in GatewaySource(session).stored_city_inputs(sorted(c for c in changed if c in facts)):
        inputs = usable_inputs(text, facts[code])
        if inputs is not None and inputs.contributors_by_period is not None:
            stored[code] = inputs
    return stored


Computed = tuple[IndicatorProgressPublic, ProgressInputs]  # an answer, and what it was computed from


def computed(facts: IndicatorFacts, org_unit: str, official: Sequence[Observation], today: dt.date,
             thresholds: Thresholds) -> Computed:
    """A row's answer and inputs, without values awaiting review (the module's docstring)."""
    inputs = progress_inputs(facts, org_unit, official, ())
    return progress_from_inputs(facts, org_unit, inputs, today, thresholds), inputs


def usable_inputs(stored: str | None, facts: IndicatorFacts) -> ProgressInputs | None:
    """A progress row's stored inputs, or None where a new day's answer cannot come from them: none
    stored (a row from before they were kept), or rolled up differently from what the catalog says now.
    Without values awaiting review: see the module's docstring."""
    if stored is None:
        return None
    inputs = ProgressInputs.from_json(stored)
    return inputs if inputs.valid_for(facts) else None


def answers_for_new_day(rows: Sequence[IndicatorProgressView], facts: dict[str, IndicatorFacts], today: dt.date,
                        thresholds: Thresholds) -> tuple[list[Computed], list[IndicatorProgressView]]:
    """Stored rows computed on an earlier day, answered for `today` from the inputs stored with them:
    no official value is read, so a new day costs the same at a million reports as at ten thousand.
    Returns those answers, and the rows that cannot be answered so (no inputs stored, or inputs
    rolled up differently from what the catalog says now): the caller recomputes them in full.
    Rows of indicators not in `facts` are in neither."""
    renewed: list[Computed] = []
    in_full: list[IndicatorProgressView] = []
    for row in rows:
        indicator = facts.get(row.indicator_code)
        if indicator is None:
            continue
        inputs = usable_inputs(row.inputs, indicator)
        if inputs is None:
            in_full.append(row)
            continue
        renewed.append((progress_from_inputs(indicator, row.org_unit_code, inputs, today, thresholds), inputs))
    return renewed, in_full


# A stored row's status_since stays while its status does.
KEEP_STATUS_SINCE = bulk.OnConflict(key=("indicator_code", "org_unit_code"), set_=(
    *((column, f"excluded.{column}") for column in ("status", "computed_on", "payload", "inputs")),
    ("status_since", "CASE WHEN indicator_progress_view.status = excluded.status "
                     "THEN indicator_progress_view.status_since ELSE excluded.status_since END"),
    *((column, "NULL") for column in ("next_on", "next_status", "next_payload"))))


def store_progress_many(session: Session, progresses: list[Computed], now: dt.datetime) -> None:
    """Upsert computed progress rows (with their inputs) in one statement; `status_since` moves only
    when the status does.  A next day's answer stored ahead was computed from the old inputs: cleared."""
    if not progresses:
        return
    table = IndicatorProgressView.__table__
    rows = [dict(indicator_code=p.id, org_unit_code=p.org_unit, campaign=p.campaign, status=p.status,
                 status_since=now, computed_on=p.as_of, payload=p.model_dump_json(), inputs=inputs.to_json())
            for p, inputs in progresses]

    _insert_rows(session, table, rows, KEEP_STATUS_SINCE)


def fold_event(session: Session, event: ReceivedEvent, thresholds: Thresholds,
               today: dt.date | None = None) -> None:
    """The live consumer's handler: apply, then refresh what became stale, in the event's transaction."""
    apply(session, event)
    refresh(session, thresholds, today)


__all__ = ["Computed", "answers_for_new_day", "apply", "apply_many", "computed", "fold_event",
           "refresh", "store_progress_many", "usable_inputs"]


# ---- many rows at once: COPY on PostgreSQL, executemany elsewhere ----------------------------------


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _staged(session: Session, table: sa.Table, rows: list[dict]) -> sa.TableClause:
    """PostgreSQL: `rows` (dicts of some of `table`'s columns) COPYed into a temporary table of those
    columns, emptied before each use.  COPY streams a batch in one go instead of a bound statement per
    row, in binary (text would spend more time formatting timestamps than anything else).  It bypasses
    SQLAlchemy, so the columns' own bind conversions (e.g. enum → name) are applied here."""
    connection = session.connection()
    columns = list(rows[0])
    names = ", ".join(columns)
    stage = f"stage_{table.name}_{'_'.join(columns)}"[:63]  # one staging table per shape (identifier limit)
    record = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    conversions = [(i, convert) for i, column in enumerate(columns)
                   if (convert := table.c[column].type.bind_processor(connection.dialect)) is not None]
    driver = connection.connection.driver_connection
    driver.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {table.name} WITH NO DATA; "
                   f"TRUNCATE {stage}")
    types = [column.type_code for column in driver.execute(f"SELECT {names} FROM {stage} LIMIT 0").description]
    with driver.cursor() as cursor, cursor.copy(f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            values = record(row)
            if conversions:
                values = list(values)
                for i, convert in conversions:
                    values[i] = convert(values[i])
            copy.write_row(values)
    return sa.table(stage, *(sa.column(c) for c in columns))


# Below this many rows a statement with the rows as parameters beats staging them: COPY costs four
# round trips (create/truncate the staging table, its types, the copy, the insert), which a live
# poll of a few dozen events pays for every table it writes; a rebuild's batches are thousands.
STAGE_FROM_ROWS = 100


def _staging_pays(session: Session, rows: Sequence) -> bool:
    return len(rows) >= STAGE_FROM_ROWS and _is_postgresql(session)


def _insert_rows(session: Session, table: sa.Table, rows: list[dict], on_conflict: bulk.OnConflict,
                 returning: tuple[str, ...] = ()) -> list[tuple]:
    """INSERT `rows` (non-empty; unique on the conflict key), doing `on_conflict` where the key is
    taken; the `returning` columns of the rows written.  On PostgreSQL, one statement of driver SQL:
    many rows are COPYed into a staging table first (INSERT … SELECT), a few go as its parameters
    (`minsheng.db.bulk`: no statement to build, one plan to reuse).  On SQLite, one executemany."""
    connection = session.connection()
    if _staging_pays(session, rows):
        stage, columns = _staged(session, table, rows).name, ", ".join(rows[0])
        result = connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage} {on_conflict.sql()}"
            + (f" RETURNING {', '.join(returning)}" if returning else ""))
        return [tuple(row) for row in result] if returning else []
    if _is_postgresql(session) and len(rows) <= bulk.MAX_ROWS:
        return bulk.upsert(connection, table, rows, on_conflict, returning)
    insert = on_conflict.clause((postgresql if _is_postgresql(session) else sqlite).insert(table))
    if returning:
        return [tuple(row) for row in connection.execute(insert.returning(*(table.c[c] for c in returning)), rows)]
    connection.execute(insert, rows)
    return []


def _mark_not_current(session: Session, superseded: set[tuple[str, int]]) -> None:
    """Revisions replaced by a newer one are no longer current."""
    reports = ReportView.__table__
    connection = session.connection()
    if _staging_pays(session, superseded):
        stage = _staged(session, reports, [{"campaign": c, "report_id": r} for c, r in superseded])
        connection.execute(reports.update().values(is_current=False).where(
            sa.tuple_(reports.c.campaign, reports.c.report_id).in_(sa.select(stage.c.campaign, stage.c.report_id))))
    else:
        connection.execute(_not_current(), [{"c": c, "r": r} for c, r in superseded])


@functools.cache
def _not_current() -> sa.Update:
    reports = ReportView.__table__
    return reports.update().values(is_current=False).where(reports.c.campaign == sa.bindparam("c"),
                                                            reports.c.report_id == sa.bindparam("r"))


# ---- many events at once (the live consumer's batches and the rebuild) ---------------------------


def mark_processed_many(session: Session, events: list[ReceivedEvent]) -> list[ReceivedEvent]:
    """Record the batch's event ids in one statement; the events not seen before, in their order."""
    unique = list({event.id: event for event in events}.values())
    if not unique:
        return []
    table = ProcessedEvent.__table__
    now = dt.datetime.now(dt.UTC)
    rows = [{"event_id": e.id, "type": e.type, "received_at": now} for e in unique]
    new_ids = {event_id for event_id, in _insert_rows(session, table, rows, bulk.OnConflict(key=("event_id",)),
                                                         returning=("event_id",))}
    seen: set[str] = set()
    fresh = []
    for event in events:
        if event.id in new_ids and event.id not in seen:
            seen.add(event.id)
            fresh.append(event)
    return fresh


# An official value is replaced only by the same or a later approved revision of its series.
LATER_APPROVAL_STAYS = bulk.OnConflict(
    key=("indicator_code", "org_unit_code", "period"),
    set_=tuple((c, f"excluded.{c}") for c in ("campaign", "value", "numerator", "denominator", "report_id",
                                              "revision")),
    where="official_value.revision <= excluded.revision")


def _apply_report_run(session: Session, events: list[ReceivedEvent]) -> None:
    """A run of consecutive report events in three statements instead of a round trip per event.
    Best fed `TypedEvent`s (their data is the validated model already; an `IntegrationEvent`'s is
    validated again)."""
    latest: dict[tuple[str, int], tuple[ReportState, dt.datetime]] = {}
    superseded: set[tuple[str, int]] = set()
    official: dict[tuple[str, str, str], tuple[str, ReportState]] = {}
    for event in events:
        change: ReportChanged = event.typed_data()
        state, campaign = change.report, change.campaign
        key = (campaign, state.report_id)
        if key not in latest or latest[key][1] <= event.time:
            latest[key] = (state, event.time)
        if change.supersedes is not None:
            superseded.add((campaign, change.supersedes))
        if state.status == "approved":
            series = (state.indicator, state.org_unit, state.period)
            if series not in official or official[series][1].revision <= state.revision:
                official[series] = (campaign, state)
    period_ends: dict[str, dt.date] = {}

    def period_end(code: str) -> dt.date:
        if code not in period_ends:
            period_ends[code] = Period.parse(code).end
        return period_ends[code]

    reports = ReportView.__table__
    rows = [dict(campaign=campaign, report_id=report_id, indicator_code=s.indicator, org_unit_code=s.org_unit,
                 period=s.period, period_end=period_end(s.period), value=s.value, numerator=s.numerator,
                 denominator=s.denominator, status=s.status, revision=s.revision, is_current=s.is_current,
                 submitted_by=s.submitted_by, updated_at=at)
            for (campaign, report_id), (s, at) in latest.items()]

    # Never back in time: an older state arriving late changes nothing.
    _insert_rows(session, reports, rows, bulk.OnConflict(
        key=("campaign", "report_id"),
        set_=tuple((c, f"excluded.{c}") for c in rows[0] if c not in ("campaign", "report_id")),
        where="report_view.updated_at <= excluded.updated_at"))
    if superseded:
        _mark_not_current(session, superseded)
    if official:
        values = OfficialValue.__table__
        official_rows = [dict(indicator_code=s.indicator, org_unit_code=s.org_unit, period=s.period,
                              campaign=campaign, value=s.value, numerator=s.numerator, denominator=s.denominator,
                              report_id=s.report_id, revision=s.revision)
                         for campaign, s in official.values()]

        _insert_rows(session, values, official_rows, LATER_APPROVAL_STAYS)
        for _, state in official.values():
            _official_changed(session, state.indicator, state.org_unit, state.period)


def apply_many(session: Session, events: list[ReceivedEvent]) -> tuple[int, int]:
    """Fold a batch exactly once: (applied, duplicates).  Report events are folded in bulk; the
    rare others (catalog, snapshots, task status) one by one, keeping the batch's order."""
    fresh = mark_processed_many(session, events)
    run: list[ReceivedEvent] = []
    for event in fresh:
        if event.type in REPORT_TYPES:
            run.append(event)
            continue
        if event.type not in FOLDED_ONE_BY_ONE:
            continue  # status_changed, period events: the gateway computes statuses itself
        if run:
            _apply_report_run(session, run)
            run = []
        session.expire_all()  # the bulk statements bypassed the session's objects
        apply(session, event)
        session.flush()
    if run:
        _apply_report_run(session, run)
    session.expire_all()
    return len(fresh), len(events) - len(fresh)

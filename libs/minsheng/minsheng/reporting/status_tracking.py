"""Noticing when an indicator's computed status moves, so the move can be announced as an event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from minsheng.catalog.models import enum_column
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import bulk
from minsheng.messaging import OutboxEvent
from minsheng.messaging.outbox import outbox_rows
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import (
    IndicatorFacts,
    ProgressInputs,
    city_inputs_rolled_up_again,
    progress_from_inputs,
    progress_inputs,
)
from minsheng.progress.model import Observation, Status, Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.queries import load_facts
from minsheng.reporting.events import INDICATOR_STATUS_CHANGED, IndicatorStatusChanged, campaign_event
from minsheng.reporting.models import Report, ReportRow
from minsheng.reporting.official import OFFICIAL_STATUS, latest_approved, replaces_official


class IndicatorStatus(SQLModel, table=True):
    """The last computed status of an indicator for an org unit (a campaign service's memory)."""

    __tablename__ = "indicator_status"

    indicator_code: str = Field(foreign_key="indicator.code", primary_key=True, max_length=20)
    org_unit_code: str = Field(foreign_key="org_unit.code", primary_key=True, max_length=6)
    status: Status = Field(sa_type=enum_column(Status))
    as_of: dt.date
    changed_at: dt.datetime


STATUS_TRACKING_TABLES = frozenset({IndicatorStatus.__tablename__})


# A status that moves replaces the one remembered.
STATUS_MOVED = bulk.OnConflict(
    key=("indicator_code", "org_unit_code"), set_=tuple((c, f"excluded.{c}") for c in ("status", "as_of", "changed_at"))
)


def _write_moves(session: Session, rows: list[dict], events: list) -> None:
    """The statuses that moved and their events, in one statement."""
    if not rows:
        return
    connection = session.connection()
    statuses = bulk.insert_sql(connection, IndicatorStatus.__table__, rows, on_conflict=STATUS_MOVED)
    bulk.insert_together(connection, [(OutboxEvent.__table__, outbox_rows(events))], before=[statuses])


def _remember_statuses(session: Session, series: list[_OfficialSeries]) -> None:
    """The remembered statuses of series read anew: the database's (then kept with the values, which
    the same version check keeps honest: only an approval of the indicator moves its statuses)."""
    if not series:
        return
    by_code = {s.indicator: s for s in series}
    for s in series:
        s.statuses = {}
    table = IndicatorStatus.__table__
    for code, org_unit, status in session.connection().execute(
        sa.select(table.c.indicator_code, table.c.org_unit_code, table.c.status).where(
            table.c.indicator_code.in_(sorted(by_code))
        )
    ):
        by_code[code].statuses[org_unit] = status


# ---- the official values an approval re-checks, kept between approvals -------------------------


@dataclass
class _OfficialSeries:
    """An indicator's official values: the latest approved revision of each org unit × period (the rule
    of `reporting/official.py`, kept up to date approval by approval), and how many approved revisions
    of the indicator they reflect.  The city's roll-up is kept too and
    rolled up again only for the periods changed since (`city_inputs_rolled_up_again`): rolling up
    every value at each approval grew with the data."""

    indicator: str
    approved: int
    last_id: int  # the highest id among them: with the count, the version of the series
    statuses: dict[str, Status] | None = None  # org unit → the status last announced (None: not read yet)
    latest: dict[str, dict[str, tuple[int, Observation]]] = field(default_factory=dict)  # org unit → period →
    city: ProgressInputs | None = None  # the city's inputs, but for the periods in `changed`
    changed: set[str] = field(default_factory=set)

    def add(
        self,
        org_unit: str,
        period: str,
        revision: int,
        value: float,
        numerator: float | None,
        denominator: float | None,
    ) -> None:
        of_unit = self.latest.setdefault(org_unit, {})
        known = of_unit.get(period)
        if replaces_official(revision, None if known is None else known[0]):
            of_unit[period] = (
                revision,
                Observation(
                    period=Period.parse(period),
                    org_unit=org_unit,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                ),
            )
            self.changed.add(period)

    def observations(self, org_unit: str | None = None) -> list[Observation]:
        units = self.latest.values() if org_unit is None else [self.latest.get(org_unit, {})]
        return [observation for of_unit in units for _, observation in of_unit.values()]

    def inputs(self, facts: IndicatorFacts, org_unit: str) -> ProgressInputs:
        """What the status of `org_unit` is computed from (no pending values: only official ones count)."""
        if org_unit != CITY_CODE:
            return progress_inputs(facts, org_unit, self.observations(org_unit), [])
        if self.city is None or not self.city.valid_for(facts):
            self.city = progress_inputs(facts, CITY_CODE, self.observations(), [])
        elif self.changed:
            years = {Period.parse(code).year for code in self.changed}
            part = [
                o
                for o in self.observations()
                if o.period.code in self.changed or (o.org_unit == CITY_CODE and o.period.year in years)
            ]
            self.city = city_inputs_rolled_up_again(facts, self.city, self.changed, part)
        self.changed = set()
        return self.city


# indicator → (approved reports, highest id among them)
ApprovedCounts = dict[str, tuple[int, int]]


class StatusTracker:
    """What an approval re-checks an indicator's status from, kept between approvals: per indicator
    of this service's database, its official values (the latest approved revision of each org unit ×
    period, and the city's roll-up) and the statuses last announced.

    Re-reading every approved value of an indicator at each approval grew with the data; the series
    is kept instead and brought up to date with what is approved.  Approved revisions are never
    un-approved, so their count and highest id are a version: the series goes stale when the
    database's are not the kept ones plus this batch's (another replica approved, a batch that
    updated it was rolled back), and is then read again.  One per app (its approval writer's), so a
    test that starts its own app starts with nothing kept; a fresh `StatusTracker` is a fresh replica."""

    def __init__(self, *, catalog: CatalogCache) -> None:
        self.catalog = catalog
        self.kept: dict[str, _OfficialSeries] = {}  # indicator → its official series

    def track(
        self,
        *,
        session: Session,
        approved: Sequence[ReportRow],
        as_of: dt.date,
        thresholds: Thresholds,
        approved_before: ApprovedCounts | None = None,
    ) -> list[tuple[str, str]]:
        """After `approved` were approved (in the caller's transaction): recompute the status of each
        indicator touched, for the approved org units and the city, once per batch; where it moved,
        remember it and emit the event.  Returns the (indicator, org unit) pairs that moved.
        `approved_before`: see `official_series`."""
        org_units_by_indicator: dict[str, dict[str, None]] = {}
        for report in approved:
            org_units_by_indicator.setdefault(report.indicator_code, {}).update(
                {report.org_unit_code: None, CITY_CODE: None}
            )
        facts_by_code = load_facts(session, self.catalog, codes=list(org_units_by_indicator))
        official = self.official_series(session, approved, approved_before)
        _remember_statuses(session, [series for series in official.values() if series.statuses is None])
        pairs = sorted((code, unit) for code, units in org_units_by_indicator.items() for unit in units)
        now = dt.datetime.now(dt.UTC)
        moved, rows, events = [], [], []
        for indicator, org_unit in pairs:
            facts, series = facts_by_code[indicator], official[indicator]
            # Figures only: the event carries the status and its figures, not the series.
            progress = progress_from_inputs(
                facts, org_unit, series.inputs(facts, org_unit), as_of, thresholds, figures_only=True
            )
            previous = series.statuses.get(org_unit)
            if previous == progress.status:
                continue
            series.statuses[org_unit] = progress.status
            rows.append(
                {
                    "indicator_code": indicator,
                    "org_unit_code": org_unit,
                    "status": progress.status,
                    "as_of": as_of,
                    "changed_at": now,
                }
            )
            events.append(
                campaign_event(
                    campaign=facts.campaign,
                    key=indicator,
                    event_type=INDICATOR_STATUS_CHANGED,
                    subject=indicator,
                    data=IndicatorStatusChanged(
                        campaign=facts.campaign,
                        indicator=indicator,
                        org_unit=org_unit,
                        previous_status=previous.value if previous else None,
                        status=progress.status.value,
                        as_of=as_of,
                        current_value=progress.current_value,
                        expected_value=progress.expected_value,
                        target_value=progress.target_value,
                        reasons=progress.reasons,
                    ),
                )
            )
            moved.append((indicator, org_unit))
        _write_moves(session, rows, events)
        return moved

    def official_series(
        self, session: Session, approved: Sequence[ReportRow], approved_before: ApprovedCounts | None = None
    ) -> dict[str, _OfficialSeries]:
        """The official values of the indicators of `approved` (just approved in this transaction).
        `approved_before`: the version of each indicator's values before this batch, if the caller
        read it with its own writes (else it is read here)."""
        by_indicator: dict[str, list[ReportRow]] = {}
        for report in approved:
            by_indicator.setdefault(report.indicator_code, []).append(report)
        table = Report.__table__
        versions: ApprovedCounts = {}
        if approved_before is None:
            versions = {
                code: (count, last_id)
                for code, count, last_id in session.connection().execute(
                    sa.select(table.c.indicator_code, sa.func.count(), sa.func.max(table.c.id))
                    .where(table.c.indicator_code.in_(sorted(by_indicator)), table.c.status == OFFICIAL_STATUS.value)
                    .group_by(table.c.indicator_code)
                )
            }
        else:
            for code, reports in by_indicator.items():
                count, last_id = approved_before.get(code, (0, 0))
                versions[code] = (count + len(reports), max(last_id, *(r.id for r in reports)))
        stale = []
        for code, reports in by_indicator.items():
            kept = self.kept.get(code)
            if kept is None or versions.get(code) != (
                kept.approved + len(reports),
                max(kept.last_id, *(r.id for r in reports)),
            ):
                stale.append(code)
                continue
            for r in reports:
                kept.add(r.org_unit_code, r.period, r.revision, r.value, r.numerator, r.denominator)
            kept.approved, kept.last_id = versions[code]
        if stale:
            fresh = {code: _OfficialSeries(code, *versions.get(code, (0, 0))) for code in stale}
            for code, org_unit, period, revision, value, numerator, denominator in session.connection().execute(
                latest_approved(
                    table.c.indicator_code,
                    table.c.org_unit_code,
                    table.c.period,
                    table.c.revision,
                    table.c.value,
                    table.c.numerator,
                    table.c.denominator,
                    where=[table.c.indicator_code.in_(stale)],
                )
            ):
                fresh[code].add(org_unit, period, revision, value, numerator, denominator)
            self.kept.update(fresh)
        return {code: self.kept[code] for code in by_indicator}

"""The progress rows the folded events made stale, and their recomputation: a transaction's unit of
work.  The fold's handlers note what went stale in a `StaleProgress`; `refresh` recomputes those rows
with the kernel's status functions before the commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from minsheng.catalog.snapshot import CatalogCache
from minsheng.clock import today_in_china
from minsheng.db import bulk
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import (
    IndicatorFacts,
    ProgressInputs,
    city_inputs_rolled_up_again,
    progress_from_inputs,
)
from minsheng.progress.model import Thresholds
from minsheng.progress.queries import load_facts
from minsheng_gateway.projection.ahead import CLEARED
from minsheng_gateway.projection.answers import Computed, computed, usable_inputs
from minsheng_gateway.projection.models import IndicatorProgressView
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.projection.upsert import insert_rows


@dataclass
class StaleProgress:
    """Which progress rows to recompute: `series`, (indicator, org unit) pairs; and for an indicator
    whose official values changed in known periods only, those periods (`periods[indicator]`, a set),
    so that its city row is rolled up again for them alone.  An indicator in `periods` with None, or
    not there, is recomputed from all its official values."""

    series: set[tuple[str, str]] = field(default_factory=set)
    periods: dict[str, set[str] | None] = field(default_factory=dict)

    def official_changed(self, indicator: str, org_unit: str, period: str) -> None:
        """An official value of the series changed, in `period`: its row and its city's are stale."""
        self.series.update({(indicator, org_unit), (indicator, CITY_CODE)})
        periods = self.periods.setdefault(indicator, set())
        if periods is not None:
            periods.add(period)

    def anything_changed(self, series: Iterable[tuple[str, str]]) -> None:
        """Values of these series may have changed in any period, or gone: recomputed in full."""
        series = set(series)
        self.series.update(series | {(indicator, CITY_CODE) for indicator, _ in series})
        self.periods.update({indicator: None for indicator, _ in series})

    def __bool__(self) -> bool:
        return bool(self.series)


def refresh(
    session: Session,
    stale: StaleProgress,
    thresholds: Thresholds,
    catalog: CatalogCache,
    today: dt.date | None = None,
) -> int:
    """Recompute the `stale` progress rows; returns how many.

    A district's row is computed from its own official values.  The city's is rolled up from every
    org unit's, except where `stale` says which periods changed (a live poll's approvals): then only
    those periods are rolled up again, on the inputs stored with the row (`city_inputs_rolled_up_again`),
    so a poll's cost does not grow with the districts' values stored.  Computed without values awaiting
    review (`answers.py`' docstring)."""
    if not stale:
        return 0
    today = today or today_in_china()
    codes = sorted({code for code, _ in stale.series})
    facts = load_facts(session, catalog, codes=codes)  # (a catalog not yet arrived: its fold will recompute)
    in_part = {
        code: periods
        for code, periods in stale.periods.items()
        if periods is not None and (code, CITY_CODE) in stale.series
    }
    stored = _city_inputs_to_roll_up_again(session, facts, in_part)
    official = GatewaySource(session).official(
        [code for code in codes if code in facts and code not in stored],
        series=sorted((code, unit) for code, unit in stale.series if code in stored and unit != CITY_CODE),
        periods={code: in_part[code] for code in stored},
    )
    answers = []
    for code, org_unit in sorted(stale.series):
        if code not in facts:
            continue
        if org_unit == CITY_CODE and code in stored:
            inputs = city_inputs_rolled_up_again(facts[code], stored[code], in_part[code], official.get(code, []))
            answers.append((progress_from_inputs(facts[code], org_unit, inputs, today, thresholds), inputs))
        else:
            answers.append(computed(facts[code], org_unit, official.get(code, []), today, thresholds))
    store_progress_many(session, answers, dt.datetime.now(dt.UTC))
    return len(stale.series)


def _city_inputs_to_roll_up_again(
    session: Session, facts: dict[str, IndicatorFacts], changed: dict[str, set[str]]
) -> dict[str, ProgressInputs]:
    """The stored city inputs of the indicators in `changed` that can be rolled up again in part."""
    if not changed:
        return {}
    stored = {}
    for code, text in GatewaySource(session).stored_city_inputs(sorted(c for c in changed if c in facts)):
        inputs = usable_inputs(text, facts[code])
        if inputs is not None and inputs.contributors_by_period is not None:
            stored[code] = inputs
    return stored


# A stored row's status_since stays while its status does; its answer ahead, computed from the old
# inputs, goes (`ahead.CLEARED`).
KEEP_STATUS_SINCE = bulk.OnConflict(
    key=("indicator_code", "org_unit_code"),
    set_=(
        *((column, f"excluded.{column}") for column in ("status", "computed_on", "payload", "inputs")),
        (
            "status_since",
            "CASE WHEN indicator_progress_view.status = excluded.status "
            "THEN indicator_progress_view.status_since ELSE excluded.status_since END",
        ),
        *CLEARED,
    ),
)


def store_progress_many(session: Session, progresses: list[Computed], now: dt.datetime) -> None:
    """Upsert computed progress rows (with their inputs) by `KEEP_STATUS_SINCE`."""
    if not progresses:
        return
    rows = [
        dict(
            indicator_code=p.id,
            org_unit_code=p.org_unit,
            campaign=p.campaign,
            status=p.status,
            status_since=now,
            computed_on=p.as_of,
            payload=p.model_dump_json(),
            inputs=inputs.to_json(),
        )
        for p, inputs in progresses
    ]
    insert_rows(session, IndicatorProgressView.__table__, rows, KEEP_STATUS_SINCE)


__all__ = ["KEEP_STATUS_SINCE", "StaleProgress", "refresh", "store_progress_many"]

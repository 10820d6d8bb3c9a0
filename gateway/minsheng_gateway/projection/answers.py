"""A progress row's answer and the inputs stored with it: what the fold writes and the summaries,
the refresher and the answers ahead read.

Stored answers hold no reports awaiting review: those change neither a row's figures nor its status,
and are added when an answer is read (`reads.stored_answer`).  So only official values (approvals,
snapshots, catalogs) make a progress row stale, and a submission rewrites no row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from minsheng.progress.assemble import IndicatorFacts, ProgressInputs, progress_from_inputs, progress_inputs
from minsheng.progress.model import Observation, Thresholds
from minsheng.progress.schemas import IndicatorProgressPublic
from minsheng_gateway.projection.models import IndicatorProgressView

Computed = tuple[IndicatorProgressPublic, ProgressInputs]  # an answer, and what it was computed from


def computed(
    facts: IndicatorFacts, org_unit: str, official: Sequence[Observation], today: dt.date, thresholds: Thresholds
) -> Computed:
    """A row's answer and inputs, without values awaiting review."""
    inputs = progress_inputs(facts, org_unit, official, ())
    return progress_from_inputs(facts, org_unit, inputs, today, thresholds), inputs


def usable_inputs(stored: str | None, facts: IndicatorFacts) -> ProgressInputs | None:
    """A progress row's stored inputs, or None where a new day's answer cannot come from them: none
    stored (a row from before they were kept), or rolled up differently from what the catalog says now."""
    if stored is None:
        return None
    inputs = ProgressInputs.from_json(stored)
    return inputs if inputs.valid_for(facts) else None


def answers_for_new_day(
    rows: Sequence[IndicatorProgressView], facts: dict[str, IndicatorFacts], today: dt.date, thresholds: Thresholds
) -> tuple[list[Computed], list[IndicatorProgressView]]:
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


__all__ = ["Computed", "answers_for_new_day", "computed", "usable_inputs"]

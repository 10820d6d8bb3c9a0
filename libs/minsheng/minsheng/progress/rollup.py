"""Building the city's figures from its districts, and summing up statuses.

Roll-up (DHIS2-style aggregation in space):

- In a calendar year where the city itself has a direct (city-level) figure, the city's own
  figures are its official series for that year.  The lead bureau reports the whole city; a
  sum over the districts that happened to report would be partial, and mixing the bureau's
  yearly total with district months would count twice.
- Otherwise, per period code, the city's value is built from the districts' values:
  - ``sum``: the values add up (counts, amounts).
  - ``ratio``: Σ numerators ÷ Σ denominators × ratio_scale — a weighted rate.  Percentages are
    never averaged: 30/100 and 90/200 give 120/300 = 40 %, not (30 % + 45 %) / 2 = 37.5 %.
    This is only possible when *every* contributing district gave its numerator and
    denominator (and the denominators do not sum to zero); otherwise the city's own direct
    figure for that period is used, and if there is none the period has no city value.
  - ``none``: never built from districts (life expectancy, "every district has one …");
    only the city's own direct figures are used.

`RollUp.basis` records, per period, "districts" or "direct", and `RollUp.contributors` the
org units the figure came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from minsheng.catalog.document import Aggregation
from minsheng.progress.model import SEVERITY, Observation, RollUp, Status

DISTRICTS = "districts"
DIRECT = "direct"


def roll_up(
    spec_aggregation: Aggregation, ratio_scale: float, city_code: str, observations: Sequence[Observation]
) -> RollUp:
    direct_years = {o.period.year for o in observations if o.org_unit == city_code}
    by_period: dict[str, list[Observation]] = defaultdict(list)
    for observation in observations:
        if observation.period.year in direct_years and observation.org_unit != city_code:
            continue  # the city's own figures rule this year
        by_period[observation.period.code].append(observation)

    rolled: list[Observation] = []
    basis: dict[str, str] = {}
    contributors: dict[str, tuple[str, ...]] = {}
    for code, group in by_period.items():
        picked = _city_value(aggregation=spec_aggregation, scale=ratio_scale, city_code=city_code, group=group)
        if picked is None:
            continue  # nothing honest to say for the city in this period
        observation, how, sources = picked
        rolled.append(observation)
        basis[code] = how
        contributors[code] = sources
    rolled.sort(key=lambda o: o.period)
    return RollUp(observations=tuple(rolled), basis=basis, contributors=contributors)


def _city_value(
    *, aggregation: Aggregation, scale: float, city_code: str, group: list[Observation]
) -> tuple[Observation, str, tuple[str, ...]] | None:
    """The city's observation for one period, how it was obtained, and from whom."""
    direct = next((o for o in group if o.org_unit == city_code), None)
    districts = sorted((o for o in group if o.org_unit != city_code), key=lambda o: o.org_unit)
    aggregated = None
    if districts and aggregation is not Aggregation.none:
        aggregated = _aggregate(aggregation=aggregation, scale=scale, city_code=city_code, districts=districts)
    if aggregated is not None:
        return aggregated, DISTRICTS, tuple(o.org_unit for o in districts)
    if direct is not None:
        return direct, DIRECT, (city_code,)
    return None


def _aggregate(
    *, aggregation: Aggregation, scale: float, city_code: str, districts: list[Observation]
) -> Observation | None:
    period = districts[0].period
    if aggregation is Aggregation.sum:
        return Observation(period=period, org_unit=city_code, value=sum(o.value for o in districts))
    # ratio: a weighted rate needs every part; one district without its denominator would
    # silently drop out of the weights, so refuse and let the caller fall back.
    if any(o.numerator is None or o.denominator is None for o in districts):
        return None
    numerator = sum(o.numerator for o in districts)
    denominator = sum(o.denominator for o in districts)
    if denominator == 0:
        return None
    return Observation(
        period=period,
        org_unit=city_code,
        value=numerator / denominator * scale,
        numerator=numerator,
        denominator=denominator,
    )


def worst_status(statuses: Iterable[Status]) -> Status:
    """A task is as bad as its worst indicator (SEVERITY).  Nothing to judge → no_target,
    the neutral element (severity 0), so an empty task never drags a campaign down."""
    return max(statuses, key=SEVERITY.__getitem__, default=Status.no_target)


def summarize(statuses: Iterable[Status]) -> dict[str, int]:
    """How many of each status; every status is a key, so dashboards need no defaults."""
    counts = {status.value: 0 for status in Status}
    for status in statuses:
        counts[Status(status).value] += 1
    return counts

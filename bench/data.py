"""Realistic data for the benchmarks, derived from the five real `catalog.yaml` files (never hard-coded
indicator lists): which series a bureau may report, the gateway's read-model rows for the summary
benchmark, and the integration events for the rebuild benchmark.

Everything is deterministic (seeded), so two runs measure the same work.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from minsheng.catalog.document import CAMPAIGN_CODES, CampaignDoc, IndicatorDoc
from minsheng.catalog.loader import read_catalog_file
from minsheng.orgunits import CITY_CODE, ORG_UNITS
from minsheng.progress.periods import Period
from minsheng.topology import CAMPAIGNS
from minsheng_gateway.projection.models import OfficialValue, ReportView

ORG_UNIT_CODES = tuple(u.code for u in ORG_UNITS)  # the city and its 11 districts, counties and zones
DISTRICT_CODES = tuple(c for c in ORG_UNIT_CODES if c != CITY_CODE)
MONTHS = tuple(f"{y}-{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13))
QUARTERS = tuple(f"{y}Q{q}" for y in (2022, 2023, 2024) for q in range(1, 5))
YEARS = ("2022", "2023", "2024")
PERIODS = MONTHS + QUARTERS + YEARS  # 51 plan periods


@cache
def catalogs() -> dict[str, CampaignDoc]:
    from bench.infra import ROOT

    docs = {}
    for code in CAMPAIGN_CODES:
        package = CAMPAIGNS[code].app.split(".")[0]
        docs[code] = read_catalog_file(ROOT / "services" / code / package / "catalog.yaml")
    return docs


@dataclass(frozen=True)
class IndicatorInfo:
    code: str
    campaign: str
    unit: str
    city_only: bool
    lead_departments: tuple[str, ...]  # empty for a campaign's headline indicators
    target: float


@cache
def indicators() -> tuple[IndicatorInfo, ...]:
    found = []
    for code, doc in catalogs().items():
        for headline in doc.indicators:
            found.append(_info(headline, code, ()))
        for item in doc.items:
            for task in item.tasks:
                for indicator in task.indicators:
                    found.append(_info(indicator, code, tuple(task.lead_departments)))
    return tuple(found)


def _info(doc: IndicatorDoc, campaign: str, leads: tuple[str, ...]) -> IndicatorInfo:
    return IndicatorInfo(
        code=doc.code,
        campaign=campaign,
        unit=doc.unit,
        city_only=doc.city_only,
        lead_departments=leads,
        target=float(doc.target_value),
    )


def org_units_of(info: IndicatorInfo) -> tuple[str, ...]:
    return (CITY_CODE,) if info.city_only else ORG_UNIT_CODES


def plausible_value(info: IndicatorInfo, rng: random.Random) -> float:
    """A value every validation rule accepts: percentages within 0–100, counts not negative."""
    if info.unit == "%":
        return round(rng.uniform(40, 100), 2)
    return round(rng.uniform(0, max(1.0, info.target / 10)), 2)


# ---- (a) and (b): what the education bureau submits ---------------------------------------------

BUREAU = "市教育局"
# The latency benchmark reserves one indicator for its probes, so no other report of the load ever
# revises a probed series while the probe waits for it.
PROBE_INDICATOR = "T016-1"


def bureau_indicators(exclude: tuple[str, ...] = ()) -> tuple[IndicatorInfo, ...]:
    """The education indicators the education bureau leads (it may report them for every org unit)."""
    return tuple(
        i
        for i in indicators()
        if i.campaign == "education" and BUREAU in i.lead_departments and not i.city_only and i.code not in exclude
    )


class ReportStream:
    """Request bodies for `POST /api/v1/reports`: every indicator × org unit × period the bureau may
    report, in a shuffled but fixed order.  The first pass creates new series; once the space is used
    up (17 indicators × 12 org units × 51 periods = 10,404 series) the next passes are revisions,
    which the service accepts as well.  Consecutive bodies are distinct series, so the requests in
    flight at one time never race for the same series (that would be a legitimate 409)."""

    def __init__(self, exclude: tuple[str, ...] = (), seed: int = 1):
        self.rng = random.Random(seed)
        self.infos = {i.code: i for i in bureau_indicators(exclude)}
        self.space = [(code, unit, period) for code in self.infos for unit in ORG_UNIT_CODES for period in PERIODS]
        self.rng.shuffle(self.space)
        self._cycle = itertools.cycle(self.space)

    def __next__(self) -> dict:
        code, unit, period = next(self._cycle)
        return {
            "indicator": code,
            "org_unit": unit,
            "period": period,
            "value": plausible_value(self.infos[code], self.rng),
        }

    def __iter__(self) -> Iterator[dict]:
        return self


class ProbeStream:
    """Bodies for the latency probes: the reserved indicator, a district, a month.  A monthly value is
    always in the indicator's progress series (months are the finest period, see progress/status.py),
    and its value is unique, so a probe can tell its own report from an earlier one."""

    def __init__(self, seed: int = 2):
        rng = random.Random(seed)
        self.space = [(unit, month) for unit in DISTRICT_CODES for month in MONTHS]  # 396 series
        rng.shuffle(self.space)
        self.counter = 0

    def __next__(self) -> dict:
        unit, month = self.space[self.counter % len(self.space)]
        self.counter += 1
        return {"indicator": PROBE_INDICATOR, "org_unit": unit, "period": month, "value": 1000.0 + self.counter}


# ---- (c): the gateway's read models, seeded directly --------------------------------------------

# The order the seeded COPY text is written in: the gateway tables' own columns.
REPORT_VIEW_COLUMNS = tuple(ReportView.__table__.columns.keys())
OFFICIAL_COLUMNS = tuple(OfficialValue.__table__.columns.keys())


@dataclass
class SeededViews:
    report_view: io.StringIO  # COPY text format
    official_value: io.StringIO
    reports: int
    series: int
    official: int
    pending: int  # current revisions still waiting for approval
    max_revisions: int
    pairs: set[tuple[str, str]]  # indicator × org unit pairs with data (and their city pair)


def series_space() -> list[tuple[IndicatorInfo, str, Period]]:
    """Every series of the whole catalog, in the order a plan fills up: by period end."""
    space = [(info, unit, Period.parse(p)) for info in indicators() for unit in org_units_of(info) for p in PERIODS]
    space.sort(key=lambda s: (s[2].end, s[2].start, s[0].code, s[1]))
    return space


def seed_views(total_reports: int, seed: int = 3) -> SeededViews:
    """`total_reports` report revisions over as many series as fit with ~3 revisions each (at most the
    whole catalog: 84k series, so a million reports means ~12 revisions per series).  The earliest
    periods fill first, as in a real plan.  Per revision: earlier ones approved (80 %) or returned;
    the current one approved (93 %), still pending (5 %) or returned (2 %)."""
    rng = random.Random(seed)
    space = series_space()
    n_series = max(1, min(len(space), total_reports // 3))
    chosen = space[:n_series]
    # Revisions per series: a base share for all, the remainder spread at random.
    revisions = [total_reports // n_series] * n_series
    for i in rng.sample(range(n_series), total_reports - sum(revisions)):
        revisions[i] += 1
    next_id = dict.fromkeys(CAMPAIGN_CODES, 0)
    rv, ov = io.StringIO(), io.StringIO()
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).isoformat()
    official = pending = 0
    pairs: set[tuple[str, str]] = set()
    for (info, unit, period), count in zip(chosen, revisions, strict=True):
        pairs.update({(info.code, unit), (info.code, CITY_CODE)})
        last_approved = None
        for revision in range(1, count + 1):
            current = revision == count
            roll = rng.random()
            if current:
                status = "approved" if roll < 0.93 else "submitted" if roll < 0.98 else "returned"
            else:
                status = "approved" if roll < 0.8 else "returned"
            next_id[info.campaign] += 1
            report_id = next_id[info.campaign]
            value = plausible_value(info, rng)
            row = dict(
                campaign=info.campaign,
                report_id=report_id,
                indicator_code=info.code,
                org_unit_code=unit,
                period=period.code,
                period_end=period.end,
                value=value,
                status=status,
                revision=revision,
                is_current="t" if current else "f",
                submitted_by="bench",
                updated_at=at,
                return_reason="请核对" if status == "returned" else None,
                submitted_at=at,
                reviewed_at=None if status == "submitted" else at,
            )
            rv.write("\t".join(r"\N" if (v := row.get(c)) is None else str(v) for c in REPORT_VIEW_COLUMNS) + "\n")
            if status == "approved":
                last_approved = (report_id, revision, value)
            pending += current and status == "submitted"
        if last_approved is not None:
            report_id, revision, value = last_approved
            ov.write(
                f"{info.code}\t{unit}\t{period.code}\t{info.campaign}\t{value}\t\\N\t\\N\t{report_id}\t{revision}\n"
            )
            official += 1
    rv.seek(0)
    ov.seek(0)
    return SeededViews(
        report_view=rv,
        official_value=ov,
        reports=total_reports,
        series=n_series,
        official=official,
        pending=pending,
        max_revisions=max(revisions),
        pairs=pairs,
    )


# ---- (d): integration events on the campaign topics ---------------------------------------------


def report_events(count: int, seed: int = 4) -> list[tuple[str, str, bytes]]:
    """`count` CloudEvents as the services' outboxes write them: (topic, key, value).

    Each series lives through submitted → approved (85 %) or returned → resubmitted → approved,
    and some are revised later (revised → approved, `supersedes` the previous report id).  Series
    are interleaved as live traffic is, and the events of one series keep their order (same key,
    same partition)."""
    from minsheng.messaging import IntegrationEvent, event_source, topic_for
    from minsheng.reporting.events import REPORT_EVENT_TYPES, ReportChanged, ReportState

    rng = random.Random(seed)
    space = series_space()
    rng.shuffle(space)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    next_id = dict.fromkeys(CAMPAIGN_CODES, 0)
    timeline: list[tuple[float, int, IntegrationEvent, str]] = []  # (time, sequence, event, key)
    sequence = itertools.count()

    def event(kind: str, info: IndicatorInfo, state: ReportState, supersedes: int | None, when: float) -> None:
        data = ReportChanged(
            campaign=info.campaign,
            report=state,
            supersedes=supersedes,
            actor="bench",
            occurred_at=start + dt.timedelta(seconds=when),
        )
        timeline.append(
            (
                when,
                next(sequence),
                IntegrationEvent(
                    source=event_source(info.campaign), type=REPORT_EVENT_TYPES[kind], subject=info.code, data=data
                ),
                info.code,
            )
        )

    for info, unit, period in itertools.cycle(space):
        if len(timeline) >= count:
            break
        when = rng.uniform(0, 86400)
        revision, previous, previous_returned = 1, None, False
        for step in range(rng.choice((1, 1, 2, 3))):  # how many revisions this series sees
            next_id[info.campaign] += 1
            report_id = next_id[info.campaign]
            state = dict(
                report_id=report_id,
                indicator=info.code,
                org_unit=unit,
                period=period.code,
                value=plausible_value(info, rng),
                revision=revision,
                is_current=True,
                submitted_by="bench",
            )
            # After a return, the corrected revision is a resubmission (the submitted type).
            kind = "submitted" if step == 0 or previous_returned else "revised"
            event(kind, info, ReportState(status="submitted", **state), previous, when)
            when += rng.expovariate(1 / 600)
            previous_returned = rng.random() < 0.15
            if previous_returned:
                event(
                    "returned",
                    info,
                    ReportState(status="returned", reviewed_by="bench", return_reason="请核对", **state),
                    None,
                    when,
                )
            else:
                event("approved", info, ReportState(status="approved", reviewed_by="bench", **state), None, when)
            when += rng.expovariate(1 / 3600)
            previous, revision = report_id, revision + 1
    timeline.sort(key=lambda t: (t[0], t[1]))
    return [(topic_for(e.data["campaign"]), key, e.to_json_bytes()) for _, _, e, key in timeline[:count]]


def catalog_events() -> list[tuple[str, str, bytes]]:
    """What every service publishes at start-up: its whole catalog (key: the campaign code)."""
    from minsheng.messaging import IntegrationEvent, event_source, topic_for
    from minsheng.reporting.events import CATALOG_PUBLISHED, CatalogPublished

    return [
        (
            topic_for(code),
            code,
            IntegrationEvent(
                source=event_source(code),
                type=CATALOG_PUBLISHED,
                subject=code,
                data=CatalogPublished(campaign=code, catalog=doc.model_dump(mode="json")),
            ).to_json_bytes(),
        )
        for code, doc in catalogs().items()
    ]

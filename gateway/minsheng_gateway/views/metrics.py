"""The gateway's view metrics: how fresh the views are (the platform's main promise, its SLI) and the
work waiting in them (reports awaiting review), for Prometheus."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import sqlalchemy as sa
from fastapi import FastAPI
from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.db import Database
from minsheng.messaging.consumer import TypedEvent
from minsheng.messaging.events import utc_now

log = logging.getLogger(__name__)

# The SLO is "99 % of events folded within 1 s": 1 must be a bucket boundary.
FRESHNESS = Histogram(
    "minsheng_view_freshness_seconds",
    "Time from an event's creation in a service (its CloudEvents time) to the commit of its fold in the gateway",
    ["campaign"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300),
)


def campaign_of(event: TypedEvent) -> str:
    """The campaign whose service created the event: the last part of its source, `/minsheng/<campaign>`."""
    return event.source.rsplit("/", 1)[-1]


def observe_freshness(events: list[TypedEvent]) -> None:
    """Called once per committed fold transaction with the events it applied."""
    committed = utc_now()
    for event in events:
        FRESHNESS.labels(campaign_of(event)).observe(max((committed - event.time).total_seconds(), 0.0))


# The partial index ix_report_view_pending's own condition: the count reads the index only.
_AWAITING_REVIEW = sa.text(
    "SELECT campaign, count(*) FROM report_view WHERE is_current AND status = 'submitted' GROUP BY campaign"
)


class ReviewBacklogCollector(Collector):
    """`minsheng_reports_awaiting_review{campaign}`, counted from `report_view` at scrape time, from the
    database of the gateway app running in this process (none: nothing is exported)."""

    def __init__(self) -> None:
        self.databases: list[Database] = []

    def describe(self) -> list:
        return []  # unchecked collector: its series depend on the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not self.databases:
            return
        family = GaugeMetricFamily(
            "minsheng_reports_awaiting_review",
            "Current report revisions submitted and not yet approved or returned, per campaign",
            labels=["campaign"],
        )
        try:
            with self.databases[-1].session() as session:
                counts = dict(session.connection().execute(_AWAITING_REVIEW).all())
        except Exception:  # noqa: BLE001 - a scrape must not fail: the series is missing, `minsheng_ready` says why
            log.warning("could not count the reports awaiting review", exc_info=True)
            return
        for campaign in sorted(set(CAMPAIGN_CODES) | set(counts)):
            family.add_metric([campaign], counts.get(campaign, 0))
        yield family


REVIEW_BACKLOG = ReviewBacklogCollector()
REGISTRY.register(REVIEW_BACKLOG)


async def export_review_backlog(app: FastAPI) -> None:
    """Background job of the gateway process: its database answers the scrapes while it runs."""
    REVIEW_BACKLOG.databases.append(app.state.database)
    try:
        await asyncio.Event().wait()
    finally:
        REVIEW_BACKLOG.databases.remove(app.state.database)

"""The gateway's view metrics: how fresh the views are (the platform's main promise, its SLI) and the
work waiting in them (reports awaiting review, reports overdue), for Prometheus."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from fastapi import FastAPI
from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.clock import today_in_china
from minsheng.messaging.consumer import TypedEvent
from minsheng.messaging.events import utc_now
from minsheng_gateway.projection.models import pending_condition
from minsheng_gateway.warnings.overdue import overdue_series

log = logging.getLogger(__name__)

OVERDUE_RECOUNT_SECONDS = 60.0

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


# The partial index ix_report_view_pending's own condition: the pending rows are few, whatever the total.
_PENDING = pending_condition("report_view")
_AWAITING_REVIEW = sa.text(
    f"SELECT campaign, org_unit_code, count(*) FROM report_view WHERE {_PENDING} GROUP BY campaign, org_unit_code"
)
# A task may have several lead departments: its reports count for each of them.
_AWAITING_REVIEW_BY_DEPARTMENT = sa.text(
    "SELECT lead.department, count(*) FROM report_view "
    "JOIN indicator ON indicator.code = report_view.indicator_code "
    f"JOIN task_lead_department AS lead ON lead.task_number = indicator.task_number WHERE {_PENDING} "
    "GROUP BY lead.department"
)


def plan_slots(app: FastAPI) -> list:
    """Every plan the gateway knows (`GatewayPlans.slots`), or the app's own database before the plans are open."""
    plans = getattr(app.state, "plans", None)
    return plans.slots() if plans is not None else [app.state]


class ReviewBacklogCollector(Collector):
    """Reports awaiting review, counted from every plan's `report_view` at scrape time in the database of the
    gateway app running in this process (none: nothing is exported): `minsheng_reports_awaiting_review{campaign}`, and
    by org unit (`..._by_org_unit{campaign,org_unit}`) and by lead department (`..._by_department`)."""

    def __init__(self) -> None:
        self.apps: list[FastAPI] = []
        # (the app counted, when, rows): another app (a test's) counts its own
        self._overdue: tuple[FastAPI, float, list[tuple[str, str, int]]] | None = None

    def describe(self) -> list:
        return []  # unchecked collector: its series depend on the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not self.apps:
            return
        app = self.apps[-1]
        by_org_unit: list = []
        by_department: list = []
        try:
            # Every plan's reports await the same reviewers (decision 0017): each plan's tables, summed.
            for slot in plan_slots(app):
                with slot.database.session() as session:
                    connection = session.connection()
                    by_org_unit += connection.execute(_AWAITING_REVIEW).all()
                    by_department += connection.execute(_AWAITING_REVIEW_BY_DEPARTMENT).all()
        except Exception:  # noqa: BLE001 - a scrape must not fail: the series is missing, `minsheng_ready` says why
            log.warning("could not count the reports awaiting review", exc_info=True)
            return
        campaigns, org_units = _per_campaign_and_org_unit(
            by_org_unit,
            "minsheng_reports_awaiting_review",
            "Current report revisions submitted and not yet approved or returned, per campaign",
            "Reports awaiting review per campaign and org unit (city, district or county); none: no series",
        )
        departments = GaugeMetricFamily(
            "minsheng_reports_awaiting_review_by_department",
            "Reports awaiting review per lead department of their task (a report counts for each lead department)",
            labels=["department"],
        )
        per_department: dict[str, int] = {}
        for department, count in by_department:
            per_department[department] = per_department.get(department, 0) + count
        for department, count in sorted(per_department.items()):
            departments.add_metric([department], count)
        yield campaigns
        yield org_units
        yield departments
        yield from self._overdue_families(app)

    def _overdue_families(self, app: FastAPI) -> Iterator[GaugeMetricFamily]:
        """Reports overdue by the reporting calendar (`warnings/overdue.py: overdue_series`), counted at most once a
        minute: the calendar moves by days, and a count walks every series."""
        now = time.monotonic()
        if self._overdue is None or self._overdue[0] is not app or now - self._overdue[1] > OVERDUE_RECOUNT_SECONDS:
            calendar = app.state.settings.reporting_calendar()
            today = getattr(app.state, "clock", today_in_china)()
            rows = []
            try:
                # Each plan's reports are owed on its own calendar (decision 0017): every plan's, summed.
                for slot in plan_slots(app):
                    with slot.database.session() as session:
                        rows += [
                            (indicator.campaign_code, unit, len(missed))
                            for indicator, unit, missed in overdue_series(
                                session=session, calendar=calendar, today=today
                            )
                        ]
            except Exception:  # noqa: BLE001 - a scrape must not fail: the series is missing
                log.warning("could not count the overdue reports", exc_info=True)
                return
            self._overdue = (app, now, rows)
        campaigns, by_org_unit = _per_campaign_and_org_unit(
            self._overdue[2],
            "minsheng_reports_overdue",
            "Reports past their due date (reporting calendar) and not submitted (a returned one counts), per campaign",
            "Reports past their due date (reporting calendar) and not submitted, per campaign and org unit",
        )
        yield campaigns
        yield by_org_unit


def _per_campaign_and_org_unit(
    rows: Iterable[tuple[str, str, int]], name: str, campaign_help: str, org_unit_help: str
) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    """`name` per campaign (every campaign, 0 when none) and `name_by_org_unit`, from (campaign, org unit, count)
    rows (a plan's rows beside another's: summed)."""
    per_campaign = dict.fromkeys(CAMPAIGN_CODES, 0)
    per_org_unit: dict[tuple[str, str], int] = {}
    for campaign, org_unit, count in rows:
        per_campaign[campaign] = per_campaign.get(campaign, 0) + count
        per_org_unit[campaign, org_unit] = per_org_unit.get((campaign, org_unit), 0) + count
    campaigns = GaugeMetricFamily(name, campaign_help, labels=["campaign"])
    for campaign in sorted(per_campaign):
        campaigns.add_metric([campaign], per_campaign[campaign])
    org_units = GaugeMetricFamily(f"{name}_by_org_unit", org_unit_help, labels=["campaign", "org_unit"])
    for (campaign, org_unit), count in sorted(per_org_unit.items()):
        org_units.add_metric([campaign, org_unit], count)
    return campaigns, org_units


REVIEW_BACKLOG = ReviewBacklogCollector()
REGISTRY.register(REVIEW_BACKLOG)


async def export_review_backlog(app: FastAPI) -> None:
    """Background job of the gateway process: its database answers the scrapes while it runs."""
    REVIEW_BACKLOG.apps.append(app)
    try:
        await asyncio.Event().wait()
    finally:
        REVIEW_BACKLOG.apps.remove(app)

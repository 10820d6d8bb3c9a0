"""An approval re-checks its indicator's computed status (reporting/status_tracking.py) from official
values kept between approvals: the status it announces must always be the one /progress computes
from the database, also when the kept values went stale (another replica approved meanwhile)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from minsheng.messaging import IntegrationEvent, OutboxEvent
from minsheng.reporting import status_tracking
from tests.conftest import CITY, EDU_BUREAU

AS_OF = dt.date(2022, 12, 31)


def announced_status(client, indicator: str, org_unit: str) -> str | None:
    with client.app.state.database.session() as session:
        rows = session.exec(
            select(OutboxEvent)
            .where(OutboxEvent.type == "minsheng.indicator.status_changed.v1")
            .order_by(OutboxEvent.id)
        ).all()
    statuses = [IntegrationEvent.from_json_bytes(r.payload).data for r in rows]
    mine = [s["status"] for s in statuses if s["indicator"] == indicator and s["org_unit"] == org_unit]
    return mine[-1] if mine else None


def computed_status(client, indicator: str, org_unit: str) -> str:
    answer = client.get(
        f"/api/v1/indicators/{indicator}/progress", params={"org_unit": org_unit, "as_of": AS_OF.isoformat()}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["status"]


def approve(client, org_unit: str, period: str, value: float) -> None:
    created = client.post(
        "/api/v1/reports",
        headers=EDU_BUREAU,
        json={"indicator": "T002-1", "org_unit": org_unit, "period": period, "value": value},
    )
    assert created.status_code == 201, created.text
    approved = client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY)
    assert approved.status_code == 200, approved.text


def test_announced_status_is_the_computed_one_even_after_another_replica_approved(campaign_client):
    education = campaign_client("education")
    education.app.state.clock = lambda: AS_OF
    approvals = education.app.state.approvals
    this_replica, other_replica = approvals.tracker, status_tracking.StatusTracker(catalog=education.app.state.catalog)
    seen = set()
    # (org unit, period, value, approved by the other replica?): a slow start, a revision, a catch-up
    steps = [
        ("370300", "2022-03", 1, False),
        ("370303", "2022-06", 1, False),
        ("370300", "2022-06", 2, True),
        ("370300", "2022-03", 30, False),
        ("370303", "2022-09", 4, True),
        ("370300", "2022-09", 60, False),
        ("370300", "2022-12", 5, True),
        ("370303", "2022-12", 20, False),
    ]
    for org_unit, period, value, by_other in steps:
        # Another replica keeps its own official values: while it approves, this one's go stale.
        approvals.tracker = other_replica if by_other else this_replica
        approve(education, org_unit, period, value)
        for unit in ("370300", org_unit):
            announced = announced_status(education, "T002-1", unit)
            computed = computed_status(education, "T002-1", unit)
            assert announced == computed, (org_unit, period, value, unit)
            seen.add(computed)
    assert len(seen) >= 2  # the statuses did move: the check above compared more than one state


def kept_city_inputs(client, indicator: str):
    return client.app.state.approvals.tracker.kept[indicator].city


def city_inputs_from_every_value(client, indicator: str):
    """The city's inputs rolled up from every approved value in the database, as a fresh replica would."""
    from minsheng.orgunits import CITY_CODE
    from minsheng.progress.queries import load_facts
    from minsheng.reporting.models import Report, ReportStatus

    with client.app.state.database.session() as session:
        facts = load_facts(session, client.app.state.catalog, codes=[indicator])[indicator]
        approved = session.exec(
            select(Report).where(Report.indicator_code == indicator, Report.status == ReportStatus.approved)
        ).all()
    fresh = status_tracking._OfficialSeries(indicator, approved=0, last_id=0)
    for r in approved:
        fresh.add(r.org_unit_code, r.period, r.revision, r.value, r.numerator, r.denominator)
    return fresh.inputs(facts, CITY_CODE)


def test_city_rolled_up_in_part_between_approvals_equals_rolled_up_from_every_value(campaign_client):
    """One replica approving on: the city's roll-up it keeps (redone only for the periods each approval
    changed) must always be the one rolled up from every value — through revisions, several districts
    and years, and a year in which the city reports a value of its own."""
    education = campaign_client("education")
    education.app.state.clock = lambda: dt.date(2023, 12, 31)
    steps = [
        ("370302", "2022-03", 2),
        ("370303", "2022-03", 1),
        ("370302", "2022-06", 4),
        ("370302", "2022-03", 3),
        ("370304", "2023-02", 5),
        ("370300", "2023-05", 9),
        ("370303", "2023-05", 2),
        ("370302", "2022-06", 1),
        ("370304", "2023-02", 7),
        ("370305", "2022-09", 6),
    ]
    for org_unit, period, value in steps:
        approve(education, org_unit, period, value)
        assert kept_city_inputs(education, "T002-1") == city_inputs_from_every_value(education, "T002-1"), (
            org_unit,
            period,
            value,
        )

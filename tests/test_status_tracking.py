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
        rows = session.exec(select(OutboxEvent).where(OutboxEvent.type == "minsheng.indicator.status_changed.v1")
                            .order_by(OutboxEvent.id)).all()
    statuses = [IntegrationEvent.from_json_bytes(r.payload).data for r in rows]
    mine = [s["status"] for s in statuses if s["indicator"] == indicator and s["org_unit"] == org_unit]
    return mine[-1] if mine else None


def computed_status(client, indicator: str, org_unit: str) -> str:
    answer = client.get(f"/api/v1/indicators/{indicator}/progress",
                        params={"org_unit": org_unit, "as_of": AS_OF.isoformat()})
    assert answer.status_code == 200, answer.text
    return answer.json()["status"]


def approve(client, org_unit: str, period: str, value: float) -> None:
    created = client.post("/api/v1/reports", headers=EDU_BUREAU,
                          json={"indicator": "T002-1", "org_unit": org_unit, "period": period, "value": value})
    assert created.status_code == 201, created.text
    approved = client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY)
    assert approved.status_code == 200, approved.text


def test_announced_status_is_the_computed_one_even_after_another_replica_approved(campaign_client, monkeypatch):
    education = campaign_client("education")
    education.app.state.clock = lambda: AS_OF
    this_replica = status_tracking._official
    other_replica: dict = {}
    seen = set()
    # (org unit, period, value, approved by the other replica?): a slow start, a revision, a catch-up
    steps = [("370300", "2022-03", 1, False), ("370303", "2022-06", 1, False), ("370300", "2022-06", 2, True),
             ("370300", "2022-03", 30, False), ("370303", "2022-09", 4, True), ("370300", "2022-09", 60, False),
             ("370300", "2022-12", 5, True), ("370303", "2022-12", 20, False)]
    for org_unit, period, value, by_other in steps:
        # Another replica keeps its own official values: while it approves, this one's go stale.
        monkeypatch.setattr(status_tracking, "_official", other_replica if by_other else this_replica)
        approve(education, org_unit, period, value)
        for unit in ("370300", org_unit):
            announced, computed = announced_status(education, "T002-1", unit), computed_status(education, "T002-1", unit)
            assert announced == computed, (org_unit, period, value, unit)
            seen.add(computed)
    assert len(seen) >= 2  # the statuses did move: the check above compared more than one state

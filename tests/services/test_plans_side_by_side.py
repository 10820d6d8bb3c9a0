"""Several plans side by side in a campaign service (decision 0017, step 4): the legacy plan stays in `public`, a
published plan lives in its own schema; `?plan=` chooses one on every plan-dependent route (default: the plan in force
today), an indicator code may be reused without colliding, and the events of the new plan name it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from minsheng.catalog.breakdown import parse_breakdown
from minsheng.catalog.document import PlanState
from minsheng.demo.breakdown import DEMO_WORKBOOK
from tests.conftest import CITY, EDU_BUREAU
from tests.support.breakdown import CONTEXT, KNOWN
from tests.support.views import outbox_events

LEGACY = "zibo-gaopinzhi-minsheng"
TODAY = dt.date(2026, 12, 7)
DEMO = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
NEW = DEMO.plan.code
SCHEMA = "plan_" + NEW.replace("-", "_")
PLAN = DEMO.plan.model_copy(update={"state": PlanState.published})


def publication(campaign: str, plan=PLAN) -> dict:
    doc = DEMO.campaigns.get(campaign)
    return {"plan": plan.model_dump(mode="json"), "campaign": doc.model_dump(mode="json") if doc else None}


def count(service, table: str) -> int:
    with service.app.state.database.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def education(campaign_client):
    service = campaign_client("education")
    service.app.state.clock = lambda: TODAY
    return service


def report(service, *, indicator="T002-1", period="2026-11", value=3.0, plan: str | None = None):
    query = f"?plan={plan}" if plan else ""
    return service.post(
        f"/api/v1/reports{query}",
        json={"indicator": indicator, "org_unit": "370302", "period": period, "value": value},
        headers=EDU_BUREAU,
    )


def test_a_published_plan_lives_beside_the_legacy_one_and_its_reports_name_it(education):
    legacy_before = education.get(f"/api/v1/indicators/T002-1?plan={LEGACY}").json()
    assert education.post("/api/v1/plans", json=publication("education"), headers=EDU_BUREAU).status_code == 403

    created = education.post("/api/v1/plans", json=publication("education"), headers=CITY)
    assert created.status_code == 201, created.text
    assert created.json() | {"tasks": 0, "indicators": 0, "diff": None} == {
        "plan": NEW,
        "campaign": "education",
        "created": True,
        "changed": True,
        "tasks": 0,
        "indicators": 0,
        "version": 1,
        "diff": None,
    }
    assert created.json()["tasks"] == len(DEMO.campaigns["education"].tasks())
    assert [p["code"] for p in education.get("/api/v1/plans").json()] == [LEGACY, NEW]

    # The same code, two indicators: each plan's own, the legacy one unchanged.
    assert education.get(f"/api/v1/indicators/T002-1?plan={LEGACY}").json() == legacy_before
    assert education.get(f"/api/v1/indicators/T002-1?plan={NEW}").json()["name"] == "新改扩建中小学数量"
    assert legacy_before["name"] == "新改扩建公办幼儿园数量"
    # Today (December 2026) the new plan is in force: it is what a caller naming no plan works on.
    assert education.get("/api/v1/indicators/T002-1").json()["name"] == "新改扩建中小学数量"

    new = report(education, plan=NEW, value=5)
    assert new.status_code == 201, new.text
    old = report(education, plan=LEGACY, period="2024-11", value=2)
    assert old.status_code == 201, old.text
    assert count(education, f"{SCHEMA}.report") == 1 and count(education, "public.report") == 1

    events = [e for e in outbox_events(education) if e.type == "minsheng.report.submitted.v1"]
    assert [(e.data["report"]["value"], e.data.get("plan")) for e in events] == [(5.0, NEW), (2.0, None)]
    assert "plan" not in events[1].data  # the legacy plan's events are what they always were
    catalogs = [e for e in outbox_events(education) if e.type == "minsheng.catalog.published.v1"]
    assert catalogs[-1].data["plan"] == NEW and catalogs[-1].data["catalog"]["plan"]["code"] == NEW
    assert "plan" not in catalogs[0].data

    # Reads are of one plan: the legacy plan's list holds only its own report.
    listed = {p: education.get(f"/api/v1/reports?plan={p}", headers=CITY).json() for p in (LEGACY, NEW)}
    assert [(r["period"], r["value"]) for r in listed[LEGACY]["data"]] == [("2024-11", 2.0)]
    assert [(r["period"], r["value"]) for r in listed[NEW]["data"]] == [("2026-11", 5.0)]
    assert education.get("/api/v1/reports", headers=CITY).json()["data"] == listed[NEW]["data"]

    # Each plan's horizon bounds its own reports.
    outside = report(education, plan=NEW, period="2024-11")
    assert outside.status_code == 422 and "2025" in outside.json()["detail"], outside.text
    # Approving and the figures go by plan too.
    approved = education.post(f"/api/v1/reports/{new.json()['id']}/approve?plan={NEW}", headers=CITY)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert (
        education.get(f"/api/v1/reports/{old.json()['id']}?plan={LEGACY}", headers=CITY).json()["status"] == "submitted"
    )


def test_publishing_twice_is_once_and_an_amendment_is_a_new_catalog_version(education):
    assert education.post("/api/v1/plans", json=publication("education"), headers=CITY).status_code == 201
    published = len(outbox_events(education))
    again = education.post("/api/v1/plans", json=publication("education"), headers=CITY)
    assert again.status_code == 200 and not again.json()["changed"] and not again.json()["created"]
    assert len(outbox_events(education)) == published  # nothing new to announce

    amended = publication("education", plan=PLAN.model_copy(update={"name": PLAN.name + "（修订）"}))
    answer = education.post("/api/v1/plans", json=amended, headers=CITY)
    assert answer.status_code == 200 and answer.json()["changed"], answer.text
    [event] = outbox_events(education)[published:]
    assert event.type == "minsheng.catalog.published.v1" and event.data["catalog"]["plan"]["name"].endswith("（修订）")
    assert education.get(f"/api/v1/catalog?plan={NEW}").json()["plan"]["name"].endswith("（修订）")


def test_unknown_plans_and_the_legacy_plan_are_refused(education):
    for path in ("/api/v1/reports", "/api/v1/tasks", "/api/v1/catalog", "/api/v1/task-status", "/api/v1/progress"):
        answer = education.get(f"{path}?plan=no-such-plan", headers=CITY)
        assert answer.status_code == 404 and answer.json()["code"] == "plan_not_found", (path, answer.text)
        assert "no-such-plan" in answer.json()["detail"]
    assert report(education, plan="no-such-plan").json()["code"] == "plan_not_found"
    assert education.post("/api/v1/plans/no-such-plan/close", headers=CITY).json()["code"] == "plan_not_found"
    legacy = education.get("/api/v1/catalog").json()["plan"]
    refused = education.post(
        "/api/v1/plans", json={"plan": legacy, "campaign": education.get("/api/v1/catalog").json()}, headers=CITY
    )
    assert refused.status_code == 409 and refused.json()["code"] == "plan_is_legacy"
    other = education.post("/api/v1/plans", json=publication("health"), headers=CITY)
    assert other.status_code == 422 and other.json()["code"] == "wrong_campaign"


def test_a_plan_without_tasks_of_the_campaign_still_exists_there_and_survives_a_restart(campaign_client):
    health = campaign_client("health")
    health.app.state.clock = lambda: TODAY
    empty = {"plan": PLAN.model_dump(mode="json"), "campaign": None}
    answer = health.post("/api/v1/plans", json=empty, headers=CITY)
    assert answer.status_code == 201 and answer.json()["tasks"] == 0, answer.text
    assert health.get(f"/api/v1/tasks?plan={NEW}").json()["count"] == 0
    assert health.post("/api/v1/plans", json=empty, headers=CITY).json()["changed"] is False
    filled = health.post("/api/v1/plans", json=publication("health"), headers=CITY)
    assert filled.status_code == 200 and filled.json()["tasks"] == len(DEMO.campaigns["health"].tasks())

    # A restart finds the plan in its schema.
    again = campaign_client("health", database_url=health.app.state.settings.database_url)
    again.app.state.clock = lambda: TODAY
    assert [p["code"] for p in again.get("/api/v1/plans").json()] == [LEGACY, NEW]
    assert again.get(f"/api/v1/tasks?plan={NEW}").json()["count"] == filled.json()["tasks"]


def test_evidence_task_states_and_closing_go_by_plan(make_database, object_store):
    from tests.support import evidence_files as files
    from tests.support.evidence_service import start

    education = start(make_database, object_store)
    try:
        education.app.state.clock = lambda: TODAY
        assert education.post("/api/v1/plans", json=publication("education"), headers=CITY).status_code == 201
        uploaded = education.post(
            f"/api/v1/evidence?plan={NEW}", files={"file": ("现场.pdf", files.pdf())}, headers=EDU_BUREAU
        )
        assert uploaded.status_code == 201, uploaded.text
        body = {"indicator": "T002-1", "org_unit": "370302", "period": "2026-11", "value": 4.0}
        evidence = [{"id": uploaded.json()["id"], "caption": "现场照片"}]
        # The file is the new plan's: the legacy plan does not know it.
        legacy = education.post(
            f"/api/v1/reports?plan={LEGACY}",
            json=body | {"period": "2024-11", "evidence": evidence},
            headers=EDU_BUREAU,
        )
        assert legacy.status_code == 422, legacy.text
        new = education.post(f"/api/v1/reports?plan={NEW}", json=body | {"evidence": evidence}, headers=EDU_BUREAU)
        assert new.status_code == 201 and [e["caption"] for e in new.json()["evidence"]] == ["现场照片"], new.text
        assert count(education, f"{SCHEMA}.evidence_attachment") == 1 and count(education, "evidence_file") == 0

        # A task's state is the plan's: suspending task 1 of the new plan leaves the legacy task 1 in progress.
        change = {"state": "suspended", "reason": "因政策调整暂缓"}
        assert education.put(f"/api/v1/tasks/1/state?plan={NEW}", json=change, headers=CITY).status_code == 200
        assert education.get(f"/api/v1/tasks/1/state?plan={NEW}").json()["state"] == "suspended"
        assert education.get(f"/api/v1/tasks/1/state?plan={LEGACY}").json()["state"] == "in_progress"
        [event] = [e for e in outbox_events(education) if e.type == "minsheng.task.state_changed.v1"]
        assert event.data["plan"] == NEW

        # The new plan is in force: it cannot be closed; the legacy plan, ended, can, and its closing is its own.
        early = education.post(f"/api/v1/plans/{NEW}/close", headers=CITY)
        assert early.status_code == 409 and early.json()["code"] == "plan_not_ended"
        assert education.post(f"/api/v1/plans/{LEGACY}/close", headers=CITY).status_code == 200
        assert report(education, plan=LEGACY, period="2024-10").json()["code"] == "plan_not_open"
        assert report(education, plan=NEW, period="2026-10").status_code == 201
    finally:
        education.__exit__(None, None, None)


def test_the_evidence_upkeep_counts_and_sweeps_every_plans_files(make_database, object_store):
    """The files of a plan in its own schema are in the campaign's one bucket: the gauges count them with the
    legacy plan's, and the clean-up removes those never saved with a report."""
    from minsheng.evidence import service as evidence_service
    from tests.support import evidence_files as files
    from tests.support.evidence_service import start
    from tests.support.metrics_stack import scrape_client, value

    def gauges() -> dict:
        evidence_service.upkeep_once(education.app)
        samples = scrape_client(education)
        return {
            (name, state): value(samples, name, process="education", state=state)
            for name in ("minsheng_evidence_objects", "minsheng_evidence_bytes")
            for state in ("pending", "attached")
        }

    education = start(make_database, object_store)
    try:
        education.app.state.clock = lambda: TODAY
        assert education.post("/api/v1/plans", json=publication("education"), headers=CITY).status_code == 201
        before = gauges()

        def upload(plan: str) -> dict:
            answer = education.post(
                f"/api/v1/evidence?plan={plan}", files={"file": ("现场.pdf", files.pdf())}, headers=EDU_BUREAU
            )
            assert answer.status_code == 201, answer.text
            return answer.json()

        kept, forgotten, legacy = upload(NEW), upload(NEW), upload(LEGACY)
        body = {"indicator": "T002-1", "org_unit": "370302", "period": "2026-11", "value": 4.0}
        saved = education.post(
            f"/api/v1/reports?plan={NEW}", json=body | {"evidence": [{"id": kept["id"]}]}, headers=EDU_BUREAU
        )
        assert saved.status_code == 201, saved.text

        after = gauges()
        assert after["minsheng_evidence_objects", "attached"] == before["minsheng_evidence_objects", "attached"] + 1
        assert after["minsheng_evidence_objects", "pending"] == before["minsheng_evidence_objects", "pending"] + 2
        assert after["minsheng_evidence_bytes", "pending"] == (
            before["minsheng_evidence_bytes", "pending"] + forgotten["size_bytes"] + legacy["size_bytes"]
        )

        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)
        assert evidence_service.upkeep_once(education.app, at=later) == 2  # the new plan's and the legacy plan's
        assert count(education, f"{SCHEMA}.evidence_file") == 1 and count(education, "evidence_file") == 0
        gone = education.get(f"/api/v1/evidence/{forgotten['id']}?plan={NEW}", headers=EDU_BUREAU)
        assert gone.status_code == 404
        assert gauges()["minsheng_evidence_objects", "pending"] == before["minsheng_evidence_objects", "pending"]
    finally:
        education.__exit__(None, None, None)

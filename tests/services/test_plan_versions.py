"""修订记录 in a campaign service (issue 26, points 1 and 5): the plan's creation is version 1 of the campaign's
catalog there, each amendment that changes something the next, with who published it and what it created, updated
and retired; the same catalog again is no version.  The 2022–2024 plan's catalog file counts too, at start-up."""

from __future__ import annotations

import datetime as dt

from minsheng.catalog.breakdown import parse_breakdown
from minsheng.catalog.document import PlanState
from minsheng.demo.breakdown import DEMO_WORKBOOK
from tests.conftest import CITY
from tests.support.breakdown import CONTEXT, KNOWN

LEGACY = "zibo-gaopinzhi-minsheng"
DEMO = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
PLAN = DEMO.plan.model_copy(update={"state": PlanState.published})
NEW = PLAN.code


def publication(doc) -> dict:  # noqa: ANN001 - a CampaignDoc
    return {"plan": PLAN.model_dump(mode="json"), "campaign": doc.model_dump(mode="json")}


def amended():
    """The demonstration's education catalog with T001-1 renamed and T001-2 taken out."""
    raw = DEMO.campaigns["education"].model_dump(mode="json")
    task = raw["items"][0]["tasks"][0]
    assert [i["code"] for i in task["indicators"]] == ["T001-1", "T001-2"]
    task["indicators"][0]["name"] = "新改扩建公办幼儿园（处）"
    task["indicators"].pop()
    return type(DEMO.campaigns["education"]).model_validate(raw)


def test_creation_and_each_amendment_are_versions_and_the_same_again_is_none(campaign_client):
    education = campaign_client("education")
    education.app.state.clock = lambda: dt.date(2026, 12, 7)
    created = education.post("/api/v1/plans", json=publication(DEMO.campaigns["education"]), headers=CITY)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.json()["diff"]["retired"] == 0

    answer = education.post("/api/v1/plans", json=publication(amended()), headers=CITY)
    assert answer.status_code == 200 and answer.json()["changed"] and answer.json()["version"] == 2, answer.text
    diff = answer.json()["diff"]
    assert diff["updated_labels"] == ["指标 T001-1"] and diff["retired_labels"] == ["指标 T001-2"]
    assert (diff["created"], diff["updated"], diff["retired"]) == (0, 1, 1)

    again = education.post("/api/v1/plans", json=publication(amended()), headers=CITY)
    assert again.status_code == 200 and not again.json()["changed"] and again.json()["version"] is None

    versions = education.get(f"/api/v1/plans/{NEW}/versions")
    assert versions.status_code == 200, versions.text
    [second, first] = versions.json()
    assert (second["version"], first["version"]) == (2, 1)
    assert "市民生办" in second["published_by"] and second["published_at"] >= first["published_at"]
    assert second["indicators"] == first["indicators"] - 1 and second["tasks"] == first["tasks"]
    assert second["changes"]["retired_labels"] == ["指标 T001-2"] and second["digest"] != first["digest"]
    assert "指标 T001-1" in first["changes"]["created_labels"]  # version 1 lists all it created
    assert first["changes"]["created"] == len(first["changes"]["created_labels"])

    unknown = education.get("/api/v1/plans/no-such-plan/versions")
    assert unknown.status_code == 404 and unknown.json()["code"] == "plan_not_found"


def test_the_legacy_plans_catalog_file_is_a_version_when_it_changes_something(campaign_client):
    health = campaign_client("health")
    [version] = health.get(f"/api/v1/plans/{LEGACY}/versions").json()
    assert (version["version"], version["published_by"]) == (1, "目录文件")
    assert version["tasks"] > 0 and version["changes"]["retired"] == 0
    # A restart re-applies the same file: nothing changed, no version.
    again = campaign_client("health", database_url=health.app.state.settings.database_url)
    assert [v["version"] for v in again.get(f"/api/v1/plans/{LEGACY}/versions").json()] == [1]

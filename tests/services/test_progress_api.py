"""Computed progress through the service API, on PostgreSQL: only approved values count, the city
rolls up from districts by the indicator's rule, a task is as bad as its worst indicator."""

import pytest

from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN


def approved(client, indicator, org_unit, period, value=None, headers=CITY, **extra):
    body = {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value, **extra}
    created = client.post("/api/v1/reports", json=body, headers=headers)
    assert created.status_code == 201, created.text
    approved = client.post(f"/api/v1/reports/{created.json()['id']}/approve", headers=CITY)
    assert approved.status_code == 200, approved.text
    return approved.json()


def progress(client, code, org_unit="370300", as_of="2022-12-31"):
    response = client.get(f"/api/v1/indicators/{code}/progress", params={"org_unit": org_unit, "as_of": as_of})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def education(campaign_client):
    return campaign_client("education")


def test_only_approved_values_count_and_pending_ones_are_shown(education):
    approved(education, "T002-1", "370300", "2022-06", 20)
    body = {"indicator": "T002-1", "org_unit": "370300", "period": "2022-12", "value": 30}
    pending = education.post("/api/v1/reports", headers=EDU_BUREAU, json=body).json()
    answer = progress(education, "T002-1")
    assert answer["current_value"] == 20
    assert [p["report_id"] for p in answer["pending"]] == [pending["id"]]
    assert any("待审核" in r for r in answer["reasons"])
    # 103 kindergartens by end 2024: a third of the way at end 2022 is 34.3; 20 is behind
    assert answer["status"] == "behind" and answer["expected_value"] == pytest.approx(103 / 3, rel=0.01)


def test_city_rolls_up_districts_and_a_direct_city_value_fills_in_where_districts_are_silent(education):
    approved(education, "T002-1", "370303", "2022-06", 6, headers=ZHANGDIAN)
    approved(education, "T002-1", "370302", "2022-06", 4)
    approved(education, "T002-1", "370300", "2023-03", 25)  # the bureau's city-level figure; no district in 2023
    answer = progress(education, "T002-1", as_of="2023-12-31")
    assert answer["series"][0]["basis"] == "districts" and answer["series"][0]["value"] == 10
    assert answer["series"][1]["basis"] == "direct" and answer["series"][1]["value"] == 25
    assert answer["basis"] == "mixed" and answer["current_value"] == 35
    assert set(answer["contributors"]) >= {"370302", "370303"}


def test_in_a_year_the_city_reported_itself_its_own_total_is_official(education):
    approved(education, "T002-1", "370303", "2022-06", 6, headers=ZHANGDIAN)  # one district's months
    approved(education, "T002-1", "370300", "2022", 30)  # the bureau's whole-city total for 2022
    answer = progress(education, "T002-1")
    assert answer["current_value"] == 30 and answer["basis"] == "direct"
    assert progress(education, "T002-1", org_unit="370303")["current_value"] == 6


def test_zhangdian_is_judged_against_its_own_target(education):
    approved(education, "T002-1", "370303", "2022", 4, headers=ZHANGDIAN)
    answer = progress(education, "T002-1", org_unit="370303")
    # Zhangdian's own plan: 10 kindergartens in three years (seed 004); 4 by end 2022 ≥ 10/3
    assert (answer["target_value"], answer["target_basis"]) == (10, "district")
    assert answer["status"] == "on_track"
    # Zichuan published no kindergarten target of its own: a total cannot be split
    approved(education, "T002-1", "370302", "2022", 3)
    assert progress(education, "T002-1", org_unit="370302")["status"] == "no_target"


def test_percentages_roll_up_weighted_by_numerator_and_denominator(education):
    # district A: 30 of 100 children in public kindergartens (30 %), district B: 90 of 200 (45 %)
    approved(education, "T002-3", "370302", "2022", None, numerator=30, denominator=100)
    approved(education, "T002-3", "370303", "2022", None, headers=ZHANGDIAN, numerator=90, denominator=200)
    answer = progress(education, "T002-3")
    assert answer["current_value"] == pytest.approx(40.0)  # 120 / 300, not the 37.5 average of 30 and 45
    assert answer["basis"] == "districts" and any("加权" in r for r in answer["reasons"])


def test_task_status_is_the_worst_of_its_indicators(education):
    approved(education, "T002-1", "370300", "2022", 60)  # 103 by 2024: well ahead → on track
    approved(education, "T002-2", "370300", "2022", 300)  # 800 per year: 300 in 2022 → behind
    task = education.get("/api/v1/tasks/2/progress", params={"as_of": "2022-12-31"}).json()
    statuses = {i["id"]: i["status"] for i in task["indicators"]}
    assert statuses["T002-1"] == "on_track" and statuses["T002-2"] == "behind"
    assert statuses["T002-3"] == "no_data"
    assert task["status"] == "behind" and task["basis"] == "indicators"
    assert any("T002-2" in r for r in task["reasons"])


def test_a_task_without_numbers_takes_its_reported_status(education):
    education.post(
        "/api/v1/task-status",
        headers=EDU_BUREAU,
        json={
            "task": 6,
            "org_unit": "370300",
            "period": "2022Q4",
            "state": "blocked",
            "narrative": "合作院校协议尚未签署",
            "problems": "经费未落实",
        },
    )
    task = education.get("/api/v1/tasks/6/progress", params={"as_of": "2022-12-31"}).json()
    assert (task["status"], task["basis"]) == ("behind", "reported_status")
    assert task["reported_status"]["problems"] == "经费未落实"
    assert education.get("/api/v1/tasks/7/progress").json()["status"] == "no_data"


def test_campaign_summary_counts_tasks_and_indicators_by_status(education):
    approved(education, "T002-1", "370300", "2022", 60)
    summary = education.get("/api/v1/progress", params={"as_of": "2022-12-31"}).json()
    assert sum(summary["tasks_by_status"].values()) == 27
    assert summary["tasks_by_status"]["on_track"] == 1
    assert len(summary["items"]) == 7 and summary["items"][0]["tasks_by_status"]["on_track"] == 1
    assert {h["id"] for h in summary["headline"]} == {"H-EDU-1", "H-EDU-2"}


def test_unknown_indicator_or_org_unit_in_progress_is_404(education):
    assert education.get("/api/v1/indicators/T999-1/progress").status_code == 404
    assert education.get("/api/v1/indicators/T002-1/progress", params={"org_unit": "111111"}).status_code == 404
    assert education.get("/api/v1/indicators/T002-1/progress", params={"as_of": "yesterday"}).status_code == 422

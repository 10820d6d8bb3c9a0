"""GET /api/v1/org-units/{code}/values: what the entry form shows beside each indicator, from the
gateway's own tables (events from a real service folded into real PostgreSQL)."""

from __future__ import annotations

from tests.conftest import ZHANGDIAN
from tests.support import views


def values(gateway, org_unit: str, period: str, **params) -> dict[str, dict]:
    answer = gateway.get(f"/api/v1/org-units/{org_unit}/values", params={"period": period, **params})
    assert answer.status_code == 200, answer.text
    return {row["indicator"]: row for row in answer.json()["data"]}


def test_last_approved_value_and_running_total_up_to_a_period(campaign_client, gateway):
    education = campaign_client("education")
    for period, value in (("2022-06", 3), ("2022-07", 4), ("2022-09", 5)):
        body = {"indicator": "T002-1", "org_unit": "370303", "period": period, "value": value}
        views.approve(education, body, ZHANGDIAN)
    views.approve(education, {"indicator": "T002-1", "org_unit": "370302", "period": "2022-07", "value": 2})
    # awaiting review: neither the last approved value nor counted
    education.post(
        "/api/v1/reports",
        headers=ZHANGDIAN,
        json={"indicator": "T002-1", "org_unit": "370303", "period": "2022-08", "value": 50},
    )
    views.fold_all(gateway, views.outbox_events(education))

    august = values(gateway, "370303", "2022-08", campaign="education")
    row = august["T002-1"]
    assert (row["last_value"], row["last_period"]) == (4, "2022-07")
    assert row["running_total"] == 7 and row["running_total_label"] == "自2022年起累计"
    assert (row["target_value"], row["target_basis"], row["unit"]) == (10, "district", "处")
    assert all(code.startswith(("T0", "H-EDU")) for code in august)  # one campaign only

    september = values(gateway, "370303", "2022-09")["T002-1"]
    assert (september["last_value"], september["last_period"], september["running_total"]) == (5, "2022-09", 12)
    assert values(gateway, "370303", "2022-05")["T002-1"]["last_value"] is None

    # the city's figures are the districts' rolled up, against the city's target
    city = values(gateway, "370300", "2022Q3", campaign="education")["T002-1"]
    assert (city["last_value"], city["last_period"], city["running_total"]) == (5, "2022-09", 14)
    assert (city["target_value"], city["target_basis"]) == (103, "city")

    # a total not split to this district: no target of its own, the figures still shown
    other = values(gateway, "370302", "2022-12", campaign="education")["T002-1"]
    assert other["target_value"] is None and other["running_total"] == 2


def test_bad_period_org_unit_or_campaign_is_explained(campaign_client, gateway):
    views.fold_all(gateway, views.outbox_events(campaign_client("education")))  # the catalog
    bad_period = gateway.get("/api/v1/org-units/370303/values", params={"period": "2022-13"})
    assert bad_period.status_code == 422 and bad_period.json()["code"] == "invalid_period"
    assert "月份" in bad_period.json()["detail"]
    unknown = gateway.get("/api/v1/org-units/999999/values", params={"period": "2022-06"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "org_unit_not_found"
    campaign = gateway.get("/api/v1/org-units/370303/values", params={"period": "2022-06", "campaign": "nope"})
    assert campaign.status_code == 422 and campaign.json()["code"] == "unknown_campaign"

"""审核 on the gateway: the city office's pending list across campaigns, from the gateway's read models
(folded from a real service's events), each report beside the previous official value, the revision it
replaces and the trajectory's expected value, with jumps flagged."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from minsheng.catalog.loader import seed_catalog
from minsheng.catalog.snapshot import CatalogCache
from minsheng.reporting.republish import publish_catalog
from minsheng_education.main import service as education_service
from minsheng_gateway.settings import GatewaySettings
from tests.conftest import EDU_BUREAU, ZHANGDIAN
from tests.support.catalogs import requiring_evidence
from tests.support.identity import PRIVATE_KEY_PEM, sign_in
from tests.support.views import approve, fold_all, outbox_events


@pytest.fixture
def gateway(make_database):
    """A gateway with the demo accounts, fed by folds only (broker and services out of reach)."""
    import minsheng_gateway.main as gateway_main

    settings = GatewaySettings().model_copy(
        update={
            "database_url": make_database("gateway"),
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "catalog_retry_seconds": 3600,
            "demo_users": True,
            "jwt_private_key": PRIVATE_KEY_PEM,
        }
    )
    client = TestClient(gateway_main.build_app(settings))
    client.__enter__()
    client.app.state.clock = lambda: dt.date(2022, 12, 31)
    yield client
    client.__exit__(None, None, None)


def submit(client, body, headers=EDU_BUREAU) -> dict:
    created = client.post("/api/v1/reports", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()


def T002_1(org_unit: str, period: str, value: float) -> dict:  # noqa: N802 - the indicator's code
    return {"indicator": "T002-1", "org_unit": org_unit, "period": period, "value": value}


@pytest.fixture
def pending(campaign_client, gateway):
    education = campaign_client("education")
    approve(education, T002_1("370303", "2022-04", 8), ZHANGDIAN)
    approve(education, T002_1("370303", "2022-05", 10), ZHANGDIAN)
    jump = submit(education, T002_1("370303", "2022-06", 15), ZHANGDIAN)  # +50 % on May
    steady = submit(education, T002_1("370302", "2022-06", 2))  # nothing approved before
    approve(education, T002_1("370300", "2022-05", 20))
    submit(education, T002_1("370300", "2022-06", 20))
    revised = submit(education, T002_1("370300", "2022-06", 22))  # revision 2 replaces 20; +10 % on May
    ratio = submit(
        education,
        {"indicator": "T002-3", "org_unit": "370303", "period": "2022", "numerator": 65, "denominator": 100},
        ZHANGDIAN,
    )
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-city-office")
    return {"jump": jump["id"], "steady": steady["id"], "revised": revised["id"], "ratio": ratio["id"]}


def listed(gateway, **params) -> dict:
    response = gateway.get("/api/v1/review/pending", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_report_of_an_indicator_requiring_evidence_says_so_in_the_list(campaign_client, gateway):
    """须附佐证 as the catalog (announced by the service, folded by the gateway) sets it: the reviewer sees which
    reports had to come with evidence."""
    education = campaign_client("education")
    submit(education, T002_1("370302", "2022-06", 2))
    submit(education, {"indicator": "T002-2", "org_unit": "370302", "period": "2022-06", "value": 1})
    with education.app.state.database.session() as session:
        seed_catalog(
            session=session,
            doc=requiring_evidence(education_service.catalog, {"T002-2"}, set()),
            catalog=CatalogCache(),
        )
        publish_catalog(session=session, campaign="education")
        session.commit()
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-city-office")
    required = {row["indicator"]: row["evidence_required"] for row in listed(gateway)["data"]}
    assert required == {"T002-1": False, "T002-2": True}


def test_the_pending_list_shows_each_report_beside_its_previous_value_and_flags_the_jump(gateway, pending):
    answer = listed(gateway)
    assert answer["count"] == 4 and answer["jumps"] == 1 and answer["jump_share"] == 0.3
    assert answer["summary"] == "共 4 份报告待审核，其中 1 份与上期已审核值相比变化超过 30%，标为异常波动，请重点核对"
    rows = {row["report_id"]: row for row in answer["data"]}
    assert set(rows) == set(pending.values())  # the superseded revision 1 is not listed

    jump = rows[pending["jump"]]
    assert (jump["campaign"], jump["indicator"], jump["indicator_name"], jump["unit"]) == (
        "education",
        "T002-1",
        "新改扩建公办幼儿园数量",
        "处",
    )
    assert (jump["task_number"], jump["lead_departments"]) == (2, ["市教育局", "市自然资源和规划局"])
    assert (jump["org_unit"], jump["org_unit_name"], jump["period"], jump["value"]) == (
        "370303",
        "张店区",
        "2022-06",
        15,
    )
    assert (jump["previous_period"], jump["previous_value"]) == ("2022-05", 10)
    assert jump["change_share"] == pytest.approx(0.5) and jump["jump"] is True
    assert "张店" in jump["submitted_by"] and jump["revision"] == 1 and jump["replaced_value"] is None

    steady = rows[pending["steady"]]
    assert steady["previous_value"] is None and steady["change_share"] is None and steady["jump"] is False

    revised = rows[pending["revised"]]
    assert (revised["revision"], revised["replaced_value"], revised["replaced_status"]) == (2, 20, "submitted")
    assert revised["previous_value"] == 20 and revised["change_share"] == pytest.approx(0.1)
    assert revised["jump"] is False

    ratio = rows[pending["ratio"]]
    assert (ratio["numerator"], ratio["denominator"], ratio["value"]) == (65, 100, 65)


def test_the_expected_value_is_the_progress_models_for_the_periods_end(gateway, pending):
    rows = {row["report_id"]: row for row in listed(gateway)["data"]}
    for key, org_unit, end in (("revised", "370300", "2022-06-30"), ("jump", "370303", "2022-06-30")):
        progress = gateway.get("/api/v1/indicators/T002-1/progress", params={"org_unit": org_unit, "as_of": end}).json()
        assert progress["expected_value"] is not None
        assert rows[pending[key]]["expected_value"] == pytest.approx(progress["expected_value"])
    ratio = gateway.get("/api/v1/indicators/T002-3/progress", params={"org_unit": "370303", "as_of": "2022-12-31"})
    assert rows[pending["ratio"]]["expected_value"] == pytest.approx(ratio.json()["expected_value"])


def test_the_filters_campaign_department_org_unit_and_period_and_the_pages(gateway, pending):
    assert listed(gateway, campaign="education")["count"] == 4
    assert listed(gateway, campaign="health")["count"] == 0
    assert listed(gateway, department="市自然资源和规划局")["count"] == 4
    assert listed(gateway, department="市卫生健康委") == {
        "data": [],
        "count": 0,
        "jumps": 0,
        "jump_share": 0.3,
        "summary": "没有待审核的报告",
    }
    assert {r["report_id"] for r in listed(gateway, org_unit="370303")["data"]} == {pending["jump"], pending["ratio"]}
    assert listed(gateway, period="2022")["data"][0]["report_id"] == pending["ratio"]
    first, second = listed(gateway, limit=2), listed(gateway, limit=2, offset=2)
    assert first["count"] == second["count"] == 4
    assert {r["report_id"] for r in first["data"] + second["data"]} == set(pending.values())


def test_the_jump_share_is_a_setting(gateway, pending):
    gateway.app.state.settings = gateway.app.state.settings.model_copy(update={"review_jump_share": 0.05})
    answer = listed(gateway)
    assert answer["jumps"] == 2 and answer["jump_share"] == 0.05


def test_only_the_city_office_reads_the_pending_list(gateway, pending):
    gateway.post("/api/v1/auth/logout")
    gateway.cookies.clear()
    assert gateway.get("/api/v1/review/pending").status_code == 401
    sign_in(gateway, "demo-education-bureau")
    refused = gateway.get("/api/v1/review/pending")
    assert refused.status_code == 403 and "市民生办" in refused.json()["detail"]

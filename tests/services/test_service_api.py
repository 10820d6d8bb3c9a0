"""The catalog API of every campaign service, on PostgreSQL."""

import pytest

from minsheng.orgunits import ORG_UNITS
from tests.conftest import ALL_CAMPAIGNS, campaign_module


@ALL_CAMPAIGNS
def test_service_serves_its_own_catalog(campaign, campaign_client):
    client = campaign_client(campaign)
    doc = campaign_module(campaign).service.catalog
    tasks = client.get("/api/v1/tasks", params={"limit": 500}).json()
    assert tasks["count"] == len(doc.tasks()) == len(tasks["data"])
    assert all(t["campaign"] == campaign and t["lead_departments"] for t in tasks["data"])
    items = client.get("/api/v1/items").json()
    assert [i["number"] for i in items["data"]] == [i.number for i in doc.items]
    indicators = client.get("/api/v1/indicators", params={"limit": 500}).json()
    assert indicators["count"] == len(doc.all_indicators())
    assert client.get("/api/v1/org-units").json()["count"] == len(ORG_UNITS)
    assert client.get("/readyz").json()["status"] == "ready"
    assert "minsheng_http_requests_total" in client.get("/metrics").text


def test_task_detail_filters_and_pagination(campaign_client):
    client = campaign_client("education")
    task = client.get("/api/v1/tasks/2").json()
    assert task["lead_departments"] == ["市教育局", "市自然资源和规划局"]
    assert task["item"] == 1 and task["text"].startswith("坚持城镇居住区与配套幼儿园")
    first = task["indicators"][0]
    assert (first["id"], first["target_value"], first["unit"], first["comparator"], first["kind"]) == (
        "T002-1",
        103,
        "处",
        "≥",
        "cumulative",
    )

    by_item = client.get("/api/v1/tasks", params={"item": 4}).json()
    assert [t["number"] for t in by_item["data"]] == [12, 13, 14, 15, 16]
    by_department = client.get("/api/v1/tasks", params={"lead_department": "市大数据局"}).json()
    assert [t["number"] for t in by_department["data"]] == [18, 19]
    by_text = client.get("/api/v1/tasks", params={"text": "校车"}).json()
    assert [t["number"] for t in by_text["data"]] == [20]

    page = client.get("/api/v1/tasks", params={"limit": 5, "offset": 25}).json()
    assert page["count"] == 27 and [t["number"] for t in page["data"]] == [26, 27]
    assert client.get("/api/v1/indicators", params={"headline": True}).json()["count"] == 2


def test_unknown_numbers_and_codes_are_404_with_a_clear_chinese_message(campaign_client):
    client = campaign_client("health")
    response = client.get("/api/v1/tasks/2")  # task 2 belongs to education, not health
    assert response.status_code == 404
    assert response.json()["code"] == "task_not_found" and "任务编号 2 不存在" in response.json()["detail"]
    response = client.get("/api/v1/org-units/999999/targets")
    assert response.status_code == 404 and "单位代码 999999 不存在" in response.json()["detail"]
    response = client.get("/api/v1/indicators/T999-9")
    assert response.status_code == 404 and response.json()["code"] == "indicator_not_found"


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        ("/api/v1/tasks", {"limit": 501}, "limit"),
        ("/api/v1/tasks", {"limit": 0}, "limit"),
        ("/api/v1/tasks", {"offset": -1}, "offset"),
        ("/api/v1/tasks", {"item": "abc"}, "item"),
        ("/api/v1/tasks/abc", {}, "number"),
        ("/api/v1/tasks", {"campaign": "sports"}, "sports"),
    ],
)
def test_bad_parameters_are_422_with_the_field_named(path, params, fragment, campaign_client):
    client = campaign_client("employment")
    response = client.get(path, params=params)
    assert response.status_code == 422
    body = response.json()
    assert fragment in body["detail"] and ("请求参数有误" in body["detail"] or "不存在" in body["detail"])


def test_district_targets_of_zhangdian(campaign_client):
    client = campaign_client("livability")
    targets = client.get("/api/v1/org-units/370303/targets").json()
    values = {(t["indicator_id"], t["target_value"]) for t in targets["data"]}
    assert {("T095-1", 100), ("T106-1", 12000), ("T106-2", 15800), ("T106-3", 151.9)} <= values
    assert all(t["org_unit"] == "370303" and t["unit"] for t in targets["data"])
    assert client.get("/api/v1/org-units/370302/targets").json() == {"data": [], "count": 0}


def test_catalog_document_round_trips(campaign_client):
    client = campaign_client("eldercare")
    doc = campaign_module("eldercare").service.catalog
    assert client.get("/api/v1/catalog").json() == doc.model_dump(mode="json")

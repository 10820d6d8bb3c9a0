"""Who may do what: a table of role × action × expected status, run against the education service
with the service tokens the gateway forwards for the demo accounts (tests/identity.py).

T002-1 is led by 市教育局 (and 市自然资源和规划局); H-EDU-1 is a city-only headline indicator;
the integration demo client may write T076-1, H-EMP-1, H-EMP-2 only (employment indicators).
"""

import pytest

from tests.conftest import CITY, EDU_BUREAU, HEALTH_BUREAU, HRSS, INTEGRATION, VIEWER, ZHANGDIAN

NO_TOKEN: dict = {}


def row(indicator="T002-1", org_unit="370300", period="2022-06", value=2):
    return {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value}


def act(client, action, headers):
    if action == "report city value":
        return client.post("/api/v1/reports", json=row(), headers=headers)
    if action == "report Zhangdian value":
        return client.post("/api/v1/reports", json=row(org_unit="370303"), headers=headers)
    if action == "report Zichuan value":
        return client.post("/api/v1/reports", json=row(org_unit="370302"), headers=headers)
    if action == "bulk report":
        return client.post("/api/v1/reports/bulk", json={"rows": [row(period="2022-07")]}, headers=headers)
    if action == "approve":
        pending = client.post("/api/v1/reports", json=row(period="2022-08"), headers=CITY).json()
        return client.post(f"/api/v1/reports/{pending['id']}/approve", headers=headers)
    if action == "return":
        pending = client.post("/api/v1/reports", json=row(period="2022-09"), headers=CITY).json()
        return client.post(f"/api/v1/reports/{pending['id']}/return", json={"reason": "请核对"}, headers=headers)
    if action == "lock period":
        return client.post("/api/v1/periods/2022-01/lock", headers=headers)
    if action == "report task status":
        return client.post(
            "/api/v1/task-status",
            headers=headers,
            json={"task": 2, "org_unit": "370300", "period": "2022Q2", "state": "in_progress", "narrative": "推进中"},
        )
    if action == "read reports":
        return client.get("/api/v1/reports", headers=headers)
    raise AssertionError(action)


TABLE = [
    # role                 action                    expected
    ("city office", CITY, "report city value", 201),
    ("city office", CITY, "approve", 200),
    ("city office", CITY, "return", 200),
    ("city office", CITY, "lock period", 201),
    ("lead bureau", EDU_BUREAU, "report city value", 201),
    ("lead bureau", EDU_BUREAU, "report Zhangdian value", 201),
    ("lead bureau", EDU_BUREAU, "bulk report", 201),
    ("lead bureau", EDU_BUREAU, "report task status", 201),
    ("lead bureau", EDU_BUREAU, "approve", 403),
    ("lead bureau", EDU_BUREAU, "return", 403),
    ("lead bureau", EDU_BUREAU, "lock period", 403),
    ("other bureau", HEALTH_BUREAU, "report city value", 403),
    ("other bureau", HRSS, "bulk report", 403),
    ("other bureau", HEALTH_BUREAU, "report task status", 403),
    ("district", ZHANGDIAN, "report Zhangdian value", 201),
    ("district", ZHANGDIAN, "report Zichuan value", 403),
    ("district", ZHANGDIAN, "report city value", 403),
    ("district", ZHANGDIAN, "approve", 403),
    ("district", ZHANGDIAN, "read reports", 200),
    ("viewer", VIEWER, "read reports", 200),
    ("viewer", VIEWER, "report city value", 403),
    ("viewer", VIEWER, "report task status", 403),
    ("viewer", VIEWER, "lock period", 403),
    ("integration", INTEGRATION, "report city value", 403),  # single writes are not its channel
    ("integration", INTEGRATION, "bulk report", 403),  # T002-1 is not one of its indicators
    ("integration", INTEGRATION, "report task status", 403),
    ("anonymous", NO_TOKEN, "report city value", 401),
    ("anonymous", NO_TOKEN, "read reports", 401),
]


@pytest.mark.parametrize(("role", "headers", "action", "expected"), TABLE, ids=[f"{r}-{a}" for r, _, a, _ in TABLE])
def test_role_action_matrix(campaign_client, role, headers, action, expected):
    client = campaign_client("education")
    response = act(client, action, headers)
    assert response.status_code == expected, f"{role} / {action}: {response.text}"
    if expected == 403:
        # a refusal names what the caller may do instead
        assert any(word in response.json()["detail"] for word in ("只能", "只有"))


def test_refusals_name_the_allowed_scope(campaign_client):
    client = campaign_client("education")
    health = act(client, "report city value", HEALTH_BUREAU).json()
    assert health["code"] == "not_lead_department"
    assert "市卫生健康委只能填报本部门牵头任务的指标" in health["detail"] and "市教育局" in health["detail"]
    district = act(client, "report Zichuan value", ZHANGDIAN).json()
    assert district["code"] == "other_org_unit" and "370303" in district["detail"]
    bureau = act(client, "approve", EDU_BUREAU).json()
    assert bureau["code"] == "city_office_only" and "市民生办" in bureau["detail"]


def test_integration_client_writes_its_granted_indicators_in_bulk(campaign_client):
    client = campaign_client("employment")
    rows = [
        row(indicator="T076-1", period="2022-06", value=1500),
        row(indicator="H-EMP-2", period="2022-06", value=4.2),
    ]
    accepted = client.post("/api/v1/reports/bulk", json={"rows": rows}, headers=INTEGRATION)
    assert accepted.status_code == 201 and accepted.json()["count"] == 2
    mixed = client.post(
        "/api/v1/reports/bulk",
        headers=INTEGRATION,
        json={"rows": [row(indicator="T076-1", period="2022-07"), row(indicator="T078-1")]},
    )
    assert mixed.status_code == 403
    assert [e["row"] for e in mixed.json()["errors"]] == [2]
    assert "T078-1" in mixed.json()["detail"]
    assert client.get("/api/v1/reports", params={"period": "2022-07"}, headers=VIEWER).json()["count"] == 0

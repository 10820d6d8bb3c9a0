"""A task's 主办 and 协办 departments in a campaign service (decision 0020): a partner department reports its own
part of the task (协办进展, for the city, per period) beside the task's own status, which only the lead (主办) reports
with the figures; a bureau that partners the task not, a district, a viewer are refused with the reason in Chinese."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from minsheng.reporting.events import TASK_STATUS_REPORTED
from tests.conftest import CITY, EDU_BUREAU, HOUSING, HRSS, VIEWER, ZHANGDIAN
from tests.support.partners import DEMO_PLAN, part, publish_demo
from tests.support.views import outbox_events

STATUS = f"/api/v1/task-status?plan={DEMO_PLAN}"


@pytest.fixture
def education(campaign_client) -> TestClient:
    service = campaign_client("education")
    publish_demo(service, "education")
    return service


def test_the_catalog_names_the_lead_and_the_partners(education):
    task = education.get(f"/api/v1/tasks/1?plan={DEMO_PLAN}").json()
    assert task["lead_departments"] == ["市教育局"]
    assert task["partner_departments"] == ["市自然资源和规划局", "市住房城乡建设局"]
    exported = education.get(f"/api/v1/catalog?plan={DEMO_PLAN}").json()
    assert exported["items"][0]["tasks"][0]["partner_departments"] == ["市自然资源和规划局", "市住房城乡建设局"]
    legacy = education.get("/api/v1/tasks/2?plan=zibo-gaopinzhi-minsheng").json()
    assert legacy["lead_departments"] == ["市教育局", "市自然资源和规划局"] and legacy["partner_departments"] == []


def test_a_partner_reports_its_own_part_beside_the_leads_status_of_the_whole(education):
    mine = education.post(STATUS, json=part(), headers=HOUSING)
    assert mine.status_code == 201, mine.text
    assert (mine.json()["partner_department"], mine.json()["org_unit"], mine.json()["revision"]) == (
        "市住房城乡建设局",
        "370300",
        1,
    )
    whole = education.post(STATUS, json=part(partner=None, narrative="新改扩建公办幼儿园 12 处"), headers=EDU_BUREAU)
    assert whole.status_code == 201, whole.text
    assert whole.json()["partner_department"] is None and whole.json()["revision"] == 1  # not a revision of the part
    again = education.post(STATUS, json=part(state="completed", narrative="已全部落实"), headers=HOUSING)
    assert again.json()["revision"] == 2

    listed = education.get(STATUS, params={"task": 1}).json()
    assert sorted((r["partner_department"] or "", r["state"]) for r in listed["data"]) == [
        ("", "in_progress"),
        ("市住房城乡建设局", "completed"),
    ]
    parts = education.get(STATUS, params={"task": 1, "parts": True}).json()["data"]
    assert [r["partner_department"] for r in parts] == ["市住房城乡建设局"]
    assert [r["partner_department"] for r in education.get(STATUS, params={"parts": False}).json()["data"]] == [None]
    # The task's progress is judged from the lead's report, never from a partner's part.
    progress = education.get(f"/api/v1/tasks/1/progress?plan={DEMO_PLAN}").json()
    assert progress["lead_departments"] == ["市教育局"]

    events = [e for e in outbox_events(education) if e.type == TASK_STATUS_REPORTED]
    assert [e.data.get("partner_department") for e in events] == ["市住房城乡建设局", None, "市住房城乡建设局"]
    assert "partner_department" not in events[1].data  # the task's own status reads as it always did


def test_the_audit_export_names_a_partners_part(education):
    assert education.post(STATUS, json=part(), headers=HOUSING).status_code == 201
    audit = education.get(
        f"/api/v1/audit/changes?plan={DEMO_PLAN}", params={"period": "2026Q3", "format": "csv"}, headers=CITY
    )
    assert audit.status_code == 200, audit.text
    text = audit.content.decode("utf-8-sig")
    assert "任务1协办进展（市住房城乡建设局）" in text and ",2026Q3," in text


def refused(education: TestClient, body: dict, headers: dict, status: int, code: str, *phrases: str) -> None:
    answer = education.post(STATUS, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code, answer.text
    for phrase in phrases:
        assert phrase in answer.json()["detail"], answer.json()["detail"]


def test_a_partner_reports_neither_the_figures_nor_the_task_as_a_whole(education):
    figure = {"indicator": "T001-1", "org_unit": "370300", "period": "2026-11", "value": 2}
    answer = education.post(f"/api/v1/reports?plan={DEMO_PLAN}", json=figure, headers=HOUSING)
    assert answer.status_code == 403 and answer.json()["code"] == "partner_not_lead", answer.text
    assert "协办单位" in answer.json()["detail"] and "主办单位 市教育局" in answer.json()["detail"]
    refused(education, part(partner=None), HOUSING, 403, "partner_not_lead", "任务整体进展由主办单位 市教育局 填报")
    other = part(partner="市自然资源和规划局")
    refused(education, other, HOUSING, 403, "other_department", "不能代市自然资源和规划局填报")
    assert education.get(STATUS, params={"task": 1}).json()["count"] == 0


def test_a_bureau_that_does_not_partner_the_task_and_other_roles_are_refused(education):
    not_partner = ("只能填报本部门协办任务的协办进展", "任务 1 的协办单位为 市自然资源和规划局、市住房城乡建设局")
    refused(education, part(partner="市人力资源社会保障局"), HRSS, 403, "not_partner_department", *not_partner)
    refused(education, part(), HRSS, 403, "not_partner_department", *not_partner)
    refused(education, part(partner=None), HRSS, 403, "not_lead_department", "只能填报本部门主办或协办的任务")
    refused(education, part(), ZHANGDIAN, 403, "district_part_is_own_unit", "本单位（370303）")
    refused(education, part(), VIEWER, 403, "read_only", "只有查看权限")
    # The city office may file a partner's part on its behalf, but only a partner's and for the city.
    refused(education, part(partner="市民政局"), CITY, 422, "not_a_partner", "「市民政局」不是任务 1 的协办部门")
    refused(education, part(org_unit="370303"), CITY, 422, "partner_part_for_city", "370300")
    assert education.post(STATUS, json=part(), headers=CITY).status_code == 201
    blank = education.post(STATUS, json=part(partner=""), headers=CITY)
    assert blank.status_code == 422 and blank.json()["code"] == "invalid_request", blank.text

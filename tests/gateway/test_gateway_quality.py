"""数据质量 on the gateway (decision 0024): a service's rule failures, folded from its events, beside the value in
审核 and on the city office's page (newest period first, exportable); a resolution closes the flag."""

from __future__ import annotations

import csv
import io

from tests.conftest import CITY, ZHANGDIAN
from tests.gateway.test_gateway_review import gateway, listed, submit  # noqa: F401 - the gateway fixture
from tests.support.identity import sign_in
from tests.support.views import fold_all, outbox_events

RULE = {
    "name": "薄弱学校改造数不超过新改扩建数",
    "left": "T003-2",
    "operator": "<=",
    "right": "T003-1",
    "importance": "high",
    "instruction": "完成改造的薄弱学校数不应超过新改扩建中小学数，请核对两项数据",
}


def value(indicator, amount, period="2022-06", org_unit="370303", **extra):
    return {"indicator": indicator, "org_unit": org_unit, "period": period, "value": amount, **extra}


def test_the_reviewer_sees_the_flag_beside_the_value_and_the_page_lists_it(campaign_client, gateway):  # noqa: F811
    education = campaign_client("education")
    assert education.post("/api/v1/quality/rules", json=RULE, headers=CITY).status_code == 201
    submit(education, value("T003-1", 3), ZHANGDIAN)
    flagged = submit(education, value("T003-2", 5, note="含异地重建后改造的学校，已核实"), ZHANGDIAN)
    submit(education, value("T003-1", 1, period="2022-05"), ZHANGDIAN)
    submit(education, value("T003-2", 4, period="2022-05", note="已核实"), ZHANGDIAN)
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-city-office")

    rows = {(r["indicator"], r["period"]): r for r in listed(gateway)["data"]}
    [flag] = rows[("T003-2", "2022-06")]["quality"]
    assert flag["report_id"] == flagged["id"] and flag["importance_label"] == "高"
    assert (flag["left_value"], flag["right_value"]) == (5, 3)
    assert flag["explained"] == "含异地重建后改造的学校，已核实" and flag["instruction"] == RULE["instruction"]
    assert [f["rule"] for f in rows[("T003-1", "2022-06")]["quality"]] == [flag["rule"]]  # both sides show it

    page = gateway.get("/api/v1/quality/flags").json()
    assert page["count"] == 2 and page["open"] == 2
    assert [f["period"] for f in page["data"]] == ["2022-06", "2022-05"]  # newest period first
    assert gateway.get("/api/v1/quality/flags", params={"period": "2022-05"}).json()["count"] == 1
    export = gateway.get("/api/v1/quality/flags/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["行动", "单位", "期间"] and lines[1][1] == "张店区" and lines[1][-1] == "未解决"

    # Zhangdian corrects the other side: the flag is resolved, gone from 审核, kept on the page as resolved
    submit(education, value("T003-1", 6), ZHANGDIAN)
    fold_all(gateway, outbox_events(education))
    rows = {(r["indicator"], r["period"]): r for r in listed(gateway)["data"]}
    assert rows[("T003-2", "2022-06")]["quality"] == []
    page = gateway.get("/api/v1/quality/flags").json()
    assert page["count"] == 2 and page["open"] == 1
    assert gateway.get("/api/v1/quality/flags", params={"open_only": True}).json()["data"][0]["period"] == "2022-05"


def test_the_quality_page_is_the_city_offices(campaign_client, gateway):  # noqa: F811
    sign_in(gateway, "demo-zhangdian")
    refused = gateway.get("/api/v1/quality/flags")
    assert refused.status_code == 403 and refused.json()["code"] == "city_office_only"


def test_the_outliers_of_a_period_show_why(campaign_client, gateway):  # noqa: F811
    education = campaign_client("education")
    values = {"370302": 3, "370303": 40, "370304": 4, "370305": 3, "370306": 5, "370321": 4, "370322": 3}
    rows = [value("T003-1", amount, org_unit=unit) for unit, amount in values.items()]
    assert education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY).status_code == 201
    fold_all(gateway, outbox_events(education))
    sign_in(gateway, "demo-city-office")

    answer = gateway.get("/api/v1/quality/outliers").json()
    assert answer["period"] == "2022-06" and answer["threshold"] == 3.5  # the latest month reported
    [outlier] = answer["data"]
    assert (outlier["campaign"], outlier["indicator"], outlier["org_unit"], outlier["value"]) == (
        "education",
        "T003-1",
        "370303",
        40,
    )
    history, peers = outlier["scores"]
    assert history["score"] is None and history["explanation"].endswith("可比数据只有 0 个（少于 5 个），不计算分数")
    assert peers["outlier"] and "中位数 3.5" in peers["explanation"]
    assert gateway.get("/api/v1/quality/outliers", params={"period": "2022-05"}).json()["data"] == []


def test_a_follow_up_mark_is_in_the_districts_inbox_and_no_one_elses(campaign_client, gateway):  # noqa: F811
    """Issue 30 point 3: the city office marks Zhangdian's approved value 待核实; Zhangdian's 我的待办 shows it to
    answer (with the office's question, then its own answer); the education bureau (which owes the city's figure,
    not the district's) and a viewer do not see it; closed, it is gone."""
    education = campaign_client("education")
    report = submit(education, value("T003-1", 3), ZHANGDIAN)
    assert education.post(f"/api/v1/reports/{report['id']}/approve", headers=CITY).status_code == 200
    opened = education.post(
        "/api/v1/quality/follow-ups", json={"report_id": report["id"], "comment": "比上月多一倍，请核实"}, headers=CITY
    )
    assert opened.status_code == 201, opened.text
    mark = opened.json()["id"]
    fold_all(gateway, outbox_events(education))

    def follow_ups(account):
        sign_in(gateway, account)
        inbox = gateway.get("/api/v1/inbox", params={"state": "follow_up"})
        assert inbox.status_code == 200, inbox.text
        return inbox.json()["data"]

    [item] = follow_ups("demo-zhangdian")
    assert (item["kind"], item["kind_label"], item["state_label"]) == ("follow_up", "数据核实", "待核实")
    assert (item["follow_up"], item["report_id"], item["value"]) == (mark, report["id"], 3)
    assert (item["indicator_id"], item["period"], item["follow_up_comment"]) == (
        "T003-1",
        "2022-06",
        "比上月多一倍，请核实",
    )
    # in the unfiltered inbox too, first
    assert gateway.get("/api/v1/inbox").json()["data"][0]["follow_up"] == mark
    assert follow_ups("demo-education-bureau") == [] and follow_ups("demo-viewer") == []
    vocabulary = gateway.get("/api/v1/vocabulary").json()
    assert {"key": "follow_up", "label": "数据核实"} in vocabulary["inbox_kind"]

    education.post(f"/api/v1/quality/follow-ups/{mark}/answers", json={"comment": "新建两所学校"}, headers=ZHANGDIAN)
    fold_all(gateway, outbox_events(education))
    [item] = follow_ups("demo-zhangdian")
    assert item["follow_up_answer"] == "新建两所学校"
    education.post(f"/api/v1/quality/follow-ups/{mark}/close", json={"comment": "已核对"}, headers=CITY)
    fold_all(gateway, outbox_events(education))
    assert follow_ups("demo-zhangdian") == []


def test_the_quality_page_lists_the_open_marks_first(campaign_client, gateway):  # noqa: F811
    education = campaign_client("education")
    marks = []
    for period in ("2022-05", "2022-06"):
        report = submit(education, value("T003-1", 3, period=period), ZHANGDIAN)
        education.post(f"/api/v1/reports/{report['id']}/approve", headers=CITY)
        body = {"report_id": report["id"], "comment": f"{period} 请核实"}
        marks.append(education.post("/api/v1/quality/follow-ups", json=body, headers=CITY).json()["id"])
    education.post(f"/api/v1/quality/follow-ups/{marks[1]}/close", json={"comment": "已核对"}, headers=CITY)
    fold_all(gateway, outbox_events(education))

    sign_in(gateway, "demo-city-office")
    listed_marks = gateway.get("/api/v1/quality/follow-ups").json()
    assert [(m["follow_up"], m["closed_at"] is None) for m in listed_marks] == [(marks[0], True), (marks[1], False)]
    assert listed_marks[0]["comment"] == "2022-05 请核实" and listed_marks[0]["org_unit"] == "370303"
    assert [m["state_label"] for m in listed_marks] == ["待核实", "已核实"]
    assert [m["follow_up"] for m in gateway.get("/api/v1/quality/follow-ups", params={"open_only": True}).json()] == [
        marks[0]
    ]
    sign_in(gateway, "demo-zhangdian")
    assert gateway.get("/api/v1/quality/follow-ups").status_code == 403

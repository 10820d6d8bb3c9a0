"""填报完成情况 (GET /api/v1/completeness): per lead department and per district, what is owed this period
and how much is handed in and approved, counted the way each clerk's own inbox counts it."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.clock import CHINA
from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN
from tests.support.identity import sign_in, views_gateway
from tests.support.inbox import TODAY, inbox, report
from tests.support.views import fold_all, outbox_events


@pytest.fixture
def gateway(make_database):
    with views_gateway(make_database("gateway"), today=TODAY) as client:
        yield client


def completeness(client, **params) -> dict:
    answer = client.get("/api/v1/completeness", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_completeness_counts_what_each_department_and_district_owes_as_their_inbox_does(campaign_client, gateway):
    education = campaign_client("education")
    report(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03", "value": 2}, ZHANGDIAN)
    returned = report(
        education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-02", "value": 1}, ZHANGDIAN
    )
    assert (
        education.post(f"/api/v1/reports/{returned}/return", json={"reason": "口径不符"}, headers=CITY).status_code
        == 200
    )
    approved = report(
        education, {"indicator": "T002-1", "org_unit": "370300", "period": "2023-03", "value": 9}, EDU_BUREAU
    )
    assert education.post(f"/api/v1/reports/{approved}/approve", headers=CITY).status_code == 200
    fold_all(gateway, outbox_events(education))

    answer = completeness(gateway)
    assert answer["as_of"] == TODAY.isoformat() and answer["period"] is None
    assert "2023-03" in answer["periods"] and "2022" in answer["periods"]  # this month and this year
    districts = {d["code"]: d for d in answer["districts"]}
    assert len(districts) == 11 and districts["370303"]["name"] == "张店区"
    departments = {d["name"]: d for d in answer["departments"]}
    assert departments["市教育局"]["code"] is None

    # The same figures as the clerk's own inbox shows for this period.
    sign_in(gateway, "demo-zhangdian")
    mine = inbox(gateway)["summary"]
    zhangdian = districts["370303"]
    assert (zhangdian["owed"], zhangdian["submitted"], zhangdian["approved"]) == (mine["owed"], 1, 0)
    assert zhangdian["share"] == mine["share_done"] == round(1 / mine["owed"], 4)
    # February's return is last period's: not counted in this period's row.
    assert zhangdian["returned"] == 0
    zichuan = districts["370302"]
    assert (zichuan["owed"], zichuan["submitted"], zichuan["share"]) == (zhangdian["owed"], 0, 0)

    sign_in(gateway, "demo-education-bureau")
    bureau = inbox(gateway)["summary"]
    edu = departments["市教育局"]
    assert (edu["owed"], edu["submitted"], edu["approved"]) == (bureau["owed"], 1, 1)
    assert edu["share"] == bureau["share_done"]

    # Another period: only what is owed for it.
    february = completeness(gateway, period="2023-02")
    assert february["period"] == "2023-02" and february["periods"] == ["2023-02"]
    zhangdian_feb = next(d for d in february["districts"] if d["code"] == "370303")
    assert (zhangdian_feb["submitted"], zhangdian_feb["returned"]) == (0, 1)
    sign_in(gateway, "demo-zhangdian")
    assert zhangdian_feb["owed"] == inbox(gateway, period="2023-02")["summary"]["owed"] > 0


def test_completeness_explains_a_bad_period_and_owes_nothing_before_the_plan(gateway):
    bad = gateway.get("/api/v1/completeness", params={"period": "2023-13"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period" and "月份" in bad.json()["detail"]
    future = completeness(gateway, period="2023-06")  # not ended yet on 2023-04-05: nothing is due
    assert future["periods"] == []
    assert all(row["owed"] == 0 and row["share"] is None for row in future["districts"] + future["departments"])


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2023, 4, day, hour, tzinfo=CHINA)


def test_a_past_day_is_replayed_as_the_reports_stood_at_its_end(campaign_client, gateway):
    """时间回溯 of reporting: completeness, overdue reports and a value's history count what had been handed in
    and decided by the end of the day asked for (Beijing time), not what is known now."""
    education = campaign_client("education")
    zhangdian = report(
        education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03", "value": 2}, ZHANGDIAN
    )
    assert education.post(f"/api/v1/reports/{zhangdian}/approve", headers=CITY).status_code == 200
    zichuan = report(education, {"indicator": "T002-1", "org_unit": "370302", "period": "2023-03", "value": 1}, CITY)
    # When each happened: Zhangdian handed March in on 04-03 and had it approved on 04-08; Zichuan handed
    # it in on 04-12, two days after it was due (04-10).
    when = {
        (zhangdian, "submitted"): _at(3, 9),
        (zhangdian, "approved"): _at(8, 23),
        (zichuan, "submitted"): _at(12, 0),
    }
    events = []
    for event in outbox_events(education):
        state = event.data.get("report") or {}
        moment = when.get((state.get("report_id"), state.get("status")))
        events.append(event.model_copy(update={"time": moment.astimezone(dt.UTC)}) if moment else event)
    fold_all(gateway, events)

    def march(day: str | None) -> dict[str, tuple[int, int]]:
        params = {"period": "2023-03"} | ({"as_of": day} if day else {})
        rows = completeness(gateway, **params)["districts"]
        return {r["code"]: (r["submitted"], r["approved"]) for r in rows if r["code"] in ("370303", "370302")}

    assert march("2023-04-02") == {"370303": (0, 0), "370302": (0, 0)}
    assert march("2023-04-05") == {"370303": (1, 0), "370302": (0, 0)}  # handed in, awaiting review
    assert march("2023-04-08") == {"370303": (1, 1), "370302": (0, 0)}  # approved before that day's end
    assert march(None) == {"370303": (1, 1), "370302": (1, 0)}  # what is known now
    assert completeness(gateway, as_of="2023-04-05")["as_of"] == "2023-04-05"

    def overdue(day: str) -> list[str]:
        answer = gateway.get("/api/v1/warnings/overdue", params={"as_of": day, "campaign": "education"})
        assert answer.status_code == 200, answer.text
        return [w["org_unit"] for w in answer.json() if w["id"] == "T002-1" and "2023-03" in w["reasons"][0]]

    assert "370302" in overdue("2023-04-11") and "370303" not in overdue("2023-04-11")
    # Zichuan's late report had arrived by the end of 04-12; those who never reported are still overdue.
    assert "370302" not in overdue("2023-04-12") and "370304" in overdue("2023-04-12")

    def history(day: str) -> list[tuple[str, str, bool]]:
        answer = gateway.get("/api/v1/indicators/T002-1/history", params={"as_of": day, "org_unit": "370303"})
        assert answer.status_code == 200, answer.text
        return [(r["period"], r["status"], r["official"]) for r in answer.json()]

    assert history("2023-04-02") == []
    assert history("2023-04-05") == [("2023-03", "submitted", False)]
    assert history("2023-04-09") == [("2023-03", "approved", True)]

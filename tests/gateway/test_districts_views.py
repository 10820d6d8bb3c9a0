"""区县 and 预警 reads of the gateway: the league tables' change since the previous period, and the overdue
reports listed as warnings.  A real education service makes the reports; its events are folded into a
gateway on its own database (PostgreSQL for both), dated 2022-12-31."""

from __future__ import annotations

import datetime as dt

from tests.conftest import ZHANGDIAN
from tests.support.views import approve, fold_all, outbox_events, scenario


def test_each_league_table_gives_the_ranks_of_its_previous_period_and_the_change(campaign_client, gateway):
    education = campaign_client("education")
    scenario(education)
    # Zhangdian's kindergartens reach their own target in December: the monthly table moves.
    approve(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2022-12", "value": 9}, ZHANGDIAN)
    assert all(fold_all(gateway, outbox_events(education)))

    matrix = gateway.get("/api/v1/districts", params={"as_of": "2023-01-15"}).json()
    monthly, quarterly, yearly = matrix["rankings"]
    assert (monthly["as_of"], monthly["previous_as_of"]) == ("2022-12-31", "2022-11-30")
    assert (quarterly["as_of"], quarterly["previous_as_of"]) == ("2022-12-31", "2022-09-30")
    assert (yearly["as_of"], yearly["previous_as_of"]) == ("2022-12-31", None)
    assert all(d["previous_rank"] is None and d["rank_change"] is None for d in yearly["districts"])

    for ranking, asked_on in ((monthly, "2022-12-15"), (quarterly, "2022-10-15")):
        earlier = gateway.get("/api/v1/districts", params={"as_of": asked_on}).json()
        (then,) = [r for r in earlier["rankings"] if r["routine"] == ranking["routine"]]
        assert then["as_of"] == ranking["previous_as_of"]
        before = {d["code"]: d for d in then["districts"]}
        for district in ranking["districts"]:
            assert district["previous_rank"] == before[district["code"]]["rank"]
            assert district["previous_score"] == before[district["code"]]["score"]
            if district["rank"] is not None and district["previous_rank"] is not None:
                assert district["rank_change"] == district["previous_rank"] - district["rank"]
    zhangdian = next(d for d in monthly["districts"] if d["code"] == "370303")
    assert zhangdian["score"] > zhangdian["previous_score"]


def test_a_district_is_scored_on_its_own_targets_and_the_rates_never_on_city_only_indicators(campaign_client, gateway):
    education = campaign_client("education")
    assert all(fold_all(gateway, outbox_events(education)))
    indicators = gateway.get("/api/v1/indicators", params={"limit": 500}).json()["data"]

    def own_targets(unit: str) -> set[str]:
        return {t["indicator_id"] for t in gateway.get(f"/api/v1/org-units/{unit}/targets").json()["data"]}

    assert any(i["city_only"] for i in indicators)

    def judged(unit_targets: set[str]) -> int:
        return sum(
            1 for i in indicators if not i["city_only"] and (i["id"] in unit_targets or i["aggregation"] != "sum")
        )

    matrix = gateway.get("/api/v1/districts", params={"as_of": "2023-01-15"}).json()
    assert "只统计全市数据的指标不计分" in matrix["scoring_rule"]
    for ranking in matrix["rankings"]:
        by_code = {d["code"]: d for d in ranking["districts"]}
        for unit in ("370303", "370302", "370390"):
            assert by_code[unit]["judged_indicators"] == judged(own_targets(unit)), unit


def test_overdue_reports_are_warnings_per_series_with_the_missed_periods_newest_first(campaign_client, gateway):
    education = campaign_client("education")
    scenario(education)
    assert all(fold_all(gateway, outbox_events(education)))

    answer = gateway.get("/api/v1/warnings/overdue", params={"campaign": "education", "limit": 2000})
    assert answer.status_code == 200, answer.text
    overdue = answer.json()
    assert overdue and {w["kind"] for w in overdue} == {"overdue"}
    assert {w["status_label"] for w in overdue} == {"逾期未报"}
    assert [w["since"] for w in overdue] == sorted((w["since"] for w in overdue), reverse=True)

    # Zhangdian reported June only: the other months of 2022 up to November are overdue (December is not
    # due until 2023-01-10).
    (zhangdian,) = [w for w in overdue if w["id"] == "T002-1" and w["org_unit"] == "370303"]
    assert zhangdian["org_unit_name"] == "张店区" and zhangdian["lead_departments"] == [
        "市教育局",
        "市自然资源和规划局",
    ]
    assert "2022-11" in zhangdian["reasons"][0] and "2022-06" not in zhangdian["reasons"][0]
    assert "等10期逾期未报" in zhangdian["reasons"][0]
    assert dt.datetime.fromisoformat(zhangdian["since"]).date() == dt.date(2022, 12, 11)

    # Filters: a district, a department; a day before anything was due lists nothing.
    zibo = gateway.get("/api/v1/warnings/overdue", params={"org_unit": "370302", "limit": 2000}).json()
    assert zibo and {w["org_unit"] for w in zibo} == {"370302"}
    led = gateway.get("/api/v1/warnings/overdue", params={"department": "市自然资源和规划局", "limit": 2000}).json()
    assert led and all("市自然资源和规划局" in w["lead_departments"] for w in led)
    assert gateway.get("/api/v1/warnings/overdue", params={"as_of": "2022-02-10"}).json() == []

"""方案 (GET /api/v1/plans): what the web app is told about the plans — horizon, phase, the periods its pickers
offer and 序时进度 — so that it derives none of them.  A real education service's catalog event brings the plan
into a gateway on its own database."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.catalog.document import PlanDoc, PlanState
from minsheng.catalog.models import Plan
from minsheng.progress.status import plan_time
from minsheng_gateway.plans.service import default_plan
from tests.support.identity import views_gateway
from tests.support.views import fold_all, outbox_events

TODAY = dt.date(2026, 12, 7)
NEXT = PlanDoc(
    code="demo-next-plan",
    name="【演示】下一个三年行动方案",
    start=dt.date(2025, 1, 1),
    end=dt.date(2027, 12, 31),
)


@pytest.fixture
def gateway(make_database):
    with views_gateway(make_database("gateway"), today=TODAY) as client:
        yield client


def add_plan(gateway, plan: PlanDoc) -> None:
    with gateway.app.state.database.session() as session:
        session.add(
            Plan(
                code=plan.code,
                name=plan.name,
                document_number=plan.document_number,
                start_date=plan.start,
                end_date=plan.end,
                state=plan.state,
                scoring=[rule.model_dump(mode="json") for rule in plan.scoring],
            )
        )
        session.commit()


def plans(gateway, **params) -> dict[str, dict]:
    answer = gateway.get("/api/v1/plans", params=params)
    assert answer.status_code == 200, answer.text
    return {plan["code"]: plan for plan in answer.json()}


def test_the_ended_plan_is_served_with_its_horizon_periods_and_time(campaign_client, gateway):
    fold_all(gateway, outbox_events(campaign_client("education")))
    (old,) = plans(gateway).values()
    assert old["span_label"] == "2022—2024年" and old["phase"] == "ended" and old["current"]
    assert old["start"] == "2022-01-01" and old["end"] == "2024-12-31"
    # The pickers offer the plan's periods, newest first, all over by now.
    assert [p["code"] for p in old["periods"]["year"]] == ["2024", "2023", "2022"]
    assert old["periods"]["month"][0] == {"code": "2024-12", "ended": True} and len(old["periods"]["month"]) == 36
    assert old["time_elapsed"] == 1.0
    # 序时进度 on the status's own time axis: the end of 30 June 2023 is (2023 + 181/365 − 2022) / 3.
    halfway = plans(gateway, as_of="2023-06-30")[old["code"]]["time_elapsed"]
    assert halfway == pytest.approx((plan_time(dt.date(2023, 6, 30)) - 2022) / 3)
    summary = gateway.get("/api/v1/city/summary", params={"as_of": "2023-06-30"})
    assert summary.status_code == 200 and summary.json()["time_elapsed"] == pytest.approx(halfway)


def test_the_plan_in_force_is_the_default_and_a_draft_is_not_served(campaign_client, gateway):
    fold_all(gateway, outbox_events(campaign_client("education")))
    add_plan(gateway, NEXT)
    add_plan(gateway, NEXT.model_copy(update={"code": "draft-plan", "name": "草拟中的方案", "state": PlanState.draft}))
    served = plans(gateway)
    assert set(served) == {NEXT.code, "zibo-gaopinzhi-minsheng"}
    current = served[NEXT.code]
    assert current["current"] and current["phase"] == "in_force" and not served["zibo-gaopinzhi-minsheng"]["current"]
    # This month has begun (it can be reported on) but has not ended (no bulletin, not yet owed).
    assert current["periods"]["month"][:2] == [{"code": "2026-12", "ended": False}, {"code": "2026-11", "ended": True}]
    assert [p["code"] for p in current["periods"]["year"]] == ["2026", "2025"]
    assert 0.6 < current["time_elapsed"] < 0.7


def test_the_default_plan_is_the_one_in_force_else_the_latest_begun_else_the_next():
    old = NEXT.model_copy(update={"code": "old", "start": dt.date(2022, 1, 1), "end": dt.date(2024, 12, 31)})
    later = NEXT.model_copy(update={"code": "later", "start": dt.date(2028, 1, 1), "end": dt.date(2030, 12, 31)})
    assert default_plan([old, NEXT, later], TODAY).code == NEXT.code
    assert default_plan([old, later], TODAY).code == "old"
    assert default_plan([later], TODAY).code == "later"
    assert default_plan([later.model_copy(update={"state": PlanState.draft})], TODAY) is None


def test_the_vocabulary_names_each_phase_of_a_plan(gateway):
    terms = {t["key"]: t["label"] for t in gateway.get("/api/v1/vocabulary").json()["plan_phase"]}
    assert terms == {
        "draft": "草稿",
        "not_started": "未开始",
        "in_force": "执行中",
        "ended": "已结束",
        "closed": "已关闭",
    }

"""月调度通报: the .docx the city office downloads, read back with python-docx; and the 演示数据 flag.

A campaign service holds the demo dataset for 2022 (loaded through its own write paths); its events
are folded into a gateway, whose tables alone the bulletin is drawn from."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlmodel import select

from minsheng.demo.loader import load_demo_data
from minsheng.messaging import IntegrationEvent, OutboxEvent
from minsheng.progress.model import Thresholds
from minsheng_gateway.bulletin.chinese import amount, chinese_date, chinese_month, percent
from minsheng_gateway.bulletin.service import rank_change
from minsheng_gateway.projection.fold import view_handlers
from minsheng_gateway.projection.progress import refresh
from minsheng_gateway.settings import GatewaySettings
from tests.conftest import CITY
from tests.support.identity import PRIVATE_KEY_PEM, sign_in

TODAY = dt.date(2023, 2, 1)


def test_dates_and_numbers_the_chinese_way():
    assert chinese_month(2024, 5) == "二〇二四年五月"
    assert chinese_month(2022, 12) == "二〇二二年十二月"
    assert chinese_date(dt.date(2024, 5, 31)) == "二〇二四年五月三十一日"
    assert chinese_date(dt.date(2023, 10, 10)) == "二〇二三年十月十日"
    assert amount(12345) == "1.23万" and amount(120000) == "12万" and amount(350000000) == "3.5亿"
    assert amount(670) == "670" and amount(4.5) == "4.5" and amount(None) == "—"
    assert percent(0.853) == "85.3%" and percent(1) == "100%"
    assert [rank_change(2, 4), rank_change(5, 3), rank_change(1, 1), rank_change(3, None)] == ["↑2", "↓2", "—", "新"]


@pytest.fixture
def gateway(campaign_client, make_database):
    import minsheng_gateway.main as gateway_main

    eldercare = campaign_client("eldercare")
    assert load_demo_data({"eldercare": eldercare}, CITY, today=TODAY, log=lambda _: None)["eldercare"] > 100
    with eldercare.app.state.database.session() as session:
        events = [IntegrationEvent.from_json_bytes(r.payload) for r in session.exec(select(OutboxEvent))]

    settings = GatewaySettings().model_copy(
        update={
            "database_url": make_database("gateway"),
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "catalog_retry_seconds": 3600,
            "jwt_private_key": PRIVATE_KEY_PEM,
            "demo_users": True,
            "demo_data": True,
        }
    )
    client = TestClient(gateway_main.build_app(settings))
    client.__enter__()
    client.app.state.clock = lambda: TODAY
    app = client.app
    handlers = view_handlers(
        lambda session, stale, slot: refresh(session, stale, Thresholds(), slot.catalog, TODAY), app.state.plans
    )
    for start in range(0, len(events), 500):
        with app.state.database.session() as session:
            handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events[start : start + 500]])
            session.commit()
    yield client
    client.__exit__(None, None, None)


def tables_by_header(document) -> dict[str, list[list[str]]]:
    return {
        table.rows[0].cells[0].text: [[c.text for c in row.cells] for row in table.rows] for table in document.tables
    }


def test_the_platform_says_it_holds_demo_data(gateway):
    answer = gateway.get("/api/v1/platform").json()
    assert answer["demo_data"] is True and answer["demo_users"] is True


def test_the_city_office_downloads_the_months_bulletin(gateway):
    sign_in(gateway, "demo-city-office")
    response = gateway.get("/api/v1/bulletins/monthly", params={"month": "2022-12"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''%E6%9C%88" in response.headers["content-disposition"]  # 月调度通报…
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "月调度通报" in text and "二〇二二年十二月" in text and "二〇二二年十二月三十一日" in text
    assert "总体情况" in text and "红榜" in text and "预警事项" in text

    tables = tables_by_header(document)
    # The ranking: the gateway's own 月调度 ranking to the end of December, with the change since November.
    ranking = tables["排名"]
    matrix = gateway.get("/api/v1/districts", params={"as_of": "2023-01-01"}).json()
    monthly = next(r for r in matrix["rankings"] if r["routine"] == "monthly_dispatch")
    assert monthly["as_of"] == "2022-12-31"
    assert [row[1] for row in ranking[1:]] == [d["name"] for d in monthly["districts"]]
    assert [row[2] for row in ranking[1:]] == [
        f"{d['score']:.1f}" if d["score"] is not None else "—" for d in monthly["districts"]
    ]
    assert ranking[0][-1] == "较上月" and all(row[-1][0] in "↑↓—新" for row in ranking[1:])

    # The month's warnings, with lead departments: the lagging 博山区 and 高青县 are there.
    warnings = tables["序号"]
    assert warnings[0] == ["序号", "指标", "单位", "状态", "牵头部门", "原因"]
    assert {row[2] for row in warnings[1:]} & {"博山区", "高青县"}
    assert all(row[3] in ("存在风险", "进度滞后") and row[4] for row in warnings[1:])
    assert any("市民政局" in row[4] for row in warnings[1:])

    # One table per campaign's headline targets, and the charts as images.
    assert "总体目标" in tables
    assert len(document.inline_shapes) >= 2


def test_only_the_city_office_and_only_ended_months_of_the_plan(gateway):
    assert gateway.get("/api/v1/bulletins/monthly", params={"month": "2022-12"}).status_code == 401
    sign_in(gateway, "demo-viewer")
    refused = gateway.get("/api/v1/bulletins/monthly", params={"month": "2022-12"})
    assert refused.status_code == 403 and "市民生办" in refused.json()["detail"]
    sign_in(gateway, "demo-city-office")
    for month, code in (("2022/06", "invalid_month"), ("2021-12", "month_outside_plan"), ("2023-02", "month_not_over")):
        answer = gateway.get("/api/v1/bulletins/monthly", params={"month": month})
        assert answer.status_code == 422 and answer.json()["code"] == code, answer.text


def test_the_bulletin_counts_the_months_supervision_orders_by_unit(gateway):
    """五、督办事项: opened and closed in December, open and overdue at its end, by lead unit."""
    office, department = TestClient(gateway.app), TestClient(gateway.app)
    csrf, department_csrf = sign_in(office, "demo-city-office"), sign_in(department, "demo-civil-affairs-bureau")
    app = gateway.app
    app.state.clock = lambda: dt.date(2022, 12, 5)
    app.state.utc_clock = lambda: dt.datetime(2022, 12, 5, 2, tzinfo=dt.UTC)

    def order(lead: dict, deadline: str) -> str:
        body = {
            "title": "督办事项",
            "instruction": "请抓紧推进",
            "subject": {"kind": "task", "ref": "task-39", "label": "任务39"},
            "lead_unit": lead,
            "deadline": deadline,
        }
        answer = office.post("/api/v1/supervision/orders", json=body, headers=csrf)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    civil = {"kind": "department", "code": "市民政局"}
    closed = order(civil, "2022-12-15")
    order(civil, "2022-12-20")  # not done by the month's end: overdue
    order({"kind": "org_unit", "code": "370304"}, "2023-01-31")  # 博山区: open, not yet due
    path = f"/api/v1/supervision/orders/{closed}"
    assert department.post(f"{path}/acknowledge", headers=department_csrf).status_code == 200
    answer = {"measures": "已完成", "expected_result": "达标", "expected_by": "2022-12-31"}
    assert department.post(f"{path}/answer", json=answer, headers=department_csrf).status_code == 200
    assert office.post(f"{path}/close", headers=csrf).status_code == 200
    app.state.clock = lambda: TODAY

    document = Document(io.BytesIO(office.get("/api/v1/bulletins/monthly", params={"month": "2022-12"}).content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "五、督办事项" in text
    assert "本月新交办督办事项3件、办结1件" in text and "尚未办结2件，其中超期1件" in text
    units = tables_by_header(document)["主办单位"]
    assert units == [
        ["主办单位", "本月交办", "本月办结", "未办结", "其中超期"],
        ["博山区", "1", "0", "1", "0"],
        ["市民政局", "2", "1", "1", "1"],
    ]
    # a month before any order: the section says none
    november = Document(io.BytesIO(office.get("/api/v1/bulletins/monthly", params={"month": "2022-11"}).content))
    assert "本月新交办督办事项0件、办结0件" in "\n".join(p.text for p in november.paragraphs)


def test_a_city_leader_reads_the_bulletin(gateway):
    sign_in(gateway, "demo-leader")
    assert gateway.get("/api/v1/bulletins/monthly", params={"month": "2022-12"}).status_code == 200

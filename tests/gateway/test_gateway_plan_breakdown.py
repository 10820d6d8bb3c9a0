"""The 任务分解表 on the gateway (city office only): the template from the gateway's own catalog, and the dry run of
a filled copy through the upload guard: what each campaign would get and every error by sheet, row and column;
a workbook unusable as a whole is a 4xx with the same error list; nothing is written to any database."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from urllib.parse import unquote

import httpx
import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from minsheng.catalog.breakdown import BREAKDOWN_SHEET, campaign_counts, parse_breakdown
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.catalog.loader import apply_catalog
from minsheng.demo.breakdown import DEMO_WORKBOOK
from minsheng.demo.loader import load_demo_data
from minsheng.demo.publication import close_ended_plan, publish_demo_plan
from minsheng.reporting.events import CATALOG_PUBLISHED
from minsheng.reporting.files import XLSX_MEDIA_TYPE
from minsheng_gateway.settings import GatewaySettings
from tests.conftest import CITY, ZHANGDIAN, campaign_at
from tests.support.breakdown import CONTEXT, DOCS, GOOD_ROWS, KNOWN, edited, filled
from tests.support.identity import API_KEY, PRIVATE_KEY_PEM, sign_in, views_gateway
from tests.support.views import fold_all, live_handlers, outbox_events

TEMPLATE = "/api/v1/plans/breakdown-template"
DRY_RUN = "/api/v1/plans/breakdown:dry-run"


@pytest.fixture
def gateway(make_database):
    """A gateway with the demo accounts and the five campaigns' catalogs (as it learns them from the services)."""
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
    client.app.state.clock = lambda: dt.date(2026, 12, 7)
    with client.app.state.database.session() as session:
        for doc in DOCS:
            apply_catalog(session=session, doc=doc, catalog=client.app.state.catalog)
        session.commit()
    yield client
    client.__exit__(None, None, None)


def upload(client: TestClient, content: bytes, csrf: dict, name: str = "任务分解表.xlsx"):
    return client.post(DRY_RUN, headers=csrf, files={"file": (name, content, XLSX_MEDIA_TYPE)})


def row_counts(client: TestClient) -> dict[str, int]:
    engine = client.app.state.database.engine
    with engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        return {t: connection.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def test_the_city_office_downloads_the_template_with_the_gateways_departments_and_districts(gateway):
    sign_in(gateway, "demo-city-office")
    response = gateway.get(TEMPLATE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    disposition = response.headers["content-disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "任务分解表模板.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:3] == [BREAKDOWN_SHEET, "方案", "说明"]
    header = [c.value for c in book[BREAKDOWN_SHEET][1]]
    assert "370303 张店区" in header and "接续指标" in header
    options = [row for row in book["选项"].iter_rows(values_only=True)]
    leads = [row[1] for row in options[1:] if row[1]]
    assert leads == CONTEXT["departments"]  # the gateway's catalog: every department leading a task, in order


def test_the_demonstration_workbook_dry_runs_clean_and_nothing_is_written(gateway):
    csrf = sign_in(gateway, "demo-city-office")
    before = row_counts(gateway)
    response = upload(gateway, DEMO_WORKBOOK.read_bytes(), csrf)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["errors"] == [] and body["warnings"] == []
    assert (
        body["plan"]["name"].startswith("【演示】") and body["plan"]["start_year"] <= 2026 <= body["plan"]["end_year"]
    )
    assert "试运行通过" in body["summary"] and "本次没有创建任何数据" in body["summary"]
    expected = {
        c.code: c
        for c in campaign_counts(parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT))
    }
    assert [c["code"] for c in body["campaigns"]] == ["education", "health", "eldercare", "employment", "livability"]
    for campaign in body["campaigns"]:
        counts = expected[campaign["code"]]
        assert (campaign["tasks"], campaign["indicators"], campaign["district_targets"]) == (
            counts.tasks,
            counts.indicators,
            counts.district_targets,
        )
        assert 1 <= len(campaign["preview"]) <= 5
    first = body["campaigns"][0]["preview"][0]
    assert first["number"] == 1 and first["indicators"][0].startswith("T001-1 ")
    eldercare = {task["number"]: task for task in body["campaigns"][2]["preview"]}
    assert eldercare[14]["indicators"][1].endswith("（须附佐证）")  # the 须附佐证 column's 是
    assert not eldercare[14]["indicators"][0].endswith("（须附佐证）")
    assert row_counts(gateway) == before  # a dry run stores nothing
    with gateway.app.state.database.session() as session:
        plans = session.exec(sa.text("SELECT code FROM plan")).all()
    assert [p[0] for p in plans] == ["zibo-gaopinzhi-minsheng"]


def test_every_error_is_answered_by_sheet_row_and_column_in_chinese(gateway):
    csrf = sign_in(gateway, "demo-city-office")
    rows = [dict(r) for r in GOOD_ROWS]
    rows[0] |= {"lead": "市教育厅"}
    rows[4] |= {"number": 1}
    response = upload(gateway, filled(rows), csrf)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False and "发现 2 处错误" in body["summary"]
    assert [(e["code"], e["sheet"], e["row"], e["column"], e["column_name"]) for e in body["errors"]] == [
        ("unknown_department", BREAKDOWN_SHEET, 2, "E", "主办单位"),
        ("duplicate_number", BREAKDOWN_SHEET, 6, "B", "序号"),
    ]
    assert "「市教育厅」不在部门名单中" in body["errors"][0]["message"]


def rename_header(book):
    book[BREAKDOWN_SHEET]["D1"] = "具体工作"


def zeros_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(40 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "status", "code"),
    [
        (b"indicator,org_unit\n", "任务分解表.csv", 422, "not_xlsx"),
        (filled(edit=rename_header), "任务分解表.xlsx", 422, "bad_header"),
        (b"PK\x03\x04" + bytes(100), "任务分解表.xlsx", 422, "unreadable_file"),  # refused by the upload guard
        (zeros_archive(), "任务分解表.xlsx", 413, "upload_too_large_unpacked"),  # the guard's zip-bomb limits
    ],
)
def test_a_workbook_unusable_as_a_whole_is_a_4xx_with_the_same_error_list(gateway, content, name, status, code):
    csrf = sign_in(gateway, "demo-city-office")
    before = row_counts(gateway)
    response = upload(gateway, content, csrf, name=name)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["errors"][0]["code"] == code
    assert body["errors"][0]["message"] and not body["detail"].isascii()
    assert row_counts(gateway) == before


@pytest.mark.parametrize("username", ["demo-education-bureau", "demo-zhangdian", "demo-viewer"])
def test_only_the_city_office_may_download_or_dry_run(gateway, username):
    csrf = sign_in(gateway, username)
    for response in (gateway.get(TEMPLATE), upload(gateway, DEMO_WORKBOOK.read_bytes(), csrf)):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "city_office_only" and "市民生办" in response.json()["detail"]


def test_a_system_key_and_an_anonymous_caller_are_refused(gateway):
    assert gateway.get(TEMPLATE, headers=API_KEY).status_code == 403
    refused = gateway.post(
        DRY_RUN, headers=API_KEY, files={"file": ("a.xlsx", DEMO_WORKBOOK.read_bytes(), XLSX_MEDIA_TYPE)}
    )
    assert refused.status_code == 403
    assert gateway.get(TEMPLATE).status_code == 401
    assert gateway.post(DRY_RUN, files={"file": ("a.xlsx", b"x", XLSX_MEDIA_TYPE)}).status_code == 401


PUBLISH = "/api/v1/plans/breakdown:publish"
DEMO_PLAN = "demo-minsheng-2025-2027"
LEGACY_PLAN = "zibo-gaopinzhi-minsheng"


@pytest.fixture
def publishing(make_database, campaign_client):
    """The gateway (with the five catalogs) and the five campaign services it publishes to, in-process."""
    services = {campaign: campaign_client(campaign) for campaign in CAMPAIGN_CODES}
    for service in services.values():
        service.app.state.clock = lambda: dt.date(2026, 12, 7)
    down: set[str] = set()

    def to_service(request: httpx.Request) -> httpx.Response:
        campaign = campaign_at(request.url)
        if campaign in down:
            raise httpx.ConnectError("refused", request=request)
        answer = services[campaign].request(
            request.method, request.url.raw_path.decode(), headers=dict(request.headers), content=request.content
        )
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    with views_gateway(make_database("gateway"), today=dt.date(2026, 12, 7)) as client:
        client.app.state.service_transport = httpx.MockTransport(to_service)
        with client.app.state.database.session() as session:
            for doc in DOCS:
                apply_catalog(session=session, doc=doc, catalog=client.app.state.catalog)
            session.commit()
        yield client, services, down


def publish(client: TestClient, content: bytes, csrf: dict):
    return client.post(PUBLISH, headers=csrf, files={"file": ("任务分解表.xlsx", content, XLSX_MEDIA_TYPE)})


def test_publishing_the_workbook_creates_the_plan_in_all_five_services_once(publishing):
    client, services, down = publishing
    csrf = sign_in(client, "demo-city-office")
    expected = {
        c.code: c
        for c in campaign_counts(parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT))
    }
    down.add("livability")
    partly = publish(client, DEMO_WORKBOOK.read_bytes(), csrf)
    assert partly.status_code == 201, partly.text
    assert partly.json()["published"] is False and "文明宜居" in partly.json()["summary"]
    assert [c["status_code"] for c in partly.json()["campaigns"]] == [201, 201, 201, 201, 502]

    down.clear()  # publishing again completes it; what was created stays as it was
    answer = publish(client, DEMO_WORKBOOK.read_bytes(), csrf)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["code"] == DEMO_PLAN and body["published"] is True and body["name"].startswith("【演示】")
    assert [(c["campaign"], c["status_code"], c["changed"]) for c in body["campaigns"]] == [
        ("education", 200, False),
        ("health", 200, False),
        ("eldercare", 200, False),
        ("employment", 200, False),
        ("livability", 201, True),
    ]
    assert {c["campaign"]: (c["tasks"], c["indicators"]) for c in body["campaigns"]} == {
        code: (counts.tasks, counts.indicators) for code, counts in expected.items()
    }
    for campaign, service in services.items():
        plans = service.get("/api/v1/plans").json()
        assert [p["code"] for p in plans] == ["zibo-gaopinzhi-minsheng", DEMO_PLAN], campaign
        assert plans[1]["state"] == "published"
        tasks = service.get(f"/api/v1/tasks?plan={DEMO_PLAN}").json()["count"]
        assert tasks == expected[campaign].tasks, campaign
    # 协办单位 travel with the catalog: each service keeps its tasks', the gateway learns them from the catalog events.
    task = services["education"].get(f"/api/v1/tasks/1?plan={DEMO_PLAN}").json()
    assert task["lead_departments"] == ["市教育局"]
    assert task["partner_departments"] == ["市自然资源和规划局", "市住房城乡建设局"]
    catalogs = [e for service in services.values() for e in outbox_events(service) if e.type == CATALOG_PUBLISHED]
    fold_all(client, catalogs)
    for number, partners in ((1, ["市自然资源和规划局", "市住房城乡建设局"]), (27, ["各区县（功能区）"]), (7, [])):
        learnt = client.get(f"/api/v1/tasks/{number}", params={"plan": DEMO_PLAN}).json()
        assert learnt["partner_departments"] == partners, learnt


def test_a_workbook_with_errors_is_refused_and_nothing_is_published(publishing):
    client, services, _ = publishing
    csrf = sign_in(client, "demo-city-office")
    rows = [dict(r) for r in GOOD_ROWS]
    rows[0] |= {"lead": "市教育厅"}
    refused = publish(client, filled(rows), csrf)
    assert refused.status_code == 422 and refused.json()["code"] == "breakdown_invalid", refused.text
    assert refused.json()["errors"][0]["code"] == "unknown_department" and "未发布" in refused.json()["detail"]
    for service in services.values():
        assert [p["code"] for p in service.get("/api/v1/plans").json()] == ["zibo-gaopinzhi-minsheng"]
    bureau = sign_in(client, "demo-education-bureau")
    assert publish(client, DEMO_WORKBOOK.read_bytes(), bureau).json()["code"] == "city_office_only"


def test_make_run_publishes_the_demonstration_plan_and_zhangdian_sees_this_months_work(publishing):
    """What `make run` does after the 2022–2024 plan's demo data (deploy/run_local.py `load_demo_plans`): the ended
    plan closed, the 【演示】 2025–2027 plan published from its workbook through the gateway, demo reports up to what
    fell due.  张店区's clerk on 2026-12-07 then sees, by default, the plan in force: November owed this month (due
    12-10), a few series late in red, and the old plan one `?plan=` away, closed."""
    client, services, _ = publishing
    lines: list[str] = []
    assert close_ended_plan(client, LEGACY_PLAN, log=lines.append) is True
    assert publish_demo_plan(client, log=lines.append) == DEMO_PLAN
    loaded = load_demo_data(services, CITY, today=dt.date(2026, 12, 7), plan=DEMO_PLAN, log=lines.append)
    assert all(loaded[c] > 0 for c in CAMPAIGN_CODES), lines
    # Again, as a second `make run` would: nothing changes, nothing is loaded twice.
    assert publish_demo_plan(client, log=lines.append) == DEMO_PLAN
    assert load_demo_data(
        services, CITY, today=dt.date(2026, 12, 7), plan=DEMO_PLAN, log=lambda _: None
    ) == dict.fromkeys(services, 0)

    handlers = live_handlers(client.app)
    events = [e for service in services.values() for e in outbox_events(service)]
    for start in range(0, len(events), 500):
        with client.app.state.database.session() as session:
            batch = events[start : start + 500]
            handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in batch])
            session.commit()

    plans = {p["code"]: p for p in client.get("/api/v1/plans").json()}
    assert plans[DEMO_PLAN]["current"] is True and plans[DEMO_PLAN]["phase"] == "in_force"
    assert plans[LEGACY_PLAN]["phase"] == "closed"

    sign_in(client, "demo-zhangdian")
    inbox = client.get("/api/v1/inbox", params={"limit": 500})
    assert inbox.status_code == 200, inbox.text
    page = inbox.json()
    assert "2026-11" in page["summary"]["periods"] and page["summary"]["owed"] > 0
    owed_now = [r for r in page["data"] if r["period"] == "2026-11"]
    assert owed_now and all(r["state"] == "not_reported" and not r["overdue"] for r in owed_now)
    assert str(owed_now[0]["due_date"]) == "2026-12-10"
    late = [r for r in page["data"] if r["overdue"]]
    assert 0 < page["summary"]["overdue"] < page["summary"]["owed"] * 2 and late
    assert all(r["org_unit"] == "370303" for r in page["data"])
    # 张店区 partners two tasks as one of 各区县（功能区）: their parts are in, a late one here and there at most.
    parts = [r for r in page["data"] if r["kind"] == "partner_part"]
    assert {r["task"] for r in parts if r["current"]} == {8, 27}
    assert sum(1 for r in parts if r["overdue"]) <= 2
    old = client.get("/api/v1/inbox", params={"plan": LEGACY_PLAN, "limit": 1}).json()
    assert old["summary"]["periods"] != page["summary"]["periods"]
    # The gateway's figures are the services' own, plan by plan (both plans compared).
    consistency = client.get("/api/v1/consistency").json()
    assert consistency["plans"] == [DEMO_PLAN, LEGACY_PLAN] and consistency["differences"] == []
    assert consistency["consistent"] is True and sum(consistency["compared"].values()) > 1000


def approved(service: TestClient, plan: str, indicator: str, period: str, value: float) -> None:
    """张店区's figure, submitted by its clerk and approved by the city office, in `plan`."""
    body = {"indicator": indicator, "org_unit": "370303", "period": period, "value": value}
    created = service.post("/api/v1/reports", params={"plan": plan}, json=body, headers=ZHANGDIAN)
    assert created.status_code == 201, created.text
    report = created.json()["id"]
    assert service.post(f"/api/v1/reports/{report}/approve", params={"plan": plan}, headers=CITY).status_code == 200


def test_the_demonstration_plans_indicator_continues_its_2022_2024_series_for_a_district(publishing):
    """接续指标 (issue 26, point 6): the demonstration plan's T001-1 (新改扩建公办幼儿园数量) continues the 2022–2024
    plan's T002-1, as its workbook says.  Once both plans' events are folded, 张店区's T001-1 page shows the old
    plan's approved figures, then its own, each plan's stretch with its span and its own target for 张店区."""
    client, services, _ = publishing
    education = services["education"]
    approved(education, LEGACY_PLAN, "T002-1", "2023-06", 3)
    approved(education, LEGACY_PLAN, "T002-1", "2024-03", 2)
    assert publish_demo_plan(client, log=lambda _: None) == DEMO_PLAN
    approved(education, DEMO_PLAN, "T001-1", "2025-06", 2)
    approved(education, DEMO_PLAN, "T001-1", "2026-03", 4)
    # The service stores the link with the plan it resolved to, and publishes it in the catalog document.
    catalog = education.get("/api/v1/catalog", params={"plan": DEMO_PLAN}).json()
    first = catalog["items"][0]["tasks"][0]["indicators"][0]
    assert (first["code"], first["continues"]) == ("T001-1", {"plan": LEGACY_PLAN, "indicator": "T002-1"})

    handlers = live_handlers(client.app)
    events = [e for service in services.values() for e in outbox_events(service)]
    assert any(e.data.get("plan") == DEMO_PLAN for e in events) and any("plan" not in e.data for e in events)
    with client.app.state.database.session() as session:
        handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
        session.commit()

    sign_in(client, "demo-zhangdian")
    answer = client.get("/api/v1/indicators/T001-1/trajectory", params={"plan": DEMO_PLAN, "org_unit": "370303"})
    assert answer.status_code == 200, answer.text
    spans = answer.json()["spans"]
    assert [(s["plan"], s["indicator"], s["span_label"], s["current"]) for s in spans] == [
        (LEGACY_PLAN, "T002-1", "2022—2024年", False),
        (DEMO_PLAN, "T001-1", "2025—2027年", True),
    ]
    # The old plan's figures, then the new plan's: each a running total within its own plan.
    assert [(p["period"], p["value"], p["plotted"]) for s in spans for p in s["points"]] == [
        ("2023-06", 3, 3),
        ("2024-03", 2, 5),
        ("2025-06", 2, 2),
        ("2026-03", 4, 6),
    ]
    # Each plan's own target for 张店区 (its district share in that plan), in words for the chart and its table.
    assert [(s["target_value"], s["target_label"]) for s in spans] == [
        (10, "2022—2024年目标 ≥10处（2024年）"),
        (8, "2025—2027年目标 ≥8处（2027年）"),
    ]
    assert spans[0]["label"] == "2022—2024年方案 T002-1 新改扩建公办幼儿园数量"
    assert (spans[0]["start"], spans[0]["end"]) == ("2022-01-01", "2024-12-31")

    # `?plan=` still chooses the plan the page is about: the old plan's T002-1 continues nothing; the new plan's
    # T002-1 is another indicator (新改扩建中小学数量), continuing the old plan's T003-1.
    old = client.get("/api/v1/indicators/T002-1/trajectory", params={"plan": LEGACY_PLAN, "org_unit": "370303"})
    assert old.status_code == 200 and old.json()["spans"] == [], old.text
    schools = client.get("/api/v1/indicators/T002-1/trajectory", params={"plan": DEMO_PLAN, "org_unit": "370303"})
    assert [(s["plan"], s["indicator"]) for s in schools.json()["spans"]] == [
        (LEGACY_PLAN, "T003-1"),
        (DEMO_PLAN, "T002-1"),
    ]


def fold_outboxes(client: TestClient, services: dict, since: dict[str, int] | None = None) -> dict[str, int]:
    """The services' events (after `since`'s counts) folded into the gateway, as its consumer would; the counts."""
    handlers = live_handlers(client.app)
    seen = {}
    for campaign, service in services.items():
        events = outbox_events(service)
        seen[campaign] = len(events)
        with client.app.state.database.session() as session:
            fresh = events[(since or {}).get(campaign, 0) :]
            handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in fresh])
            session.commit()
    return seen


def amended_demo(book) -> None:
    """新增优质学位数量 (T002-2) raised to 32000; 公办园在园幼儿占比 (T001-2, the row under T001-1) taken out."""
    sheet = book[BREAKDOWN_SHEET]
    assert sheet["G5"].value == "新增优质学位数量" and sheet["G3"].value == "公办园在园幼儿占比"
    sheet["J5"] = 32000
    sheet.delete_rows(3)


def test_an_amendment_is_dry_run_against_the_published_catalog_then_published_as_a_new_version(publishing):
    """Issue 26, point 5: the published demonstration plan amended with its own workbook, changed.  The dry run says
    per campaign what would be added, changed and retired against the plan as published, warns that the retired
    indicator holds a report, and changes nothing; publishing makes version 2 in education alone."""
    client, services, _ = publishing
    csrf = sign_in(client, "demo-city-office")
    assert publish(client, DEMO_WORKBOOK.read_bytes(), csrf).status_code == 201
    approved(services["education"], DEMO_PLAN, "T001-2", "2025", 66)
    folded = fold_outboxes(client, services)
    content = edited(DEMO_WORKBOOK.read_bytes(), amended_demo)

    dry = upload(client, content, csrf)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["ok"] is True and body["amends"] is True, body
    assert "发布即修订" in body["summary"] and "停用 1 项" in body["summary"] and "1 份报送" in body["summary"]
    campaigns = {c["code"]: c for c in body["campaigns"]}
    education = campaigns["education"]["amendment"]
    assert education["retired_labels"] == ["指标 T001-2"] and "指标 T002-2" in education["updated_labels"]
    assert education["created"] == 0 and campaigns["education"]["retired_reports"] == 1
    assert "1 份报送" in campaigns["education"]["warning"]
    for code in ("health", "eldercare", "employment", "livability"):
        assert campaigns[code]["amendment"] == {
            "created": 0,
            "updated": 0,
            "retired": 0,
            "created_labels": [],
            "updated_labels": [],
            "retired_labels": [],
        }, code
        assert campaigns[code]["warning"] is None
    assert services["education"].get(f"/api/v1/indicators/T001-2?plan={DEMO_PLAN}").status_code == 200  # unchanged

    answer = publish(client, content, csrf)
    assert answer.status_code == 201 and answer.json()["published"] is True, answer.text
    published = {c["campaign"]: c for c in answer.json()["campaigns"]}
    assert published["education"]["version"] == 2 and published["education"]["changed"] is True
    assert published["education"]["diff"]["retired_labels"] == ["指标 T001-2"]
    assert all(published[c]["version"] is None and not published[c]["changed"] for c in CAMPAIGN_CODES[1:])
    assert services["education"].get(f"/api/v1/indicators/T001-2?plan={DEMO_PLAN}").status_code == 404

    fold_outboxes(client, services, since=folded)
    again = upload(client, content, csrf).json()  # the gateway learnt the amendment: nothing more to change
    assert again["amends"] is True and "发布不会形成新版本" in again["summary"], again["summary"]

    versions = client.get(f"/api/v1/plans/{DEMO_PLAN}/versions")
    assert versions.status_code == 200, versions.text
    history = {c["campaign"]: c["versions"] for c in versions.json()["campaigns"]}
    assert [v["version"] for v in history["education"]] == [2, 1]
    assert history["education"][0]["changes"]["retired_labels"] == ["指标 T001-2"]
    assert "市民生办" in history["education"][0]["published_by"]
    assert all([v["version"] for v in history[c]] == [1] for c in CAMPAIGN_CODES[1:])
    sign_in(client, "demo-education-bureau")
    assert client.get(f"/api/v1/plans/{DEMO_PLAN}/versions").json()["code"] == "city_office_only"

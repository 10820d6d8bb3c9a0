"""The notifier at month-end: the day's digests of the whole city computed and sent (target: within a minute), and
its work per consumed event; and the gateway's side of it, `/internal/notifier/owed` for the whole city.

The feed of what is owed stands in for the gateway (an `httpx.MockTransport` answering `/internal/notifier/owed`
with the city's accounts and every series they owe, all due today); the notifier's database is real PostgreSQL and
its e-mail goes to a real SMTP server (aiosmtpd) on 127.0.0.1.

The gateway's feed is timed apart (`owed_feed`): a gateway process on a database holding as many reports as the demo
dataset (`minsheng.demo.generator.demo_rows`, seeded as bench (c) seeds its stores), with the demo accounts and an
account for every district and every lead department of the five catalogs, asked for the whole city's owed feed
the notifier asks for each round (today, 3 days ahead), one request after the other."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import time

import httpx
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from bench.bench_summary import seed
from bench.data import catalogs
from bench.infra import (
    BenchResult,
    Databases,
    Outcome,
    free_port,
    gateway_env,
    percentile,
    print_table,
    process_env,
    start_broker,
    start_uvicorn,
    wait_ready,
    wait_settled,
)
from minsheng.auth.models import Role
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.clock import CHINA, today_in_china
from minsheng.demo.generator import demo_rows
from minsheng.messaging import IntegrationEvent
from minsheng.orgunits import ALL_DISTRICTS, CITY_CODE, ORG_UNITS
from minsheng.reporting.events import ReportChanged, ReportState
from minsheng_notifier.facts.handlers import notifier_handlers
from minsheng_notifier.main import build_app
from minsheng_notifier.planner import plan_day
from minsheng_notifier.sender import send_due
from minsheng_notifier.settings import NotifierSettings

DISTRICTS = 9  # Zibo's districts and counties (and its zones) that report for themselves
BUREAUS = 40  # the city departments that lead tasks
TARGET_SECONDS = 60.0
OWED_KEY = "bench-notifier-key"
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd says every command at INFO


class _Count:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.received += 1
        return "250 OK"


def _feed(day: dt.date, district_items: int, bureau_items: int) -> dict:
    people, owed = [], []

    def item(code: str, unit: str, name: str) -> dict:
        return {
            "indicator_id": code,
            "indicator_name": f"指标 {code}",
            "org_unit": unit,
            "org_unit_name": name,
            "period": f"{day.year}-{day.month - 1:02d}" if day.month > 1 else f"{day.year - 1}-12",
            "due_date": day.isoformat(),
            "state": "not_reported",
            "state_label": "未填报",
            "task": 1,
            "lead_departments": ["市教育局"],
            "return_reason": None,
        }

    account = 0
    for index in range(DISTRICTS):
        account += 1
        unit = f"3703{index + 1:02d}"
        people.append(
            {
                "account_id": account,
                "username": f"d{index}",
                "display_name": f"区县{index} 填报员",
                "role": "district",
                "department": None,
                "org_unit": unit,
                "email": f"d{index}@example.cn",
                "mobile": None,
                "robots": [],
                "muted": [],
            }
        )
        owed.append(
            {"account_id": account, "items": [item(f"T{n:03d}-1", unit, f"区县{index}") for n in range(district_items)]}
        )
    for index in range(BUREAUS):
        account += 1
        people.append(
            {
                "account_id": account,
                "username": f"b{index}",
                "display_name": f"部门{index} 填报员",
                "role": "bureau",
                "department": f"部门{index}",
                "org_unit": None,
                "email": f"b{index}@example.cn",
                "mobile": None,
                "robots": [],
                "muted": [],
            }
        )
        owed.append(
            {"account_id": account, "items": [item(f"B{index}-{n}", "370300", "全市") for n in range(bureau_items)]}
        )
    people.append(
        {
            "account_id": account + 1,
            "username": "office",
            "display_name": "市民生办",
            "role": "city_office",
            "department": None,
            "org_unit": None,
            "email": "office@example.cn",
            "mobile": None,
            "robots": [],
            "muted": [],
        }
    )
    return {"plan": "bench", "on": day.isoformat(), "people": people, "owed": owed}


def _city_accounts(url: str) -> int:
    """An account for every district and every lead department of the five catalogs (the demo has a few)."""
    from minsheng.db import Database
    from minsheng_gateway.identity.models import AccountCreate
    from minsheng_gateway.identity.service import create_account

    departments = sorted(
        {d for doc in catalogs().values() for task in doc.tasks() for d in task.lead_departments} - {ALL_DISTRICTS}
    )
    database, now, made = Database(url), dt.datetime.now(dt.UTC), 0
    password = "Bench-owed-feed-2026!"
    try:
        with database.session() as session:
            for unit in (u for u in ORG_UNITS if u.code != CITY_CODE):
                data = AccountCreate(
                    username=f"district-{unit.code}",
                    display_name=f"{unit.name} 填报员",
                    role=Role.district,
                    org_unit=unit.code,
                    password=password,
                )
                create_account(session=session, data=data, created_by="bench", now=now, min_password_length=10)
                made += 1
            for index, department in enumerate(departments):
                data = AccountCreate(
                    username=f"bureau-{index}",
                    display_name=f"{department} 填报员",
                    role=Role.bureau,
                    department=department,
                    password=password,
                )
                create_account(session=session, data=data, created_by="bench", now=now, min_password_length=10)
                made += 1
    finally:
        database.dispose()
    return made


def owed_feed(quick: bool) -> dict:
    """The gateway's `/internal/notifier/owed` for the whole city, with the demo-size data: median and p95."""
    requests = 5 if quick else 30
    today = today_in_china()
    reports = sum(len(rows) for rows in demo_rows(catalogs().values(), today=today).values())
    with contextlib.ExitStack() as stack:
        databases = Databases()
        stack.callback(databases.close)
        url = databases.make("notifier_owed_gateway")
        facts = seed(url, reports)
        accounts = _city_accounts(url)
        stub = start_uvicorn(stack, "notifier-catalog-stub", "bench.catalog_stub:app", process_env())
        wait_ready(stub, "/healthz")
        broker, port = start_broker(stack), free_port()
        gateway = start_uvicorn(
            stack,
            "notifier-owed-gateway",
            "minsheng_gateway.main:app",
            process_env(
                **gateway_env(url, broker, port, {c: f"{stub.url}/{c}" for c in CAMPAIGN_CODES}),
                GATEWAY_DEMO_USERS="true",
                GATEWAY_NOTIFIER_KEY=OWED_KEY,
                GATEWAY_PROGRESS_REFRESH_SECONDS="86400",
            ),
            port,
        )
        wait_ready(gateway)
        wait_settled(gateway.process.pid)
        params = {"on": today.isoformat(), "horizon": 3}
        headers = {"Authorization": f"Bearer {OWED_KEY}"}
        seconds = []
        with httpx.Client(base_url=gateway.url, timeout=300.0, headers=headers) as client:
            answer = client.get("/internal/notifier/owed", params=params)  # the first: caches warmed, not counted
            answer.raise_for_status()
            feed = answer.json()
            for _ in range(requests):
                started = time.perf_counter()
                client.get("/internal/notifier/owed", params=params).raise_for_status()
                seconds.append(time.perf_counter() - started)
    return {
        "reports": facts["reports"],
        "series": facts["series"],
        "accounts": len(feed["people"]),
        "accounts_made": accounts,
        "owed_items": sum(len(o["items"]) for o in feed["owed"]),
        "plan": feed["plan"],
        "requests": requests,
        "median_ms": round(percentile(seconds, 50) * 1000, 1),
        "p95_ms": round(percentile(seconds, 95) * 1000, 1),
    }


def run(quick: bool, client: str = "raw") -> BenchResult:
    district_items, bureau_items, events = (60, 5, 200) if quick else (300, 25, 2000)
    day = dt.date(2026, 12, 10)
    now = dt.datetime(2026, 12, 10, 9, 0, tzinfo=CHINA).astimezone(dt.UTC)
    feed = _feed(day, district_items, bureau_items)
    series = sum(len(o["items"]) for o in feed["owed"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    counter = _Count()
    smtp = Controller(counter, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    databases = Databases()
    try:
        settings = NotifierSettings(
            database_url=databases.make("notifier"),
            kafka_bootstrap_servers="127.0.0.1:1",
            gateway_url="http://gateway.bench",
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            email_per_minute=0,  # the relay's own limits are not what is measured
        )
        with TestClient(build_app(settings, jobs=False)) as notifier:
            app = notifier.app
            app.state.gateway_transport = httpx.MockTransport(lambda request: httpx.Response(200, json=feed))
            started = time.perf_counter()
            recorded = notifier.portal.call(plan_day, app, now)
            planned = time.perf_counter() - started
            sent = 0
            while batch := notifier.portal.call(send_due, app, now):
                sent += batch
            total = time.perf_counter() - started

            # Work per event: report submissions applied by the notifier's handlers, a poll of 100 at a time.
            handlers = notifier_handlers()
            bodies = [
                IntegrationEvent(
                    source="/minsheng/education",
                    type="minsheng.report.submitted.v1",
                    subject="T002-1",
                    data=ReportChanged(
                        campaign="education",
                        report=ReportState(
                            report_id=n,
                            indicator=f"T{n % 300:03d}-1",
                            org_unit="370303",
                            period="2026-11",
                            value=1,
                            status="submitted",
                            revision=1,
                            is_current=True,
                            submitted_by="bench",
                        ),
                        actor="bench",
                        occurred_at=now,
                    ),
                ).to_json_bytes()
                for n in range(events)
            ]
            applied_started = time.perf_counter()
            for offset in range(0, events, 100):
                with app.state.database.session() as session:
                    handlers.apply(session, [handlers.parser.parse(b) for b in bodies[offset : offset + 100]])
                    session.commit()
            per_event_ms = (time.perf_counter() - applied_started) / events * 1000
    finally:
        databases.close()
        smtp.stop()
    owed = owed_feed(quick)
    rows = [
        ["accounts", len(feed["people"])],
        ["owed series (all due today)", series],
        ["messages recorded", recorded],
        ["e-mails received by the SMTP server", counter.received],
        ["plan (s)", round(planned, 2)],
        ["plan + send (s)", round(total, 2)],
        ["per consumed event (ms)", round(per_event_ms, 3)],
        [
            f"gateway /internal/notifier/owed, whole city ({owed['accounts']} accounts, {owed['reports']} reports, "
            f"{owed['owed_items']} owed rows): median / p95 of {owed['requests']} (ms)",
            f"{owed['median_ms']} / {owed['p95_ms']}",
        ],
    ]
    print_table(["notifier at month-end", "value"], rows)
    return BenchResult(
        "notifier",
        outcomes=[
            Outcome(
                "notifier",
                f"month-end digests of {len(feed['people'])} accounts, {series} series: {total:.1f} s "
                f"({counter.received} e-mails, {sent} messages)",
                f"≤ {TARGET_SECONDS:.0f} s",
                total <= TARGET_SECONDS,
            ),
            Outcome("notifier", f"{per_event_ms:.2f} ms per consumed event", "reference", None, reference=True),
            Outcome(
                "notifier",
                f"gateway's owed feed, whole city: median {owed['median_ms']} ms, p95 {owed['p95_ms']} ms",
                "reference",
                None,
                reference=True,
            ),
        ],
        data={"rows": rows, "owed_feed": owed},
    )

"""The notifier at month-end: the day's digests of the whole city computed and sent (target: within a minute), and
its work per consumed event.

The feed of what is owed stands in for the gateway (an `httpx.MockTransport` answering `/internal/notifier/owed`
with the city's accounts and every series they owe, all due today); the notifier's database is real PostgreSQL and
its e-mail goes to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time

import httpx
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from bench.infra import BenchResult, Databases, Outcome, print_table
from minsheng.clock import CHINA
from minsheng.messaging import IntegrationEvent
from minsheng.reporting.events import ReportChanged, ReportState
from minsheng_notifier.facts.handlers import notifier_handlers
from minsheng_notifier.main import build_app
from minsheng_notifier.planner import plan_day
from minsheng_notifier.sender import send_due
from minsheng_notifier.settings import NotifierSettings

DISTRICTS = 9  # Zibo's districts and counties (and its zones) that report for themselves
BUREAUS = 40  # the city departments that lead tasks
TARGET_SECONDS = 60.0
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
    rows = [
        ["accounts", len(feed["people"])],
        ["owed series (all due today)", series],
        ["messages recorded", recorded],
        ["e-mails received by the SMTP server", counter.received],
        ["plan (s)", round(planned, 2)],
        ["plan + send (s)", round(total, 2)],
        ["per consumed event (ms)", round(per_event_ms, 3)],
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
        ],
        data={"rows": rows},
    )

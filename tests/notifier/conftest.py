"""The notifier's tests: a real education service, a gateway folding its events, the notifier on its own
database, and real receivers on 127.0.0.1 (aiosmtpd, HTTP robots and SMS provider).  Time is the test's: the
notifier plans and sends at the moments the test names (`Stack.plan` / `Stack.send`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from minsheng.clock import CHINA
from minsheng_notifier.facts.handlers import notifier_handlers
from minsheng_notifier.main import build_app
from minsheng_notifier.planner import expand_notices, plan_day
from minsheng_notifier.sender import send_due
from minsheng_notifier.settings import NotifierSettings
from tests.support.identity import PUBLIC_KEY_PEM, views_gateway
from tests.support.receivers import HttpReceivers, SmtpServer
from tests.support.views import fold_all, outbox_events

KEY = "test-notifier-key"


def beijing(day: str, time: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=CHINA).astimezone(dt.UTC)


@dataclass
class Stack:
    education: TestClient
    gateway: TestClient
    notifier: TestClient
    smtp: SmtpServer
    receivers: HttpReceivers
    folded: int = 0

    def at(self, when: dt.datetime) -> None:
        self.gateway.app.state.clock = lambda: when.astimezone(CHINA).date()
        self.notifier.app.state.now = lambda: when

    def deliver_events(self) -> None:
        """The education service's new events reach the gateway and the notifier (as their consumers would)."""
        events = outbox_events(self.education)[self.folded :]
        self.folded += len(events)
        fold_all(self.gateway, events)
        handlers, database = notifier_handlers(), self.notifier.app.state.database
        with database.session() as session:
            handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
            session.commit()

    def plan(self, when: dt.datetime) -> int:
        self.at(when)
        app = self.notifier.app
        return self.notifier.portal.call(expand_notices, app, when) + self.notifier.portal.call(plan_day, app, when)

    def send(self, when: dt.datetime) -> int:
        self.at(when)
        return self.notifier.portal.call(send_due, self.notifier.app, when)


def notifier_settings(database_url: str, smtp: SmtpServer, receivers: HttpReceivers, **values) -> NotifierSettings:
    return NotifierSettings(
        **{
            "database_url": database_url,
            "jwt_public_key": PUBLIC_KEY_PEM,
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "gateway_url": "http://gateway.test",
            "gateway_key": KEY,
            "app_url": "http://127.0.0.1:8000",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "sms_url": f"{receivers.url}/sms",
            "sms_access_key": receivers.sms_access_key,
            "sms_secret": receivers.sms_secret,
            "max_attempts": 3,
            **values,
        }
    )


def start_notifier(gateway: TestClient, settings: NotifierSettings) -> TestClient:
    client = TestClient(build_app(settings, jobs=False))
    client.__enter__()
    client.app.state.gateway_transport = httpx.ASGITransport(gateway.app)
    return client


@pytest.fixture
def stack(make_database, campaign_client) -> Iterator[Stack]:
    education = campaign_client("education")
    with (
        SmtpServer() as smtp,
        HttpReceivers() as receivers,
        views_gateway(make_database("gateway"), notifier_key=KEY, notifier_url="http://notifier.test") as gateway,
    ):
        notifier = start_notifier(gateway, notifier_settings(make_database("notifier"), smtp, receivers))
        gateway.app.state.service_transport = httpx.ASGITransport(notifier.app)  # the gateway's proxy reaches it
        running = Stack(education, gateway, notifier, smtp, receivers)
        running.deliver_events()  # the catalog
        try:
            yield running
        finally:
            running.notifier.__exit__(None, None, None)  # a test may have replaced it ("restarted" it)

"""The webhooks worker on its own database, driven by the test: events are applied as its consumer would apply
them, and due deliveries sent when the test says, at the machine's time (the receiver checks timestamps)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from minsheng.messaging import IntegrationEvent, event_source
from minsheng.reporting.events import ReportChanged, ReportState
from minsheng_webhooks.deliveries.handlers import webhooks_handlers
from minsheng_webhooks.main import build_app
from minsheng_webhooks.sender import send_due, utc_now
from minsheng_webhooks.settings import WebhooksSettings
from tests.support.identity import PUBLIC_KEY_PEM, bearer

CITY = bearer("demo-city-office")


def report_event(
    indicator: str, org_unit: str, value: float, *, campaign: str = "education", plan=None
) -> IntegrationEvent:
    at = utc_now()
    state = ReportState(
        report_id=int(value * 10) + 1,
        indicator=indicator,
        org_unit=org_unit,
        period="2024-06",
        value=value,
        status="submitted",
        revision=1,
        is_current=True,
        submitted_by="张店区 演示用户",
    )
    data = ReportChanged(campaign=campaign, report=state, actor="张店区 演示用户", occurred_at=at, plan=plan)
    return IntegrationEvent(
        id=str(uuid.uuid4()),
        source=event_source(campaign),
        type="minsheng.report.submitted.v1",
        subject=indicator,
        time=at,
        data=data,
    )


@dataclass
class Worker:
    client: TestClient

    @property
    def app(self):  # noqa: ANN201
        return self.client.app

    def publish(self, events: list[IntegrationEvent]) -> None:
        """As the consumer does: each event applied once, in the consumer's transaction."""
        handlers = webhooks_handlers()
        with self.app.state.database.session() as session:
            handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
            session.commit()

    def send(self) -> int:
        return self.client.portal.call(send_due, self.app, utc_now())

    def send_until(self, done: Callable[[], bool], timeout: float = 60.0) -> None:
        """Send what is due again and again (the retry schedule is in fractions of a second) until `done`."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "not reached in time"
            self.send()
            time.sleep(0.1)

    def subscribe(self, url: str, **body) -> dict:
        answer = self.client.post("/api/v1/endpoints", json={"url": url, **body}, headers=CITY)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def log(self, endpoint_id: int) -> list[dict]:
        answer = self.client.get(f"/api/v1/endpoints/{endpoint_id}/deliveries?limit=200", headers=CITY)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def endpoint(self, endpoint_id: int) -> dict:
        return next(e for e in self.client.get("/api/v1/endpoints", headers=CITY).json() if e["id"] == endpoint_id)


def worker_settings(database_url: str, **values) -> WebhooksSettings:
    return WebhooksSettings(
        **{
            "database_url": database_url,
            "jwt_public_key": PUBLIC_KEY_PEM,
            "kafka_bootstrap_servers": "127.0.0.1:1",
            # The receiver is on 127.0.0.1 over plain HTTP: allowed for the tests, refused by default.
            "allow_private_destinations": True,
            "allow_http": True,
            "retry_schedule": [0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3],
            "retry_jitter": 0.1,
            "timeout_seconds": 2,
            **values,
        }
    )


@pytest.fixture
def make_worker(make_database) -> Iterator[Callable[..., Worker]]:
    started: list[TestClient] = []
    url = make_database("webhooks")

    def make(**values) -> Worker:
        client = TestClient(build_app(worker_settings(url, **values), jobs=False))
        client.__enter__()
        started.append(client)
        return Worker(client)

    yield make
    for client in started:
        client.__exit__(None, None, None)


@pytest.fixture
def worker(make_worker) -> Worker:
    return make_worker()


def later(seconds: float) -> dt.datetime:
    return utc_now() + dt.timedelta(seconds=seconds)

"""The notifier and a broker outage: the broker stopped while the notifier runs on (it keeps planning the day's
digests from the gateway, which needs no broker), a report returned by the city office meanwhile (its events wait
in the service's outbox), the broker started again, empty (Tansu keeps nothing on disk). What must hold: the
notifier was never restarted, the 退回 reaches the clerk once, by e-mail and in the 消息中心, and nothing owed
before the outage is sent again. The outage is a few seconds, longer than the consumer's session (6 s): the
notifier's consumer loses its group and must find it again, as after minutes."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest

from minsheng.auth.demo import DEMO_BY_USERNAME, DEMO_PASSWORD
from minsheng.broker import LocalBroker
from minsheng.clock import CHINA
from tests.conftest import CITY, ZHANGDIAN, free_port
from tests.support.platform import Platform, outbox_event_ids, query, start_platform
from tests.support.processes import ServiceProcess, die_with_parent, wait_until
from tests.support.receivers import SmtpServer

pytestmark = [pytest.mark.timeout(300), pytest.mark.chaos]

KEY = "chaos-notifier-key"
OUTAGE_SECONDS = 10
CLERK, CLERK_MAIL = DEMO_BY_USERNAME["demo-zhangdian"].display_name, DEMO_BY_USERNAME["demo-zhangdian"].email


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def platform_with_notifier(make_database, group, tmp_path, smtp) -> Iterator[tuple[Platform, ServiceProcess]]:
    port = free_port()
    p = start_platform(
        make_database, group, tmp_path, demo_users="true", notifier_url=f"http://127.0.0.1:{port}", notifier_key=KEY
    )
    notifier = group.add(
        ServiceProcess.notifier(
            port=port,
            database_url=make_database("notifier"),
            bootstrap_servers=p.broker.bootstrap_servers,
            gateway_url=p.gateway.url,
            gateway_key=KEY,
            log_dir=tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=str(smtp.port),
            plan_seconds="1",
            send_seconds="0.5",
        )
    )
    notifier.start().wait_ready(120)
    yield p, notifier
    p.http.close()


@contextlib.contextmanager
def signed_in(url: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client


def mails(smtp: SmtpServer, kind: str) -> list:
    return [m for m in smtp.to(CLERK_MAIL) if kind in m["Subject"]]


def test_the_notifier_rides_out_a_broker_outage_and_tells_a_return_made_meanwhile_once(platform_with_notifier, smtp):
    p, notifier = platform_with_notifier
    notifier_db = notifier.env["NOTIFIER_DATABASE_URL"]
    with signed_in(p.gateway.url, "demo-city-office") as office:
        # The quiet hours moved away from now (the processes run on the machine's clock; it may be night in Beijing).
        away = dt.datetime.now(CHINA) + dt.timedelta(hours=12)
        rules = {"quiet_start": away.strftime("%H:%M"), "quiet_end": (away + dt.timedelta(minutes=1)).strftime("%H:%M")}
        assert office.put("/api/v1/notifier/rules/*", json=rules).status_code == 200
    # Before the outage: the day's digest reached the clerk's (demo) address, once.
    wait_until(lambda: mails(smtp, "填报提醒"), 90, message="the clerk's digest")

    p.broker.stop()
    went = time.monotonic()
    mark = query(p.education_db, "select coalesce(max(id), 0) from outbox_event")[0][0]
    body = {"indicator": "T002-1", "org_unit": "370303", "period": "2024-12", "value": 4}
    created = p.http.post(f"{p.education.url}/api/v1/reports", json=body, headers=ZHANGDIAN)
    assert created.status_code == 201, created.text
    returned = p.http.post(
        f"{p.education.url}/api/v1/reports/{created.json()['id']}/return", json={"reason": "与台账不符"}, headers=CITY
    )
    assert returned.status_code == 200, returned.text
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - went)))
    assert notifier.alive and httpx.get(f"{notifier.url}/healthz", timeout=10).status_code == 200
    assert mails(smtp, "退回通知") == []  # nothing can be known of it yet

    p.broker = p.group.add(LocalBroker(p.broker.port, preexec_fn=die_with_parent).start())
    back = time.monotonic()
    (notice,) = wait_until(lambda: mails(smtp, "退回通知"), 90, message=lambda: notifier.tail())
    told = time.monotonic() - back
    assert "与台账不符" in notice.get_body(preferencelist=("plain",)).get_content()

    # Exactly once: every event written meanwhile applied once by the notifier, one 退回 per channel, one mail;
    # the digest sent before the outage not sent again; the notifier never restarted.
    written = outbox_event_ids(p.education_db, mark)
    processed = lambda: [r[0] for r in query(notifier_db, "select event_id from processed_event")]  # noqa: E731
    wait_until(lambda: written <= set(processed()), 60, message="the notifier applied the outage's events")
    assert len(processed()) == len(set(processed()))
    time.sleep(2)  # a few more sending rounds (0.5 s each), in which a duplicate would have gone out
    rows = query(
        notifier_db, "select channel, status from message where reason = 'returned' and recipient = :who", who=CLERK
    )
    assert sorted(rows) == [("email", "sent"), ("inapp", "sent")]
    assert len(mails(smtp, "退回通知")) == 1 and len(mails(smtp, "填报提醒")) == 1
    with signed_in(p.gateway.url, "demo-zhangdian") as clerk:
        inbox = clerk.get("/api/v1/notifier/messages").json()["data"]
    assert [m["reason"] for m in inbox].count("returned") == 1
    assert notifier.starts == 1 and notifier.alive
    print(
        f"\nnotifier broker outage: away {back - went:.1f} s; the 退回 e-mailed {told:.1f} s after the broker came back"
    )

"""Outbound webhooks end to end: subscribed through the API, events recorded as the consumer applies them, sent to a
receiver on 127.0.0.1 that checks the Standard Webhooks signature with its own code (receiver.py)."""

from __future__ import annotations

import base64
import secrets
import time

from minsheng_webhooks.sender import due, try_once, utc_now
from tests.support.identity import bearer
from tests.webhooks.conftest import CITY, report_event
from tests.webhooks.receiver import Receiver

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def test_a_receiver_down_for_a_while_gets_every_event_once_and_in_order_per_series(worker):
    with Receiver(SECRET) as receiver:
        endpoint = worker.subscribe(receiver.url, secret=SECRET, event_types=["minsheng.report.submitted.v1"])[
            "endpoint"
        ]
        series = [("T002-1", "370303"), ("T002-1", "370302"), ("T010-2", "370303")]
        events = [report_event(i, o, step + n / 10) for step in range(4) for n, (i, o) in enumerate(series)]
        receiver.mode = "unavailable"  # 503 for a while
        worker.publish(events)
        for _ in range(3):
            worker.send()
            time.sleep(0.4)
        assert receiver.processed == {}
        log = worker.log(endpoint["id"])
        tried = [d for d in log if d["attempts"]]
        # Only the first event of each series is tried while it waits for its retry: the later ones wait behind it.
        assert {(d["series"]) for d in tried} == {f"{i}×{o}" for i, o in series}
        assert len(tried) == len(series)
        assert all(a["status_code"] == 503 and a["response_excerpt"] == "稍后再试" for d in tried for a in d["log"])

        receiver.stop()  # then nothing listening at all
        worker.send()
        time.sleep(0.4)
        worker.send()
        receiver.mode = "ok"
        receiver.start()
        worker.send_until(lambda: len(receiver.processed) == len(events))

    assert all(request["verified"] for request in receiver.seen), "every request carries a valid signature"
    assert set(receiver.processed) == {e.id for e in events}
    assert receiver.duplicates == 0
    for indicator, org_unit in series:  # in order per series
        values = [
            e["data"]["report"]["value"]
            for e in receiver.processed.values()
            if (e["data"]["report"]["indicator"], e["data"]["report"]["org_unit"]) == (indicator, org_unit)
        ]
        assert values == sorted(values) and len(values) == 4
    log = worker.log(endpoint["id"])
    assert {d["status"] for d in log} == {"succeeded"}
    errors = {a["error"] for d in log for a in d["log"]}
    assert "unreachable" in errors  # the time nothing listened is in the log


def test_a_replay_sends_the_same_webhook_id_again_and_the_receiver_drops_it(worker):
    with Receiver(SECRET) as receiver:
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        events = [report_event("T002-1", "370303", 1.0), report_event("T002-1", "370303", 2.0)]
        worker.publish(events)
        worker.send_until(lambda: len(receiver.processed) == 2)
        first = worker.log(endpoint["id"])[-1]
        answer = worker.client.post(f"/api/v1/deliveries/{first['id']}/replay", headers=CITY)
        assert answer.json() == {"replayed": 1}
        worker.send_until(lambda: receiver.duplicates == 1)
        assert len(receiver.processed) == 2  # seen twice, processed once

        since, until = events[0].time.isoformat(), utc_now().isoformat()
        answer = worker.client.post(
            f"/api/v1/endpoints/{endpoint['id']}/replay", json={"since": since, "until": until}, headers=CITY
        )
        assert answer.json() == {"replayed": 2}
        worker.send_until(lambda: receiver.duplicates == 3)
        backwards = worker.client.post(
            f"/api/v1/endpoints/{endpoint['id']}/replay", json={"since": until, "until": since}, headers=CITY
        )
        assert backwards.status_code == 422 and backwards.json()["code"] == "range_invalid"


def test_a_rotated_secret_signs_beside_the_old_one_while_the_receiver_switches(worker):
    with Receiver(SECRET) as receiver:
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        rotated = worker.client.post(f"/api/v1/endpoints/{endpoint['id']}/rotate-secret", headers=CITY).json()
        assert rotated["secret"].startswith("whsec_") and rotated["endpoint"]["rotating_until"]
        worker.publish([report_event("T002-1", "370303", 1.0)])
        worker.send_until(lambda: len(receiver.processed) == 1)  # the receiver still has the old secret
        assert len(receiver.seen[-1]["headers"]["webhook-signature"].split(" ")) == 2
        receiver.secret = rotated["secret"]
        worker.publish([report_event("T002-1", "370303", 2.0)])
        worker.send_until(lambda: len(receiver.processed) == 2)


def test_410_disables_the_endpoint_and_no_more_is_recorded_for_it(worker):
    with Receiver(SECRET) as receiver:
        receiver.mode = "gone"
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        worker.publish([report_event("T002-1", "370303", 1.0), report_event("T002-2", "370303", 1.0)])
        worker.send()
        state = worker.endpoint(endpoint["id"])
        assert not state["enabled"] and state["disabled_reason"] == "gone" and "410" in state["disabled_label"]
        assert {d["status"] for d in worker.log(endpoint["id"])} == {"failed"}
        worker.publish([report_event("T002-1", "370303", 2.0)])
        assert len(worker.log(endpoint["id"])) == 2
        seen = len(receiver.seen)
        worker.send()
        assert len(receiver.seen) == seen


def test_an_endpoint_failing_longer_than_the_setting_is_disabled(make_worker):
    worker = make_worker(disable_after_seconds=0.5)
    with Receiver(SECRET) as receiver:
        receiver.mode = "unavailable"
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        worker.publish([report_event("T002-1", "370303", 1.0)])
        worker.send_until(lambda: not worker.endpoint(endpoint["id"])["enabled"])
        state = worker.endpoint(endpoint["id"])
        assert state["disabled_reason"] == "failing" and state["failing_since"]


def test_a_secret_shorter_than_24_bytes_is_refused_with_a_reason(worker):
    short = "whsec_" + base64.b64encode(secrets.token_bytes(16)).decode()
    answer = worker.client.post(
        "/api/v1/endpoints", json={"url": "https://example.org/hook", "secret": short}, headers=CITY
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "secret_too_short" and "至少须 24 字节" in answer.json()["detail"]
    assert worker.client.get("/api/v1/endpoints", headers=CITY).json() == []  # nothing written


def test_a_redirect_is_an_answer_not_followed(worker):
    with Receiver(SECRET) as receiver:
        receiver.mode = "redirect"
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        worker.publish([report_event("T002-1", "370303", 1.0)])
        worker.send()
        [delivery] = worker.log(endpoint["id"])
        assert delivery["status"] == "pending" and delivery["log"][0]["status_code"] == 302
        assert delivery["log"][0]["error"] == "redirect_not_followed"
        assert len(receiver.seen) == 1  # /elsewhere on 127.0.0.1 never asked


def test_a_10_mb_answer_is_read_only_so_far_and_a_hanging_endpoint_times_out(make_worker):
    worker = make_worker(timeout_seconds=1)
    with Receiver(SECRET) as receiver:
        receiver.mode = "big"
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        worker.publish([report_event("T002-1", "370303", 1.0)])
        worker.send()
        [delivery] = worker.log(endpoint["id"])
        assert delivery["status"] == "succeeded" and len(delivery["log"][0]["response_excerpt"]) <= 1000
        receiver.mode = "hang"
        worker.publish([report_event("T002-1", "370303", 2.0)])
        worker.send()
        latest = worker.log(endpoint["id"])[0]
        assert latest["status"] == "pending" and latest["log"][0]["error"] == "timeout"


def test_private_destinations_are_refused_unless_the_operator_allows_them(make_worker):
    worker = make_worker(allow_private_destinations=False)
    with Receiver(SECRET) as receiver:
        literal = worker.client.post("/api/v1/endpoints", json={"url": receiver.url}, headers=CITY)
        assert literal.status_code == 422 and literal.json()["code"] == "destination_not_allowed"
        # A name is judged when sending, on what it resolves to then.
        named = worker.subscribe(f"http://localhost:{receiver.port}/hook", secret=SECRET)["endpoint"]
        worker.publish([report_event("T002-1", "370303", 1.0)])
        worker.send()
        [delivery] = worker.log(named["id"])
        assert (
            delivery["last_error"] == "destination_not_allowed"
            and "不允许投递" in delivery["log"][0]["response_excerpt"]
        )
        assert receiver.seen == []


def test_https_is_required_by_default(make_worker):
    worker = make_worker(allow_http=False)
    answer = worker.client.post("/api/v1/endpoints", json={"url": "http://example.org/hook"}, headers=CITY)
    assert answer.status_code == 422 and answer.json()["code"] == "https_required"


def test_filters_by_campaign_and_plan_and_who_may_manage(worker):
    with Receiver(SECRET) as receiver:
        endpoint = worker.subscribe(receiver.url, secret=SECRET, campaigns=["health"], plans=["zibo-2025"])["endpoint"]
        worker.publish(
            [
                report_event("T002-1", "370303", 1.0),  # education, legacy plan: not subscribed
                report_event("H-1", "370303", 1.0, campaign="health"),  # legacy plan: not subscribed
                report_event("H-1", "370303", 2.0, campaign="health", plan="zibo-2025"),
            ]
        )
        [delivery] = worker.log(endpoint["id"])
        assert delivery["event_type"] == "minsheng.report.submitted.v1"
    bureau = bearer("demo-education-bureau")
    assert worker.client.get("/api/v1/endpoints", headers=bureau).status_code == 403
    integration = bearer("demo-integration")
    assert worker.client.get("/api/v1/endpoints", headers=integration).json() == []  # not the city office's
    unknown = worker.client.post(
        "/api/v1/endpoints", json={"url": "https://example.org/h", "event_types": ["x.y.v1"]}, headers=CITY
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_event_type"
    types = worker.client.get("/api/v1/event-types", headers=CITY).json()
    assert "minsheng.supervision.order_assigned.v1" in {t["type"] for t in types}


def test_a_try_whose_outcome_was_never_saved_is_sent_again_not_lost(worker):
    """A crash between the try and saving its outcome: the delivery is still waiting, so it goes again (at least
    once), with the same webhook-id the receiver drops."""
    with Receiver(SECRET) as receiver:
        endpoint = worker.subscribe(receiver.url, secret=SECRET)["endpoint"]
        worker.publish([report_event("T002-1", "370303", 1.0)])
        [(delivery, row)] = due(worker.app, utc_now())
        worker.client.portal.call(try_once, worker.app, delivery, row, utc_now())  # sent; "crashed" before record()
        assert len(receiver.processed) == 1
        assert worker.log(endpoint["id"])[0]["status"] == "pending"
        worker.send_until(lambda: worker.log(endpoint["id"])[0]["status"] == "succeeded")
        assert receiver.duplicates == 1 and len(receiver.processed) == 1

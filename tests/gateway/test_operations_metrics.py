"""What an operator reads on /metrics after people use the platform: sign-ins and their failures, the
freshness of the gateway's views, the consumer's lag and last fold, the reports awaiting review, and
the approvals and returns in the service."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from minsheng.auth.demo import DEMO_PASSWORD
from tests.support.metrics_stack import MetricsStack, running_stack, scrape, value
from tests.support.processes import wait_until


@pytest.fixture(scope="module")
def metrics_stack(admin_engine, module_broker, tmp_path_factory) -> Iterator[MetricsStack]:
    with running_stack(admin_engine, module_broker, tmp_path_factory.mktemp("ops-stack")) as stack:
        yield stack


def _signed_in(gateway_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{gateway_url}/api/v1", timeout=20)
    response = client.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_an_operator_sees_sign_ins_freshness_lag_backlog_and_reviews(metrics_stack: MetricsStack):
    gateway, education = metrics_stack.gateway.url, metrics_stack.education.url
    before = scrape(gateway)

    wrong = httpx.post(
        f"{gateway}/api/v1/auth/login", json={"username": "demo-viewer", "password": "not-the-password"}, timeout=20
    )
    assert wrong.status_code == 401
    bureau = _signed_in(gateway, "demo-education-bureau")
    after_sign_in = scrape(gateway)
    assert value(after_sign_in, "minsheng_sign_ins_total", outcome="invalid_credentials") == (
        value(before, "minsheng_sign_ins_total", outcome="invalid_credentials") + 1
    )
    assert value(after_sign_in, "minsheng_sign_ins_total", outcome="success") == (
        value(before, "minsheng_sign_ins_total", outcome="success") + 1
    )

    # Two reports submitted through the gateway: two events to fold, two reports awaiting review.
    submitted_at = time.time()
    ids = []
    for org_unit in ("370303", "370302"):
        response = bureau.post(
            "/campaigns/education/reports",
            json={"indicator": "T002-1", "org_unit": org_unit, "period": "2022-06", "value": 3},
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])

    def folded() -> dict:
        now = scrape(gateway)
        count = value(now, "minsheng_view_freshness_seconds_count", campaign="education")
        before_count = value(before, "minsheng_view_freshness_seconds_count", campaign="education")
        return now if count >= before_count + 2 else None

    samples = wait_until(folded, timeout=30, message="the gateway's fold of the two reports")
    assert value(samples, "minsheng_reports_awaiting_review", campaign="education") == 2
    assert value(samples, "minsheng_reports_awaiting_review", campaign="health") == 0
    for org_unit in ("370303", "370302"):
        assert (
            value(samples, "minsheng_reports_awaiting_review_by_org_unit", campaign="education", org_unit=org_unit) == 1
        )
    task = next(
        t
        for t in httpx.get(f"{gateway}/api/v1/tasks?campaign=education&limit=500", timeout=20).json()["data"]
        if any(i["id"] == "T002-1" for i in t["indicators"])
    )
    for department in task["lead_departments"]:
        assert value(samples, "minsheng_reports_awaiting_review_by_department", department=department) == 2
    # Overdue reports by the reporting calendar: the plan's periods are all past due on the test's date, and
    # a campaign without its catalog yet owes nothing the gateway knows of.
    overdue = value(samples, "minsheng_reports_overdue", campaign="education")
    assert overdue > 0
    zhangdian = value(samples, "minsheng_reports_overdue_by_org_unit", campaign="education", org_unit="370303")
    assert 0 < zhangdian < overdue
    # Freshness is measured: the folds took well under the test's own wait, and a second at most here.
    assert value(samples, "minsheng_view_freshness_seconds_bucket", campaign="education", le="+Inf") >= 2
    assert value(samples, "minsheng_view_freshness_seconds_sum", campaign="education") < 60
    assert value(samples, "minsheng_consumer_last_applied_timestamp_seconds", process="gateway") >= submitted_at - 1

    # Lag: one series per assigned partition of each topic; nothing left behind once folded.
    def lag_reported() -> list | None:
        now = scrape(gateway)
        series = [
            (dict(labels), v)
            for (name, labels), v in now.items()
            if name == "minsheng_consumer_lag" and dict(labels)["topic"] == "minsheng.education.events"
        ]
        return series if series and all(v == 0 for _, v in series) else None

    series = wait_until(lag_reported, timeout=30, message="the consumer's lag of the education topic at 0")
    assert all(labels["process"] == "gateway" and labels["partition"].isdigit() for labels, _ in series)

    # The city office approves one and returns the other: counted in the service, the backlog empties.
    office = _signed_in(gateway, "demo-city-office")
    service_before = scrape(education)
    assert office.post(f"/campaigns/education/reports/{ids[0]}/approve").status_code == 200
    response = office.post(f"/campaigns/education/reports/{ids[1]}/return", json={"reason": "请核对口径"})
    assert response.status_code == 200, response.text
    service_after = scrape(education)
    for decision in ("approved", "returned"):
        assert value(service_after, "minsheng_reports_reviewed_total", campaign="education", decision=decision) == (
            value(service_before, "minsheng_reports_reviewed_total", campaign="education", decision=decision) + 1
        )
    for url, process in ((gateway, "gateway"), (education, "education")):
        samples = scrape(url)
        assert value(samples, "minsheng_database_size_bytes", process=process) > 1_000_000
        assert ("minsheng_db_pool_connections", frozenset({("process", process), ("state", "idle")})) in samples
    wait_until(
        lambda: value(scrape(gateway), "minsheng_reports_awaiting_review", campaign="education") == 0,
        timeout=30,
        message="no report awaiting review once both were reviewed",
    )

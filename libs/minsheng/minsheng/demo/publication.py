"""The demonstration plan on `make run`: its 任务分解表 (`breakdown_demo.xlsx`) published through the gateway as the
city office would (sign in, `POST /api/v1/plans/breakdown:publish`), and an ended plan closed the same way
(`POST /api/v1/plans/{code}/close`).  Both are idempotent on the server, so a second run changes nothing.

Failures are logged, never raised: the platform runs on with what was published."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from minsheng.auth.demo import DEMO_PASSWORD
from minsheng.demo.breakdown import DEMO_WORKBOOK
from minsheng.reporting.files import XLSX_MEDIA_TYPE

CITY_OFFICE = "demo-city-office"


def _sign_in(gateway: httpx.Client) -> dict[str, str]:
    """The gateway keeps the session cookie in the client; its writes carry the CSRF header returned here."""
    answer = gateway.post("/api/v1/auth/login", json={"username": CITY_OFFICE, "password": DEMO_PASSWORD})
    answer.raise_for_status()
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def _retrying(send: Callable[[], httpx.Response], *, timeout: float) -> httpx.Response:
    """Sent again while the gateway says "not yet" (503 with Retry-After: it has not learnt every campaign's
    catalog yet, or a service is briefly overloaded), until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        response = send()
        if response.status_code != 503 or time.monotonic() >= deadline:
            return response
        time.sleep(float(response.headers.get("Retry-After", "2")))


def _as_city_office(
    gateway: httpx.Client, send: Callable[[dict[str, str]], httpx.Response], failed: str, *, log: Callable[[str], None]
) -> dict | None:
    """`send` (given the CSRF header) as the city office, again while the gateway says "not yet"; its answer's
    body, or None with `failed` and the reason logged."""
    try:
        csrf = _sign_in(gateway)
        answer = _retrying(lambda: send(csrf), timeout=120)
    except httpx.HTTPError as error:
        log(f"demo plan  {failed}: {error}")
        return None
    if answer.is_error:
        log(f"demo plan  {failed}: {answer.status_code} {answer.text[:300]}")
        return None
    return answer.json()


def publish_demo_plan(gateway: httpx.Client, *, log: Callable[[str], None]) -> str | None:
    """The demonstration plan published in all five campaigns; its code, or None (logged) if it was not."""
    content = DEMO_WORKBOOK.read_bytes()
    body = _as_city_office(
        gateway,
        lambda csrf: gateway.post(
            "/api/v1/plans/breakdown:publish",
            files={"file": (DEMO_WORKBOOK.name, content, XLSX_MEDIA_TYPE)},
            headers=csrf,
        ),
        "not published",
        log=log,
    )
    if body is None:
        return None
    log(f"demo plan  {body['name']}: {body['summary']}")
    return body["code"] if body["published"] else None


def close_ended_plan(gateway: httpx.Client, code: str, *, log: Callable[[str], None]) -> bool:
    """An ended plan closed in every campaign (read-only from then on); False (logged) where it could not be,
    e.g. a report a person submitted meanwhile still awaits review."""
    body = _as_city_office(
        gateway, lambda csrf: gateway.post(f"/api/v1/plans/{code}/close", headers=csrf), f"{code} not closed", log=log
    )
    if body is None:
        return False
    refused = [f"{c['name']}（{c['detail']}）" for c in body["campaigns"] if c["status_code"] != 200]
    if refused:
        log(f"demo plan  {code} not closed in: {'；'.join(refused)}")
    else:
        log(f"demo plan  {code} closed (read-only; its figures stay)")
    return body["closed"]

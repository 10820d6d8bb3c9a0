"""Loads the demo dataset into running campaign services through their own write paths: bulk submit,
then batch approval as the city office, so the events reach the gateway as in real use.

Idempotent: a campaign that already holds any report is left alone (a second `make run` loads
nothing, and real data is never mixed with demo figures).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping

import httpx

from minsheng.catalog.document import CampaignDoc
from minsheng.demo.generator import demo_rows

BATCH = 500  # rows per request: the approval endpoint takes at most 500 ids


def _check(response: httpx.Response) -> None:
    # The service's own Chinese explanation, not just the status line.
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")


def load_demo_data(
    clients: Mapping[str, httpx.Client],
    headers: Mapping[str, str],
    *,
    today: dt.date,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Per campaign (a client of its service each), how many reports were loaded (0: it had some already).
    `headers` is read at each request, so a FreshBearer's short-lived token is renewed during a long load."""
    loaded: dict[str, int] = {}
    for campaign, client in clients.items():
        existing = client.get("/api/v1/reports", params={"limit": 1}, headers=dict(headers))
        _check(existing)
        if existing.json()["count"] > 0:
            loaded[campaign] = 0
            continue
        catalog = client.get("/api/v1/catalog", headers=dict(headers))
        _check(catalog)
        rows = demo_rows([CampaignDoc.model_validate(catalog.json())], today=today)[campaign]
        started = time.monotonic()
        for start in range(0, len(rows), BATCH):
            submitted = client.post(
                "/api/v1/reports/bulk", json={"rows": rows[start : start + BATCH]}, headers=dict(headers)
            )
            _check(submitted)
            ids = [report["id"] for report in submitted.json()["data"]]
            _check(client.post("/api/v1/reports/approve", json={"ids": ids}, headers=dict(headers)))
        loaded[campaign] = len(rows)
        log(f"demo data  {campaign:<11} {len(rows)} reports approved in {time.monotonic() - started:.1f}s")
    return loaded

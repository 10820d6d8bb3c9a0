"""Loads the demo dataset into running campaign services through their own write paths: bulk submit,
then batch approval as the city office, so the events reach the gateway as in real use; then, for a plan in
force, the partners' parts of the tasks (协办进展, `generator.part_rows`).

Idempotent: a campaign that already holds any report when the load begins is left alone (a second
`make run` loads nothing, and real data is never mixed with demo figures).  Which campaigns to load is
decided once, before the first is loaded, so that a person's report in one campaign while another
loads does not make the loader pass over it.

People may use the platform while it loads.  The loader approves only what it submitted, and what a
person did to one of those reports meanwhile wins: a newer revision (superseded), a review of their own
(not pending), a period locked.  Such a report is skipped and logged, never an error.  A campaign whose
load fails for any other reason is logged and the others are loaded on: the load never raises for one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping

import httpx

from minsheng.catalog.document import CampaignDoc
from minsheng.demo.generator import demo_rows, part_rows

BATCH = 500  # rows per request: the approval endpoint takes at most 500 ids
# Why an approval may refuse a report the loader submitted when a person acted on it in between
# (`minsheng.reporting.review.check_reviewable`): left as the person made it.
PERSON_WON = frozenset({"superseded", "not_pending", "period_locked"})


class DemoLoadError(RuntimeError):
    """A request of the load answered with an error (the service's own explanation in the message)."""


def _check(response: httpx.Response) -> None:
    # The service's own Chinese explanation, not just the status line.
    if response.is_error:
        raise DemoLoadError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")


def _refused(response: httpx.Response, ids: list[int]) -> dict[int, str] | None:
    """The reports an approval refused because a person acted on them (id → code), or None when it was
    refused for anything else.  A batch approval is all or none: `approval_refused` lists each refused
    report; a single report's refusal is its own error."""
    if response.status_code != 409:
        return None
    body = response.json()
    if body.get("code") == "approval_refused":
        refused = {item["id"]: item["code"] for item in body.get("refused", [])}
    elif len(ids) == 1:
        refused = {ids[0]: body.get("code")}
    else:
        return None
    return refused if refused and set(refused.values()) <= PERSON_WON else None


def approve_submitted(
    client: httpx.Client,
    headers: Mapping[str, str],
    ids: list[int],
    *,
    of_plan: Mapping[str, str] | None = None,
    log: Callable[[str], None],
) -> tuple[int, dict[int, str]]:
    """Approve the reports `ids` (the loader's own), skipping those a person changed meanwhile: each
    refused round is retried without the reports it names, so this ends (every round approves all
    that is left or removes at least one).  Returns how many were approved and the skipped (id → code)."""
    remaining, skipped = list(ids), {}
    while remaining:
        response = client.post(
            "/api/v1/reports/approve", params=of_plan or {}, json={"ids": remaining}, headers=dict(headers)
        )
        if not response.is_error:
            return len(remaining), skipped
        refused = _refused(response, remaining)
        if refused is None:
            _check(response)
        for report_id, code in refused.items():
            log(f"demo data  skipped report {report_id}: a person changed it while the demo data loaded ({code})")
        skipped.update(refused)
        remaining = [i for i in remaining if i not in refused]
    return 0, skipped


def load_demo_data(
    clients: Mapping[str, httpx.Client],
    headers: Mapping[str, str],
    *,
    today: dt.date,
    plan: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Per campaign (a client of its service each), how many reports were loaded and approved (0: it had
    some already, or its load failed at once; a failure is logged).  `headers` is read at each request, so
    a FreshBearer's short-lived token is renewed during a long load.  `plan`: the plan's code (every request
    names it); None, the services' default plan (the one in force today)."""
    loaded: dict[str, int] = dict.fromkeys(clients, 0)
    empty, held = [], []
    of_plan = {"plan": plan} if plan is not None else {}
    for campaign, client in clients.items():
        try:
            existing = client.get("/api/v1/reports", params={"limit": 1, **of_plan}, headers=dict(headers))
            _check(existing)
        except (DemoLoadError, httpx.HTTPError) as error:
            log(f"demo data  {campaign:<11} not loaded: {error}")
            continue
        (held if existing.json()["count"] > 0 else empty).append(campaign)
    if held:
        log(f"demo data  already there (holding reports), left alone: {', '.join(held)}")
    for campaign in empty:
        try:
            _load_campaign(campaign, clients[campaign], headers, loaded, today=today, of_plan=of_plan, log=log)
        except (DemoLoadError, httpx.HTTPError) as error:
            log(f"demo data  {campaign:<11} stopped after {loaded[campaign]} reports approved: {error}")
    return loaded


def _load_campaign(
    campaign: str,
    client: httpx.Client,
    headers: Mapping[str, str],
    loaded: dict[str, int],
    *,
    today: dt.date,
    of_plan: dict[str, str],
    log: Callable[[str], None],
) -> None:
    """Submit and approve one campaign's rows a batch at a time, counting in `loaded` what is approved."""
    catalog = client.get("/api/v1/catalog", params=of_plan, headers=dict(headers))
    _check(catalog)
    doc = CampaignDoc.model_validate(catalog.json())
    rows = demo_rows([doc], today=today)[campaign]
    started = time.monotonic()
    skipped = 0
    for start in range(0, len(rows), BATCH):
        submitted = client.post(
            "/api/v1/reports/bulk", params=of_plan, json={"rows": rows[start : start + BATCH]}, headers=dict(headers)
        )
        _check(submitted)
        reports = submitted.json()["data"]
        for report in reports:
            if report["revision"] > 1:  # the campaign was empty when the load began: a person's came first
                log(
                    f"demo data  report {report['id']} ({report['indicator']} {report['org_unit']} "
                    f"{report['period']}) is a newer revision of one a person submitted meanwhile"
                )
        done, refused = approve_submitted(client, headers, [r["id"] for r in reports], of_plan=of_plan, log=log)
        loaded[campaign] += done
        skipped += len(refused)
    # The partners' parts of the tasks (协办进展), filed for them by the city office: nobody reviews them.
    parts = part_rows(doc, today=today)
    for body in parts:
        _check(client.post("/api/v1/task-status", params=of_plan, json=body, headers=dict(headers)))
    note = f", {skipped} skipped (changed by a person meanwhile)" if skipped else ""
    note += f", {len(parts)} partners' parts of tasks" if parts else ""
    log(f"demo data  {campaign:<11} {loaded[campaign]} reports approved in {time.monotonic() - started:.1f}s{note}")

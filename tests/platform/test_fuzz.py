"""Every process as a generated client would meet it: schemathesis builds requests from each process's own
`/openapi.json` (valid and invalid ones: wrong types, out-of-range numbers, odd strings, missing fields)
and sends each without credentials and as the city office.  Any server error, any answer whose status
the document does not list, or whose body, headers or content type contradict it, fails the test.

Bounded for the suite: MINSHENG_FUZZ_EXAMPLES valid and as many invalid requests per operation, 8 by
default; `make fuzz` runs more.  The processes run in-process (ASGI) on their own fresh PostgreSQL
databases; the gateway's catch-all proxy is left out (it answers what the services answer, fuzzed here
directly)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import one_of
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import get_client, shutdown_lifespans

import minsheng_gateway.main as gateway_main
import minsheng_notifier.main as notifier_main
import minsheng_webhooks.main as webhooks_main
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng_notifier.settings import NotifierSettings
from minsheng_webhooks.settings import WebhooksSettings
from tests.conftest import CITY, campaign_at, campaign_module
from tests.support.identity import API_KEY, PUBLIC_KEY_PEM, gateway_settings
from tests.support.objectstore import bucket_name

EXAMPLES = int(os.environ.get("MINSHENG_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PROXY = r"^/api/v1/(campaigns/\{campaign\}|notifier|webhooks)/"
ANSWERS: dict[str, Counter[str]] = {}  # requests by the status answered ("failed": contradicted), by process


@dataclass
class Process:
    name: str
    app: FastAPI
    credentials: Mapping[str, str]  # the city office's service token, or the integration account's API key


def serve_catalogs(request: httpx.Request) -> httpx.Response:
    """The services' `GET /api/v1/catalog`: each campaign's own catalog file, as its service exports it."""
    campaign = campaign_at(request.url)
    return httpx.Response(200, json=campaign_module(campaign).service.catalog.model_dump(mode="json"))


def build(process: str, database_url: str, object_store=None) -> Process:  # noqa: ANN001 - tests/support/objectstore.py's
    # The session's SeaweedFS, a bucket of the process's own: uploads are judged, not refused for want of a store.
    store = {
        "object_store_url": object_store.endpoint,
        "object_store_access_key": object_store.credentials.access_key,
        "object_store_secret_key": object_store.credentials.secret_key,
        "evidence_bucket": bucket_name(process),
    }
    if process == "gateway":
        # No services, no broker; rate limits off, so the fuzzer reaches the routes (tests/platform/test_protection.py
        # holds the limits).
        settings_ = gateway_settings(
            database_url,
            kafka_bootstrap_servers="127.0.0.1:1",
            catalog_retry_seconds=3600,
            rate_sign_in_per_minute=0,
            rate_writes_per_second=0,
            rate_address_writes_per_second=0,
            **store,  # 督办单 answers' 佐证材料
        )
        gateway = gateway_main.build_app(settings_)
        gateway.state.service_transport = httpx.MockTransport(serve_catalogs)
        return Process(process, gateway, API_KEY)
    if process == "notifier":
        settings_ = NotifierSettings(
            database_url=database_url, jwt_public_key=PUBLIC_KEY_PEM, kafka_bootstrap_servers="127.0.0.1:1"
        )
        return Process(process, notifier_main.build_app(settings_, jobs=False), CITY)
    if process == "webhooks":
        settings_ = WebhooksSettings(
            database_url=database_url, jwt_public_key=PUBLIC_KEY_PEM, kafka_bootstrap_servers="127.0.0.1:1"
        )
        return Process(process, webhooks_main.build_app(settings_, jobs=False), CITY)
    service = campaign_module(process).service
    settings_ = service.settings.model_copy(
        update={
            "database_url": database_url,
            "jwt_public_key": PUBLIC_KEY_PEM,
            "kafka_bootstrap_servers": "127.0.0.1:1",
            **store,
        }
    )
    return Process(process, service.create_app(settings_), CITY)


@pytest.fixture(params=[*CAMPAIGN_CODES, "gateway", "notifier", "webhooks"])
def process(request, make_database, object_store) -> Iterator[Process]:
    running = build(request.param, make_database(request.param), object_store)
    yield running
    shutdown_lifespans()  # schemathesis started the app's lifespan on its first request; end it before the drop
    answers = ANSWERS.get(running.name, Counter())
    print(f"\nfuzz {running.name}: {answers.total()} requests, by status {dict(sorted(answers.items()))}")


def fuzz(label: str, strategy, process: Process, examples: int = EXAMPLES) -> list[str]:
    """Sends `examples` requests drawn from `strategy`, each without and with credentials; the failures
    found, as schemathesis words them."""
    failures: list[str] = []
    answers = ANSWERS.setdefault(process.name, Counter())

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same requests on every run: a failure here is reproducible
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def send(case) -> None:
        for headers in ({}, dict(process.credentials)):
            try:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                answers[f"{response.status_code}{'+' if headers else ''}"] += 1
            except FailureGroup as failure:  # schemathesis' report of what contradicted the document
                answers["failed"] += 1
                failures.append(f"{label} ({'with' if headers else 'without'} credentials): {failure}")

    send()
    return failures


def test_no_request_gets_an_answer_the_contract_does_not_describe(process: Process):
    schema = schemathesis.openapi.from_asgi("/openapi.json", process.app).exclude(path_regex=PROXY)
    client = get_client(process.app)  # started by loading the document; the gateway then syncs the catalogs
    deadline = time.monotonic() + 60
    while (ready := client.get("http://testserver/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ready.status_code == 200, ready.text
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        # The documents' own examples first (a valid report, say, so the writes that follow find one).
        if examples := schema.get_strategies_from_examples(operation):
            failures += fuzz(f"{operation.label} (examples)", one_of(examples), process, 2 * len(examples))
        failures += fuzz(f"{operation.label} (valid)", operation.as_strategy(GenerationMode.POSITIVE), process)
        try:
            failures += fuzz(f"{operation.label} (invalid)", operation.as_strategy(GenerationMode.NEGATIVE), process)
        except Unsatisfiable:  # nothing to get wrong: no parameters, no body
            pass
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)

"""The OpenAPI documents of all six processes describe the errors as they are answered: one error model,
every status an operation can answer, and the codes' formats, so generated clients check what the
server checks.  (tests/platform/test_fuzz.py sends them generated requests.)"""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI

import minsheng_gateway.main as gateway_main
import minsheng_notifier.main as notifier_main
import minsheng_webhooks.main as webhooks_main
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.params import INDICATOR_CODE, ORG_UNIT_CODE, PERIOD_CODE
from tests.conftest import CITY, campaign_module

ERROR = {"$ref": "#/components/schemas/ErrorResponse"}


def app_of(process: str) -> FastAPI:
    if process == "notifier":
        return notifier_main.build_app(jobs=False)
    if process == "webhooks":
        return webhooks_main.build_app(jobs=False)
    return gateway_main.build_app() if process == "gateway" else campaign_module(process).service.create_app()


@pytest.fixture(scope="module", params=[*CAMPAIGN_CODES, "gateway", "notifier", "webhooks"])
def document(request) -> dict:
    return app_of(request.param).openapi()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_one_error_model_and_no_fastapi_default(document):
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text
    model = document["components"]["schemas"]["ErrorResponse"]
    assert model["required"] == ["detail", "code"]
    assert {"errors", "refused", "max_bytes"} <= set(model["properties"])
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if int(status) >= 400 and path != "/readyz":
                assert answer["content"]["application/json"]["schema"] == ERROR, (method, path, status)
                assert answer["description"] and not answer["description"].isascii(), (method, path, status)


def test_each_operation_lists_what_it_can_answer(document):
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        assert "503" in statuses, (method, path)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method != "GET":
            assert "409" in statuses, (method, path)
        secured = path.startswith(("/api/v1/reports", "/api/v1/accounts", "/api/v1/inbox")) or path.endswith("/lock")
        if secured:
            assert {"401", "403"} <= statuses, (method, path)


def test_the_gateway_documents_its_rate_limits_on_writes_only():
    document = app_of("gateway").openapi()
    for method, path, operation in operations(document):
        assert ("429" in operation["responses"]) == (method != "GET"), (method, path)
        if method != "GET":
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "429" not in json.dumps(app_of("education").openapi()["paths"])


def test_codes_carry_their_formats():
    document = app_of("education").openapi()

    def parameter(path: str, name: str, method: str = "get") -> dict:
        found = [p for p in document["paths"][path][method]["parameters"] if p["name"] == name]
        return found[0]["schema"]

    assert parameter("/api/v1/org-units/{code}", "code")["pattern"] == ORG_UNIT_CODE
    assert parameter("/api/v1/indicators/{code}/progress", "org_unit")["pattern"] == ORG_UNIT_CODE
    assert parameter("/api/v1/indicators/{code}", "code")["pattern"] == INDICATOR_CODE
    assert parameter("/api/v1/periods/{period}/lock", "period", "post")["pattern"] == PERIOD_CODE
    assert parameter("/api/v1/reports/template", "period")["pattern"] == PERIOD_CODE
    assert parameter("/api/v1/reports/{report_id}", "report_id")["maximum"] == 2**31 - 1


def test_a_malformed_code_is_refused_in_chinese_before_any_look_up(campaign_client):
    education = campaign_client("education")
    for path in ("/api/v1/org-units/37030", "/api/v1/indicators/T2-1", "/api/v1/progress?org_unit=abcdef"):
        answer = education.get(path, headers=CITY)
        assert answer.status_code == 422, path
        assert answer.json()["code"] == "invalid_request" and "格式不正确" in answer.json()["detail"], path
    locked = education.post("/api/v1/periods/2022-13/lock", headers=CITY)  # the calendar says what is wrong
    assert locked.status_code == 422 and "月份" in locked.json()["detail"], locked.text
    assert education.get("/api/v1/org-units/370303", headers=CITY).status_code == 200

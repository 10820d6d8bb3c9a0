"""No input gives a server error: ids and offsets beyond what the database stores, characters it cannot
store, numbers that are not figures, broken JSON and multipart all get a 4xx with a Chinese message
and a code, and nothing is written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.identity import bearer

BEYOND = "9223372036854775808"  # past PostgreSQL's bigint, and far past its integer
OFFICE = bearer("demo-city-office")
ROW = {"indicator": "T002-1", "org_unit": "370302", "period": "2022-06"}


@pytest.fixture
def education(campaign_client) -> TestClient:
    # Server exceptions become answers, as a user would get them.
    return TestClient(campaign_client("education").app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", f"/api/v1/reports/{BEYOND}/return", {"reason": "与台账不符，请核实"}),
        ("post", f"/api/v1/reports/{BEYOND}/approve", None),
        ("post", f"/api/v1/reports/{BEYOND}/resubmit", {"value": 1}),
        ("get", f"/api/v1/reports/{BEYOND}", None),
        ("get", f"/api/v1/reports/{BEYOND}/history", None),
        ("get", "/api/v1/org-units?offset=8519846062759553374617600", None),
        ("get", "/api/v1/reports?offset=8519846062759553374617600", None),
        ("get", f"/api/v1/tasks/{BEYOND}", None),
        ("get", f"/api/v1/tasks/{BEYOND}/progress", None),
        ("get", f"/api/v1/task-status?task={BEYOND}", None),
        ("post", "/api/v1/reports/approve", {"ids": [int(BEYOND)]}),
    ],
)
def test_numbers_beyond_the_database_are_refused_as_bad_input(education, method, path, body):
    answer = getattr(education, method)(path, headers=OFFICE, **({"json": body} if body is not None else {}))
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request" and "数值过大" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/api/v1/tasks?lead_department=%00", {}),
        ("get", "/api/v1/tasks?text=a%00", {}),
        ("post", "/api/v1/reports", {"json": {**ROW, "value": 1, "note": "a\u0000b"}}),
        ("post", "/api/v1/reports/bulk", {"json": {"rows": [{**ROW, "value": 1, "note": "a\u0000b"}]}}),
        (
            "post",
            "/api/v1/task-status",
            {
                "json": {
                    "task": 1,
                    "org_unit": "370300",
                    "period": "2022-06",
                    "state": "in_progress",
                    "narrative": "\u0000",
                }
            },
        ),
    ],
)
def test_characters_the_database_cannot_store_are_refused_and_nothing_is_written(education, method, path, kwargs):
    answer = getattr(education, method)(path, headers=OFFICE, **kwargs)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "unstorable_value" and "没有保存任何数据" in answer.json()["detail"]
    assert education.get("/api/v1/reports", headers=OFFICE).json()["count"] == 0
    assert education.get("/api/v1/task-status", headers=OFFICE).json()["count"] == 0


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e400"])
def test_a_value_that_is_not_a_finite_number_is_refused(education, number):
    body = b'{"indicator": "T002-1", "org_unit": "370302", "period": "2022-06", "value": ' + number + b"}"
    answer = education.post("/api/v1/reports", content=body, headers={**OFFICE, "content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "有限的数字" in answer.json()["detail"]
    assert education.get("/api/v1/reports", headers=OFFICE).json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "content", "content_type", "says"),
    [
        ("/api/v1/reports", b'{"indicator": "T002-1",', "application/json", "不是有效的 JSON"),
        ("/api/v1/reports", b"\xff\xfe\x00", "application/json", "无法解析"),
        ("/api/v1/reports/upload", b"--xx\r\nbroken", "multipart/form-data; boundary=xx", "file"),
        ("/api/v1/reports/upload", b"no boundary", "multipart/form-data", "无法解析"),
    ],
)
def test_broken_bodies_get_a_chinese_4xx(education, path, content, content_type, says):
    answer = education.post(path, content=content, headers={**OFFICE, "content-type": content_type})
    assert 400 <= answer.status_code < 500, answer.text
    assert "detail" in answer.json() and "code" in answer.json()
    assert says in answer.json()["detail"]

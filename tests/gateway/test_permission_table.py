"""Permissions as a table: every write endpoint × every role and scope, against what the rules say.

The rules (minsheng.auth.principal, the gateway's identity deps) are stated once below, as `RULES` (what
each kind of write allows) and `ENDPOINTS` (which kind each write endpoint is). The write endpoints are
read from the app's own OpenAPI document, so a new one without a row here fails the test. Every cell is
called: an out-of-scope caller must be refused (401/403 with the rule's code), an in-scope one must not be.

A campaign service trusts only the gateway's short-lived signed tokens: it refuses none, an expired one,
one signed with another key and one for another service. Revocation (a disabled account, a revoked API key,
a signed-out session) happens at the gateway, which then signs no token: so those cases go through it.

The employment service is the subject: 市人力资源社会保障局 leads task 76 (T076-1) and not task 81 (T081-1,
市发展改革委); the integration demo account may write T076-1 and not T081-1; 张店区 is 370303.
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from minsheng.auth.demo import DEMO_PASSWORD
from minsheng.auth.models import Role
from minsheng.auth.principal import IndicatorScope, Principal, authorize_report, may_report
from minsheng.auth.tokens import ALGORITHM, service_token_claims
from minsheng.catalog.breakdown import parse_breakdown
from minsheng.catalog.document import PlanState, legacy_plan
from minsheng.catalog.models import Plan
from minsheng.demo.breakdown import DEMO_WORKBOOK
from minsheng.errors import Forbidden
from minsheng.reporting.files import DATA_SHEET
from minsheng.reporting.workbook import ERRORS_SHEET
from minsheng_gateway.identity.deps import SESSION_COOKIE
from minsheng_gateway.identity.tokens import ServiceTokenSigner
from tests.conftest import CITY, EDU_BUREAU, HEALTH_BUREAU, HRSS, INTEGRATION, LEADER, VIEWER, ZHANGDIAN
from tests.support import evidence_files
from tests.support.breakdown import CONTEXT, KNOWN
from tests.support.identity import API_KEY, SIGNER, demo_principal, gateway_settings, identity_gateway, sign_in
from tests.support.objectstore import bucket_name

WRITES = ("post", "put", "patch", "delete")
CAMPAIGN = "employment"
PLAN = legacy_plan().code


# ---- the rules ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What a write is about: an indicator, its task, an org unit."""

    indicator: str
    task: int
    org_unit: str


IN_SCOPE = Subject("T076-1", 76, "370300")
OTHER_TASK = Subject("T081-1", 81, "370300")  # led by 市发展改革委, not granted to the integration account


@dataclass(frozen=True)
class Caller:
    name: str
    headers: Callable[[], dict]
    subject: Subject = IN_SCOPE


def expired_token() -> dict:
    """The city office's token, signed by the gateway's key, that expired a minute ago."""
    issued = int(time.time()) - 120
    claims = service_token_claims(demo_principal("demo-city-office"), audience=CAMPAIGN, issued_at=issued, lifetime=60)
    return {"Authorization": f"Bearer {jwt.encode(claims, SIGNER.private_key, algorithm=ALGORITHM)}"}


OTHER_KEY = ServiceTokenSigner(Ed25519PrivateKey.generate(), lifetime=60)

CALLERS = (
    Caller("city office", lambda: dict(CITY)),
    Caller("bureau, its task", lambda: dict(HRSS)),
    Caller("bureau, another's task", lambda: dict(HRSS), OTHER_TASK),
    Caller("district, its unit", lambda: dict(ZHANGDIAN), Subject("T076-1", 76, "370303")),
    Caller("district, another unit", lambda: dict(ZHANGDIAN), Subject("T076-1", 76, "370302")),
    Caller("viewer", lambda: dict(VIEWER)),
    Caller("leader", lambda: dict(LEADER)),  # 市领导: reads everything, writes only 批示 and 督办单 (at the gateway)
    Caller("integration, its indicator", lambda: dict(INTEGRATION)),
    Caller("integration, another indicator", lambda: dict(INTEGRATION), OTHER_TASK),
    Caller("no token", dict),
    Caller("expired token", expired_token),
    Caller(
        "token not signed by the gateway",
        lambda: {"Authorization": f"Bearer {OTHER_KEY.sign(demo_principal('demo-city-office'), audience=CAMPAIGN)}"},
    ),
    Caller(
        "token for another service",
        lambda: {"Authorization": f"Bearer {SIGNER.sign(demo_principal('demo-city-office'), audience='education')}"},
    ),
)

ALLOWED = None  # in scope: 2xx
# Answers that do not depend on the kind of write: the token is refused before any rule is asked.
TOKEN_RULES = {
    "no token": (401, "not_signed_in"),
    "expired token": (401, "token_expired"),
    "token not signed by the gateway": (401, "invalid_token"),
    "token for another service": (401, "invalid_token"),
}
# What each kind of write allows, by caller (principal.authorize_report, authorize_task_status,
# require_city_office). A refusal is (status, code); in bulk the code is the refused row's.
SCOPED = {
    "city office": ALLOWED,
    "bureau, its task": ALLOWED,
    "bureau, another's task": (403, "not_lead_department"),
    "district, its unit": ALLOWED,
    "district, another unit": (403, "other_org_unit"),
    "viewer": (403, "read_only"),
    "leader": (403, "leader_read_only"),
}
RULES: dict[str, dict[str, tuple[int, str] | None]] = {
    # one value at a time: integration systems write in bulk only
    "single write": {
        **SCOPED,
        "integration, its indicator": (403, "integration_bulk_only"),
        "integration, another indicator": (403, "integration_bulk_only"),
    },
    "bulk write": {
        **SCOPED,
        "integration, its indicator": ALLOWED,
        "integration, another indicator": (403, "indicator_not_granted"),
    },
    # checks a workbook and writes nothing: a refusal is marked in the workbook it answers (200)
    "bulk check": {
        **{name: ALLOWED if rule is ALLOWED else (200, rule[1]) for name, rule in SCOPED.items()},
        "integration, its indicator": ALLOWED,
        "integration, another indicator": (200, "indicator_not_granted"),
    },
    "task status": {
        **SCOPED,
        "integration, its indicator": (403, "integration_bulk_only"),
        "integration, another indicator": (403, "integration_bulk_only"),
    },
    "city office only": {
        "city office": ALLOWED,
        **{c.name: (403, "city_office_only") for c in CALLERS[1:] if c.name not in TOKEN_RULES},
    },
    # a file is about no subject yet (its report is checked when saved with it): every clerk may upload
    "evidence upload": {
        **{name: ALLOWED for name in SCOPED},
        "viewer": (403, "evidence_not_allowed"),
        "leader": (403, "evidence_not_allowed"),
        "integration, its indicator": (403, "evidence_not_allowed"),
        "integration, another indicator": (403, "evidence_not_allowed"),
    },
    # only the uploader takes a pending file back; anyone else is told there is no such file
    "evidence delete": {
        **{name: ALLOWED for name in SCOPED},
        "viewer": (404, "evidence_not_found"),
        "leader": (404, "evidence_not_found"),
        "integration, its indicator": (404, "evidence_not_found"),
        "integration, another indicator": (404, "evidence_not_found"),
    },
}

# ---- the endpoints: each write's kind, and how to call it as a caller about a subject --------------------

PERIOD = "2022-06"  # the reports' period; the locks' periods have no reports
LOCK_PERIOD, UNLOCK_PERIOD = "2023-02", "2023-03"


def row(subject: Subject, value: float = 5) -> dict:
    return {"indicator": subject.indicator, "org_unit": subject.org_unit, "period": PERIOD, "value": value}


def csv_file(subject: Subject) -> dict:
    body = f"indicator,org_unit,period,value\n{subject.indicator},{subject.org_unit},{PERIOD},6\n"
    return {"file": ("上报.csv", body.encode(), "text/csv")}


def xlsx_file(subject: Subject) -> dict:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    sheet.append(["指标编号", "单位代码", "期间", "数值"])
    sheet.append([subject.indicator, subject.org_unit, PERIOD, 6])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return {"file": ("上报.xlsx", buffer.getvalue(), "application/octet-stream")}


def pending(client: TestClient, subject: Subject) -> int:
    """A report of the subject waiting for review, written by the city office."""
    created = client.post("/api/v1/reports", json=row(subject, 7), headers=CITY)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def approved(client: TestClient, subject: Subject) -> int:
    report_id = pending(client, subject)
    answer = client.post(f"/api/v1/reports/{report_id}/approve", headers=CITY)
    assert answer.status_code == 200, answer.text
    return report_id


def follow_up(client: TestClient, subject: Subject) -> int:
    """An open follow-up mark (待核实) on an approved value of the subject, made by the city office."""
    answer = client.post(
        "/api/v1/quality/follow-ups", json={"report_id": approved(client, subject), "comment": "请核实"}, headers=CITY
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def returned(client: TestClient, subject: Subject) -> int:
    report_id = pending(client, subject)
    answer = client.post(f"/api/v1/reports/{report_id}/return", json={"reason": "请核对"}, headers=CITY)
    assert answer.status_code == 200, answer.text
    return report_id


def locked(client: TestClient, period: str) -> str:
    answer = client.post(f"/api/v1/periods/{period}/lock", headers=CITY)
    assert answer.status_code in (201, 409), answer.text  # 409: still locked from an earlier cell
    return period


QUALITY_RULES = "/api/v1/quality/rules"
RULE = {
    "name": "新增不超两倍",
    "left": "T076-1",
    "operator": "<=",
    "right": "T076-1 * 2",
    "importance": "low",
    "instruction": "请核对本期新增数",
}


def quality_rule(client: TestClient) -> int:
    """A rule to change or delete, made by the city office for the call."""
    answer = client.post(QUALITY_RULES, json=RULE, headers=CITY)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def close_closed_plan(client: TestClient, headers: dict) -> httpx.Response:
    """Closes the service's plan while it is already closed (closing twice is closing once), then reopens it: the
    permission is what is tested, and the table's other writes still find an open plan."""

    def set_state(state: PlanState) -> None:
        with client.app.state.database.session() as session:
            plan = session.get(Plan, PLAN)
            plan.state = state
            session.add(plan)
            session.commit()
        client.app.state.catalog.drop()

    set_state(PlanState.closed)
    try:
        return client.post(f"/api/v1/plans/{PLAN}/close", headers=headers)
    finally:
        set_state(PlanState.published)


@functools.cache
def plan_part() -> dict:
    """The demonstration 任务分解表's plan, published, with this campaign's part of it."""
    demo = parse_breakdown(DEMO_WORKBOOK.read_bytes(), known_indicators=KNOWN, **CONTEXT)
    plan = demo.plan.model_copy(update={"state": PlanState.published})
    return {"plan": plan.model_dump(mode="json"), "campaign": demo.campaigns[CAMPAIGN].model_dump(mode="json")}


def evidence_upload(client: TestClient, headers: dict) -> httpx.Response:
    image = {"file": ("现场照片.png", evidence_files.png(), "application/octet-stream")}
    return client.post("/api/v1/evidence", files=image, headers=headers)


def own_upload(client: TestClient, headers: dict) -> str:
    """A pending file the caller uploaded; the city office's for a caller who may not upload."""
    answer = evidence_upload(client, headers)
    if answer.status_code != 201:
        answer = evidence_upload(client, CITY)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


Call = Callable[[TestClient, Subject, dict], httpx.Response]
ENDPOINTS: dict[tuple[str, str], tuple[str, Call]] = {
    ("post", "/api/v1/reports"): ("single write", lambda c, s, h: c.post("/api/v1/reports", json=row(s), headers=h)),
    ("post", "/api/v1/reports/bulk"): (
        "bulk write",
        lambda c, s, h: c.post("/api/v1/reports/bulk", json={"rows": [row(s)]}, headers=h),
    ),
    ("post", "/api/v1/reports/upload"): (
        "bulk write",
        lambda c, s, h: c.post("/api/v1/reports/upload", files=csv_file(s), headers=h),
    ),
    ("post", "/api/v1/reports/upload/annotated"): (
        "bulk check",
        lambda c, s, h: c.post("/api/v1/reports/upload/annotated", files=xlsx_file(s), headers=h),
    ),
    ("post", "/api/v1/reports/approve"): (
        "city office only",
        lambda c, s, h: c.post("/api/v1/reports/approve", json={"ids": [pending(c, s)]}, headers=h),
    ),
    ("post", "/api/v1/reports/{report_id}/approve"): (
        "city office only",
        lambda c, s, h: c.post(f"/api/v1/reports/{pending(c, s)}/approve", headers=h),
    ),
    ("post", "/api/v1/reports/{report_id}/return"): (
        "city office only",
        lambda c, s, h: c.post(f"/api/v1/reports/{pending(c, s)}/return", json={"reason": "请补充说明"}, headers=h),
    ),
    # the reporter corrects a returned report: the same rules as reporting it
    ("post", "/api/v1/reports/{report_id}/resubmit"): (
        "single write",
        lambda c, s, h: c.post(f"/api/v1/reports/{returned(c, s)}/resubmit", json={"value": 8}, headers=h),
    ),
    ("post", "/api/v1/periods/{period}/lock"): (
        "city office only",
        lambda c, s, h: c.post(f"/api/v1/periods/{LOCK_PERIOD}/lock", headers=h),
    ),
    ("delete", "/api/v1/periods/{period}/lock"): (
        "city office only",
        lambda c, s, h: c.delete(f"/api/v1/periods/{locked(c, UNLOCK_PERIOD)}/lock", headers=h),
    ),
    ("post", "/api/v1/plans/{code}/close"): ("city office only", lambda c, s, h: close_closed_plan(c, h)),
    ("post", "/api/v1/task-status"): (
        "task status",
        lambda c, s, h: c.post(
            "/api/v1/task-status",
            json={
                "task": s.task,
                "org_unit": s.org_unit,
                "period": "2022Q2",
                "state": "in_progress",
                "narrative": "推进中",
            },
            headers=h,
        ),
    ),
    ("post", "/api/v1/events/republish"): (
        "city office only",
        lambda c, s, h: c.post("/api/v1/events/republish", headers=h),
    ),
    ("post", "/api/v1/evidence"): ("evidence upload", lambda c, s, h: evidence_upload(c, h)),
    ("delete", "/api/v1/evidence/{evidence_id}"): (
        "evidence delete",
        lambda c, s, h: c.delete(f"/api/v1/evidence/{own_upload(c, h)}", headers=h),
    ),
    # 待确定 still takes reports: the other cells of the table are not changed by the city office's call
    ("put", "/api/v1/tasks/{number}/state"): (
        "city office only",
        lambda c, s, h: c.put(
            f"/api/v1/tasks/{s.task}/state", json={"state": "undecided", "reason": "待市政府研究"}, headers=h
        ),
    ),
    # publishing a plan (the gateway's breakdown:publish sends each service its part); last: the plan it creates is
    # in force today, and would be every later call's default plan
    # 数据质量 (issue 30): the rules and bounds are the city office's
    ("post", "/api/v1/quality/rules"): (
        "city office only",
        lambda c, s, h: c.post(QUALITY_RULES, json=RULE, headers=h),
    ),
    ("put", "/api/v1/quality/rules/{rule_id}"): (
        "city office only",
        lambda c, s, h: c.put(f"{QUALITY_RULES}/{quality_rule(c)}", json=RULE, headers=h),
    ),
    ("delete", "/api/v1/quality/rules/{rule_id}"): (
        "city office only",
        lambda c, s, h: c.delete(f"{QUALITY_RULES}/{quality_rule(c)}", headers=h),
    ),
    ("put", "/api/v1/quality/bounds/{indicator}/{org_unit}"): (
        "city office only",
        lambda c, s, h: c.put("/api/v1/quality/bounds/T076-1/370303", json={"minimum": 0}, headers=h),
    ),
    # follow-up marks (issue 30): the office marks and closes; whoever may report the value answers
    ("post", "/api/v1/quality/follow-ups"): (
        "city office only",
        lambda c, s, h: c.post(
            "/api/v1/quality/follow-ups", json={"report_id": approved(c, s), "comment": "请核实"}, headers=h
        ),
    ),
    ("post", "/api/v1/quality/follow-ups/{follow_up_id}/answers"): (
        "single write",
        lambda c, s, h: c.post(
            f"/api/v1/quality/follow-ups/{follow_up(c, s)}/answers", json={"comment": "数值无误"}, headers=h
        ),
    ),
    ("post", "/api/v1/quality/follow-ups/{follow_up_id}/close"): (
        "city office only",
        lambda c, s, h: c.post(
            f"/api/v1/quality/follow-ups/{follow_up(c, s)}/close", json={"comment": "已核实"}, headers=h
        ),
    ),
    ("post", "/api/v1/plans"): (
        "city office only",
        lambda c, s, h: c.post("/api/v1/plans", json=plan_part(), headers=h),
    ),
}


# The writes whose call writes nothing first (the others' set-up writes as the city office).
NO_SET_UP = (
    ("post", "/api/v1/reports"),
    ("post", "/api/v1/reports/bulk"),
    ("post", "/api/v1/reports/upload"),
    ("post", "/api/v1/periods/{period}/lock"),
    ("post", "/api/v1/task-status"),
    ("put", "/api/v1/tasks/{number}/state"),
)


def write_endpoints(client: TestClient) -> set[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    return {(method, path) for path, operations in paths.items() for method in operations if method in WRITES}


# A refusal names the allowed scope; a 404 (a file only its uploader sees) names none.
SCOPE_CODES = {
    code for rules in RULES.values() for rule in rules.values() if rule and rule[0] != 404 for code in rule[1:]
}


def expected(kind: str, caller: Caller) -> tuple[int, str] | None:
    return TOKEN_RULES.get(caller.name) or RULES[kind][caller.name]


def refusal_in_workbook(response: httpx.Response) -> str:
    """The reasons a checked workbook came back with (its sheet 错误清单)."""
    sheet = load_workbook(io.BytesIO(response.content))[ERRORS_SHEET]
    return "；".join(str(r[3]) for r in sheet.iter_rows(min_row=2, values_only=True))


def mismatch(response: httpx.Response, rule: tuple[int, str] | None) -> str | None:
    """Why the answer is not what the rule says, or None."""
    status = response.status_code
    if rule is ALLOWED:
        return None if 200 <= status < 300 else f"refused {status} {response.text[:200]}"
    want_status, want_code = rule
    if status != want_status:
        return f"answered {status}, the rule says {want_status} {want_code}: {response.text[:200]}"
    if want_status == 200:  # a check: the refusal is in the workbook, and nothing else
        reasons = refusal_in_workbook(response) if "json" not in response.headers["content-type"] else ""
        return None if "只能" in reasons or "只有" in reasons else f"workbook without the refusal: {reasons!r}"
    body = response.json()
    code = body["code"] if body["code"] != "bulk_forbidden" else body["errors"][0]["code"]
    if code != want_code:
        return f"code {code}, the rule says {want_code}: {body['detail']}"
    if want_code in SCOPE_CODES and not any(word in body["detail"] for word in ("只能", "只有")):
        return f"a refusal that does not say what is allowed: {body['detail']}"
    return None


# ---- the campaign service ---------------------------------------------------------------------------------


@pytest.fixture
def campaign_client(campaign_client, object_store) -> Callable[[str], TestClient]:
    """The services of this module store 佐证材料 in the session's object store, so uploads are answered."""
    return lambda campaign: campaign_client(
        campaign,
        object_store_url=object_store.endpoint,
        object_store_access_key=object_store.credentials.access_key,
        object_store_secret_key=object_store.credentials.secret_key,
        evidence_bucket=bucket_name(campaign),
    )


def test_may_report_is_the_rule_authorize_report_enforces_and_the_inbox_asks():
    """The inbox asks `may_report`; a write asks `authorize_report`: both must give the same answer for
    every caller, indicator, org unit and kind of write (else the inbox would list what a write refuses)."""
    callers = [
        Principal(account_id=1, name="市民生办", role=Role.city_office),
        Principal(account_id=2, name="人社局", role=Role.bureau, department="市人力资源社会保障局"),
        Principal(account_id=3, name="张店区", role=Role.district, org_unit="370303"),
        Principal(account_id=4, name="对接", role=Role.integration, indicators=frozenset({"T076-1"})),
        Principal(account_id=5, name="只读", role=Role.viewer),
        Principal(account_id=6, name="市领导", role=Role.leader),
    ]
    scopes = [
        IndicatorScope(code="T076-1", task_number=76, lead_departments=("市人力资源社会保障局",), city_only=False),
        IndicatorScope(code="T081-1", task_number=81, lead_departments=("市发展改革委",), city_only=False),
        IndicatorScope(code="H-EMP-1", task_number=None, lead_departments=(), city_only=True),
    ]
    allowed = set()
    for caller in callers:
        for scope in scopes:
            for org_unit in ("370300", "370303", "370304"):
                for bulk in (False, True):
                    try:
                        authorize_report(caller, scope, org_unit, bulk=bulk)
                        refused = False
                    except Forbidden:
                        refused = True
                    assert may_report(caller, scope, org_unit, bulk=bulk) is not refused, (caller.role, scope, org_unit)
                    if not refused and org_unit == "370300":
                        allowed.add((caller.role.value, scope.code, bulk))
    # What a clerk would notice: each may report the city figures of its own scope, and no more.
    assert allowed == {
        *{("city_office", code, bulk) for code in ("T076-1", "T081-1", "H-EMP-1") for bulk in (False, True)},
        ("bureau", "T076-1", False),
        ("bureau", "T076-1", True),
        ("integration", "T076-1", True),
    }


def test_every_write_endpoint_has_a_row_in_the_table(campaign_client):
    documented = write_endpoints(campaign_client(CAMPAIGN))
    assert documented == set(ENDPOINTS), (
        f"write endpoints without a row: {sorted(documented - set(ENDPOINTS))}; "
        f"rows without an endpoint: {sorted(set(ENDPOINTS) - documented)}"
    )
    assert all(set(RULES[kind]) | set(TOKEN_RULES) == {c.name for c in CALLERS} for kind, _ in ENDPOINTS.values())


def test_every_write_as_every_caller_is_answered_as_the_rules_say(campaign_client):
    client = campaign_client(CAMPAIGN)
    failures, refused, allowed = [], 0, 0
    for (method, path), (kind, call) in ENDPOINTS.items():
        for caller in CALLERS:
            rule = expected(kind, caller)
            problem = mismatch(call(client, caller.subject, caller.headers()), rule)
            if problem:
                failures.append(f"{method.upper()} {path} as {caller.name} ({kind}): {problem}")
            refused, allowed = refused + (rule is not ALLOWED), allowed + (rule is ALLOWED)
    assert not failures, "\n".join(failures)
    # the table is not all one answer: both sides are exercised on every kind of write
    assert refused > allowed > len(ENDPOINTS)


def test_a_refused_write_leaves_no_trace(campaign_client):
    """Every out-of-scope call of the table, on its own: not one change recorded, not one event."""
    client = campaign_client(CAMPAIGN)
    before = client.get("/api/v1/reports", params={"current_only": False}, headers=VIEWER).json()["count"]
    for endpoint in NO_SET_UP:
        kind, call = ENDPOINTS[endpoint]
        for caller in CALLERS:
            if expected(kind, caller) is not ALLOWED:
                assert call(client, caller.subject, caller.headers()).status_code in (401, 403)
    after = client.get("/api/v1/reports", params={"current_only": False}, headers=VIEWER).json()["count"]
    assert after == before
    assert client.get("/api/v1/task-status", headers=VIEWER).json()["count"] == 0
    assert client.get("/api/v1/periods/locks").json() == []
    assert client.get(f"/api/v1/tasks/{IN_SCOPE.task}/state").json()["history"] == []


def test_reading_reports_needs_a_token_of_any_role(campaign_client):
    client = campaign_client(CAMPAIGN)
    for headers in (CITY, HRSS, ZHANGDIAN, VIEWER, LEADER, INTEGRATION):
        assert client.get("/api/v1/reports", headers=headers).status_code == 200
    assert client.get("/api/v1/reports").json()["code"] == "not_signed_in"


def test_refusals_name_the_allowed_scope(campaign_client):
    client = campaign_client("education")  # T002-1: led by 市教育局 (and 市自然资源和规划局)
    body = {"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 2}
    health = client.post("/api/v1/reports", json=body, headers=HEALTH_BUREAU).json()
    assert health["code"] == "not_lead_department"
    assert "市卫生健康委只能填报本部门牵头任务的指标" in health["detail"] and "市教育局" in health["detail"]
    district = client.post("/api/v1/reports", json={**body, "org_unit": "370302"}, headers=ZHANGDIAN).json()
    assert district["code"] == "other_org_unit" and "370303" in district["detail"]
    pending = client.post("/api/v1/reports", json=body, headers=CITY).json()
    bureau = client.post(f"/api/v1/reports/{pending['id']}/approve", headers=EDU_BUREAU).json()
    assert bureau["code"] == "city_office_only" and "市民生办" in bureau["detail"]


def test_a_bulk_write_with_one_ungranted_row_is_refused_whole_naming_the_row(campaign_client):
    client = campaign_client(CAMPAIGN)
    rows = [row(IN_SCOPE), {**row(IN_SCOPE), "indicator": "H-EMP-2", "value": 4.2}]
    accepted = client.post("/api/v1/reports/bulk", json={"rows": rows}, headers=INTEGRATION)
    assert accepted.status_code == 201 and accepted.json()["count"] == 2
    mixed = client.post(
        "/api/v1/reports/bulk",
        headers=INTEGRATION,
        json={"rows": [{**row(IN_SCOPE), "period": "2022-07"}, {**row(OTHER_TASK), "period": "2022-07"}]},
    )
    assert mixed.status_code == 403
    assert [e["row"] for e in mixed.json()["errors"]] == [2]
    assert "T081-1" in mixed.json()["detail"]
    assert client.get("/api/v1/reports", params={"period": "2022-07"}, headers=VIEWER).json()["count"] == 0


# ---- the gateway: its own writes, and revocation in front of the services ---------------------------------


@pytest.fixture
def gateway(make_database, campaign_client) -> Iterator[TestClient]:
    service = campaign_client(CAMPAIGN)
    settings = gateway_settings(make_database("gateway"))
    with TestClient(identity_gateway(settings, httpx.ASGITransport(app=service.app))) as client:
        client.service = service  # type: ignore[attr-defined]
        yield client


def person(gateway: TestClient, username: str) -> tuple[TestClient, dict]:
    """A browser of its own, signed in as the account; its CSRF header."""
    browser = TestClient(gateway.app)
    return browser, sign_in(browser, username)


def office(gateway: TestClient) -> tuple[TestClient, dict]:
    """The city office's browser for the cells' set-up: signed in once (again after a password change
    ended its session)."""
    cached = getattr(gateway, "office", None)
    if cached is None or cached[0].get("/api/v1/auth/me").status_code != 200:
        gateway.office = cached = person(gateway, "demo-city-office")  # type: ignore[attr-defined]
    return cached


def signed_out(gateway: TestClient) -> tuple[TestClient, dict]:
    """A browser still sending the cookie (and CSRF token) of a session it signed out of."""
    browser, csrf = person(gateway, "demo-education-bureau")
    cookie = browser.cookies[SESSION_COOKIE]
    assert browser.post("/api/v1/auth/logout", headers=csrf).status_code == 204
    browser.cookies.set(SESSION_COOKIE, cookie)
    return browser, csrf


def account_id(gateway: TestClient, username: str) -> int:
    return next(
        a["id"]
        for a in office(gateway)[0].get("/api/v1/accounts", params={"limit": 100}).json()["data"]
        if a["username"] == username
    )


def revoked_key(gateway: TestClient) -> tuple[TestClient, dict]:
    city, csrf = office(gateway)
    integration = account_id(gateway, "demo-integration")
    issued = city.post(f"/api/v1/accounts/{integration}/api-keys", json={"name": "旧密钥"}, headers=csrf).json()
    assert city.delete(f"/api/v1/accounts/{integration}/api-keys/{issued['id']}", headers=csrf).status_code == 204
    return TestClient(gateway.app), {"Authorization": f"Bearer {issued['key']}"}


def disabled_session(gateway: TestClient) -> tuple[TestClient, dict]:
    """A browser signed in as 张店区 when the city office disabled the account."""
    browser, csrf = person(gateway, "demo-zhangdian")
    city, city_csrf = office(gateway)
    me = browser.get("/api/v1/auth/me").json()["user"]["id"]
    assert city.post(f"/api/v1/accounts/{me}/disable", headers=city_csrf).status_code == 200
    return browser, csrf


GATEWAY_CALLERS: dict[str, Callable[[TestClient], tuple[TestClient, dict]]] = {
    "city office": lambda g: person(g, "demo-city-office"),
    "bureau": lambda g: person(g, "demo-education-bureau"),
    "district": lambda g: person(g, "demo-zhangdian"),
    "viewer": lambda g: person(g, "demo-viewer"),
    "leader": lambda g: person(g, "demo-leader"),
    "integration (API key)": lambda g: (TestClient(g.app), dict(API_KEY)),
    "no credentials": lambda g: (TestClient(g.app), {}),
    "session without its CSRF token": lambda g: (person(g, "demo-city-office")[0], {}),
    "signed-out session": signed_out,
    "revoked API key": revoked_key,
}
REVOKED = {  # the gateway refuses these before any rule (identity deps)
    "no credentials": (401, "not_signed_in"),
    "session without its CSRF token": (403, "csrf_failed"),
    "signed-out session": (401, "session_expired"),
    "revoked API key": (401, "invalid_api_key"),
}
GATEWAY_RULES = {
    "city office only": {
        "city office": ALLOWED,
        **{
            name: (403, "city_office_only")
            for name in ("bureau", "district", "viewer", "leader", "integration (API key)")
        },
        **REVOKED,
    },
    # open: signing in asks for a password, not for a caller (refusals by password: tests/gateway/test_identity.py)
    "sign-in": dict.fromkeys(GATEWAY_CALLERS, ALLOWED),
    # open too, but a session's sign-out needs its CSRF token (no page may sign a person out)
    "sign-out": {
        **dict.fromkeys(GATEWAY_CALLERS, ALLOWED),
        "session without its CSRF token": REVOKED["session without its CSRF token"],
    },
    "signed in": {
        name: ALLOWED for name in ("city office", "bureau", "district", "viewer", "leader", "integration (API key)")
    }
    | REVOKED,
}
serial = count(1)


def new_account(gateway: TestClient) -> int:
    """An account of its own for a cell to act on (so that disabling or resetting it touches no one else)."""
    city, csrf = office(gateway)
    body = {
        "username": f"clerk-{next(serial)}",
        "display_name": "测试 办事员",
        "role": "viewer",
        "password": "淄博民生-测试-口令-01",
    }
    created = city.post("/api/v1/accounts", json=body, headers=csrf)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def integration_key(gateway: TestClient) -> tuple[int, int]:
    city, csrf = office(gateway)
    integration = account_id(gateway, "demo-integration")
    issued = city.post(f"/api/v1/accounts/{integration}/api-keys", json={"name": "待吊销"}, headers=csrf)
    return integration, issued.json()["id"]


def integration_app_key(gateway: TestClient) -> tuple[int, int]:
    city, csrf = office(gateway)
    integration = account_id(gateway, "demo-integration")
    issued = city.post(f"/api/v1/accounts/{integration}/app-keys", json={"name": "待吊销"}, headers=csrf)
    return integration, issued.json()["id"]


def change_password(browser: TestClient, headers: dict) -> httpx.Response:
    """Changes the caller's password and back (the demo accounts keep theirs for the next cells)."""
    new = "淄博民生-新口令-2025"
    answer = browser.post(
        "/api/v1/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": new}, headers=headers
    )
    if answer.status_code == 204:
        back = {"current_password": new, "new_password": DEMO_PASSWORD}
        assert browser.post("/api/v1/auth/password", json=back, headers=headers).status_code == 204
    return answer


GatewayCall = Callable[[TestClient, TestClient, dict], httpx.Response]
GATEWAY_ENDPOINTS: dict[tuple[str, str], tuple[str, GatewayCall]] = {
    ("post", "/api/v1/auth/login"): (
        "sign-in",
        lambda g, b, h: b.post("/api/v1/auth/login", json={"username": "demo-viewer", "password": DEMO_PASSWORD}),
    ),
    ("post", "/api/v1/auth/logout"): ("sign-out", lambda g, b, h: b.post("/api/v1/auth/logout", headers=h)),
    ("post", "/api/v1/auth/password"): ("signed in", lambda g, b, h: change_password(b, h)),
    # 提醒设置: each person their own (an empty one leaves the demo accounts as they were).
    ("put", "/api/v1/auth/me/contacts"): (
        "signed in",
        lambda g, b, h: b.put("/api/v1/auth/me/contacts", json={"email": None, "mobile": None}, headers=h),
    ),
    ("post", "/api/v1/accounts"): (
        "city office only",
        lambda g, b, h: b.post(
            "/api/v1/accounts",
            json={
                "username": f"new-{next(serial)}",
                "display_name": "新 账号",
                "role": "viewer",
                "password": "淄博民生-测试-口令-02",
            },
            headers=h,
        ),
    ),
    ("post", "/api/v1/accounts/{account_id}/password"): (
        "city office only",
        lambda g, b, h: b.post(
            f"/api/v1/accounts/{new_account(g)}/password", json={"new_password": "淄博民生-重置-口令-03"}, headers=h
        ),
    ),
    ("post", "/api/v1/accounts/{account_id}/disable"): (
        "city office only",
        lambda g, b, h: b.post(f"/api/v1/accounts/{new_account(g)}/disable", headers=h),
    ),
    ("put", "/api/v1/accounts/{account_id}/head"): (
        "city office only",
        lambda g, b, h: b.put(f"/api/v1/accounts/{new_account(g)}/head", json={"head": False}, headers=h),
    ),
    ("post", "/api/v1/accounts/{account_id}/enable"): (
        "city office only",
        lambda g, b, h: b.post(f"/api/v1/accounts/{new_account(g)}/enable", headers=h),
    ),
    ("post", "/api/v1/accounts/{account_id}/api-keys"): (
        "city office only",
        lambda g, b, h: b.post(
            f"/api/v1/accounts/{account_id(g, 'demo-integration')}/api-keys", json={"name": "新密钥"}, headers=h
        ),
    ),
    ("delete", "/api/v1/accounts/{account_id}/api-keys/{key_id}"): (
        "city office only",
        lambda g, b, h: b.delete("/api/v1/accounts/{}/api-keys/{}".format(*integration_key(g)), headers=h),
    ),
    # 政务 request signing (tests/gateway/test_request_signing.py): AppKeys and the requirement, as API keys
    ("post", "/api/v1/accounts/{account_id}/app-keys"): (
        "city office only",
        lambda g, b, h: b.post(
            f"/api/v1/accounts/{account_id(g, 'demo-integration')}/app-keys", json={"name": "新 AppKey"}, headers=h
        ),
    ),
    ("delete", "/api/v1/accounts/{account_id}/app-keys/{key_id}"): (
        "city office only",
        lambda g, b, h: b.delete("/api/v1/accounts/{}/app-keys/{}".format(*integration_app_key(g)), headers=h),
    ),
    # the demo integration account is left as it was: its API key opens the next cells
    ("put", "/api/v1/accounts/{account_id}/signing"): (
        "city office only",
        lambda g, b, h: b.put(
            f"/api/v1/accounts/{account_id(g, 'demo-integration')}/signing", json={"required": False}, headers=h
        ),
    ),
}
PROXY_PATH = "/api/v1/campaigns/{campaign}/{path}"
# The notifier's and the webhooks worker's APIs, forwarded as the campaigns' is; their own rules are
# tests/notifier's and tests/webhooks'.
NOTIFIER_PROXY_PATH = "/api/v1/notifier/{path}"
WEBHOOKS_PROXY_PATH = "/api/v1/webhooks/{path}"


def test_every_gateway_write_as_every_caller_is_answered_as_the_rules_say(gateway):
    documented = write_endpoints(gateway)
    own = {
        endpoint for endpoint in documented if endpoint[1] not in (PROXY_PATH, NOTIFIER_PROXY_PATH, WEBHOOKS_PROXY_PATH)
    }
    assert own == set(GATEWAY_ENDPOINTS), f"gateway writes without a row: {sorted(own - set(GATEWAY_ENDPOINTS))}"
    assert {method for method, path in documented if path == PROXY_PATH} == set(WRITES)
    failures = []
    for (method, path), (kind, call) in GATEWAY_ENDPOINTS.items():
        for name, make in GATEWAY_CALLERS.items():
            rule = GATEWAY_RULES[kind][name]
            browser, headers = make(gateway)
            problem = mismatch(call(gateway, browser, headers), rule)
            if problem:
                failures.append(f"{method.upper()} {path} as {name}: {problem}")
    assert not failures, "\n".join(failures)


def test_revoked_credentials_reach_no_service_write(gateway):
    """Through the gateway, each of the service's writes with credentials that were revoked: a disabled
    account's session and API key, a revoked API key, a signed-out session. None is forwarded."""
    service_writes = write_endpoints(gateway.service)
    revoked = {
        "signed-out session": (signed_out, (401, "session_expired")),
        "revoked API key": (revoked_key, (401, "invalid_api_key")),
        "disabled account's session": (disabled_session, (401, "session_expired")),
    }
    failures = []
    for name, (make, rule) in revoked.items():
        browser, headers = make(gateway)
        for method, path in sorted(service_writes):
            concrete = path.replace("{report_id}", "1").replace("{period}", "2022-01").removeprefix("/api/v1/")
            response = browser.request(method, f"/api/v1/campaigns/{CAMPAIGN}/{concrete}", json={}, headers=headers)
            if problem := mismatch(response, rule):
                failures.append(f"{method.upper()} {path} with a {name}: {problem}")
    # the integration account disabled: its (unrevoked) key no longer opens anything
    city, csrf = office(gateway)
    integration = account_id(gateway, "demo-integration")
    assert city.post(f"/api/v1/accounts/{integration}/disable", headers=csrf).status_code == 200
    bulk = {"rows": [row(IN_SCOPE)]}
    refused = TestClient(gateway.app).post(f"/api/v1/campaigns/{CAMPAIGN}/reports/bulk", json=bulk, headers=API_KEY)
    if problem := mismatch(refused, (403, "account_disabled")):
        failures.append(f"bulk write with a disabled account's API key: {problem}")
    assert not failures, "\n".join(failures)
    everything = gateway.service.get("/api/v1/reports", params={"current_only": False}, headers=VIEWER).json()
    assert everything["count"] == 0

"""People sign in at the gateway: sessions, expiry, lockout, CSRF, passwords, accounts and API keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import select

from minsheng.auth.demo import DEMO_PASSWORD
from minsheng.clock import CHINA
from minsheng_gateway.identity.models import Account
from tests.support.identity import API_KEY, gateway_settings, identity_gateway, sign_in

NEW_PASSWORD = "淄博-民生-2025-新密码"


@pytest.fixture
def gateway(make_database) -> Iterator[TestClient]:
    settings = gateway_settings(make_database("gateway"), session_idle_minutes=30, session_absolute_hours=12)
    with TestClient(identity_gateway(settings)) as client:
        yield client


def fresh(gateway: TestClient) -> TestClient:
    """A second browser: the same gateway, its own cookies."""
    return TestClient(gateway.app)


class Clock:
    """The gateway's clock for identity rules, moved by the test."""

    def __init__(self, gateway: TestClient):
        self.now = dt.datetime.now(dt.UTC)
        gateway.app.state.utc_clock = lambda: self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


def login(client: TestClient, username: str, password: str):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("minsheng_sign_ins_total", {"outcome": outcome}) or 0.0


# ---- sign-in and sign-out -----------------------------------------------------------------------------


def test_sign_in_sets_a_strict_http_only_cookie_and_me_answers_who_is_signed_in(gateway):
    before = counted("success")
    response = login(gateway, "demo-education-bureau", DEMO_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["username"] == "demo-education-bureau" and body["user"]["role"] == "bureau"
    assert body["user"]["department"] == "市教育局" and body["user"]["disabled"] is False
    assert "password_hash" not in body["user"] and body["csrf_token"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("minsheng_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # plain HTTP here; Secure behind HTTPS
    me = gateway.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json() == {**body, "user": {**body["user"], **me.json()["user"]}}
    assert me.json()["user"]["last_login_at"] is not None
    assert counted("success") == before + 1


def test_the_session_cookie_is_secure_behind_https(make_database):
    settings = gateway_settings(make_database("gateway"), cookie_secure=True)
    with TestClient(identity_gateway(settings)) as client:
        assert "Secure" in login(client, "demo-viewer", DEMO_PASSWORD).headers["set-cookie"]


def test_sign_out_ends_the_session_on_the_server(gateway):
    csrf = sign_in(gateway, "demo-viewer")
    cookie = gateway.cookies.get("minsheng_session")
    assert gateway.post("/api/v1/auth/logout", headers=csrf).status_code == 204
    assert "minsheng_session" not in gateway.cookies
    replayed = fresh(gateway)
    replayed.cookies.set("minsheng_session", cookie)
    assert replayed.get("/api/v1/auth/me").json()["code"] == "session_expired"
    assert gateway.get("/api/v1/auth/me").json() == {"detail": "请先登录", "code": "not_signed_in"}


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(gateway):
    wrong = login(gateway, "demo-viewer", "not-the-password")
    unknown = login(gateway, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "用户名或密码错误", "code": "invalid_credentials"}
    assert "set-cookie" not in wrong.headers


# ---- expiry ---------------------------------------------------------------------------------------------


def test_a_session_ends_after_the_idle_time_and_activity_keeps_it_alive(gateway):
    clock = Clock(gateway)
    sign_in(gateway, "demo-viewer")
    for _ in range(4):  # a request every 20 minutes: 80 minutes signed in, never 30 idle
        clock.advance(minutes=20)
        assert gateway.get("/api/v1/auth/me").status_code == 200
    clock.advance(minutes=31)
    expired = gateway.get("/api/v1/auth/me")
    assert expired.status_code == 401
    assert expired.json() == {"detail": "登录已过期，请重新登录", "code": "session_expired"}


def test_a_session_ends_at_its_absolute_limit_however_active(gateway):
    clock = Clock(gateway)
    sign_in(gateway, "demo-viewer")
    for _ in range(11 * 3):  # every 20 minutes for 11 hours
        clock.advance(minutes=20)
        assert gateway.get("/api/v1/auth/me").status_code == 200
    clock.advance(minutes=61)
    assert gateway.get("/api/v1/auth/me").json()["code"] == "session_expired"


# ---- lockout --------------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_fifteen_minutes(gateway):
    clock = Clock(gateway)
    lockouts = REGISTRY.get_sample_value("minsheng_account_lockouts_total") or 0.0
    for _ in range(4):
        assert login(gateway, "demo-zhangdian", "wrong-password").status_code == 401
    locked = login(gateway, "demo-zhangdian", "wrong-password")
    assert locked.status_code == 423
    until = (clock.now + dt.timedelta(minutes=15)).astimezone(CHINA)
    assert locked.json()["code"] == "account_locked"
    assert locked.json()["detail"] == f"连续 5 次密码错误，账号已锁定，请于 {until:%H:%M} 后再试"
    assert (REGISTRY.get_sample_value("minsheng_account_lockouts_total") or 0.0) == lockouts + 1
    # while locked, even the right password is refused
    clock.advance(minutes=14)
    assert login(gateway, "demo-zhangdian", DEMO_PASSWORD).status_code == 423
    # released after the window: the right password works, and the count starts again
    clock.advance(minutes=2)
    assert login(gateway, "demo-zhangdian", DEMO_PASSWORD).status_code == 200
    assert login(gateway, "demo-zhangdian", "wrong-password").status_code == 401


def test_a_success_resets_the_count_of_failures(gateway):
    for _ in range(4):
        login(gateway, "demo-zhangdian", "wrong-password")
    assert login(gateway, "demo-zhangdian", DEMO_PASSWORD).status_code == 200
    for _ in range(4):
        assert login(gateway, "demo-zhangdian", "wrong-password").status_code == 401


# ---- CSRF and passwords -----------------------------------------------------------------------------------


def test_a_cookie_authenticated_change_needs_the_csrf_token(gateway):
    csrf = sign_in(gateway, "demo-viewer")
    body = {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}
    for headers in ({}, {"X-CSRF-Token": "x" * 43}):
        refused = gateway.post("/api/v1/auth/password", json=body, headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "页面已过期，请刷新后重试", "code": "csrf_failed"}
    assert login(fresh(gateway), "demo-viewer", DEMO_PASSWORD).status_code == 200  # unchanged
    assert gateway.post("/api/v1/auth/password", json=body, headers=csrf).status_code == 204


def test_changing_the_password_ends_the_other_sessions(gateway):
    csrf = sign_in(gateway, "demo-viewer")
    other = fresh(gateway)
    sign_in(other, "demo-viewer")
    wrong = gateway.post(
        "/api/v1/auth/password", headers=csrf, json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    changed = gateway.post(
        "/api/v1/auth/password", headers=csrf, json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    assert gateway.get("/api/v1/auth/me").status_code == 200  # the session that changed it stays
    assert other.get("/api/v1/auth/me").json()["code"] == "session_expired"
    assert login(fresh(gateway), "demo-viewer", DEMO_PASSWORD).status_code == 401
    assert login(fresh(gateway), "demo-viewer", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "密码太短：至少 10 位"),
        ("demo-viewer-2025", "密码不能与用户名相同，也不能包含用户名"),
        ("1234567890", "密码过于常见，容易被猜中，请换一个"),
        ("qwertyuiop", "密码过于常见，容易被猜中，请换一个"),
    ],
)
def test_a_weak_new_password_is_refused_saying_why(gateway, password, reason):
    csrf = sign_in(gateway, "demo-viewer")
    refused = gateway.post(
        "/api/v1/auth/password", headers=csrf, json={"current_password": DEMO_PASSWORD, "new_password": password}
    )
    assert refused.status_code == 422
    assert refused.json() == {"detail": reason, "code": "weak_password"}
    assert login(fresh(gateway), "demo-viewer", DEMO_PASSWORD).status_code == 200


# ---- accounts (city office) -----------------------------------------------------------------------------


def test_the_city_office_creates_an_account_that_can_sign_in(gateway):
    csrf = sign_in(gateway, "demo-city-office")
    body = {
        "username": "Zhang.San",
        "display_name": "市教育局 张三",
        "role": "bureau",
        "department": "市教育局",
        "password": NEW_PASSWORD,
    }
    created = gateway.post("/api/v1/accounts", json=body, headers=csrf)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["username"] == "zhang.san" and account["created_by"] == "市民生办 演示用户"
    assert account["indicators"] == [] and account["last_login_at"] is None
    assert gateway.post("/api/v1/accounts", json=body, headers=csrf).json()["code"] == "username_taken"
    missing = gateway.post("/api/v1/accounts", headers=csrf, json={**body, "username": "li.si", "department": None})
    assert missing.status_code == 422 and missing.json()["code"] == "missing_scope"
    listed = gateway.get("/api/v1/accounts").json()
    assert listed["count"] == 11 and "zhang.san" in {a["username"] for a in listed["data"]}
    person = fresh(gateway)
    assert login(person, "zhang.san", NEW_PASSWORD).json()["user"]["display_name"] == "市教育局 张三"


def test_no_one_disables_their_own_account(gateway):
    csrf = sign_in(gateway, "demo-city-office")
    own_id = gateway.get("/api/v1/auth/me").json()["user"]["id"]
    refused = gateway.post(f"/api/v1/accounts/{own_id}/disable", headers=csrf)
    assert refused.status_code == 422 and refused.json()["code"] == "cannot_disable_self"
    assert gateway.get("/api/v1/auth/me").status_code == 200


def test_only_the_city_office_manages_accounts(gateway):
    csrf = sign_in(gateway, "demo-education-bureau")
    assert gateway.get("/api/v1/accounts").json()["code"] == "city_office_only"
    refused = gateway.post("/api/v1/accounts/1/disable", headers=csrf)
    assert refused.status_code == 403
    assert fresh(gateway).get("/api/v1/accounts").status_code == 401


def test_disabling_an_account_ends_its_sessions_at_once(gateway):
    office = fresh(gateway)
    csrf = sign_in(office, "demo-city-office")
    sign_in(gateway, "demo-zhangdian")
    me = gateway.get("/api/v1/auth/me").json()["user"]
    disabled = office.post(f"/api/v1/accounts/{me['id']}/disable", headers=csrf)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert gateway.get("/api/v1/auth/me").json()["code"] == "session_expired"
    refused = login(fresh(gateway), "demo-zhangdian", DEMO_PASSWORD)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "账号已停用，请联系市民生办", "code": "account_disabled"}
    assert login(fresh(gateway), "demo-zhangdian", "wrong-password").status_code == 401  # says nothing more
    assert office.post(f"/api/v1/accounts/{me['id']}/enable", headers=csrf).json()["disabled"] is False
    assert login(fresh(gateway), "demo-zhangdian", DEMO_PASSWORD).status_code == 200


def test_a_password_reset_ends_the_sessions_and_lifts_a_lockout(gateway):
    office = fresh(gateway)
    csrf = sign_in(office, "demo-city-office")
    sign_in(gateway, "demo-viewer")
    viewer_id = gateway.get("/api/v1/auth/me").json()["user"]["id"]
    for _ in range(5):
        login(fresh(gateway), "demo-viewer", "wrong-password")
    weak = office.post(f"/api/v1/accounts/{viewer_id}/password", json={"new_password": "123456"}, headers=csrf)
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    reset = office.post(f"/api/v1/accounts/{viewer_id}/password", json={"new_password": NEW_PASSWORD}, headers=csrf)
    assert reset.status_code == 204
    assert gateway.get("/api/v1/auth/me").json()["code"] == "session_expired"
    assert login(fresh(gateway), "demo-viewer", NEW_PASSWORD).status_code == 200


def test_passwords_are_stored_as_argon2_hashes(gateway):
    with gateway.app.state.database.session() as session:
        account = session.exec(select(Account).where(Account.username == "demo-viewer")).one()
    assert account.password_hash.startswith("$argon2id$") and DEMO_PASSWORD not in account.password_hash


# ---- API keys ---------------------------------------------------------------------------------------------


def test_an_integration_account_gets_api_keys_shown_once_and_revocable(gateway):
    csrf = sign_in(gateway, "demo-city-office")
    system = fresh(gateway)
    account_id = system.get("/api/v1/auth/me", headers=API_KEY).json()["user"]["id"]
    issued = gateway.post(f"/api/v1/accounts/{account_id}/api-keys", json={"name": "就业监测 生产"}, headers=csrf)
    assert issued.status_code == 201
    key = issued.json()["key"]
    assert key.startswith("msk_") and len(key) > 40
    me = system.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["user"]["role"] == "integration"
    listed = gateway.get(f"/api/v1/accounts/{account_id}/api-keys").json()
    assert listed["count"] == 2 and key not in str(listed)
    used = next(k for k in listed["data"] if k["id"] == issued.json()["id"])
    assert used["last_used_at"] is not None
    # a key is not a session: a write with it needs no CSRF token
    assert system.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {key}"}).status_code == 204
    revoked = gateway.delete(f"/api/v1/accounts/{account_id}/api-keys/{issued.json()['id']}", headers=csrf)
    assert revoked.status_code == 204
    refused = system.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"
    viewer_id = gateway.get("/api/v1/accounts").json()["data"][7]["id"]
    person = gateway.post(f"/api/v1/accounts/{viewer_id}/api-keys", json={"name": "x"}, headers=csrf)
    assert person.status_code == 422 and person.json()["code"] == "not_integration_account"


def test_a_disabled_integration_accounts_key_is_refused(gateway):
    csrf = sign_in(gateway, "demo-city-office")
    account_id = fresh(gateway).get("/api/v1/auth/me", headers=API_KEY).json()["user"]["id"]
    gateway.post(f"/api/v1/accounts/{account_id}/disable", headers=csrf)
    refused = fresh(gateway).get("/api/v1/auth/me", headers=API_KEY)
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"


# ---- the first account ------------------------------------------------------------------------------------


def test_the_command_creates_the_first_city_office_account(make_database, monkeypatch, capsys):
    import io

    from minsheng_gateway.identity.cli import main

    url = make_database("gateway")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(
            [
                "create-admin",
                "--username",
                "wang.wu",
                "--display-name",
                "市民生办 王五",
                "--password-stdin",
                "--database-url",
                url,
            ]
        )
        == 1
    )
    assert "密码太短" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{NEW_PASSWORD}\n"))
    assert (
        main(
            [
                "create-admin",
                "--username",
                "wang.wu",
                "--display-name",
                "市民生办 王五",
                "--password-stdin",
                "--database-url",
                url,
            ]
        )
        == 0
    )
    settings = gateway_settings(url, demo_users=False)
    with TestClient(identity_gateway(settings)) as gateway:
        user = login(gateway, "wang.wu", NEW_PASSWORD).json()["user"]
        assert user["role"] == "city_office" and user["created_by"] is None
        assert gateway.get("/api/v1/accounts").json()["count"] == 1  # no demo accounts without the demo setting

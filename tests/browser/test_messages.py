"""消息中心 in a browser, on a stack with the notifier (a process of its own on the module's broker) and a real SMTP
server: 张店区's clerk gives an e-mail address in 个人中心; one e-mail digest of what is owed arrives and the bell shows
it; the clerk opens it; a 退回 reaches the bell and the mailbox within seconds.  The processes run on the machine's
clock, after the (legacy) plan this stack holds: everything owed is overdue, so the digest is the daily overdue one
(the reminders before a due date are tests/notifier's, which travel in time)."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from minsheng.auth.demo import DEMO_PASSWORD
from minsheng.clock import CHINA
from tests.browser.axe import assert_accessible
from tests.conftest import CITY, ZHANGDIAN, free_port
from tests.support.processes import ServiceProcess
from tests.support.receivers import SmtpServer
from tests.support.web_stack import running_stack, screenshot

pytestmark = pytest.mark.timeout(600)

KEY = "browser-notifier-key"
CLERK_MAIL = "clerk@zhangdian.example.cn"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack(module_database, module_broker, smtp, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("web-stack-notifier")
    port = free_port()
    with running_stack(
        module_database, module_broker, log_dir, notifier_url=f"http://127.0.0.1:{port}", notifier_key=KEY
    ) as running:
        notifier = ServiceProcess.notifier(
            port=port,
            database_url=module_database("notifier"),
            bootstrap_servers=module_broker.bootstrap_servers,
            gateway_url=running.url,
            gateway_key=KEY,
            log_dir=log_dir,
            smtp_host="127.0.0.1",
            smtp_port=str(smtp.port),
            plan_seconds="1",
            send_seconds="0.5",
        )
        notifier.start()
        try:
            notifier.wait_ready(180)
            yield running
        finally:
            notifier.stop()


def api_sign_in(context: BrowserContext, username: str) -> dict[str, str]:
    answer = context.request.post("/api/v1/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.ok, answer.text()
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def wait_until(predicate, what: str, seconds: float = 60):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + seconds
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:.0f} s"
        time.sleep(0.3)
    return found


PERIOD, DUE = "2024-12", "2025-01-10"  # the plan's last month, overdue ever since


def test_the_clerk_gets_one_digest_sees_it_under_the_bell_and_a_return_within_seconds(new_context, stack, smtp):
    office = new_context()
    csrf = api_sign_in(office, "demo-city-office")
    # The quiet hours moved away from now: the machine's clock is real, and it may be night in Beijing.
    away = dt.datetime.now(CHINA) + dt.timedelta(hours=12)
    rules = {
        "quiet_start": away.strftime("%H:%M"),
        "quiet_end": (away + dt.timedelta(minutes=1)).strftime("%H:%M"),
    }
    saved = office.request.put("/api/v1/notifier/rules/*", data=rules, headers=csrf)
    assert saved.ok, saved.text()
    # The city office's page of the rules shows them as saved.
    rules_page = office.new_page()
    rules_page.goto("/notify-rules")
    expect(rules_page.get_by_label("截止前几天提醒")).to_have_value("3")
    expect(rules_page.locator(".page-card")).to_contain_text("上次由 市民生办 演示用户")
    assert_accessible(rules_page, "提醒规则")

    clerk = new_context()
    page = clerk.new_page()
    page.goto("/login")
    page.get_by_placeholder("用户名").fill("demo-zhangdian")
    page.get_by_placeholder("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登 录").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))

    # 提醒设置 on 个人中心: a malformed address is refused in Chinese, a good one saved.
    page.goto("/profile")
    contacts = page.locator('[data-test="contacts"]')
    contacts.get_by_label("电子邮箱").fill("not-an-address")
    contacts.locator('[data-test="save-contacts"]').click()
    expect(contacts).to_contain_text("格式不正确")
    contacts.get_by_label("电子邮箱").fill(CLERK_MAIL)
    contacts.locator('[data-test="save-contacts"]').click()
    expect(page.locator(".el-message")).to_contain_text("提醒设置已保存")
    assert_accessible(page, "个人中心 提醒设置")

    # Within the notifier's next rounds: one e-mail digest, and the bell counts it.
    (mail,) = wait_until(lambda: smtp.to(CLERK_MAIL), "the digest e-mail")
    assert "填报提醒" in mail["Subject"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert PERIOD in text and f"截止 {DUE}" in text and "张店区" in text and "已逾期" in text
    bell = page.locator('[data-test="message-bell"]')
    expect(bell).to_have_attribute("aria-label", re.compile("1 条未读"), timeout=70_000)
    bell.click()
    expect(page).to_have_url(re.compile(r"/messages$"))
    item = page.locator('[data-test="message"]').first
    expect(item).to_contain_text("填报提醒")
    item.get_by_role("button").first.click()
    expect(item).to_contain_text(PERIOD)
    expect(bell).to_have_attribute("aria-label", "消息中心，没有未读消息")
    assert_accessible(page, "消息中心")
    screenshot(page, "messages")

    # A report submitted, then returned by the city office: the bell and the mailbox have it within seconds.
    with httpx.Client(timeout=30) as client:
        service = stack.education.url
        body = {"indicator": "T002-1", "org_unit": "370303", "period": PERIOD, "value": 4}
        created = client.post(f"{service}/api/v1/reports", json=body, headers=dict(ZHANGDIAN))
        assert created.status_code == 201, created.text
        returned = client.post(
            f"{service}/api/v1/reports/{created.json()['id']}/return", json={"reason": "与台账不符"}, headers=dict(CITY)
        )
        assert returned.status_code == 200, returned.text
    notice = wait_until(lambda: [m for m in smtp.to(CLERK_MAIL) if "退回通知" in m["Subject"]], "the 退回 e-mail", 30)
    assert "与台账不符" in notice[0].get_body(preferencelist=("plain",)).get_content()
    expect(bell).to_have_attribute("aria-label", re.compile("1 条未读"), timeout=30_000)
    assert len([m for m in smtp.to(CLERK_MAIL) if "填报提醒" in m["Subject"]]) == 1  # still one digest today

    # The 催办记录 of that report, as the city office reads it: who was told, when, how, delivered or not.
    rules_page.goto(f"/reminders?indicator=T002-1&org_unit=370303&period={PERIOD}")
    log = rules_page.locator('[data-test="reminder-log"]')
    expect(log).to_contain_text("张店区 演示用户")
    expect(log).to_contain_text("退回通知")
    expect(log).to_contain_text("电子邮件")
    expect(log).to_contain_text("已送达")
    assert_accessible(rules_page, "催办记录")
    screenshot(rules_page, "reminders")

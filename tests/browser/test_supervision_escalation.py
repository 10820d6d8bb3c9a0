"""A 督办单 left unacknowledged past its deadline, in a browser: the city office opens one for 市教育局 due today; the
notifier's day moves on past the deadline (its clock is the test's: the notifier is served from this process); the
escalation reaches the department's 负责人 (the demo bureau account) by e-mail at its demo address and in its
消息中心, whence it opens the order and signs it; the city office finds the escalation in its 消息中心 (and, the order
signed but still late, a second one: 逾期未办结) and in the order's 催办记录.
Screenshot: docs/screenshots/supervision-escalation.png; axe on each page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from minsheng.auth.demo import DEMO_BY_USERNAME
from minsheng.clock import CHINA
from tests.browser.axe import assert_accessible
from tests.conftest import free_port
from tests.support.browser import CLERK, OFFICE, api_sign_in, needs_sign_in
from tests.support.processes import wait_until
from tests.support.receivers import SmtpServer
from tests.support.web_stack import Clock, notifier_in_process, running_stack, screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]

KEY = "browser-escalation-key"
TODAY = dt.datetime.now(CHINA).date()  # the gateway's today (its clock is the machine's): the order's deadline
HEAD_MAIL = DEMO_BY_USERNAME[CLERK].email  # 市教育局's demo account is its 负责人


def beijing(day: dt.date, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day.isoformat()}T{time}").replace(tzinfo=CHINA)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(beijing(TODAY, "10:00"))


@pytest.fixture(scope="module")
def stack(module_database, module_broker, smtp, clock, tmp_path_factory):
    port = free_port()
    log_dir = tmp_path_factory.mktemp("web-stack-escalation")
    with (
        running_stack(
            module_database, module_broker, log_dir, notifier_url=f"http://127.0.0.1:{port}", notifier_key=KEY
        ) as running,
        notifier_in_process(
            clock,
            port=port,
            database_url=module_database("notifier"),
            kafka_bootstrap_servers=module_broker.bootstrap_servers,
            gateway_url=running.url,
            gateway_key=KEY,
            app_url=running.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            plan_seconds=1,
            send_seconds=0.5,
        ),
    ):
        yield running


def order_escalations(smtp: SmtpServer, order: str) -> list:
    return [m for m in smtp.to(HEAD_MAIL) if "督办逾期" in m["Subject"] and order in m["Subject"]]


def test_an_order_unacknowledged_past_its_deadline_is_escalated_to_the_head_and_the_city_office(
    new_context, stack, smtp, clock
):
    office = new_context()
    csrf = {"X-CSRF-Token": api_sign_in(office, OFFICE)}
    body = {
        "title": "学前教育普惠率滞后",
        "instruction": "请市教育局当日拿出整改措施。",
        "subject": {"kind": "indicator", "ref": "T002-1", "label": "T002-1 新建幼儿园数"},
        "lead_unit": {"kind": "department", "code": "市教育局"},
        "deadline": TODAY.isoformat(),
    }
    opened = office.request.post("/api/v1/supervision/orders", data=body, headers=csrf)
    assert opened.status == 201, opened.text()
    order = opened.json()["id"]

    # The notifier has the order (its 督办通知 reached the head) while the deadline is today: no escalation yet.
    head = new_context()
    api_sign_in(head, CLERK)

    def subjects() -> list[str]:
        return [m["subject"] for m in head.request.get("/api/v1/notifier/messages").json()["data"]]

    wait_until(lambda: any("督办通知" in s and order in s for s in subjects()), 90, message="the 督办通知")
    assert not any("督办逾期" in s for s in subjects())

    # The next morning, the order still 已交办: one escalation, by e-mail at the head's address and in 消息中心.
    clock.now = beijing(TODAY + dt.timedelta(days=1), "09:00")
    (mail,) = wait_until(lambda: order_escalations(smtp, order), 90, message="the escalation e-mail")
    assert "逾期未签收" in mail["Subject"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"办理时限 {TODAY.isoformat()}" in text and f"/supervision/{order}" in text

    page = head.new_page()
    page.goto("/messages")
    expect(page.locator('[data-test="message-bell"]')).to_have_attribute("aria-label", re.compile("条未读"))
    item = page.locator('[data-test="message"]', has_text=f"【督办逾期】{order}")
    expect(item).to_have_count(1, timeout=30_000)
    expect(item).to_contain_text("督办逾期升级")
    item.get_by_role("button").first.click()
    expect(item).to_contain_text("逾期未签收")
    expect(item).to_contain_text("主办单位：市教育局")
    assert_accessible(page, "消息中心 督办逾期")
    screenshot(page, "supervision-escalation")
    item.get_by_role("button", name="去办理").click()
    expect(page).to_have_url(re.compile(rf"/supervision/{order}$"))
    expect(page.locator('[data-test="order-state"]')).to_have_text("已交办")
    page.locator('[data-test="step-acknowledge"]').click()
    expect(page.locator('[data-test="order-state"]')).to_have_text("已签收")

    # The city office: the escalation in its 消息中心, and in the order's 催办记录 (who was told, how, delivered).
    # Signed but still past its deadline, the order is escalated once more, as not yet 办结.
    def office_subjects() -> list[str]:
        return [m["subject"] for m in office.request.get("/api/v1/notifier/messages").json()["data"]]

    wait_until(lambda: any(f"{order}" in s and "逾期未办结" in s for s in office_subjects()), 60, message="逾期未办结")
    office_page = office.new_page()
    office_page.goto("/messages")
    told = office_page.locator('[data-test="message"]', has_text=f"【督办逾期】{order}")
    expect(told.filter(has_text="逾期未签收")).to_have_count(1)
    expect(told.filter(has_text="逾期未办结")).to_have_count(1)
    office_page.goto(f"/reminders?order={order}")
    log = office_page.locator('[data-test="reminder-log"]')
    expect(log).to_contain_text("督办逾期升级")
    expect(log).to_contain_text(DEMO_BY_USERNAME[CLERK].display_name)
    expect(log).to_contain_text(DEMO_BY_USERNAME[OFFICE].display_name)
    expect(log).to_contain_text("电子邮件")
    assert_accessible(office_page, "催办记录 督办逾期")

    # Told once: the notifier planned every second since, and the unacknowledged escalation went once.
    assert len([m for m in order_escalations(smtp, order) if "逾期未签收" in m["Subject"]]) == 1

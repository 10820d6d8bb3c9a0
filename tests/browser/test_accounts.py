"""账号管理 in a browser: the city office creates a district account and its clerk signs in with it, resets a
password (shown once), disables an account (it can no longer sign in), and issues an integration key (shown once)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.support.browser import DEMO_PASSWORD, fill_sign_in, needs_sign_in, sign_in
from tests.support.web_stack import screenshot

pytestmark = [pytest.mark.timeout(600), needs_sign_in]

OFFICE = "demo-city-office"


def open_accounts(page: Page) -> None:
    sign_in(page, OFFICE)
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator(".el-menu")).to_contain_text("账号管理")
    page.goto("/accounts")
    expect(page.locator('[data-account="demo-zhangdian"]').first).to_be_visible()


def actions(page: Page, username: str):
    return page.locator(f'[data-account="{username}"]').first


def choose(page: Page, select: str, option: str) -> None:
    page.locator(select).click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def shown_password(page: Page) -> str:
    dialog = page.locator('[data-test="password-dialog"]')
    expect(dialog.locator('[data-test="shown-password"]')).to_be_visible()
    password = dialog.locator('[data-test="shown-password"]').inner_text().strip()
    assert len(password) >= 10
    return password


def close_password(page: Page) -> None:
    page.get_by_role("button", name="我已记下").click()
    expect(page.locator('[data-test="shown-password"]')).to_have_count(0)
    expect(page.locator(".el-overlay:visible")).to_have_count(0)  # faded out


def signs_in(new_context, username: str, password: str) -> Page:
    page = new_context().new_page()
    sign_in(page, username, password)
    return page


def test_the_city_office_creates_a_district_account_resets_its_password_and_disables_it(page, new_context, stack):
    open_accounts(page)
    page.locator('[data-test="new-account"]').click()
    dialog = page.locator('[data-test="create-dialog"]')
    dialog.locator('input[data-field="username"]').fill("zhangdian-li")
    dialog.locator('input[data-field="display_name"]').fill("张店区 李四")
    choose(page, '[data-test="create-dialog"] [data-field="org_unit"]', "张店区（370303）")
    # A weak password is refused beside its field, in Chinese; nothing is created.
    dialog.locator('input[data-field="password"]').fill("123")
    dialog.locator('[data-test="create"]').click()
    expect(dialog.locator(".el-form-item__error")).to_contain_text("密码太短")
    dialog.get_by_role("button", name="重新生成").click()
    dialog.locator('[data-test="create"]').click()
    first = shown_password(page)
    close_password(page)
    expect(actions(page, "zhangdian-li")).to_be_visible()
    expect(page.locator(".el-table__body")).to_contain_text("张店区（370303）")
    screenshot(page, "accounts")
    assert_accessible(page, "accounts")

    clerk = signs_in(new_context, "zhangdian-li", first)
    expect(clerk).to_have_url(re.compile(r"/inbox$"))
    expect(clerk.locator('[data-test="user-name"]')).to_have_text("张店区 李四")
    expect(clerk.locator(".el-menu")).not_to_contain_text("账号管理")

    # A reset shows a new temporary password once; the old one no longer signs in.
    actions(page, "zhangdian-li").locator('[data-test="reset"]').click()
    page.locator(".el-message-box").get_by_role("button", name="重置").click()
    second = shown_password(page)
    assert second != first
    close_password(page)
    old = new_context().new_page()
    sign_in(old, "zhangdian-li", first)
    expect(old.locator('[data-test="login-error"]')).to_contain_text("用户名或密码错误")
    expect(signs_in(new_context, "zhangdian-li", second)).to_have_url(re.compile(r"/inbox$"))

    # Disabled: it can no longer sign in, and the page says so; enabled again, it can.
    actions(page, "zhangdian-li").locator('[data-test="toggle"]').click()
    page.locator(".el-message-box").get_by_role("button", name="停用").click()
    expect(page.locator(".el-table__body tr", has_text="zhangdian-li")).to_contain_text("已停用")
    refused = new_context().new_page()
    sign_in(refused, "zhangdian-li", second)
    expect(refused.locator('[data-test="login-error"]')).to_contain_text("账号已停用")
    expect(refused).to_have_url(re.compile(r"/login"))
    actions(page, "zhangdian-li").locator('[data-test="toggle"]').click()
    expect(page.locator(".el-table__body tr", has_text="zhangdian-li")).to_contain_text("正常")
    fill_sign_in(refused, "zhangdian-li", second)
    expect(refused).to_have_url(re.compile(r"/inbox$"))


def test_an_integration_key_is_shown_once_works_and_can_be_revoked(page, stack):
    open_accounts(page)
    actions(page, "demo-integration").locator('[data-test="keys"]').click()
    dialog = page.locator('[data-test="keys-dialog"]')
    expect(dialog).to_contain_text("T076-1")  # the indicators the system may write
    dialog.locator('[data-test="issue"]').click()
    expect(dialog.locator(".el-form-item__error")).to_contain_text("请填写密钥名称")
    dialog.locator('input[data-field="key-name"]').fill("人社局业务系统")
    dialog.locator('[data-test="issue"]').click()
    issued = dialog.locator('[data-test="issued-key"]')
    expect(issued).to_contain_text("msk_")
    key = issued.inner_text().strip()
    expect(dialog.locator('[data-test="copy-key"]')).to_be_visible()
    expect(dialog.locator(".el-table__body")).to_contain_text("人社局业务系统")
    screenshot(page, "accounts-api-key")
    assert_accessible(page, "accounts-api-key")

    me = page.context.request.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.ok and me.json()["user"]["username"] == "demo-integration"

    # Closed and opened again: the key is listed by name, never shown again.
    dialog.locator(".el-dialog__headerbtn").click()
    actions(page, "demo-integration").locator('[data-test="keys"]').click()
    expect(dialog.locator(".el-table__body")).to_contain_text("人社局业务系统")
    expect(dialog.locator('[data-test="issued-key"]')).to_have_count(0)

    row = dialog.locator(".el-table__body tr", has_text="人社局业务系统")
    row.locator('[data-test="revoke"]').click()
    page.locator(".el-message-box").get_by_role("button", name="吊销").click()
    expect(dialog.locator(".el-table__body")).not_to_contain_text("人社局业务系统")
    revoked = page.context.request.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert revoked.status == 401
    assert DEMO_PASSWORD  # signed in with the demo accounts' password

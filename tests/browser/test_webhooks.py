"""对接系统 in a browser, on a stack with the webhooks worker (a process of its own on the module's broker) and a
receiver on 127.0.0.1 checking the Standard Webhooks signature with its own code: a report's event reaches it after
the receiver was down, the city office reads the delivery log on the page and 重新投递 sends the same webhook-id again
(the receiver drops it as a duplicate)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.conftest import ZHANGDIAN, free_port
from tests.support.browser import api_sign_in
from tests.support.processes import ServiceProcess, wait_until
from tests.support.web_stack import running_stack, screenshot
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.timeout(600)

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def stack(module_database, module_broker, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("web-stack-webhooks")
    port = free_port()
    with running_stack(module_database, module_broker, log_dir, webhooks_url=f"http://127.0.0.1:{port}") as running:
        worker = ServiceProcess.webhooks(
            port=port,
            database_url=module_database("webhooks"),
            bootstrap_servers=module_broker.bootstrap_servers,
            log_dir=log_dir,
            # The receiver is this machine's, over plain HTTP: allowed here, refused by default.
            allow_private_destinations="true",
            allow_http="true",
            retry_schedule="[0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]",
            send_seconds="0.3",
        )
        worker.start()
        try:
            worker.wait_ready(180)
            yield running
        finally:
            worker.stop()


def test_the_city_office_reads_the_delivery_log_and_replays_from_the_page(new_context, stack, receiver):
    office = new_context()
    csrf = {"X-CSRF-Token": api_sign_in(office, "demo-city-office")}
    created = office.request.post(
        "/api/v1/webhooks/endpoints",
        data={
            "url": receiver.url,
            "description": "市大数据局一体化平台",
            "secret": SECRET,
            "event_types": ["minsheng.report.submitted.v1"],
        },
        headers=csrf,
    )
    assert created.status == 201, created.text()
    receiver.mode = "unavailable"
    with httpx.Client(timeout=30) as client:
        body = {"indicator": "T002-1", "org_unit": "370303", "period": "2024-12", "value": 4}
        report = client.post(f"{stack.education.url}/api/v1/reports", json=body, headers=dict(ZHANGDIAN))
        assert report.status_code == 201, report.text
    wait_until(lambda: receiver.seen, 60, message="the first try (answered 503)")
    receiver.mode = "ok"
    wait_until(lambda: receiver.processed, 60, message="the retry delivered")
    assert all(request["verified"] for request in receiver.seen if request["mode"] == "ok")

    page = office.new_page()
    page.goto("/webhooks")
    expect(page.locator('[data-test="webhook-endpoints"]')).to_contain_text("市大数据局一体化平台")
    log = page.locator('[data-test="webhook-deliveries"]')
    expect(log).to_contain_text("minsheng.report.submitted.v1")
    expect(log).to_contain_text("已送达")
    assert_accessible(page, "对接系统")
    screenshot(page, "webhooks")

    log.locator('[data-test="replay"]').first.click()
    expect(page.locator(".el-message")).to_contain_text("已重新排入投递")
    wait_until(lambda: receiver.duplicates == 1, 60, message="the replay received (and dropped as a duplicate)")
    assert len(receiver.processed) == 1

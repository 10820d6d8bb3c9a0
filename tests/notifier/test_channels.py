"""The channels through real sockets: 企业微信 and 钉钉 robots (钉钉's sign checked by the receiver), SMS with its
template and HMAC signature checked, and a failing channel retried with backoff, then marked failed, without holding
the e-mail of the same digest."""

from __future__ import annotations

import datetime as dt

from tests.notifier.conftest import beijing
from tests.notifier.test_reminders import CLERK_MAIL, set_contacts
from tests.support.identity import sign_in


def register_robots(stack) -> None:
    csrf = sign_in(stack.gateway, "demo-city-office")
    robots = {
        "zd-wecom": {"name": "张店区填报群", "kind": "wecom", "webhook": f"{stack.receivers.url}/wecom/send?key=k1"},
        "zd-ding": {
            "name": "张店区钉钉群",
            "kind": "dingtalk",
            "webhook": f"{stack.receivers.url}/dingtalk/send?access_token=t1",
            "secret": stack.receivers.dingtalk_secret,
        },
    }
    for code, body in robots.items():
        answer = stack.gateway.put(f"/api/v1/notifier/robots/{code}", json=body, headers=csrf)
        assert answer.status_code == 200, answer.text


def test_robots_and_sms_receive_the_digest_signed_as_they_require(stack):
    register_robots(stack)
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL, mobile="13805331234", robots=["zd-wecom", "zd-ding"])
    morning = beijing("2023-04-07")
    stack.plan(morning)
    stack.send(morning)
    paths = sorted(r.path for r in stack.receivers.received)
    assert paths == ["/dingtalk/send", "/sms", "/wecom/send"], (paths, stack.receivers.refused)
    assert not stack.receivers.refused
    wecom = next(r for r in stack.receivers.received if r.path == "/wecom/send")
    assert wecom.body["msgtype"] == "text" and "填报提醒" in wecom.body["text"]["content"]
    assert len(wecom.body["text"]["content"].encode()) <= 2048
    sms = next(r for r in stack.receivers.received if r.path == "/sms")
    assert sms.body["template"] == "MS_DIGEST" and sms.body["phone"] == "13805331234"
    assert sms.body["params"]["unit"] == "张店区"
    assert len(stack.smtp.to(CLERK_MAIL)) == 1

    # Muting a channel (not 站内消息): the next day's digest skips it.
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL, mobile="13805331234", muted=["sms"])
    before = len([r for r in stack.receivers.received if r.path == "/sms"])
    stack.plan(beijing("2023-04-10"))
    stack.send(beijing("2023-04-10"))
    assert len([r for r in stack.receivers.received if r.path == "/sms"]) == before
    assert len(stack.smtp.to(CLERK_MAIL)) == 2


def test_a_failing_channel_is_retried_with_backoff_then_failed_and_holds_nothing_else(stack):
    register_robots(stack)
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL, robots=["zd-wecom"])
    stack.receivers.fail_with = 500
    morning = beijing("2023-04-07")
    stack.plan(morning)
    stack.send(morning)
    assert len(stack.smtp.to(CLERK_MAIL)) == 1  # the e-mail went, the robot did not

    stack.send(morning + dt.timedelta(seconds=10))  # before its backoff (30 s): not tried again
    csrf = sign_in(stack.gateway, "demo-city-office")
    params = {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03"}

    def robot_record() -> dict:
        log = stack.gateway.get("/api/v1/notifier/reminders", params=params).json()["data"]
        (record,) = [r for r in log if r["channel"] == "wecom"]
        return record

    assert (robot_record()["status"], robot_record()["attempts"]) == ("pending", 1)
    stack.send(morning + dt.timedelta(seconds=31))
    assert (robot_record()["status"], robot_record()["attempts"]) == ("pending", 2)
    stack.send(morning + dt.timedelta(seconds=31 + 61))
    record = robot_record()
    assert (record["status"], record["status_label"], record["attempts"]) == ("failed", "发送失败", 3)
    assert "500" in record["last_error"]
    assert csrf

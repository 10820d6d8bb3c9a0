"""催办 end to end: 张店区's clerk is reminded before a due date by one e-mail digest (and in the 消息中心), submits,
and hears no more of it; a 退回 reaches the clerk at once; quiet hours hold messages until morning; nothing is
recorded or sent twice, whatever runs again."""

from __future__ import annotations

from minsheng_notifier.messages.models import Message
from tests.conftest import CITY, ZHANGDIAN
from tests.notifier.conftest import beijing, notifier_settings, start_notifier
from tests.support.identity import sign_in
from tests.support.inbox import report

CLERK_MAIL = "clerk@zhangdian.example.cn"


def set_contacts(stack, username: str, **contacts) -> dict:
    csrf = sign_in(stack.gateway, username)
    answer = stack.gateway.put("/api/v1/auth/me/contacts", json=contacts, headers=csrf)
    assert answer.status_code == 200, answer.text
    return csrf


def body_of(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def test_clerk_gets_one_digest_sees_it_in_the_message_center_and_nothing_more_once_in(stack):
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL)

    # 2023-04-07, 09:00 Beijing: March's monthly figures are due on 04-10, three days ahead.
    morning = beijing("2023-04-07")
    assert stack.plan(morning) > 0
    assert stack.plan(morning) == 0  # planning again that day records nothing new
    stack.send(morning)
    mails = stack.smtp.to(CLERK_MAIL)
    assert len(mails) == 1
    (mail,) = mails
    assert "填报提醒" in mail["Subject"]
    text = body_of(mail)
    assert "张店区" in text and "T002-1" in text and "2023-03" in text and "截止 2023-04-10（还剩 3 天）" in text
    assert "http://127.0.0.1:8000/inbox" in text
    assert stack.send(morning) == 0  # sent once

    # The clerk sees it in the 消息中心, through the gateway.
    messages = stack.gateway.get("/api/v1/notifier/messages").json()
    assert messages["unread"] == 1 and messages["data"][0]["subject"] == mail["Subject"]
    first = messages["data"][0]["id"]
    assert stack.gateway.get("/api/v1/notifier/messages/unread").json() == {"unread": 1}

    # Submits March's T002-1: nothing more is sent for it (the due day's digest leaves it out).
    report(stack.education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03", "value": 4}, ZHANGDIAN)
    stack.deliver_events()
    due_day = beijing("2023-04-10")
    stack.plan(due_day)
    stack.send(due_day)
    later = [m for m in stack.smtp.to(CLERK_MAIL) if m is not mail]
    assert later, "the due day's digest lists what is still owed"
    assert all("T002-1）截止 2023-04-10" not in body_of(m) for m in later)

    # 催办记录 of that report: the clerk was reminded on 04-07, by 站内消息 and e-mail, both delivered.
    csrf = sign_in(stack.gateway, "demo-city-office")
    log = stack.gateway.get(
        "/api/v1/notifier/reminders", params={"indicator": "T002-1", "org_unit": "370303", "period": "2023-03"}
    ).json()
    channels = sorted((r["channel"], r["status"]) for r in log["data"] if r["recipient"] == "张店区 演示用户")
    assert channels == [("email", "sent"), ("inapp", "sent")]
    assert csrf

    # Marking read.
    sign_in(stack.gateway, "demo-zhangdian")
    csrf = sign_in(stack.gateway, "demo-zhangdian")
    assert stack.gateway.post(f"/api/v1/notifier/messages/{first}/read", headers=csrf).status_code == 200
    assert stack.gateway.get("/api/v1/notifier/messages", params={"unread": True}).json()["count"] == 1  # the 04-10 one


def test_a_return_reaches_the_clerk_at_once_with_its_reason_and_waits_out_the_night(stack):
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL)
    created = report(
        stack.education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03", "value": 4}, ZHANGDIAN
    )
    assert (
        stack.education.post(
            f"/api/v1/reports/{created}/return", json={"reason": "与台账不符"}, headers=CITY
        ).status_code
        == 200
    )
    stack.deliver_events()

    afternoon = beijing("2023-04-08", "15:00")
    stack.at(afternoon)
    stack.notifier.portal.call(
        __import__("minsheng_notifier.planner").planner.expand_notices, stack.notifier.app, afternoon
    )
    stack.send(afternoon)
    (mail,) = stack.smtp.to(CLERK_MAIL)
    assert "退回通知" in mail["Subject"] and "与台账不符" in body_of(mail) and "张店区" in body_of(mail)

    # Returned again late at night: recorded at once, held until 07:30.
    again = report(
        stack.education, {"indicator": "T002-1", "org_unit": "370303", "period": "2023-03", "value": 5}, ZHANGDIAN
    )
    assert (
        stack.education.post(f"/api/v1/reports/{again}/return", json={"reason": "口径有误"}, headers=CITY).status_code
        == 200
    )
    stack.deliver_events()
    night = beijing("2023-04-08", "23:10")
    stack.notifier.portal.call(
        __import__("minsheng_notifier.planner").planner.expand_notices, stack.notifier.app, night
    )
    stack.send(night)
    assert len(stack.smtp.to(CLERK_MAIL)) == 1
    stack.send(beijing("2023-04-09", "07:29"))
    assert len(stack.smtp.to(CLERK_MAIL)) == 1
    stack.send(beijing("2023-04-09", "07:30"))
    assert len(stack.smtp.to(CLERK_MAIL)) == 2 and "口径有误" in body_of(stack.smtp.to(CLERK_MAIL)[1])


def test_malformed_contacts_are_refused_in_chinese_and_nothing_is_saved(stack):
    csrf = sign_in(stack.gateway, "demo-zhangdian")
    before = stack.gateway.get("/api/v1/auth/me/contacts").json()
    for body, code in (
        ({"email": "not-an-address"}, "invalid_email"),
        ({"mobile": "12345"}, "invalid_mobile"),
        ({"muted": ["inapp"]}, "invalid_channel"),
    ):
        answer = stack.gateway.put("/api/v1/auth/me/contacts", json=body, headers=csrf)
        assert answer.status_code == 422 and answer.json()["code"] == code
        assert "格式不正确" in answer.json()["detail"] or "站内消息始终开启" in answer.json()["detail"]
    assert stack.gateway.get("/api/v1/auth/me/contacts").json() == before  # the demo address, as it was


def test_a_restart_mid_send_sends_nothing_twice(stack, make_database):
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL, mobile="13805331234")
    set_contacts(stack, "demo-education-bureau", email="bureau@edu.example.cn", mobile="13905331234")
    set_contacts(stack, "demo-city-office", email="office@zibo.example.cn")
    morning = beijing("2023-04-07")
    stack.plan(morning)

    adapters = __import__("minsheng_notifier.sender").sender.adapters(stack.notifier.app)
    email = adapters[__import__("minsheng_notifier.messages.models").messages.models.Channel.email]
    real, calls = email.send, []

    async def crash_on_second(message, **kwargs):
        calls.append(message.id)
        if len(calls) == 2:
            raise RuntimeError("killed mid-send")  # not a channel failure: the process dies here
        await real(message, **kwargs)

    email.send = crash_on_second
    try:
        stack.send(morning)
    except RuntimeError:
        pass
    assert len(stack.smtp.inbox) == 1

    email.send = real  # "restarted": the same database, the next send
    stack.send(morning)
    ids = [m["Message-ID"] for m in stack.smtp.inbox]
    assert len(ids) == len(set(ids)) >= 2
    with stack.notifier.app.state.database.session() as session:
        from sqlmodel import select

        rows = session.exec(select(Message).where(Message.channel == "email")).all()
    assert {r.status.value for r in rows} == {"sent"} and len(rows) == len(ids)


def test_the_city_office_edits_the_rules_and_the_next_digest_follows_them(stack):
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL)
    csrf = sign_in(stack.gateway, "demo-zhangdian")
    refused = stack.gateway.put("/api/v1/notifier/rules/*", json={"remind_days_before": 5}, headers=csrf)
    assert refused.status_code == 403 and "市民生办" in refused.json()["detail"]

    csrf = sign_in(stack.gateway, "demo-city-office")
    bad = stack.gateway.put("/api/v1/notifier/rules/*", json={"quiet_start": "25:00"}, headers=csrf)
    assert bad.status_code == 422
    rules = {"remind_days_before": 5, "overdue_digest": False, "quiet_start": "21:00", "quiet_end": "08:00"}
    saved = stack.gateway.put("/api/v1/notifier/rules/*", json=rules, headers=csrf).json()
    assert (saved["remind_days_before"], saved["updated_by"]) == (5, "市民生办 演示用户")
    assert stack.gateway.get("/api/v1/notifier/rules").json()["data"][0]["quiet_end"] == "08:00"

    # Five days before 04-10, no overdue digest: the clerk's digest lists March only, sent after 08:00.
    morning = beijing("2023-04-05", "07:45")
    stack.plan(morning)
    stack.send(morning)
    assert stack.smtp.to(CLERK_MAIL) == []
    stack.send(beijing("2023-04-05", "08:00"))
    (mail,) = stack.smtp.to(CLERK_MAIL)
    assert "还剩 5 天" in body_of(mail) and "已逾期" not in body_of(mail)


def test_a_restart_across_midnight_sends_each_days_digest_once(stack, make_database):
    set_contacts(stack, "demo-zhangdian", email=CLERK_MAIL)
    stack.plan(beijing("2023-04-07", "21:50"))
    stack.send(beijing("2023-04-07", "21:50"))
    assert len(stack.smtp.to(CLERK_MAIL)) == 1

    # "Restarted" after midnight: a new notifier on the same database, its clock a day on, planning twice.

    settings = stack.notifier.app.state.settings
    stack.notifier.__exit__(None, None, None)
    stack.notifier = start_notifier(
        stack.gateway, notifier_settings(settings.database_url, stack.smtp, stack.receivers)
    )
    for when in (beijing("2023-04-08", "00:05"), beijing("2023-04-08", "09:00"), beijing("2023-04-08", "09:01")):
        stack.plan(when)
    stack.send(beijing("2023-04-08", "07:29"))
    assert len(stack.smtp.to(CLERK_MAIL)) == 1  # the 04-08 digest waits out the night
    stack.send(beijing("2023-04-08", "09:02"))
    mails = stack.smtp.to(CLERK_MAIL)
    assert len(mails) == 2 and "4月8日" in mails[1]["Subject"]

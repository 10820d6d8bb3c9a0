"""督办单 events (written here with the contract's model until helper B's gateway publishes them): a new order and a
退回重办 reach the responsible department at once; an order still 已交办 after its deadline is escalated to it and the
city office, once."""

from __future__ import annotations

import datetime as dt

from minsheng.messaging import IntegrationEvent
from minsheng.supervision_events import (
    ORDER_ACKNOWLEDGED,
    ORDER_ASSIGNED,
    ORDER_RETURNED,
    SUPERVISION_SOURCE,
    SupervisionOrderEvent,
)
from minsheng_notifier.facts.handlers import notifier_handlers
from tests.notifier.conftest import beijing
from tests.notifier.test_reminders import body_of, set_contacts
from tests.support.identity import sign_in

BUREAU_MAIL = "bureau@edu.example.cn"


def order_event(
    event_type: str, state: str, label: str, at: dt.datetime, reason: str | None = None
) -> IntegrationEvent:
    data = SupervisionOrderEvent(
        order_id="DB-2023-0001",
        title="学前教育普惠率滞后",
        instruction="请市教育局两周内拿出整改措施。",
        state=state,
        state_label=label,
        lead_unit={"kind": "department", "code": "市教育局", "name": "市教育局"},
        partner_units=[{"kind": "org_unit", "code": "370303", "name": "张店区"}],
        deadline=dt.date(2023, 4, 20),
        subject={"kind": "indicator", "ref": "T002-1", "label": "T002-1"},
        actor="市民生办 演示用户",
        at=at,
        link="/supervision/DB-2023-0001",
        reason=reason,
    )
    return IntegrationEvent(source=SUPERVISION_SOURCE, type=event_type, subject=data.order_id, data=data)


def deliver(stack, *events: IntegrationEvent) -> None:
    handlers, database = notifier_handlers(), stack.notifier.app.state.database
    with database.session() as session:
        handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
        session.commit()


def test_an_order_reaches_its_units_at_once_and_is_escalated_once_past_its_deadline(stack):
    set_contacts(stack, "demo-education-bureau", email=BUREAU_MAIL)
    opened = beijing("2023-04-10", "10:00")
    assigned = order_event(ORDER_ASSIGNED, "assigned", "已交办", opened)
    deliver(stack, assigned, assigned)  # delivered twice: applied once
    stack.plan(opened)
    stack.send(opened)
    (mail,) = [m for m in stack.smtp.to(BUREAU_MAIL) if "督办" in m["Subject"]]
    assert "DB-2023-0001" in mail["Subject"] and "两周内拿出整改措施" in body_of(mail)
    assert "http://127.0.0.1:8000/supervision/DB-2023-0001" in body_of(mail)
    # The partner district hears of it in its 消息中心.
    sign_in(stack.gateway, "demo-zhangdian")
    subjects = [m["subject"] for m in stack.gateway.get("/api/v1/notifier/messages").json()["data"]]
    assert any("督办通知" in s for s in subjects)

    # Past its deadline, still 已交办: escalated to the bureau and the city office, once.
    late = beijing("2023-04-21", "09:00")
    stack.plan(late)
    stack.plan(late + dt.timedelta(days=1))
    stack.send(late + dt.timedelta(days=1))
    escalations = [m for m in stack.smtp.to(BUREAU_MAIL) if "督办逾期" in m["Subject"]]
    assert len(escalations) == 1 and "逾期未签收" in escalations[0]["Subject"]
    sign_in(stack.gateway, "demo-city-office")
    log = stack.gateway.get("/api/v1/notifier/reminders", params={"order": "DB-2023-0001"}).json()["data"]
    assert {r["reason"] for r in log} == {"order_assigned", "order_escalation"}
    assert any(r["recipient"] == "市民生办 演示用户" and r["reason"] == "order_escalation" for r in log)

    # Acknowledged, then returned (退回重办) with a reason: told at once.
    deliver(stack, order_event(ORDER_ACKNOWLEDGED, "acknowledged", "已签收", late + dt.timedelta(days=1, hours=1)))
    back = late + dt.timedelta(days=2, hours=1)
    deliver(stack, order_event(ORDER_RETURNED, "returned", "退回重办", back, reason="措施不具体"))
    stack.plan(back)
    stack.send(back)
    (returned,) = [m for m in stack.smtp.to(BUREAU_MAIL) if "退回重办" in m["Subject"]]
    assert "措施不具体" in body_of(returned)

"""The notifier's event handlers: what happened to reports and 督办单, written in the consumer's transaction
(the kernel's EventHandlers apply each event once).  Who to tell is worked out later (`planner.expand_notices`):
a handler only writes rows."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, delete

from minsheng.messaging import EventHandlers
from minsheng.messaging.consumer import TypedEvent
from minsheng.reporting.events import ReportChanged
from minsheng.supervision_events import ORDER_ASSIGNED, ORDER_RETURNED, SupervisionOrderEvent
from minsheng_notifier.facts.models import Notice, OrderState, ReportIn
from minsheng_notifier.messages.models import Reason, order_ref, report_ref

DONE = frozenset({"submitted", "approved"})


def _reports(session: Session, events: list[TypedEvent], work: None) -> None:
    for event in events:
        data: ReportChanged = event.typed_data()
        report = data.report
        if not report.is_current:
            continue
        key = dict(indicator=report.indicator, org_unit=report.org_unit, period=report.period)
        if report.status in DONE:
            session.execute(
                insert(ReportIn)
                .values(**key, plan=data.plan, at=data.occurred_at)
                .on_conflict_do_update(index_elements=list(key), set_={"at": data.occurred_at})
            )
        elif report.status == "returned":
            session.execute(
                delete(ReportIn).where(
                    ReportIn.indicator == report.indicator,
                    ReportIn.org_unit == report.org_unit,
                    ReportIn.period == report.period,
                )
            )
            session.execute(
                insert(Notice)
                .values(
                    event_id=event.id,
                    kind=Reason.returned.value,
                    plan=data.plan,
                    ref=report_ref(report.indicator, report.org_unit, report.period),
                    data={
                        **key,
                        # Names are the gateway's; the event carries codes. The 消息中心 says both where it can.
                        "indicator_name": report.indicator,
                        "org_unit_name": report.org_unit,
                        "reason": report.return_reason,
                        "actor": data.actor,
                        "campaign": data.campaign,
                    },
                    at=data.occurred_at,
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
            )


def _orders(session: Session, events: list[TypedEvent], work: None) -> None:
    for event in events:
        data: SupervisionOrderEvent = event.typed_data()
        row = dict(
            plan=data.plan,
            title=data.title,
            state=data.state,
            state_label=data.state_label,
            deadline=data.deadline,
            lead_unit=data.lead_unit.model_dump(),
            partner_units=[u.model_dump() for u in data.partner_units],
            link=data.link,
            at=data.at,
        )
        statement = insert(OrderState).values(order_id=data.order_id, **row)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["order_id"], set_=row, where=OrderState.at <= statement.excluded.at
            )
        )
        if event.type in (ORDER_ASSIGNED, ORDER_RETURNED):
            kind = Reason.order_assigned if event.type == ORDER_ASSIGNED else Reason.order_returned
            session.execute(
                insert(Notice)
                .values(
                    event_id=event.id,
                    kind=kind.value,
                    plan=data.plan,
                    ref=order_ref(data.order_id),
                    data=data.model_dump(mode="json"),
                    at=data.at,
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
            )


def notifier_handlers() -> EventHandlers:
    handlers = EventHandlers()
    handlers.register(ReportChanged, _reports)
    handlers.register(SupervisionOrderEvent, _orders)
    return handlers

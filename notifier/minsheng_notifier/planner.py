"""Who is told what and when: the day's digests and escalations (from what the gateway says is owed), the notices
of the events (退回, 督办单), each turned into one recorded message per channel (decision 0021).

Every message has a key (recipient, channel, reason, day or item), unique in the database: planning again (the next
tick, a restart across midnight, a second replica) records nothing new."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlmodel import Session, select

from minsheng.catalog.document import legacy_plan
from minsheng.clock import CHINA
from minsheng_notifier import gateway
from minsheng_notifier.channels.sms import render
from minsheng_notifier.facts.models import Notice, OrderState, ReportIn
from minsheng_notifier.messages import service as messages
from minsheng_notifier.messages.models import Channel, Message, MessageRef, Reason, order_ref, report_ref
from minsheng_notifier.robots.models import Robot
from minsheng_notifier.rules.models import NotifyRules, RulesPublic
from minsheng_notifier.rules.service import release_time, rules_for

INBOX_LINK = "/inbox"
CLOSED_ORDER_STATES = frozenset({"closed"})
UNACKNOWLEDGED_ORDER_STATES = frozenset({"assigned"})
DIGEST_LINES = 30  # a digest lists this many items, then says how many more


@dataclass
class Outgoing:
    """One thing to tell one person (or group), before it is split into channels."""

    reason: Reason
    item: str  # the day (digests) or the item (notices): part of the key
    subject: str
    body: str
    link: str
    refs: list[str]
    sms_template: str | None = None
    sms_params: dict = field(default_factory=dict)


def beijing_day(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


def fan_out(
    session: Session,
    person: dict,
    out: Outgoing,
    *,
    robots: dict[str, Robot],
    plan: str | None,
    rules: RulesPublic,
    now: dt.datetime,
    sign: str | None = None,
) -> int:
    """Record `out` for `person` on each channel it is reached by: 站内消息 always; e-mail, SMS and its group
    robots unless muted or unknown.  Returns how many messages were new."""
    muted, account = set(person.get("muted") or ()), person["account_id"]
    sign_name = sign or "淄博民生"
    not_before = release_time(now, rules)
    common = dict(
        reason=out.reason, subject=out.subject, body=out.body, plan=plan, link=out.link, refs=out.refs, now=now
    )
    targets: list[tuple[Channel, str, str, str, int | None]] = [
        (Channel.inapp, "", f"{account}", person["display_name"], account)
    ]
    if person.get("email") and "email" not in muted:
        targets.append((Channel.email, person["email"], f"{account}", person["display_name"], account))
    if person.get("mobile") and "sms" not in muted and out.sms_template:
        targets.append((Channel.sms, person["mobile"], f"{account}", person["display_name"], account))
    for code in person.get("robots") or ():
        robot = robots.get(code)
        if robot is not None and robot.kind.value not in muted:
            # One message per group robot, whoever in the group it was planned for: the group reads it once.
            targets.append((Channel(robot.kind.value), code, f"robot-{code}", robot.name, None))
    recorded = 0
    for channel, address, who, recipient, account_id in targets:
        sms = channel is Channel.sms
        if sms:  # what the person reads: the approved template, rendered
            common["body"] = render(out.sms_template, out.sms_params, sign_name)
        else:
            common["body"] = out.body
        key = f"{who}:{channel.value}:{out.reason.value}:{out.item}"
        if channel in (Channel.email, Channel.sms):
            # Never twice to the same address for one reason; an address given later that day gets it there too.
            key = f"{key}:{hashlib.sha256(address.encode()).hexdigest()[:16]}"
        new = messages.record(
            session,
            key=key,
            channel=channel,
            recipient=recipient,
            address=address,
            account_id=account_id,
            not_before=not_before,
            template=out.sms_template if sms else None,
            params=out.sms_params if sms else None,
            **common,
        )
        recorded += new is not None
    return recorded


def _line(item: dict, day: dt.date) -> str:
    days = (dt.date.fromisoformat(item["due_date"]) - day).days
    when = f"截止 {item['due_date']}" + (
        f"（还剩 {days} 天）" if days > 0 else "（今天截止）" if days == 0 else f"（已逾期 {-days} 天）"
    )
    returned = f"；被退回：{item['return_reason']}" if item.get("return_reason") else ""
    return (
        f"· {item['org_unit_name']} {item['period']} {item['indicator_name']}（{item['indicator_id']}）{when}{returned}"
    )


def digest(person: dict, items: list[dict], day: dt.date) -> Outgoing:
    # The latest overdue first: a backlog of years is cut to its most recent lines.
    overdue = sorted(
        (i for i in items if dt.date.fromisoformat(i["due_date"]) < day),
        key=lambda i: (i["due_date"], i["indicator_id"]),
        reverse=True,
    )
    today = [i for i in items if dt.date.fromisoformat(i["due_date"]) == day]
    soon = [i for i in items if dt.date.fromisoformat(i["due_date"]) > day]
    parts = []
    for title, group in (("已逾期", overdue), ("今天截止", today), ("即将截止", soon)):
        if group:
            lines = [_line(i, day) for i in group[:DIGEST_LINES]]
            more = f"\n  ……另有 {len(group) - DIGEST_LINES} 项" if len(group) > DIGEST_LINES else ""
            parts.append(f"{title}（{len(group)} 项）：\n" + "\n".join(lines) + more)
    body = f"{person['display_name']}：\n\n截至 {day.isoformat()}，您有 {len(items)} 项填报待办：\n\n" + "\n\n".join(
        parts
    )
    body += "\n\n请登录平台「我的待办」办理；报送后即不再提醒。"
    earliest = min(i["due_date"] for i in items)
    unit = items[0]["org_unit_name"]
    return Outgoing(
        reason=Reason.digest,
        item=day.isoformat(),
        subject=f"【填报提醒】{day.month}月{day.day}日：{len(items)}项待办"
        + (f"，{len(overdue)}项已逾期" if overdue else ""),
        body=body,
        link=INBOX_LINK,
        refs=[report_ref(i["indicator_id"], i["org_unit"], i["period"]) for i in items],
        sms_template="MS_DIGEST",
        sms_params={"unit": unit, "count": len(items), "date": earliest},
    )


def _escalation(items: list[tuple[dict, list[str]]], day: dt.date, days: int) -> Outgoing:
    lines = [
        _line(item, day) + (f"；应报：{'、'.join(owers)}" if owers else "") for item, owers in items[:DIGEST_LINES]
    ]
    more = f"\n……另有 {len(items) - DIGEST_LINES} 项" if len(items) > DIGEST_LINES else ""
    return Outgoing(
        reason=Reason.escalation,
        item=day.isoformat(),
        subject=f"【逾期升级】{len(items)}项填报逾期超过{days}天",
        body=f"以下填报已逾期 {days} 天以上，仍未报送，请督促办理：\n\n" + "\n".join(lines) + more,
        link="/completeness",
        refs=[report_ref(i["indicator_id"], i["org_unit"], i["period"]) for i, _ in items],
    )


def _already(session: Session, reason: Reason, account_ids: set[int]) -> set[tuple[int, str]]:
    """(account, ref) pairs already told for `reason` (an escalation is made once per item and person)."""
    if not account_ids:
        return set()
    rows = session.exec(
        select(Message.account_id, MessageRef.ref)
        .join(MessageRef, MessageRef.message_id == Message.id)
        .where(Message.reason == reason, Message.channel == Channel.inapp, Message.account_id.in_(sorted(account_ids)))
    )
    return {(a, r) for a, r in rows}


def _robots(session: Session) -> dict[str, Robot]:
    return {r.code: r for r in session.exec(select(Robot))}


async def plan_day(app: FastAPI, now: dt.datetime) -> int:
    """The day's digests and escalations, from what the gateway says is owed.  Returns new messages."""
    database, day = app.state.database, beijing_day(now)
    with database.session() as session:
        # Far enough ahead for every plan's rules (the feed says which plan is in force only once asked).
        own = session.exec(select(NotifyRules.remind_days_before)).all()
        horizon = max([rules_for(session=session, plan=None).remind_days_before, *own])
    feed = await gateway.owed(app, on=day, horizon=max(horizon, 0))
    plan = feed["plan"]
    people = {p["account_id"]: p for p in feed["people"]}
    recorded = 0
    with database.session() as session:
        rules = rules_for(session=session, plan=plan)
        robots = _robots(session)
        reported = {(r.indicator, r.org_unit, r.period) for r in session.exec(select(ReportIn))}
        escalate: dict[int, list[tuple[dict, list[str]]]] = defaultdict(list)
        owers_of: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        overdue_long: dict[tuple[str, str, str], dict] = {}
        for owes in feed["owed"]:
            person = people.get(owes["account_id"])
            if person is None:
                continue
            # Nothing once the report is in, even before the gateway has folded it.
            items = [
                i
                for i in owes["items"]
                if (i["indicator_id"], i["org_unit"], i["period"]) not in reported or i["state"] == "returned"
            ]
            wanted = []
            for item in items:
                days = (dt.date.fromisoformat(item["due_date"]) - day).days
                if (
                    (rules.remind_days_before and days == rules.remind_days_before)
                    or (rules.remind_on_due_day and days == 0)
                    or (rules.overdue_digest and days < 0)
                ):
                    wanted.append(item)
                if -days >= rules.escalate_after_days:
                    key = (item["indicator_id"], item["org_unit"], item["period"])
                    owers_of[key].append(person["display_name"])
                    overdue_long[key] = item
            if wanted:
                wanted.sort(key=lambda i: (i["due_date"], i["indicator_id"]))
                out = digest(person, wanted, day)
                recorded += fan_out(session, person, out, robots=robots, plan=plan, rules=rules, now=now)
        # Escalation: the lead departments' heads and the city office, once per item each.
        city_office = [p for p in people.values() if p["role"] == "city_office"]
        for key, item in overdue_long.items():
            units = [{"kind": "department", "code": d, "name": d} for d in item["lead_departments"]]
            for head in [*heads_of(people, units), *city_office]:
                escalate[head["account_id"]].append((item, owers_of[key]))
        told = _already(session, Reason.escalation, set(escalate))
        for account_id, pairs in escalate.items():
            fresh = [
                (i, o)
                for i, o in pairs
                if (account_id, report_ref(i["indicator_id"], i["org_unit"], i["period"])) not in told
            ]
            if fresh:
                out = _escalation(fresh, day, rules.escalate_after_days)
                recorded += fan_out(session, people[account_id], out, robots=robots, plan=plan, rules=rules, now=now)
        recorded += _escalate_orders(session, people, day, robots=robots, plan=plan, rules=rules, now=now)
        session.commit()
    return recorded


def responsible(people: dict[int, dict], units: list[dict]) -> list[dict]:
    """The accounts of a 督办单's units: a department's bureau accounts, a district's accounts."""
    found = []
    for unit in units:
        for p in people.values():
            if (
                unit["kind"] == "department"
                and p["role"] == "bureau"
                and p["department"] in (unit["code"], unit["name"])
            ):
                found.append(p)
            elif unit["kind"] == "org_unit" and p["role"] == "district" and p["org_unit"] == unit["code"]:
                found.append(p)
    return list({p["account_id"]: p for p in found}.values())


def heads_of(people: dict[int, dict], units: list[dict]) -> list[dict]:
    """Whom an escalation reaches in each unit: a department's 负责人 (accounts flagged `head`) when it has any,
    else all its accounts, as for a district (its accounts)."""
    found = []
    for unit in units:
        accounts = responsible(people, [unit])
        heads = [p for p in accounts if p.get("head")]
        found.extend(heads or accounts)
    return list({p["account_id"]: p for p in found}.values())


def _escalate_orders(session: Session, people: dict[int, dict], day: dt.date, **context) -> int:
    """A 督办单 past its deadline still 已交办 (not acknowledged), or not 已办结: its lead unit (a department's
    heads, if it has any) and the city office are told, once per order and person."""
    orders = [o for o in session.exec(select(OrderState)) if o.state not in CLOSED_ORDER_STATES and o.deadline < day]
    if not orders:
        return 0
    city_office = [p for p in people.values() if p["role"] == "city_office"]
    recorded = 0
    for order in orders:
        what = "逾期未签收" if order.state in UNACKNOWLEDGED_ORDER_STATES else "逾期未办结"
        out = Outgoing(
            reason=Reason.order_escalation,
            # Once per order and kind (unacknowledged, then not closed): the key says it.
            item=f"{order.order_id}:{'unacknowledged' if order.state in UNACKNOWLEDGED_ORDER_STATES else 'open'}",
            subject=f"【督办逾期】{order.order_id} {order.title}：{what}",
            body=f"督办单 {order.order_id}「{order.title}」办理时限 {order.deadline.isoformat()}，"
            f"目前「{order.state_label}」，{what}。"
            f"\n主办单位：{order.lead_unit['name']}",
            link=order.link,
            refs=[order_ref(order.order_id)],
            sms_template="MS_ORDER",
            sms_params={"unit": order.lead_unit["name"], "order": order.order_id, "date": order.deadline.isoformat()},
        )
        for person in [*heads_of(people, [order.lead_unit]), *city_office]:
            recorded += fan_out(session, person, out, **context)
    return recorded


async def expand_notices(app: FastAPI, now: dt.datetime) -> int:
    """Turn the events' notices (退回, new or returned 督办单) into messages, at once."""
    database = app.state.database
    with database.session() as session:
        notices = list(session.exec(select(Notice).where(Notice.expanded_at.is_(None)).order_by(Notice.id).limit(200)))
    if not notices:
        return 0
    everyone = None
    recorded = 0
    for notice in notices:
        if notice.kind == Reason.returned.value:
            d = notice.data
            # An event without a plan is the legacy plan's (decision 0017), not the one in force.
            plan = notice.plan or legacy_plan().code
            feed = await gateway.owers(app, indicator=d["indicator"], org_unit=d["org_unit"], plan=plan)
            targets = feed["people"]
            d = {**d, "indicator_name": feed.get("indicator_name") or d["indicator"]}
            d["org_unit_name"] = feed.get("org_unit_name") or d["org_unit"]
            out = Outgoing(
                reason=Reason.returned,
                item=f"{notice.ref}#{notice.id}",
                subject=f"【退回通知】{d['org_unit_name']} {d['period']} {d['indicator_name']}",
                body=f"您报送的 {d['org_unit_name']} {d['period']}「{d['indicator_name']}」（{d['indicator']}）"
                f"已被{d['actor']}退回。"
                f"\n退回原因：{d['reason'] or '（未填写）'}\n请修改后重新报送。",
                link=f"/entry?indicator={d['indicator']}&org_unit={d['org_unit']}&period={d['period']}",
                refs=[notice.ref],
                sms_template="MS_RETURNED",
                sms_params={"unit": d["org_unit_name"], "period": d["period"], "indicator": d["indicator_name"]},
            )
        else:
            if everyone is None:
                everyone = {p["account_id"]: p for p in (await gateway.people(app))["people"]}
            d = notice.data
            targets = responsible(everyone, [d["lead_unit"], *d.get("partner_units", [])])
            returned = notice.kind == Reason.order_returned.value
            out = Outgoing(
                reason=Reason(notice.kind),
                item=f"{notice.ref}#{notice.id}",
                subject=("【督办退回重办】" if returned else "【督办通知】") + f"{d['order_id']} {d['title']}",
                body=f"督办单 {d['order_id']}「{d['title']}」"
                + ("被退回重办" if returned else "已交办")
                + "。"
                + (f"\n批示：{d['instruction']}" if d.get("instruction") else "")
                + (f"\n退回理由：{d['reason']}" if returned and d.get("reason") else "")
                + f"\n主办单位：{d['lead_unit']['name']}；办理时限：{d['deadline']}\n请登录平台签收办理。",
                link=d["link"],
                refs=[notice.ref],
                sms_template="MS_ORDER",
                sms_params={"unit": d["lead_unit"]["name"], "order": d["order_id"], "date": d["deadline"]},
            )
        with database.session() as session:
            rules = rules_for(session=session, plan=notice.plan)
            enabled = rules.notify_on_return if notice.kind == Reason.returned.value else rules.notify_on_order
            if enabled:
                robots = _robots(session)
                for person in targets:
                    recorded += fan_out(session, person, out, robots=robots, plan=notice.plan, rules=rules, now=now)
            row = session.get(Notice, notice.id)
            row.expanded_at = now
            session.add(row)
            session.commit()
    return recorded

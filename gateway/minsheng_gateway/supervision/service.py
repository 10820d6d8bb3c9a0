"""督办单: opening an order and moving it through its life, each step attributed, timed and published.

Every step writes the order, a history row and an integration event (`minsheng.supervision_events`) to the
gateway's outbox in one transaction: the notifier learns of exactly the steps that happened.  Who may do
what is decided here (`may`), and the list the web app shows of an order's actions asks the same rule.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, func, select

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.catalog.models import TaskLeadDepartment, TaskPartnerDepartment
from minsheng.clock import CHINA
from minsheng.errors import Conflict, Forbidden, NotFound, Unprocessable
from minsheng.evidence.models import EvidenceFile
from minsheng.evidence.service import EvidencePolicy
from minsheng.messaging import IntegrationEvent, add_event
from minsheng.orgunits import ALL_DISTRICTS, CITY_CODE, ORG_UNITS
from minsheng.pagination import PageParams
from minsheng.reporting.events import EvidenceDigests
from minsheng.supervision_events import (
    ORDER_ACKNOWLEDGED,
    ORDER_ANSWERED,
    ORDER_ASSIGNED,
    ORDER_CLOSED,
    ORDER_IN_PROGRESS,
    ORDER_RETURNED,
    SUPERVISION_SOURCE,
    SUPERVISION_TOPIC,
    SupervisionOrderEvent,
    SupervisionSubject,
    SupervisionUnit,
)
from minsheng_gateway.plans.scope import known_plans
from minsheng_gateway.supervision import evidence
from minsheng_gateway.supervision.models import (
    ORDER_ACTION_LABELS,
    ORDER_STATE_LABELS,
    SUBJECT_KIND_LABELS,
    TRANSITIONS,
    UNIT_KIND_LABELS,
    OrderAction,
    OrderState,
    SubjectKind,
    SupervisionOrder,
    SupervisionStep,
    UnitKind,
)
from minsheng_gateway.supervision.schemas import (
    Choice,
    OrderAnswer,
    OrderCreate,
    OrderDetail,
    OrderPage,
    OrderPublic,
    OrderReturn,
    StepPublic,
    SubjectPublic,
    SupervisionDictionary,
    UnitPublic,
    UnitRef,
)

# Who opens 督办单 and checks their answers: the city office and the city's leaders (市领导).
OPENERS = (Role.city_office, Role.leader)
# Who sees every order; the others see the orders their unit leads or partners.
SEE_ALL = (Role.city_office, Role.leader, Role.viewer)

EVENT_OF_ACTION = {
    OrderAction.open: ORDER_ASSIGNED,
    OrderAction.acknowledge: ORDER_ACKNOWLEDGED,
    OrderAction.start: ORDER_IN_PROGRESS,
    OrderAction.answer: ORDER_ANSWERED,
    OrderAction.close: ORDER_CLOSED,
    OrderAction.send_back: ORDER_RETURNED,
}
DISTRICTS = {unit.code: unit.name for unit in ORG_UNITS if unit.code != CITY_CODE}


def link_of(order_id: str) -> str:
    return f"/supervision/{order_id}"


# ---- units ---------------------------------------------------------------------------------------------------


def departments(session: Session) -> list[str]:
    """The city departments an order may name: every lead and partner department of the catalog's tasks (the
    districts a task names as partners are districts, not departments)."""
    names: set[str] = set()
    for table in (TaskLeadDepartment, TaskPartnerDepartment):
        names.update(session.exec(select(table.department).distinct()))
    district_names = set(DISTRICTS.values()) | {ALL_DISTRICTS}
    return sorted(name for name in names if name not in district_names)


def known_units(session: Session) -> list[UnitPublic]:
    return [UnitPublic(kind=UnitKind.department, code=name, name=name) for name in departments(session)] + [
        UnitPublic(kind=UnitKind.org_unit, code=code, name=name) for code, name in DISTRICTS.items()
    ]


def resolve_unit(session: Session, unit: UnitRef) -> UnitPublic:
    if unit.kind is UnitKind.org_unit:
        if unit.code not in DISTRICTS:
            raise Unprocessable(
                f"区县代码 {unit.code} 不存在；可选：{'、'.join(f'{c}（{n}）' for c, n in DISTRICTS.items())}",
                code="unknown_unit",
            )
        return UnitPublic(kind=unit.kind, code=unit.code, name=DISTRICTS[unit.code])
    if unit.code not in departments(session):
        raise Unprocessable(f"「{unit.code}」不是任务目录中的牵头或协办部门，请从单位列表中选择", code="unknown_unit")
    return UnitPublic(kind=unit.kind, code=unit.code, name=unit.code)


def dictionary(*, session: Session) -> SupervisionDictionary:
    return SupervisionDictionary(
        states=[Choice(code=s.value, label=label) for s, label in ORDER_STATE_LABELS.items()],
        actions=[Choice(code=a.value, label=label) for a, label in ORDER_ACTION_LABELS.items()],
        subject_kinds=[Choice(code=k.value, label=label) for k, label in SUBJECT_KIND_LABELS.items()],
        unit_kinds=[Choice(code=k.value, label=label) for k, label in UNIT_KIND_LABELS.items()],
        units=known_units(session),
        open_roles=[role.value for role in OPENERS],
    )


# ---- who may do what ------------------------------------------------------------------------------------------


def is_lead_unit(principal: Principal, order: SupervisionOrder) -> bool:
    if principal.role is Role.bureau:
        return order.lead_kind is UnitKind.department and order.lead_code == principal.department
    if principal.role is Role.district:
        return order.lead_kind is UnitKind.org_unit and order.lead_code == principal.org_unit
    return False


def is_partner_unit(principal: Principal, order: SupervisionOrder) -> bool:
    mine = {("department", principal.department), ("org_unit", principal.org_unit)}
    return any((unit["kind"], unit["code"]) in mine for unit in order.partner_units)


def may_see(principal: Principal, order: SupervisionOrder) -> bool:
    return principal.role in SEE_ALL or is_lead_unit(principal, order) or is_partner_unit(principal, order)


def may(principal: Principal, order: SupervisionOrder, action: OrderAction) -> bool:
    """May this caller take `action` on the order as it stands (its state allows it, and the caller is who acts)?"""
    sources, _ = TRANSITIONS[action]
    if order.state not in sources:
        return False
    if action in (OrderAction.close, OrderAction.send_back):
        return principal.role is Role.city_office
    return is_lead_unit(principal, order)


def authorize(principal: Principal, order: SupervisionOrder, action: OrderAction) -> None:
    """Raises the reason the caller may not take `action`: 409 when the order's state does not allow it, 403 when
    the caller is not who acts."""
    label = ORDER_ACTION_LABELS[action]
    sources, _ = TRANSITIONS[action]
    if order.state not in sources:
        allowed = "、".join(ORDER_STATE_LABELS[s] for s in sorted(sources, key=list(OrderState).index))
        raise Conflict(
            f"督办单 {order.id} 当前为「{ORDER_STATE_LABELS[order.state]}」，不能{label}；"
            f"只有「{allowed}」的督办单可以{label}",
            code="supervision_bad_transition",
            extra={"state": order.state.value},
        )
    if action in (OrderAction.close, OrderAction.send_back):
        if principal.role is not Role.city_office:
            raise Forbidden(f"督办单的{label}只能由市民生办办理；您的身份是{principal.label}", code="city_office_only")
        return
    if not is_lead_unit(principal, order):
        raise Forbidden(
            f"督办单 {order.id} 只能由主办单位 {order.lead_name} {label}；您的身份是{principal.label}",
            code="not_lead_unit",
        )


# ---- reading --------------------------------------------------------------------------------------------------


def overdue_days(order: SupervisionOrder, today: dt.date) -> int:
    if order.state is OrderState.closed or today <= order.deadline:
        return 0
    return (today - order.deadline).days


def public(order: SupervisionOrder, *, principal: Principal, today: dt.date) -> OrderPublic:
    late = overdue_days(order, today)
    return OrderPublic(
        id=order.id,
        plan=order.plan,
        title=order.title,
        instruction=order.instruction,
        subject=SubjectPublic(
            kind=order.subject_kind,
            kind_label=SUBJECT_KIND_LABELS[order.subject_kind],
            ref=order.subject_ref,
            label=order.subject_label,
        ),
        lead_unit=UnitPublic(kind=order.lead_kind, code=order.lead_code, name=order.lead_name),
        partner_units=[UnitPublic(**unit) for unit in order.partner_units],
        deadline=order.deadline,
        state=order.state,
        state_label=ORDER_STATE_LABELS[order.state],
        overdue=late > 0,
        days_overdue=late,
        opened_by=order.opened_by,
        opened_at=order.opened_at,
        updated_at=order.updated_at,
        closed_at=order.closed_at,
        measures=order.measures,
        expected_result=order.expected_result,
        expected_by=order.expected_by,
        link=link_of(order.id),
        actions=[action for action in TRANSITIONS if may(principal, order, action)],
    )


def _visible(principal: Principal):  # noqa: ANN202 - a SQL condition
    if principal.role in SEE_ALL:
        return sa.true()
    unit = (
        (UnitKind.department, principal.department)
        if principal.role is Role.bureau
        else (UnitKind.org_unit, principal.org_unit)
        if principal.role is Role.district
        else None
    )
    if unit is None or unit[1] is None:
        return sa.false()
    lead = sa.and_(SupervisionOrder.lead_kind == unit[0], SupervisionOrder.lead_code == unit[1])
    partner = SupervisionOrder.partner_keys.contains(f"|{unit[0].value}:{unit[1]}|", autoescape=True)
    return sa.or_(lead, partner)


def _filtered(
    principal: Principal,
    *,
    state: OrderState | None,
    unit: str | None,
    overdue: bool | None,
    subject_kind: SubjectKind | None,
    subject_ref: str | None,
    today: dt.date,
):  # noqa: ANN202 - a select
    query = select(SupervisionOrder).where(_visible(principal))
    if state is not None:
        query = query.where(SupervisionOrder.state == state)
    if unit:
        partner = SupervisionOrder.partner_keys.contains(f":{unit}|", autoescape=True)
        query = query.where(sa.or_(SupervisionOrder.lead_code == unit, partner))
    if overdue is not None:
        late = sa.and_(SupervisionOrder.state != OrderState.closed, SupervisionOrder.deadline < today)
        query = query.where(late if overdue else sa.not_(late))
    if subject_kind is not None:
        query = query.where(SupervisionOrder.subject_kind == subject_kind)
    if subject_ref:
        query = query.where(SupervisionOrder.subject_ref == subject_ref)
    return query


def list_orders(
    *,
    session: Session,
    principal: Principal,
    today: dt.date,
    page: PageParams | None = None,
    state: OrderState | None = None,
    unit: str | None = None,
    overdue: bool | None = None,
    subject_kind: SubjectKind | None = None,
    subject_ref: str | None = None,
) -> OrderPage:
    query = _filtered(
        principal,
        state=state,
        unit=unit,
        overdue=overdue,
        subject_kind=subject_kind,
        subject_ref=subject_ref,
        today=today,
    )
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    query = query.order_by(SupervisionOrder.opened_at.desc(), SupervisionOrder.id.desc())
    if page is not None:
        query = query.offset(page.offset).limit(page.limit)
    return OrderPage(data=[public(o, principal=principal, today=today) for o in session.exec(query)], count=count)


def _order(session: Session, principal: Principal, order_id: str, *, lock: bool = False) -> SupervisionOrder:
    query = select(SupervisionOrder).where(SupervisionOrder.id == order_id)
    if lock:  # one step at a time per order: two clicks on 签收 make one step and one event
        query = query.with_for_update()
    order = session.exec(query).first()
    if order is None or not may_see(principal, order):
        raise NotFound(f"督办单 {order_id} 不存在，或不是您单位主办、协办的督办单", code="supervision_order_not_found")
    return order


def history(session: Session, order_id: str) -> list[StepPublic]:
    steps = session.exec(
        select(SupervisionStep).where(SupervisionStep.order_id == order_id).order_by(SupervisionStep.id)
    )
    files = evidence.files_of_steps(session, order_id)
    return [
        StepPublic(
            action=step.action,
            action_label=ORDER_ACTION_LABELS[step.action],
            from_state=step.from_state,
            to_state=step.to_state,
            to_state_label=ORDER_STATE_LABELS[step.to_state],
            actor=step.actor,
            at=step.at,
            note=step.note,
            detail=step.detail,
            evidence=files.get(step.id, []),
        )
        for step in steps
    ]


def readable_file(*, session: Session, principal: Principal, file_id: str) -> EvidenceFile:
    """A file of an answer, if `principal` may see an order it is attached to (or uploaded it)."""
    return evidence.readable_file(session=session, principal=principal, file_id=file_id, may_see=may_see)


def get_order(*, session: Session, principal: Principal, order_id: str, today: dt.date) -> OrderDetail:
    order = _order(session, principal, order_id)
    return OrderDetail(
        **public(order, principal=principal, today=today).model_dump(), history=history(session, order.id)
    )


# ---- writing --------------------------------------------------------------------------------------------------


def _event(
    order: SupervisionOrder,
    action: OrderAction,
    principal: Principal,
    at: dt.datetime,
    reason: str | None,
    files: EvidenceDigests | None = None,
):
    data = SupervisionOrderEvent(
        order_id=order.id,
        plan=order.plan,
        title=order.title,
        instruction=order.instruction,
        state=order.state.value,
        state_label=ORDER_STATE_LABELS[order.state],
        lead_unit=SupervisionUnit(kind=order.lead_kind.value, code=order.lead_code, name=order.lead_name),
        partner_units=[SupervisionUnit(**unit) for unit in order.partner_units],
        deadline=order.deadline,
        subject=SupervisionSubject(kind=order.subject_kind.value, ref=order.subject_ref, label=order.subject_label),
        actor=principal.name,
        at=at,
        link=link_of(order.id),
        reason=reason,
        evidence=files,
    )
    return IntegrationEvent(source=SUPERVISION_SOURCE, type=EVENT_OF_ACTION[action], subject=order.id, data=data)


def _record(
    session: Session,
    order: SupervisionOrder,
    action: OrderAction,
    *,
    principal: Principal,
    at: dt.datetime,
    from_state: OrderState | None,
    note: str | None = None,
    detail: dict | None = None,
    reason: str | None = None,
    files: EvidenceDigests | None = None,
) -> SupervisionStep:
    step = SupervisionStep(
        order_id=order.id,
        action=action,
        from_state=from_state,
        to_state=order.state,
        actor=principal.label,
        actor_name=principal.name,
        account_id=principal.account_id,
        at=at,
        note=note,
        detail=detail or {},
    )
    session.add(step)
    add_event(session, topic=SUPERVISION_TOPIC, key=order.id, event=_event(order, action, principal, at, reason, files))
    return step


def open_order(
    *, session: Session, principal: Principal, body: OrderCreate, now: dt.datetime, today: dt.date
) -> OrderDetail:
    if principal.role not in OPENERS:
        raise Forbidden(
            f"督办单只能由市民生办或市领导交办；您的身份是{principal.label}", code="supervision_openers_only"
        )
    if body.deadline < today:
        raise Unprocessable(
            f"办理时限 {body.deadline.isoformat()} 已经过去，请选择今天（{today.isoformat()}）或以后的日期",
            code="deadline_in_past",
        )
    if body.plan is not None and body.plan not in {plan.code for plan in known_plans(session)}:
        raise Unprocessable(f"方案「{body.plan}」不存在或尚未发布", code="unknown_plan")
    lead = resolve_unit(session, body.lead_unit)
    partners: list[UnitPublic] = []
    for unit in body.partner_units:
        partner = resolve_unit(session, unit)
        if (partner.kind, partner.code) == (lead.kind, lead.code):
            raise Unprocessable(f"{partner.name}已是主办单位，不能同时作为协办单位", code="partner_is_lead")
        if any((p.kind, p.code) == (partner.kind, partner.code) for p in partners):
            continue
        partners.append(partner)
    year = now.astimezone(CHINA).year
    # One number per year, drawn under a transaction lock: two orders opened at once get two numbers.
    session.connection().execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('supervision_order'), :year)"), {"year": year}
    )
    number = (
        session.exec(select(func.max(SupervisionOrder.number)).where(SupervisionOrder.year == year)).one() or 0
    ) + 1
    order = SupervisionOrder(
        id=f"DB-{year}-{number:04d}",
        year=year,
        number=number,
        plan=body.plan,
        title=body.title,
        instruction=body.instruction,
        subject_kind=body.subject.kind,
        subject_ref=body.subject.ref,
        subject_label=body.subject.label,
        lead_kind=lead.kind,
        lead_code=lead.code,
        lead_name=lead.name,
        partner_units=[p.model_dump(mode="json") for p in partners],
        partner_keys="|" + "".join(f"{p.kind.value}:{p.code}|" for p in partners),
        deadline=body.deadline,
        state=OrderState.assigned,
        opened_by=principal.label,
        opened_by_role=principal.role.value,
        opened_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    _record(session, order, OrderAction.open, principal=principal, at=now, from_state=None, note=body.instruction)
    session.commit()
    return get_order(session=session, principal=principal, order_id=order.id, today=today)


def act(
    *,
    session: Session,
    principal: Principal,
    order_id: str,
    action: OrderAction,
    now: dt.datetime,
    today: dt.date,
    answer: OrderAnswer | None = None,
    returned: OrderReturn | None = None,
    policy: EvidencePolicy | None = None,
) -> OrderDetail:
    """Take one step of the order's life (签收, 开始办理, 反馈, 办结, 退回重办).  An answer's 佐证材料 are attached in
    the step's transaction: the step, its files' rows and its event commit together, or none of them."""
    order = _order(session, principal, order_id, lock=True)
    authorize(principal, order, action)
    from_state = order.state
    note, detail, reason, refs, files = None, {}, None, [], None
    if action is OrderAction.answer:
        if answer is None:
            raise Unprocessable("反馈需要填写采取的措施、预期数值和预期时间", code="answer_required")
        refs = answer.evidence
        if refs:
            if policy is None:  # a caller without the gateway's store (none in the app): no files, said plainly
                raise Unprocessable("本次反馈不能附佐证材料：文件存储未配置", code="evidence_not_configured")
            evidence.check(session, policy, principal, order.id, refs)
            files = evidence.claim(session, policy, refs)
        order.measures, order.expected_result, order.expected_by = (
            answer.measures,
            answer.expected_result,
            answer.expected_by,
        )
        note = answer.measures
        detail = {"expected_result": answer.expected_result, "expected_by": answer.expected_by.isoformat()}
    elif action is OrderAction.send_back:
        if returned is None:
            raise Unprocessable("退回重办需要写明理由", code="reason_required")
        note = reason = returned.reason
    order.state = TRANSITIONS[action][1]
    order.updated_at = now
    if action is OrderAction.close:
        order.closed_at = now
    session.add(order)
    step = _record(
        session,
        order,
        action,
        principal=principal,
        at=now,
        from_state=from_state,
        note=note,
        detail=detail,
        reason=reason,
        files=files,
    )
    if refs:
        session.flush()  # the step's id, for its files' rows
        evidence.attach(session, order_id=order.id, step_id=step.id, refs=refs, at=now)
    session.commit()
    return get_order(session=session, principal=principal, order_id=order.id, today=today)


# ---- export ---------------------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "督办单号",
    "督办事项",
    "督办对象",
    "批示",
    "主办单位",
    "协办单位",
    "办理时限",
    "状态",
    "是否超期",
    "超期天数",
    "交办人",
    "交办时间",
    "采取的措施",
    "预期数值",
    "预期时间",
    "办结时间",
]


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_xlsx(*, orders: list[OrderPublic]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "督办单"
    sheet.append(EXPORT_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for o in orders:
        sheet.append(
            [
                o.id,
                o.title,
                f"{o.subject.kind_label}：{o.subject.label}",
                o.instruction,
                o.lead_unit.name,
                "、".join(p.name for p in o.partner_units),
                o.deadline.isoformat(),
                o.state_label,
                "是" if o.overdue else "否",
                o.days_overdue,
                o.opened_by,
                _local(o.opened_at),
                o.measures or "",
                o.expected_result or "",
                o.expected_by.isoformat() if o.expected_by else "",
                _local(o.closed_at),
            ]
        )
    for column, width in zip(
        "ABCDEFGHIJKLMNOP", (14, 30, 30, 40, 16, 24, 12, 10, 8, 8, 24, 16, 40, 16, 12, 16), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- the month's figures (the bulletin's 督办事项) ----------------------------------------------------------


@dataclass
class UnitFigures:
    opened: int = 0  # opened in the month
    closed: int = 0  # closed in the month
    open: int = 0  # not closed at the month's end
    overdue: int = 0  # of those, past their deadline at the month's end


@dataclass(frozen=True)
class MonthFigures:
    totals: UnitFigures
    units: dict[str, UnitFigures] = field(default_factory=dict)  # by lead unit's name


def month_figures(session: Session, *, start: dt.date, end: dt.date) -> MonthFigures:
    """The 督办事项 of a month (Beijing days `start`..`end`): how many were opened and closed in it, how many stood
    open and overdue at its end; the same by lead unit (the units with none of these left out)."""
    begin = dt.datetime.combine(start, dt.time(), CHINA)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), CHINA)
    totals, units = UnitFigures(), {}
    for order in session.exec(select(SupervisionOrder).where(SupervisionOrder.opened_at < finish)):
        row = units.setdefault(order.lead_name, UnitFigures())
        still_open = order.closed_at is None or order.closed_at >= finish
        hits = {
            "opened": order.opened_at >= begin,
            "closed": order.closed_at is not None and begin <= order.closed_at < finish,
            "open": still_open,
            "overdue": still_open and order.deadline < end,
        }
        for name, hit in hits.items():
            setattr(row, name, getattr(row, name) + hit)
            setattr(totals, name, getattr(totals, name) + hit)
    kept = {name: row for name, row in sorted(units.items()) if row.opened or row.closed or row.open}
    return MonthFigures(totals=totals, units=kept)

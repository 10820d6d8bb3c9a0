"""督办单 (supervision orders). Thin: parse, call the service, wake the relay for the step's event."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.messaging.relay import wake_relay
from minsheng.pagination import PageDep
from minsheng_gateway.identity.deps import CurrentCaller, now
from minsheng_gateway.supervision import service
from minsheng_gateway.supervision.models import OrderAction, OrderState, SubjectKind
from minsheng_gateway.supervision.schemas import (
    OrderAnswer,
    OrderCreate,
    OrderDetail,
    OrderPage,
    OrderReturn,
    SupervisionDictionary,
)

router = APIRouter(prefix="/api/v1/supervision", tags=["督办单 supervision"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFUSALS = {
    401: {"description": "未登录"},
    403: {"description": "无权办理这一步（如非主办单位签收、非市民生办办结）"},
    404: {"description": "督办单不存在或不可见"},
    409: {"description": "督办单当前状态不允许这一步"},
}

OrderId = Annotated[str, Path(pattern=r"^DB-\d{4}-\d{4,}$", description="督办单号，如 DB-2026-0007")]
StateFilter = Annotated[OrderState | None, Query(description="按状态筛选")]
UnitFilter = Annotated[str | None, Query(max_length=100, description="按主办或协办单位筛选（部门名称或区县代码）")]
OverdueFilter = Annotated[bool | None, Query(description="true：只看超期未办结的；false：只看未超期的")]
SubjectKindFilter = Annotated[SubjectKind | None, Query(description="督办对象的类别")]
SubjectRefFilter = Annotated[str | None, Query(max_length=200, description="督办对象（指标编号、task-<n>、区县代码…）")]


@router.get("/dictionary", summary="督办单的词表：状态、操作、督办对象类别、可选单位")
def read_dictionary(session: SessionDep, caller: CurrentCaller) -> SupervisionDictionary:
    return service.dictionary(session=session)


@router.get("/orders", summary="督办单列表：可按状态、单位、是否超期、督办对象筛选", responses=REFUSALS)
def list_orders(
    session: SessionDep,
    caller: CurrentCaller,
    today: TodayDep,
    page: PageDep,
    state: StateFilter = None,
    unit: UnitFilter = None,
    overdue: OverdueFilter = None,
    subject_kind: SubjectKindFilter = None,
    subject_ref: SubjectRefFilter = None,
) -> OrderPage:
    return service.list_orders(
        session=session,
        principal=caller.account.principal(),
        today=today,
        page=page,
        state=state,
        unit=unit,
        overdue=overdue,
        subject_kind=subject_kind,
        subject_ref=subject_ref,
    )


@router.get(
    "/orders.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "督办单台账（Excel）"}, 401: {"description": "未登录"}},
    summary="导出督办单台账（与列表相同的筛选条件）",
)
def export_orders(
    session: SessionDep,
    caller: CurrentCaller,
    today: TodayDep,
    state: StateFilter = None,
    unit: UnitFilter = None,
    overdue: OverdueFilter = None,
    subject_kind: SubjectKindFilter = None,
    subject_ref: SubjectRefFilter = None,
) -> Response:
    orders = service.list_orders(
        session=session,
        principal=caller.account.principal(),
        today=today,
        state=state,
        unit=unit,
        overdue=overdue,
        subject_kind=subject_kind,
        subject_ref=subject_ref,
    )
    content = service.export_xlsx(orders=orders.data)
    name = f"督办单台账-{today.isoformat()}.xlsx"
    disposition = f"attachment; filename=\"supervision-{today.isoformat()}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/orders/{order_id}", summary="一张督办单及其办理过程", responses=REFUSALS)
def read_order(order_id: OrderId, session: SessionDep, caller: CurrentCaller, today: TodayDep) -> OrderDetail:
    return service.get_order(session=session, principal=caller.account.principal(), order_id=order_id, today=today)


@router.post(
    "/orders",
    status_code=201,
    summary="交办督办单（市民生办、市领导）：督办事项、批示、主办与协办单位、办理时限",
    responses={**REFUSALS, 422: {"description": "单位不存在、时限已过等"}},
)
def open_order(
    request: Request, body: OrderCreate, session: SessionDep, caller: CurrentCaller, today: TodayDep
) -> OrderDetail:
    order = service.open_order(
        session=session, principal=caller.account.principal(), body=body, now=now(request), today=today
    )
    wake_relay(request.app)
    return order


def _step(request: Request, session, caller, today, order_id: str, action: OrderAction, **body) -> OrderDetail:  # noqa: ANN001
    order = service.act(
        session=session,
        principal=caller.account.principal(),
        order_id=order_id,
        action=action,
        now=now(request),
        today=today,
        **body,
    )
    wake_relay(request.app)
    return order


@router.post("/orders/{order_id}/acknowledge", summary="签收（主办单位）", responses=REFUSALS)
def acknowledge(
    request: Request, order_id: OrderId, session: SessionDep, caller: CurrentCaller, today: TodayDep
) -> OrderDetail:
    return _step(request, session, caller, today, order_id, OrderAction.acknowledge)


@router.post("/orders/{order_id}/start", summary="开始办理（主办单位）", responses=REFUSALS)
def start(
    request: Request, order_id: OrderId, session: SessionDep, caller: CurrentCaller, today: TodayDep
) -> OrderDetail:
    return _step(request, session, caller, today, order_id, OrderAction.start)


@router.post("/orders/{order_id}/answer", summary="反馈办理情况（主办单位）：措施、预期数值与时间", responses=REFUSALS)
def answer(
    request: Request,
    order_id: OrderId,
    body: OrderAnswer,
    session: SessionDep,
    caller: CurrentCaller,
    today: TodayDep,
) -> OrderDetail:
    return _step(request, session, caller, today, order_id, OrderAction.answer, answer=body)


@router.post("/orders/{order_id}/close", summary="办结（市民生办）", responses=REFUSALS)
def close(
    request: Request, order_id: OrderId, session: SessionDep, caller: CurrentCaller, today: TodayDep
) -> OrderDetail:
    return _step(request, session, caller, today, order_id, OrderAction.close)


@router.post("/orders/{order_id}/return", summary="退回重办（市民生办），写明理由", responses=REFUSALS)
def send_back(
    request: Request,
    order_id: OrderId,
    body: OrderReturn,
    session: SessionDep,
    caller: CurrentCaller,
    today: TodayDep,
) -> OrderDetail:
    return _step(request, session, caller, today, order_id, OrderAction.send_back, returned=body)

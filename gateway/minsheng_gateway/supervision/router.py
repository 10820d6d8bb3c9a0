"""督办单 (supervision orders). Thin: parse, call the service, wake the relay for the step's event."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.evidence import router as evidence_router
from minsheng.evidence import service as evidence_service
from minsheng.evidence.router import ERRORS as EVIDENCE_ERRORS
from minsheng.evidence.router import FILE_RESPONSE, BoundedUpload, EvidenceId
from minsheng.evidence.schemas import EvidencePublic, EvidenceRules
from minsheng.evidence.service import EvidencePolicyDep, ObjectStoreDep
from minsheng.messaging.relay import wake_relay
from minsheng.pagination import PageDep
from minsheng.uploads import UploadGuardDep
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
        policy=getattr(request.app.state, "evidence_policy", None),
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


@router.post(
    "/orders/{order_id}/answer",
    summary="反馈办理情况（主办单位）：措施、预期数值与时间，可附佐证材料",
    responses={**REFUSALS, 422: {"description": "佐证材料不存在、已过期或不是本人上传等"}},
)
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


# ---- 佐证材料 of answers: uploaded first (the pending area), attached by the answer ---------------------------

upload_router = APIRouter(prefix="/api/v1/supervision", tags=["督办单 supervision"], route_class=BoundedUpload)


@upload_router.post(
    "/evidence",
    response_model=EvidencePublic,
    status_code=201,
    responses=EVIDENCE_ERRORS,
    summary="上传督办反馈的佐证材料（PDF、JPG、PNG、DOCX、XLSX）：得到编号，反馈时附上；未附上的数小时后清除",
)
def upload_evidence(
    request: Request,
    session: SessionDep,
    store: ObjectStoreDep,
    policy: EvidencePolicyDep,
    guard: UploadGuardDep,
    caller: CurrentCaller,
    file: Annotated[UploadFile, File(description="一个文件，至多 20 MB（按文件内容判断类型，与文件名无关）")],
):
    return evidence_router.receive(request, session, store, policy, guard, caller.account.principal(), file)


@router.get("/evidence/rules", summary="督办反馈可上传的文件类型和大小上限（上传区的提示）")
def read_evidence_rules(policy: EvidencePolicyDep, caller: CurrentCaller) -> EvidenceRules:
    return evidence_service.rules(policy)


@router.get(
    "/evidence/{evidence_id}/content",
    response_class=StreamingResponse,
    responses={**EVIDENCE_ERRORS, **FILE_RESPONSE},
    summary="督办反馈佐证材料的内容（能查看该督办单的人；PDF 与图片在页面中预览，Word/Excel 下载）",
)
def read_evidence_content(
    session: SessionDep,
    store: ObjectStoreDep,
    caller: CurrentCaller,
    evidence_id: EvidenceId,
    download: Annotated[bool, Query(description="true：作为附件下载")] = False,
):
    row = service.readable_file(session=session, principal=caller.account.principal(), file_id=evidence_id)
    return evidence_router.content_response(store, row, download=download)


@router.get(
    "/evidence/{evidence_id}/thumbnail",
    response_class=StreamingResponse,
    responses={**EVIDENCE_ERRORS, 200: {"content": {"image/jpeg": {}}, "description": "缩略图（JPEG）"}},
    summary="督办反馈中图片佐证材料的缩略图",
)
def read_evidence_thumbnail(session: SessionDep, store: ObjectStoreDep, caller: CurrentCaller, evidence_id: EvidenceId):
    row = service.readable_file(session=session, principal=caller.account.principal(), file_id=evidence_id)
    return evidence_router.thumbnail_response(store, row)


@router.delete(
    "/evidence/{evidence_id}",
    status_code=204,
    responses=EVIDENCE_ERRORS,
    summary="删除本人上传、尚未随反馈保存的佐证材料（已保存的不能删除）",
)
def delete_evidence(session: SessionDep, store: ObjectStoreDep, caller: CurrentCaller, evidence_id: EvidenceId):
    evidence_service.delete_pending(
        session=session, store=store, principal=caller.account.principal(), file_id=evidence_id
    )

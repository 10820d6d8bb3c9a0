"""任务分解表 endpoints (city office): the template, the dry run of a filled copy, and its publication to the five
campaign services. Thin: check the role, call one service function. The gateway itself stores nothing here."""

from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile, status

from minsheng.auth.models import Role
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden
from minsheng.reporting.files import XLSX_MEDIA_TYPE
from minsheng.uploads import UploadGuardDep
from minsheng_gateway.identity.deps import Caller, CurrentCaller
from minsheng_gateway.plans import breakdown_service as service
from minsheng_gateway.plans.breakdown_schemas import BreakdownDryRun, BreakdownPublication

router = APIRouter(prefix="/api/v1", tags=["方案 plans"])
CITY_OFFICE_ONLY = {403: {"description": "只对市民生办开放"}}


def _require_city_office(caller: Caller) -> None:
    if caller.account.role is not Role.city_office:
        raise Forbidden("任务分解表只能由市民生办下载、试运行和发布，请用市民生办账号登录", code="city_office_only")


@router.get(
    "/plans/breakdown-template",
    response_class=Response,
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "任务分解表模板（Excel 工作簿）"},
        **CITY_OFFICE_ONLY,
    },
    summary="下载任务分解表模板（市民生办）：一行一个任务或指标，含填写说明、方案表，领域、部门和区县取自现行目录",
)
def download_breakdown_template(session: SessionDep, caller: CurrentCaller, today: TodayDep):
    _require_city_office(caller)
    file = service.breakdown_template(session=session, today=today)
    return Response(
        file.content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": file.content_disposition, "Cache-Control": "no-store"},
    )


@router.post(
    "/plans/breakdown:dry-run",
    response_model=BreakdownDryRun,
    responses={
        **CITY_OFFICE_ONLY,
        422: {"description": "工作簿整体无法使用（不是 .xlsx、找不到表头、超过行数上限等），errors 逐项说明"},
    },
    summary="试运行任务分解表（市民生办）：列出发布后各行动将创建的内容和每一处错误（工作表、行、列），不保存任何数据",
)
def dry_run_breakdown(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    guard: UploadGuardDep,
    file: Annotated[UploadFile, File(description="填好的任务分解表（.xlsx，平台下载的模板）")],
):
    _require_city_office(caller)
    # Sync route: the guard's checks and its wait on the parsing child take a worker thread, not the loop.
    return service.dry_run(
        session=session,
        plans=request.app.state.plans,
        guard=guard,
        filename=file.filename or "",
        content=file.file.read(),
    )


@router.post(
    "/plans/breakdown:publish",
    response_model=BreakdownPublication,
    status_code=status.HTTP_201_CREATED,
    responses={
        **CITY_OFFICE_ONLY,
        422: {"description": "任务分解表有错误（breakdown_invalid，errors 与试运行相同），没有发布任何内容"},
    },
    summary="发布任务分解表（市民生办）：再次试运行，无误则在五个行动中创建（或修订）该方案；未成功的行动列明原因，再次发布即补齐",
)
async def publish_breakdown(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    guard: UploadGuardDep,
    file: Annotated[UploadFile, File(description="填好的任务分解表（.xlsx，与试运行的同一份）")],
):
    _require_city_office(caller)
    return await service.publish(
        request=request,
        caller=caller,
        session=session,
        guard=guard,
        filename=file.filename or "",
        content=await file.read(),
    )

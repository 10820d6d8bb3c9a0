"""月调度通报 (city office): the month's bulletin as a .docx. Thin: parse, check the role, call the service."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from minsheng.auth.models import Role
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden
from minsheng.progress.model import Thresholds
from minsheng_gateway.bulletin.service import monthly_bulletin
from minsheng_gateway.identity.deps import CurrentCaller
from minsheng_gateway.plans.scope import PLAN_SELECTED

router = APIRouter(prefix="/api/v1", tags=["月调度通报 bulletin"], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get(
    "/bulletins/monthly",
    response_class=Response,
    responses={
        200: {"content": {DOCX: {}}, "description": "月调度通报（Word 文档）"},
        401: {"description": "未登录"},
        403: {"description": "只对市民生办、市领导开放"},
        422: {"description": "月份格式不对、不在行动期内或尚未结束"},
    },
    summary="月调度通报（市民生办）：某月末的总体情况、各行动进展、区县排名及升降、预警事项、督办事项和图表，Word 文档",
)
def read_monthly_bulletin(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    caller: CurrentCaller,
    today: TodayDep,
    month: Annotated[str, Query(description="月份，如 2024-05", examples=["2024-05"])],
):
    if caller.account.role not in (Role.city_office, Role.leader):  # 市领导 read everything (decision 0022)
        raise Forbidden("月调度通报只能由市民生办或市领导下载，请用市民生办账号登录", code="city_office_only")
    name, content = monthly_bulletin(
        session=session,
        catalog=catalog,
        month=month,
        today=today,
        thresholds=Thresholds.from_settings(request.app.state.settings),
        calendar=request.app.state.settings.reporting_calendar(),
    )
    ascii_name = f"bulletin-{month}.docx"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=DOCX, headers={"Content-Disposition": disposition})

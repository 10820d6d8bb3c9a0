"""方案: the plans, their horizons, periods and 序时进度, served so that the web app derives none of them."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from minsheng.auth.models import Role
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden
from minsheng_gateway.identity.deps import CurrentCaller
from minsheng_gateway.plans import service
from minsheng_gateway.plans.schemas import PlanClosing, PlanPublic, PlanVersions
from minsheng_gateway.plans.scope import PlanQuery, chosen_plan, known_plans
from minsheng_gateway.reads import AsOf

router = APIRouter(prefix="/api/v1", tags=["方案 plans"])


@router.get(
    "/plans",
    response_model=list[PlanPublic],
    summary="方案：名称、文号、实施期、阶段、已开始的各期（供选择）、序时进度；current 为默认方案",
)
def plans(session: SessionDep, today: TodayDep, as_of: AsOf = None, plan: PlanQuery = None) -> list[PlanPublic]:
    if plan is not None:  # a link's plan the gateway does not know is said at once (404 plan_not_found)
        chosen_plan(known_plans(session), plan, today)
    return service.list_plans(session=session, today=today, as_of=as_of)


@router.get(
    "/plans/{code}/versions",
    response_model=PlanVersions,
    summary="方案的修订记录（市民生办）：五个行动各自的目录版本，最新在前，每版新增、修改、停用的条目",
)
async def plan_versions(
    request: Request, caller: CurrentCaller, code: Annotated[str, Path(description="方案代码", max_length=40)]
) -> PlanVersions:
    if caller.account.role is not Role.city_office:
        raise Forbidden("方案的修订记录只对市民生办开放", code="city_office_only")
    return await service.plan_versions(request=request, caller=caller, code=code)


@router.post(
    "/plans/{code}/close",
    response_model=PlanClosing,
    summary="关闭方案（市民生办）：五个行动服务各自关闭，之后该方案只读；未关闭的行动列明原因，可再次办理",
)
async def close_plan(
    request: Request, caller: CurrentCaller, code: Annotated[str, Path(description="方案代码", max_length=40)]
) -> PlanClosing:
    if caller.account.role is not Role.city_office:
        raise Forbidden("关闭方案只能由市民生办办理", code="city_office_only")
    return await service.close_plan(request=request, caller=caller, code=code)

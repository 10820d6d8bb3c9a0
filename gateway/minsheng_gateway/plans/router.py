"""方案: the plans, their horizons, periods and 序时进度, served so that the web app derives none of them."""

from fastapi import APIRouter

from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng_gateway.plans import service
from minsheng_gateway.plans.schemas import PlanPublic
from minsheng_gateway.reads import AsOf

router = APIRouter(prefix="/api/v1", tags=["方案 plans"])


@router.get(
    "/plans",
    response_model=list[PlanPublic],
    summary="方案：名称、文号、实施期、阶段、已开始的各期（供选择）、序时进度；current 为默认方案",
)
def plans(session: SessionDep, today: TodayDep, as_of: AsOf = None) -> list[PlanPublic]:
    return service.list_plans(session=session, today=today, as_of=as_of)

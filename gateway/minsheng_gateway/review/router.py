"""审核 endpoints of the gateway. Thin: parse, call one service function."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from minsheng.catalog.snapshot import CatalogDep
from minsheng.db import SessionDep
from minsheng.pagination import PageDep
from minsheng.params import OrgUnitFilter, PeriodFilter
from minsheng.progress.model import Thresholds
from minsheng_gateway.identity.deps import CurrentCaller
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.review import service
from minsheng_gateway.review.schemas import PendingReviewPage

router = APIRouter(prefix="/api/v1", tags=["审核 review"], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)


@router.get(
    "/review/pending",
    response_model=PendingReviewPage,
    responses={401: {"description": "未登录"}, 403: {"description": "只对市民生办开放"}},
    summary="待审核报告（五个行动合并，市民生办）：新值与上期已审核值、被替换的版本、应达值，异常波动标记",
)
def read_pending(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    caller: CurrentCaller,
    page: PageDep,
    campaign: Annotated[str | None, Query(description="行动代码，如 education；默认全部")] = None,
    department: Annotated[str | None, Query(description="牵头部门，如 市教育局")] = None,
    org_unit: OrgUnitFilter = None,
    period: PeriodFilter = None,
):
    settings = request.app.state.settings
    return service.pending_reports(
        session=session,
        catalog=catalog,
        caller=caller,
        page=page,
        thresholds=Thresholds.from_settings(settings),
        jump_share=settings.review_jump_share,
        campaign=campaign,
        department=department,
        org_unit=org_unit,
        period=period,
    )

"""全市与区县: the city's and each district's summary, and the districts' ranking."""

from fastapi import APIRouter, Request

from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.orgunits import CITY_CODE
from minsheng.params import OrgUnitPath
from minsheng_gateway import reads
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.reads import VIEWS_TAG, AsOf, AsOfRoutines
from minsheng_gateway.summaries import service
from minsheng_gateway.summaries.schemas import DistrictMatrix, Summary

router = APIRouter(prefix="/api/v1", tags=[VIEWS_TAG], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)


@router.get(
    "/city/summary",
    response_model=Summary,
    summary="全市：各行动及总体的任务、指标按状态统计，行动总目标的完成值、目标、完成率、应达值和状态",
)
def city_summary(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, as_of: AsOf = None):
    return service.summary(
        session=session,
        catalog=catalog,
        org_unit=CITY_CODE,
        today=as_of or today,
        thresholds=reads.thresholds(request),
    )


@router.get(
    "/districts/{code}/summary",
    response_model=Summary,
    summary="一个区县：同全市视图，按该区县自己的目标（有分解目标的）判断",
)
def district_summary(
    request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, code: OrgUnitPath, as_of: AsOf = None
):
    return service.summary(
        session=session, catalog=catalog, org_unit=code, today=as_of or today, thresholds=reads.thresholds(request)
    )


@router.get(
    "/districts",
    response_model=DistrictMatrix,
    summary="区县×行动得分矩阵与排名：月调度、季考评、年评价（计分规则见 scoring_rule）",
)
def districts(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, as_of: AsOfRoutines = None):
    return service.district_matrix(
        session=session,
        catalog=catalog,
        calendar=request.app.state.settings.reporting_calendar(),
        as_of=as_of or today,
        thresholds=reads.thresholds(request),
    )

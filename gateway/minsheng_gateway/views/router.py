"""The gateway's views. Reads come from the gateway's own tables, never from the services."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from minsheng.catalog.router import OrgUnitCode
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.orgunits import CITY_CODE
from minsheng.params import TaskNumber
from minsheng.progress import queries
from minsheng.progress.model import Thresholds
from minsheng.progress.router import OrgUnitQuery
from minsheng.progress.schemas import IndicatorProgressPublic, TaskProgressPublic
from minsheng_gateway.views import summaries
from minsheng_gateway.views.entry import entry_values
from minsheng_gateway.views.schemas import DistrictMatrix, EntryValues, Summary, Warning
from minsheng_gateway.views.source import GatewaySource

router = APIRouter(prefix="/api/v1", tags=["全市与区县视图 views"])


# 时间回溯: every view answers for a chosen day as the plan stood then (approved values of periods ending
# by that day); none: today.
AsOf = Annotated[dt.date | None, Query(description="回溯：按哪一天的情况计算（截至该日已结束期间的审定值），默认今天")]


def _thresholds(request: Request) -> Thresholds:
    return Thresholds.from_settings(request.app.state.settings)


@router.get(
    "/city/summary",
    response_model=Summary,
    summary="全市：各行动及总体的任务、指标按状态统计，行动总目标的完成值、目标、完成率、应达值和状态",
)
def city_summary(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, as_of: AsOf = None):
    return summaries.summary(session, catalog, CITY_CODE, as_of or today, _thresholds(request))


@router.get(
    "/districts/{code}/summary",
    response_model=Summary,
    summary="一个区县：同全市视图，按该区县自己的目标（有分解目标的）判断",
)
def district_summary(
    request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, code: str, as_of: AsOf = None
):
    return summaries.summary(session, catalog, code, as_of or today, _thresholds(request))


AsOfRoutines = Annotated[dt.date | None, Query(description="以哪一天为准推算上月末、上季末、上年末，默认今天")]


@router.get(
    "/districts",
    response_model=DistrictMatrix,
    summary="区县×行动得分矩阵与排名：月调度、季考评、年评价（计分规则见 scoring_rule）",
)
def districts(request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, as_of: AsOfRoutines = None):
    return summaries.district_matrix(session, catalog, as_of or today, _thresholds(request))


@router.get(
    "/indicators/{code}/progress",
    response_model=IndicatorProgressPublic,
    summary="指标进展：序列、应达轨迹、趋势预测、状态（网关读模型）",
)
def indicator_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    code: str,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    # Today's answer is the one stored when the row last changed (dashboards poll this); another
    # day's, or one for a series without data, is computed.
    if (
        as_of in (None, today)
        and (stored := summaries.stored_answer(session, catalog, code, org_unit, today)) is not None
    ):
        return Response(stored, media_type="application/json")
    return queries.get_indicator_progress(
        session=session,
        catalog=catalog,
        source=GatewaySource(session),
        code=code,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=_thresholds(request),
    )


@router.get("/tasks/{number}/progress", response_model=TaskProgressPublic, summary="任务进展（网关读模型）")
def task_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    number: TaskNumber,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    return queries.get_task_progress(
        session=session,
        catalog=catalog,
        source=GatewaySource(session),
        number=number,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=_thresholds(request),
    )


@router.get(
    "/warnings",
    response_model=list[Warning],
    summary="预警：存在风险或进度滞后的指标和任务，附牵头部门和区县，最新的在前",
)
def read_warnings(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    as_of: AsOf = None,
):
    return summaries.warnings(session, catalog, today, limit, as_of=as_of, thresholds=_thresholds(request))


@router.get(
    "/org-units/{code}/values",
    response_model=EntryValues,
    summary="填报参考：某单位截至某期间各指标的上期审定值、累计值和目标（网关读模型）",
    description="每个指标一行：截至该期间（含）最近一期已审核值及其期间；累计值按进展模型计算"
    "（累计类为2022年起合计，年度类为当年合计，水平类为最新水平）；该单位的目标（区县有分解目标的用区县目标）。",
)
def org_unit_values(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    code: OrgUnitCode,
    period: Annotated[str, Query(description="期间：月 2024-05、季 2024Q2 或年 2024")],
    campaign: Annotated[str | None, Query(description="只看某个行动，如 education")] = None,
):
    return entry_values(
        session=session,
        catalog=catalog,
        org_unit=code,
        period=period,
        campaign=campaign,
        thresholds=_thresholds(request),
    )

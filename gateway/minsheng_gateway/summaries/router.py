"""The gateway's views. Reads come from the gateway's own tables, never from the services."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from minsheng.catalog.router import OrgUnitCode
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.errors import Unprocessable
from minsheng.orgunits import CITY_CODE
from minsheng.params import IndicatorPath, OrgUnitPath, OrgUnitQuery, PeriodQuery, TaskNumber
from minsheng.progress import queries
from minsheng.progress.model import Thresholds
from minsheng.progress.periods import Period
from minsheng.progress.schemas import CampaignProgressPublic, IndicatorProgressPublic, TaskProgressPublic
from minsheng_gateway.completeness.service import Completeness, completeness
from minsheng_gateway.drill import service as drill
from minsheng_gateway.drill.schemas import IndicatorDistricts, IndicatorTrajectory, TaskStatusEntry, ValueRevision
from minsheng_gateway.entry.service import entry_values
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.summaries import service as summaries
from minsheng_gateway.summaries.schemas import DistrictMatrix, EntryValues, Summary, Warning
from minsheng_gateway.warnings import overdue

router = APIRouter(prefix="/api/v1", tags=["全市与区县视图 views"])


# 时间回溯 (docs/decisions/0014): every view answers for a chosen day; none: today.  Figures as the plan stood
# then (approved values of periods ending by that day):
AsOf = Annotated[dt.date | None, Query(description="回溯：按哪一天的情况计算（截至该日已结束期间的审定值），默认今天")]
# The views of reporting itself (who had reported, what was overdue) replay what was known at that day's end.
AsOfReported = Annotated[
    dt.date | None,
    Query(description="回溯：按哪一天结束时的报送与审核情况（之后才报送、审核的按当时的状态计），默认今天"),
]


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
    request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, code: OrgUnitPath, as_of: AsOf = None
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
    code: IndicatorPath,
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
    period: PeriodQuery,
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


# The drill-down campaign → work item → task → indicator (web: 攻坚行动).


@router.get(
    "/campaigns/{code}/progress",
    response_model=CampaignProgressPublic,
    summary="行动进展：各工作事项及其任务的状态、指标按状态统计、行动总目标（网关读模型）",
)
def campaign_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    code: str,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    return queries.get_campaign_progress(
        session=session,
        catalog=catalog,
        source=GatewaySource(session),
        campaign=code,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=_thresholds(request),
    )


@router.get(
    "/indicators/{code}/districts",
    response_model=IndicatorDistricts,
    summary="指标分区县：各区县（功能区）自己的目标、完成值、完成率、应达值和状态",
)
def indicator_districts(
    request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, code: str, as_of: dt.date | None = None
):
    return drill.indicator_districts(
        session=session, catalog=catalog, code=code, as_of=as_of or today, thresholds=_thresholds(request)
    )


@router.get(
    "/indicators/{code}/trajectory",
    response_model=IndicatorTrajectory,
    summary="指标应达轨迹：按规划节点（里程碑）从基期到目标年末，逐月末的应达值",
)
def indicator_trajectory(
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    code: str,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    return drill.indicator_trajectory(
        session=session, catalog=catalog, code=code, org_unit=org_unit, as_of=as_of or today
    )


@router.get(
    "/indicators/{code}/history",
    response_model=list[ValueRevision],
    summary="指标数值历史：每一次填报和修订，状态、填报人、时间；最近的期间在前",
    description="给出 as_of 时只列出截至当天（北京时间）已报送的版本，状态与「计入」按当天结束时的情况。",
)
def indicator_history(
    session: SessionDep,
    catalog: CatalogDep,
    code: str,
    org_unit: Annotated[str | None, Query(max_length=6, description="只看某个单位，默认全部")] = None,
    as_of: AsOfReported = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
):
    return drill.indicator_history(
        session=session, catalog=catalog, code=code, org_unit=org_unit, as_of=as_of, limit=limit
    )


@router.get(
    "/tasks/{number}/statuses",
    response_model=list[TaskStatusEntry],
    summary="任务填报的进展情况（问题账单 → 履职清单），按期间，最近的在前",
)
def task_statuses(
    session: SessionDep,
    number: TaskNumber,
    org_unit: Annotated[str | None, Query(max_length=6, description="只看某个单位，默认全部")] = None,
    as_of: dt.date | None = None,
):
    return drill.task_statuses(session=session, number=number, org_unit=org_unit, as_of=as_of)


@router.get(
    "/completeness",
    response_model=Completeness,
    summary="填报完成情况：某期各牵头部门、各区县的应报、已报送、已通过和报送率",
    description="应报按「我的待办」的规则（部门：其牵头任务的指标，全市数；区县：非市级专属的指标，本区县数）"
    "和报送日历计；默认各报送频次的本期（最近一个已结束的期间）。",
)
def read_completeness(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    period: Annotated[str | None, Query(description="期间：月 2024-05、季 2024Q2 或年 2024；默认本期")] = None,
    as_of: AsOfReported = None,
):
    wanted = None
    if period:
        try:
            wanted = Period.parse(period)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="invalid_period") from exc
    return completeness(
        session=session,
        calendar=request.app.state.settings.reporting_calendar(),
        today=as_of or today,
        period=wanted,
        replay=as_of is not None,
    )


@router.get(
    "/warnings/overdue",
    response_model=list[Warning],
    summary="预警·逾期未报：全市各单位应报未报且已过截止日期的指标（每个指标×单位一条，列出逾期期间），最近截止的在前",
    description="应报范围与截止日期同「我的待办」：各指标的全市数，及各区县、功能区非市级专属指标的本单位数；"
    "已提交（待审核）或已通过的不算逾期，被退回而未重报的算。",
)
def read_overdue_warnings(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    as_of: AsOfReported = None,
    campaign: Annotated[str | None, Query(description="只看某个行动，如 education")] = None,
    org_unit: Annotated[str | None, Query(description="只看某个单位（区县代码，全市 370300）")] = None,
    department: Annotated[str | None, Query(description="只看某牵头部门的任务指标，如 市教育局")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
):
    return overdue.overdue_warnings(
        session=session,
        calendar=request.app.state.settings.reporting_calendar(),
        today=as_of or today,
        campaign=campaign,
        org_unit=org_unit,
        department=department,
        replay=as_of is not None,
    )[:limit]

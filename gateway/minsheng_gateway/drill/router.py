"""The drill-down campaign → work item → task → indicator (web: 攻坚行动): the progress answers of a
campaign, a task and an indicator, and what they do not hold (districts, trajectory, history, statuses)."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.orgunits import CITY_CODE
from minsheng.params import IndicatorPath, OrgUnitQuery, TaskNumber
from minsheng.progress import queries
from minsheng.progress.schemas import CampaignProgressPublic, IndicatorProgressPublic, TaskProgressPublic
from minsheng.reporting.schemas import TaskImplementationPublic
from minsheng_gateway import reads
from minsheng_gateway.drill import parts, service
from minsheng_gateway.drill.schemas import (
    IndicatorDistricts,
    IndicatorTrajectory,
    TaskParts,
    TaskStatusEntry,
    ValueRevision,
)
from minsheng_gateway.identity.deps import CurrentCaller
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.projection.source import GatewaySource
from minsheng_gateway.reads import VIEWS_TAG, AsOfReported

router = APIRouter(prefix="/api/v1", tags=[VIEWS_TAG], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)


def _progress_read(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
) -> queries.ProgressRead:
    """The gateway reads its read models, with its own thresholds."""
    return queries.ProgressRead(
        session, catalog, GatewaySource(session), org_unit, as_of or today, reads.thresholds(request)
    )


ProgressReadDep = Annotated[queries.ProgressRead, Depends(_progress_read)]


@router.get(
    "/indicators/{code}/progress",
    response_model=IndicatorProgressPublic,
    summary="指标进展：序列、应达轨迹、趋势预测、状态（网关读模型）",
)
def indicator_progress(code: IndicatorPath, today: TodayDep, read: ProgressReadDep):
    # Today's answer is the one stored when the row last changed (dashboards poll this); another
    # day's, or one for a series without data, is computed.
    if read.as_of == today:
        stored = reads.stored_answer(read.session, read.catalog, code, read.org_unit, today)
        if stored is not None:
            return Response(stored, media_type="application/json")
    return read.indicator(code)


@router.get("/tasks/{number}/progress", response_model=TaskProgressPublic, summary="任务进展（网关读模型）")
def task_progress(number: TaskNumber, read: ProgressReadDep):
    return read.task(number)


@router.get(
    "/campaigns/{code}/progress",
    response_model=CampaignProgressPublic,
    summary="行动进展：各工作事项及其任务的状态、指标按状态统计、行动总目标（网关读模型）",
)
def campaign_progress(code: str, read: ProgressReadDep):
    return read.campaign(code)


@router.get(
    "/indicators/{code}/districts",
    response_model=IndicatorDistricts,
    summary="指标分区县：各区县（功能区）自己的目标、完成值、完成率、应达值和状态",
)
def indicator_districts(
    request: Request, session: SessionDep, catalog: CatalogDep, today: TodayDep, code: str, as_of: dt.date | None = None
):
    return service.indicator_districts(
        session=session, catalog=catalog, code=code, as_of=as_of or today, thresholds=reads.thresholds(request)
    )


@router.get(
    "/indicators/{code}/trajectory",
    response_model=IndicatorTrajectory,
    summary="指标应达轨迹：按规划节点（年度、季度目标）从基期到目标年末，逐月末的应达值，及各年度（季度）目标；"
    "接续往期方案指标的，另列各方案的区间、目标和已审核数据",
)
def indicator_trajectory(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    code: str,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: dt.date | None = None,
):
    return service.indicator_trajectory(
        session=session,
        catalog=catalog,
        plans=request.app.state.plans,
        code=code,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=reads.thresholds(request),
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
    return service.indicator_history(
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
    return service.task_statuses(session=session, number=number, org_unit=org_unit, as_of=as_of)


@router.get(
    "/tasks/{number}/parts",
    response_model=TaskParts,
    summary="任务的主办、协办单位及各协办单位承担部分的进展（协办进展）；当前登录者作为协办单位应填报的部分",
    description="协办部门的协办进展按季度、按全市填报（POST /api/v1/campaigns/{campaign}/task-status，带 "
    "partner_department）；区县的协办进展即其本单位的任务进展。给出 as_of 时只列出截至当天已结束期间的。",
)
def task_parts(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    today: TodayDep,
    number: TaskNumber,
    as_of: dt.date | None = None,
):
    return parts.task_parts(
        session=session,
        number=number,
        principal=caller.account.principal(),
        calendar=request.app.state.settings.reporting_calendar(),
        today=as_of or today,
    )


@router.get(
    "/tasks/{number}/state",
    response_model=TaskImplementationPublic,
    summary="任务实施状态（市民生办决定：执行中、暂缓实施、已取消、待确定）及其变更记录",
    description="暂缓实施、已取消、待确定的任务不计入完成率、排名、预警和应报，在各汇总中另计。"
    "调整实施状态：`PUT /api/v1/campaigns/{campaign}/tasks/{number}/state`（市民生办）。",
)
def task_state(session: SessionDep, number: TaskNumber):
    return service.task_state(session=session, number=number)

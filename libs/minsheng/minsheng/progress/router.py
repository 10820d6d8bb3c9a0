"""Computed progress endpoints of a campaign service (read from its own reports)."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.orgunits import CITY_CODE
from minsheng.params import IndicatorPath, OrgUnitQuery, TaskNumber
from minsheng.progress import queries
from minsheng.progress.model import Thresholds
from minsheng.progress.schemas import CampaignProgressPublic, IndicatorProgressPublic, TaskProgressPublic

router = APIRouter(prefix="/api/v1", tags=["进展 progress"])

# The query parameters of every progress endpoint, the services' and the gateway's.
AsOfQuery = Annotated[dt.date | None, Query(description="截至日期 YYYY-MM-DD，默认今天")]


def _progress_read(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: AsOfQuery = None,
) -> queries.ProgressRead:
    """A service reads its own reports, with the thresholds of its settings."""
    thresholds = Thresholds.from_settings(request.app.state.settings)
    return queries.ProgressRead(session, catalog, queries.ReportSource(session), org_unit, as_of or today, thresholds)


ProgressReadDep = Annotated[queries.ProgressRead, Depends(_progress_read)]


@router.get(
    "/indicators/{code}/progress",
    response_model=IndicatorProgressPublic,
    summary="指标进展：已审核值、累计、完成率、应达进度、趋势预测、状态及原因",
)
def read_indicator_progress(code: IndicatorPath, read: ProgressReadDep):
    return read.indicator(code)


@router.get(
    "/tasks/{number}/progress",
    response_model=TaskProgressPublic,
    summary="任务进展：取其指标中最差的状态；无指标的任务按填报的进展",
)
def read_task_progress(number: TaskNumber, read: ProgressReadDep):
    return read.task(number)


def campaign_progress_router(campaign: str) -> APIRouter:
    summary_router = APIRouter(prefix="/api/v1", tags=["进展 progress"])

    @summary_router.get(
        "/progress",
        response_model=CampaignProgressPublic,
        summary="本行动进展汇总：各工作事项、任务、指标按状态统计，行动总目标",
    )
    def read_campaign_progress(read: ProgressReadDep):
        return read.campaign(campaign)

    return summary_router

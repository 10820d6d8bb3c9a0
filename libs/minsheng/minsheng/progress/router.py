"""Computed progress endpoints of a campaign service (read from its own reports)."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request

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


@router.get(
    "/indicators/{code}/progress",
    response_model=IndicatorProgressPublic,
    summary="指标进展：已审核值、累计、完成率、应达进度、趋势预测、状态及原因",
)
def read_indicator_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    code: IndicatorPath,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: AsOfQuery = None,
):
    return queries.get_indicator_progress(
        session=session,
        catalog=catalog,
        source=queries.ReportSource(session),
        code=code,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=Thresholds.from_settings(request.app.state.settings),
    )


@router.get(
    "/tasks/{number}/progress",
    response_model=TaskProgressPublic,
    summary="任务进展：取其指标中最差的状态；无指标的任务按填报的进展",
)
def read_task_progress(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    today: TodayDep,
    number: TaskNumber,
    org_unit: OrgUnitQuery = CITY_CODE,
    as_of: AsOfQuery = None,
):
    return queries.get_task_progress(
        session=session,
        catalog=catalog,
        source=queries.ReportSource(session),
        number=number,
        org_unit=org_unit,
        as_of=as_of or today,
        thresholds=Thresholds.from_settings(request.app.state.settings),
    )


def campaign_progress_router(campaign: str) -> APIRouter:
    summary_router = APIRouter(prefix="/api/v1", tags=["进展 progress"])

    @summary_router.get(
        "/progress",
        response_model=CampaignProgressPublic,
        summary="本行动进展汇总：各工作事项、任务、指标按状态统计，行动总目标",
    )
    def read_campaign_progress(
        request: Request,
        session: SessionDep,
        catalog: CatalogDep,
        today: TodayDep,
        org_unit: OrgUnitQuery = CITY_CODE,
        as_of: AsOfQuery = None,
    ):
        return queries.get_campaign_progress(
            session=session,
            catalog=catalog,
            source=queries.ReportSource(session),
            campaign=campaign,
            org_unit=org_unit,
            as_of=as_of or today,
            thresholds=Thresholds.from_settings(request.app.state.settings),
        )

    return summary_router

"""数据质量 endpoints of the gateway (city office). Thin: parse, call one service function."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, computed_field

from minsheng.db import SessionDep
from minsheng.pagination import Page, PageDep
from minsheng.params import OrgUnitFilter, PeriodFilter
from minsheng.quality.schemas import OutlierCheck
from minsheng_gateway.identity.deps import CurrentCaller
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.quality import service
from minsheng_gateway.review.schemas import QualityFlagPublic

router = APIRouter(prefix="/api/v1/quality", tags=["数据质量 quality"], dependencies=PLAN_SELECTED)
CampaignFilter = Annotated[str | None, Query(max_length=20, description="行动代码，如 education；默认全部")]
OpenOnly = Annotated[bool, Query(description="true：只看未解决的")]
RESPONSES = {401: {"description": "未登录"}, 403: {"description": "只对市民生办和市领导开放"}}


FOLLOW_UP_STATE_LABELS = {True: "待核实", False: "已核实"}  # open or not, as the service says it


class FollowUpMark(BaseModel):
    """A follow-up mark (待核实) on an approved value, as the gateway folded its thread."""

    campaign: str
    follow_up: int = Field(description="标记编号（在本行动的服务中答复、关闭）")
    report_id: int
    indicator: str = Field(validation_alias="indicator_code")
    org_unit: str = Field(validation_alias="org_unit_code")
    period: str
    comment: str = Field(description="市民生办的疑问")
    opened_by: str
    opened_at: dt.datetime
    answer: str | None = Field(description="填报单位最近一次答复")
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None = Field(description="已核实的时间；未关闭为空")

    @computed_field
    @property
    def state_label(self) -> str:
        return FOLLOW_UP_STATE_LABELS[self.closed_at is None]


class FlagPage(Page[QualityFlagPublic]):
    open: int  # unresolved among all rows matching the filters


@router.get(
    "/flags",
    response_model=FlagPage,
    responses=RESPONSES,
    summary="数据质量：规则未通过的记录（按行动、单位、期间，最新期间在前）",
)
def read_flags(
    session: SessionDep,
    caller: CurrentCaller,
    page: PageDep,
    campaign: CampaignFilter = None,
    org_unit: OrgUnitFilter = None,
    period: PeriodFilter = None,
    open_only: OpenOnly = False,
):
    data, count, open_count = service.list_flags(
        session=session,
        caller=caller,
        page=page,
        campaign=campaign,
        org_unit=org_unit,
        period=period,
        open_only=open_only,
    )
    return FlagPage(data=data, count=count, open=open_count)


@router.get(
    "/flags/export",
    responses={**RESPONSES, 200: {"content": {"text/csv": {}}, "description": "CSV（UTF-8）"}},
    summary="导出数据质量记录（CSV，条件同列表）",
)
def export_flags(
    session: SessionDep,
    caller: CurrentCaller,
    campaign: CampaignFilter = None,
    org_unit: OrgUnitFilter = None,
    period: PeriodFilter = None,
    open_only: OpenOnly = False,
):
    data, _, _ = service.list_flags(
        session=session,
        caller=caller,
        page=None,
        campaign=campaign,
        org_unit=org_unit,
        period=period,
        open_only=open_only,
    )
    return Response(
        content=service.export_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="quality-flags.csv"', "Cache-Control": "no-store"},
    )


class CampaignOutlier(OutlierCheck):
    campaign: str


class OutlierList(BaseModel):
    period: str | None = Field(description="检查的期间（未指定时为最近有数据的月份）；没有数据时为空")
    threshold: float = Field(description="修正 z 分数的阈值（设置 QUALITY_OUTLIER_THRESHOLD）")
    data: list[CampaignOutlier]


@router.get(
    "/outliers",
    response_model=OutlierList,
    responses=RESPONSES,
    summary="异常值：某期各指标数值与本单位历史、同期其他区县相比的修正 z 分数超过阈值的（可比数据少于 5 个不计算）",
)
def read_outliers(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    campaign: CampaignFilter = None,
    period: PeriodFilter = None,
):
    threshold = request.app.state.settings.quality_outlier_threshold
    checked, flagged = service.list_outliers(
        session=session, caller=caller, threshold=threshold, campaign=campaign, period=period
    )
    return OutlierList(
        period=checked,
        threshold=threshold,
        data=[CampaignOutlier(campaign=code, **check.model_dump()) for code, check in flagged],
    )


@router.get(
    "/follow-ups",
    response_model=list[FollowUpMark],
    responses=RESPONSES,
    summary="待核实标记：未关闭的在前，附市民生办的疑问和填报单位最近一次答复",
)
def read_follow_ups(session: SessionDep, caller: CurrentCaller, open_only: OpenOnly = False):
    marks = service.list_follow_ups(session=session, caller=caller, open_only=open_only)
    return [FollowUpMark.model_validate(m, from_attributes=True) for m in marks]

"""Catalog endpoints, mounted by every campaign service and by the gateway (which holds all five)."""

from typing import Annotated

from fastapi import APIRouter, Query

from minsheng.catalog import service
from minsheng.catalog.document import CAMPAIGN_CODES, CampaignDoc
from minsheng.catalog.models import (
    CampaignPublic,
    DistrictTargetPublic,
    IndicatorPublic,
    OrgUnitPublic,
    TaskPublic,
    WorkItemPublic,
)
from minsheng.db import SessionDep
from minsheng.errors import Unprocessable
from minsheng.pagination import Page, PageDep
from minsheng.params import IndicatorPath, OrgUnitPath, TaskNumber

router = APIRouter(prefix="/api/v1", tags=["目录 catalog"])

CampaignQuery = Annotated[
    str | None, Query(description="行动：education | health | eldercare | employment | livability")
]
OrgUnitCode = OrgUnitPath


def _campaign(value: str | None) -> str | None:
    if value is not None and value not in CAMPAIGN_CODES:
        raise Unprocessable(f"行动「{value}」不存在，可选值：{'、'.join(CAMPAIGN_CODES)}", code="unknown_campaign")
    return value


@router.get("/campaigns", response_model=list[CampaignPublic], summary="五大攻坚行动")
def read_campaigns(session: SessionDep):
    return service.list_campaigns(session=session)


@router.get("/items", response_model=Page[WorkItemPublic], summary="工作事项（34项）")
def read_items(session: SessionDep, page: PageDep, campaign: CampaignQuery = None):
    data, count = service.list_items(session=session, page=page, campaign=_campaign(campaign))
    return Page(data=data, count=count)


@router.get("/tasks", response_model=Page[TaskPublic], summary="重点任务（113条）")
def read_tasks(
    session: SessionDep,
    page: PageDep,
    campaign: CampaignQuery = None,
    item: Annotated[int | None, Query(ge=1, le=34, description="工作事项编号 1–34")] = None,
    lead_department: Annotated[str | None, Query(description="牵头部门全称，如 市教育局")] = None,
    text: Annotated[str | None, Query(min_length=1, max_length=50, description="在任务原文和标题中查找")] = None,
):
    data, count = service.list_tasks(
        session=session, page=page, campaign=_campaign(campaign), item=item, lead_department=lead_department, text=text
    )
    return Page(data=data, count=count)


@router.get("/tasks/{number}", response_model=TaskPublic, summary="一条任务")
def read_task(session: SessionDep, number: TaskNumber):
    return service.get_task(session=session, number=number)


@router.get("/indicators", response_model=Page[IndicatorPublic], summary="量化指标")
def read_indicators(
    session: SessionDep,
    page: PageDep,
    campaign: CampaignQuery = None,
    task: Annotated[int | None, Query(ge=1, le=113, description="任务编号")] = None,
    headline: Annotated[bool | None, Query(description="true：只看行动总目标；false：只看任务指标")] = None,
):
    data, count = service.list_indicators(
        session=session, page=page, campaign=_campaign(campaign), task=task, headline=headline
    )
    return Page(data=data, count=count)


@router.get("/indicators/{code}", response_model=IndicatorPublic, summary="一个指标")
def read_indicator(session: SessionDep, code: IndicatorPath):
    return service.get_indicator(session=session, code=code)


@router.get("/org-units", response_model=Page[OrgUnitPublic], summary="淄博市及各区县、功能区")
def read_org_units(session: SessionDep, page: PageDep):
    data, count = service.list_org_units(session=session, page=page)
    return Page(data=data, count=count)


@router.get("/org-units/{code}", response_model=OrgUnitPublic, summary="一个单位")
def read_org_unit(session: SessionDep, code: OrgUnitCode):
    return service.get_org_unit(session=session, code=code)


@router.get("/org-units/{code}/targets", response_model=Page[DistrictTargetPublic], summary="区县自己的目标")
def read_district_targets(session: SessionDep, page: PageDep, code: OrgUnitCode):
    data, count = service.list_district_targets(session=session, org_unit=code, page=page)
    return Page(data=data, count=count)


def catalog_document_router(campaign: str) -> APIRouter:
    """`GET /api/v1/catalog`: the service's whole catalog, for the gateway and other systems."""
    document_router = APIRouter(prefix="/api/v1", tags=["目录 catalog"])

    @document_router.get("/catalog", response_model=CampaignDoc, summary="本行动完整目录（供网关与其他系统同步）")
    def read_catalog(session: SessionDep):
        return service.export_catalog(session=session, campaign=campaign)

    return document_router

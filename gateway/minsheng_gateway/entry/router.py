"""填报参考: what the entry form shows beside each indicator."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from minsheng.catalog.router import OrgUnitCode
from minsheng.catalog.snapshot import CatalogDep
from minsheng.db import SessionDep
from minsheng.params import PeriodQuery
from minsheng_gateway import reads
from minsheng_gateway.entry.schemas import EntryValues
from minsheng_gateway.entry.service import entry_values
from minsheng_gateway.plans.scope import PLAN_SELECTED
from minsheng_gateway.reads import VIEWS_TAG

router = APIRouter(prefix="/api/v1", tags=[VIEWS_TAG], dependencies=PLAN_SELECTED)  # ?plan= (decision 0017)


@router.get(
    "/org-units/{code}/values",
    response_model=EntryValues,
    summary="填报参考：某单位截至某期间各指标的上期审定值、累计值和目标（网关读模型）",
    description="每个指标一行：截至该期间（含）最近一期已审核值及其期间；累计值按进展模型计算"
    "（累计类为方案首年起合计，年度类为当年合计，水平类为最新水平）；该单位的目标（区县有分解目标的用区县目标）。",
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
        thresholds=reads.thresholds(request),
    )

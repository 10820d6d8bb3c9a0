"""Data quality endpoints of a campaign service (per plan): the city office's rules and bounds, and outlier checks."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from minsheng.auth.deps import PrincipalDep
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.params import INDICATOR_CODE, MAX_ROW_ID, IndicatorPath, OrgUnitFilter, OrgUnitPath, PeriodQuery
from minsheng.quality import follow_ups, service
from minsheng.quality.outliers import DEFAULT_THRESHOLD
from minsheng.quality.schemas import (
    BoundPublic,
    BoundSet,
    FollowUpComment,
    FollowUpOpen,
    FollowUpPublic,
    OutlierCheck,
    RuleCreate,
    RulePublic,
)

router = APIRouter(prefix="/api/v1/quality", tags=["数据质量 quality"])
IndicatorQuery = Annotated[str, Query(pattern=INDICATOR_CODE, description="指标编号，如 T002-1")]
FollowUpId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="待核实标记编号")]
RuleId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="规则编号")]
ERRORS = {
    403: {"description": "只能由市民生办设置"},
    404: {"description": "规则、指标或单位不存在"},
    422: {"description": "规则有误：表达式、未知指标、除以 0、流量与水平值比较、填报周期不同"},
}


@router.get("/rules", response_model=list[RulePublic], summary="数据质量规则（本方案本行动）")
def read_rules(session: SessionDep):
    return service.list_rules(session=session)


@router.post(
    "/rules",
    response_model=RulePublic,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="新增规则（市民生办）：保存前检查表达式与所引用的指标",
)
def create_rule(session: SessionDep, catalog: CatalogDep, principal: PrincipalDep, rule_in: RuleCreate):
    return service.save_rule(session=session, catalog=catalog, rule_in=rule_in, principal=principal)


@router.put("/rules/{rule_id}", response_model=RulePublic, responses=ERRORS, summary="修改规则（市民生办）")
def update_rule(
    session: SessionDep, catalog: CatalogDep, principal: PrincipalDep, rule_id: RuleId, rule_in: RuleCreate
):
    return service.save_rule(session=session, catalog=catalog, rule_in=rule_in, principal=principal, rule_id=rule_id)


@router.delete(
    "/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS, summary="删除规则（市民生办）"
)
def delete_rule(session: SessionDep, catalog: CatalogDep, principal: PrincipalDep, rule_id: RuleId):
    service.delete_rule(session=session, catalog=catalog, rule_id=rule_id, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/bounds", response_model=list[BoundPublic], summary="指标上下限（按单位）")
def read_bounds(session: SessionDep):
    return service.list_bounds(session=session)


@router.put(
    "/bounds/{indicator}/{org_unit}", response_model=BoundPublic, responses=ERRORS, summary="设置指标上下限（市民生办）"
)
def put_bound(
    session: SessionDep, principal: PrincipalDep, indicator: IndicatorPath, org_unit: OrgUnitPath, bound_in: BoundSet
):
    return service.set_bound(
        session=session, indicator=indicator, org_unit=org_unit, bound_in=bound_in, principal=principal
    )


@router.get(
    "/outliers",
    response_model=list[OutlierCheck],
    summary="异常值检查：修正 z 分数（本单位历史、同期其他区县）与上下限",
)
def read_outliers(
    session: SessionDep,
    indicator: IndicatorQuery,
    period: PeriodQuery,
    org_unit: OrgUnitFilter = None,
    threshold: Annotated[float, Query(gt=0, le=100, description="修正 z 分数的阈值")] = DEFAULT_THRESHOLD,
):
    return service.outlier_checks(
        session=session, indicator=indicator, period=period, threshold=threshold, org_unit=org_unit
    )


FOLLOW_UP_ERRORS = {
    403: {"description": "标记、关闭只能由市民生办办理；答复只能由可填报该数值的单位办理"},
    404: {"description": "报告或标记不存在"},
    422: {"description": "不是已通过的数值、已有未关闭的标记、标记已关闭，或说明为空"},
}


@router.get("/follow-ups", response_model=list[FollowUpPublic], summary="待核实标记（最新的在前），附答复记录")
def read_follow_ups(
    session: SessionDep, open_only: Annotated[bool, Query(alias="open", description="只看未关闭的")] = False
):
    return follow_ups.list_follow_ups(session=session, open_only=open_only)


@router.post(
    "/follow-ups",
    response_model=FollowUpPublic,
    status_code=status.HTTP_201_CREATED,
    responses=FOLLOW_UP_ERRORS,
    summary="标记待核实（市民生办）：对已通过的数值提出疑问",
)
def open_follow_up(session: SessionDep, catalog: CatalogDep, principal: PrincipalDep, follow_up_in: FollowUpOpen):
    return follow_ups.open_follow_up(
        session=session,
        catalog=catalog,
        report_id=follow_up_in.report_id,
        comment=follow_up_in.comment,
        principal=principal,
    )


@router.post(
    "/follow-ups/{follow_up_id}/answers",
    response_model=FollowUpPublic,
    responses=FOLLOW_UP_ERRORS,
    summary="答复待核实（可填报该数值的单位）：说明情况；如需更正请另行提交修订",
)
def answer_follow_up(
    session: SessionDep,
    catalog: CatalogDep,
    principal: PrincipalDep,
    today: TodayDep,
    follow_up_id: FollowUpId,
    answer: FollowUpComment,
):
    return follow_ups.answer_follow_up(
        session=session,
        catalog=catalog,
        follow_up_id=follow_up_id,
        comment=answer.comment,
        principal=principal,
        today=today,
    )


@router.post(
    "/follow-ups/{follow_up_id}/close",
    response_model=FollowUpPublic,
    responses=FOLLOW_UP_ERRORS,
    summary="已核实（市民生办）：关闭标记并写明核实结论",
)
def close_follow_up(
    session: SessionDep,
    catalog: CatalogDep,
    principal: PrincipalDep,
    follow_up_id: FollowUpId,
    closing: FollowUpComment,
):
    return follow_ups.close_follow_up(
        session=session, catalog=catalog, follow_up_id=follow_up_id, comment=closing.comment, principal=principal
    )

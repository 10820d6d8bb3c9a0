"""数据值集 (DHIS2 `dataValueSets`): import JSON or CSV rows by code with a dry run and an import summary, and
export official values for incremental sync; for the city office and integration accounts. Thin: parse, check the
role, call the service."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from minsheng.auth.models import Role
from minsheng.catalog.snapshot import CatalogDep
from minsheng.clock import TodayDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden, Unprocessable
from minsheng.openapi import needs_principal
from minsheng_gateway.identity.deps import Caller, CurrentCaller
from minsheng_gateway.plans.scope import PLAN_SELECTED, SelectedPlan
from minsheng_gateway.valuesets import service
from minsheng_gateway.valuesets.models import (
    CSV_COLUMNS,
    CSV_MEDIA_TYPES,
    IMPORT_STRATEGY,
    DataValue,
    DataValueSetOut,
    ImportSummary,
)

VALUE_SET_ROLES = (Role.city_office, Role.integration)


@needs_principal
def value_set_caller(caller: CurrentCaller) -> Caller:
    if caller.account.role not in VALUE_SET_ROLES:
        raise Forbidden(
            "数据值集（批量导入导出）只对市民生办和对接系统账号开放；本单位的数据请在页面上填报和查看",
            code="value_sets_not_allowed",
        )
    return caller


ValueSetCaller = Annotated[Caller, Depends(value_set_caller)]
router = APIRouter(prefix="/api/v1/data-value-sets", tags=["数据值集 data value sets"], dependencies=PLAN_SELECTED)
REFUSALS = {401: {"description": "未登录或密钥无效"}, 403: {"description": "只对市民生办和对接系统账号开放"}}
IdScheme = Annotated[str | None, Query(description="指标和单位的标识方式：code（指标编号、单位代码；uid 相同）")]

IMPORT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {  # inline (the body is read by hand, so FastAPI registers no component for it)
                "type": "object",
                "required": ["dataValues"],
                "properties": {"dataValues": {"type": "array", "items": DataValue.model_json_schema()}},
            }
        },
        "text/csv": {"schema": {"type": "string", "description": f"首行为列名：{','.join(CSV_COLUMNS)}"}},
    },
}


@router.post(
    "",
    response_model=ImportSummary,
    responses={
        **REFUSALS,
        400: {"description": "请求内容无法读取"},
        413: {"description": "文件过大"},
        422: {"description": "参数或文件格式有误"},
    },
    summary="导入数据值集（DHIS2 dataValueSets 格式，JSON 或 CSV）：按行动分组写入，每组全部写入或全部不写入",
    openapi_extra={"requestBody": IMPORT_BODY},
)
async def import_value_set(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    plan: SelectedPlan,
    today: TodayDep,
    caller: ValueSetCaller,
    dryRun: Annotated[bool, Query(description="试导入：只检查，不写入任何数据")] = False,  # noqa: N803 - DHIS2's name
    importStrategy: Annotated[str, Query(description="只支持 CREATE_AND_UPDATE")] = IMPORT_STRATEGY,  # noqa: N803
    idScheme: IdScheme = None,  # noqa: N803
    dataElementIdScheme: IdScheme = None,  # noqa: N803
    orgUnitIdScheme: IdScheme = None,  # noqa: N803
) -> ImportSummary:
    service.check_options(
        id_schemes={
            "idScheme": idScheme,
            "dataElementIdScheme": dataElementIdScheme,
            "orgUnitIdScheme": orgUnitIdScheme,
        },
        import_strategy=importStrategy,
    )
    content = await request.body()  # the app's body limit (413) has already applied
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in CSV_MEDIA_TYPES:
        rows = service.parse_csv(content)
    elif media_type in ("application/json", ""):
        rows = service.parse_json(content)
    else:
        raise Unprocessable(
            f"不支持的内容类型 {media_type}：请以 application/json 或 text/csv 发送", code="unsupported_media_type"
        )
    snapshot = await run_in_threadpool(catalog.snapshot, session)
    checked = service.check_rows(rows=rows, snapshot=snapshot, plan=plan, today=today, caller=caller)
    return await service.import_values(
        request=request, session=session, caller=caller, plan=plan, checked=checked, dry_run=dryRun
    )


@router.get(
    "",
    response_model=DataValueSetOut,
    responses={**REFUSALS, 422: {"description": "参数有误"}},
    summary="导出数据值集：规划内审核通过的指标数据，可按行动、期间、单位（含下级）和最后变更时间筛选（增量同步）",
)
def export_value_set(
    session: SessionDep,
    catalog: CatalogDep,
    _caller: ValueSetCaller,
    campaign: Annotated[str | None, Query(description="只导出某一行动，如 education")] = None,
    period: Annotated[str | None, Query(description="期间内的数据：月 2024-05、季 2024Q2 或年 2024")] = None,
    startDate: Annotated[str | None, Query(description="期间起始不早于此日期，如 2024-01-01")] = None,  # noqa: N803
    endDate: Annotated[str | None, Query(description="期间结束不晚于此日期，如 2024-12-31")] = None,  # noqa: N803
    orgUnit: Annotated[str | None, Query(description="单位代码，如 370303")] = None,  # noqa: N803
    children: Annotated[bool, Query(description="含 orgUnit 的下级单位")] = False,
    lastUpdated: Annotated[  # noqa: N803
        str | None,
        Query(description="只导出此时间之后审核通过（变更）的值，如 2026-12-01T08:00:00+08:00；不带时区按 UTC"),
    ] = None,
    includeDeleted: Annotated[  # noqa: N803
        bool, Query(description="含已撤回的值：平台目前没有撤回操作，不会返回已删除的值（deletionsKnown=false）")
    ] = False,
) -> DataValueSetOut:
    values = service.official_values(
        session=session,
        snapshot=catalog.snapshot(session),
        campaign=campaign,
        period=period,
        start_date=startDate,
        end_date=endDate,
        org_unit=orgUnit,
        children=children,
        last_updated=lastUpdated,
    )
    del includeDeleted  # accepted for DHIS2 clients; nothing is ever withdrawn, so there is nothing more to list
    return DataValueSetOut(dataValues=values, deletionsKnown=False)

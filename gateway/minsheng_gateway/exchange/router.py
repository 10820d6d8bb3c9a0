"""标准数据交换: ADX and SDMX-JSON exports of a plan's approved values, the ADX schema and the 数据目录 sheet, for
the city office and integration accounts. Thin: parse, check the role, call the service."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from minsheng.auth.models import Role
from minsheng.catalog.snapshot import CatalogDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden
from minsheng.openapi import needs_principal
from minsheng_gateway.exchange import service
from minsheng_gateway.exchange.models import (
    ADX_MEDIA_TYPE,
    SDMX_JSON_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    XSD_MEDIA_TYPE,
    ApprovedValue,
)
from minsheng_gateway.identity.deps import Caller, CurrentCaller, now
from minsheng_gateway.plans.scope import PLAN_SELECTED

EXCHANGE_ROLES = (Role.city_office, Role.integration)


@needs_principal
def exchange_caller(caller: CurrentCaller) -> Caller:
    if caller.account.role not in EXCHANGE_ROLES:
        raise Forbidden(
            "标准数据交换（ADX、SDMX、数据目录）只对市民生办和对接系统账号开放；本单位的数据请在页面上查看",
            code="exchange_not_allowed",
        )
    return caller


router = APIRouter(
    prefix="/api/v1/exchange",
    tags=["标准数据交换 exchange"],
    dependencies=[*PLAN_SELECTED, Depends(exchange_caller)],  # ?plan= (decision 0017)
)
REFUSALS = {401: {"description": "未登录或密钥无效"}, 403: {"description": "只对市民生办和对接系统账号开放"}}
FILTERS = {422: {"description": "行动或期间格式不对"}, 404: {"description": "单位代码不存在"}}
Campaign = Annotated[str | None, Query(description="只导出某一行动，如 education")]
PeriodFilter = Annotated[
    str | None, Query(description="只导出此期间内的数据：月 2024-05、季 2024Q2 或年 2024", examples=["2024"])
]
OrgUnitFilter = Annotated[str | None, Query(description="只导出某单位（6 位代码，如 370303）")]


def approved(
    session: SessionDep,
    catalog: CatalogDep,
    campaign: Campaign = None,
    period: PeriodFilter = None,
    org_unit: OrgUnitFilter = None,
) -> list[ApprovedValue]:
    """The values an export holds, as its query parameters narrow them (the same for every format)."""
    return service.approved_values(
        session=session, catalog=catalog, campaign=campaign, period=period, org_unit=org_unit
    )


Approved = Annotated[list[ApprovedValue], Depends(approved)]


def _attachment(ascii_name: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}


@router.get(
    "/adx",
    response_class=Response,
    responses={200: {"content": {ADX_MEDIA_TYPE: {}}, "description": "ADX 数据报文（XML）"}, **REFUSALS, **FILTERS},
    summary="ADX 导出（IHE ADX / ISO 17369）：规划内审核通过的指标数据，按行动、期间和单位分组",
)
def export_adx(request: Request, values: Approved):
    content = service.adx_message(values=values, exported=now(request))
    return Response(content, media_type=ADX_MEDIA_TYPE, headers=_attachment("adx.xml", "ADX数据报文.xml"))


@router.get(
    "/adx/schema.xsd",
    response_class=Response,
    responses={200: {"content": {XSD_MEDIA_TYPE: {}}, "description": "ADX 数据结构定义（XML Schema）"}, **REFUSALS},
    summary="ADX 数据结构定义（XSD）：由指标目录生成，指标、单位、行动为枚举，期间为 ISO 8601 形式（2025-01-01/P1M）",
)
def adx_schema(session: SessionDep):
    return Response(service.adx_schema(session=session), media_type=XSD_MEDIA_TYPE)


@router.get(
    "/sdmx-json",
    response_class=JSONResponse,
    responses={
        200: {"content": {SDMX_JSON_MEDIA_TYPE: {}}, "description": "SDMX-JSON 2.0 数据报文"},
        **REFUSALS,
        **FILTERS,
    },
    summary="SDMX-JSON 2.0 导出：与 ADX 相同的数据，按指标和单位成序列，按期间成观测值",
)
def export_sdmx_json(request: Request, session: SessionDep, values: Approved):
    message = service.sdmx_json_message(session=session, values=values, prepared=now(request))
    return JSONResponse(message, media_type=SDMX_JSON_MEDIA_TYPE)


@router.get(
    "/data-catalog.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "数据目录登记表（Excel）"}, **REFUSALS},
    summary="数据目录登记表（大数据局）：每个指标一条数据项，每个接口一条接口登记，Excel 表格",
)
def data_catalog(request: Request, session: SessionDep, catalog: CatalogDep):
    items = service.data_items(
        session=session, catalog=catalog, calendar=request.app.state.settings.reporting_calendar()
    )
    content = service.data_catalog_xlsx(items=items, interfaces=service.public_interfaces(request.app.openapi()))
    return Response(
        content, media_type=XLSX_MEDIA_TYPE, headers=_attachment("data-catalog.xlsx", "数据目录登记表.xlsx")
    )

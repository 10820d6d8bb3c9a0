"""Errors a user can act on: a Chinese `detail` for people, a stable `code` for machines."""

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError as SQLAlchemyDataError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Raised by service functions; the app turns it into a JSON error response."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra or {}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Unprocessable(DomainError):
    status_code = 422
    code = "invalid"


class Overloaded(DomainError):
    """More work waiting than the process can take on: refused at once (503, Retry-After) rather
    than queued until it times out."""

    status_code = 503
    code = "overloaded"
    retry_after_seconds = 2


class DatabaseUnavailable(DomainError):
    """The process's database cannot be reached (stopped, restarting, the connection dropped): the
    request is refused with 503 and Retry-After, never a 500; the client sends it again later."""

    status_code = 503
    code = "database_unavailable"
    retry_after_seconds = 5  # a PostgreSQL restart or fail-over takes seconds, not milliseconds


class ErrorItem(BaseModel):
    """One thing wrong in a request: a field of a refused request (`loc`, `field`, `message`), or a row
    of a bulk write or an upload (`row`, `field`, `code`, `message`, and for Excel `column`)."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="出错的字段，如 value、rows.3.period；整体有误时为空")
    message: str = Field(description="给办事员看的说明")
    loc: list[str] | None = Field(default=None, description="位置：query / path / body / header 及字段路径")
    row: int | None = Field(default=None, description="批量填报：第几行数据（从 1 起）")
    code: str | None = Field(default=None, description="批量填报：该行错误的代码")
    column: str | None = Field(default=None, description="Excel 文件：列号，如 J")
    column_name: str | None = Field(default=None, description="Excel 文件：列标题，如 数值")


class RefusedItem(BaseModel):
    """One report a batch approval could not approve, and why."""

    id: int = Field(description="报告编号")
    code: str
    reason: str


class ErrorResponse(BaseModel):
    """Every error any process answers: `detail` for people, `code` for machines, and what the error
    says more (the rows of a bulk write, the refused reports, the size limit) in the optional fields."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"example": {"detail": "请求参数有误", "code": "invalid_request"}}
    )

    detail: str = Field(description="中文说明：出了什么问题、怎样改")
    code: str = Field(description="稳定的错误代码，供程序判断，如 invalid_request、not_found、period_locked")
    errors: list[ErrorItem] | None = Field(default=None, description="逐项（逐行）说明：参数校验与批量填报")
    refused: list[RefusedItem] | None = Field(default=None, description="批量审核：不能通过的报告及原因")
    max_bytes: int | None = Field(default=None, description="请求内容过大（413）：允许的字节数")


OVERLOADED_MESSAGE = "系统繁忙，本次请求未处理（没有保存任何数据），请稍后重试"
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE unique_violation
DATABASE_UNAVAILABLE_MESSAGE = "数据库暂时不可用，请稍后重试"

# SQLSTATEs of a server going away: admin shutdown, crash shutdown, cannot connect now (starting up).
_SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or dropped the connection (refused,
    shut down, restarting, connection lost), rather than refusing what the request asked."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy recognised a disconnect
            return True
        exc = exc.orig
    if not isinstance(exc, psycopg.OperationalError):
        return False
    # No SQLSTATE: the client's own failure (connection refused or closed); class 08: connection exception.
    sqlstate = exc.sqlstate
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _SERVER_GOING_AWAY


# Pydantic error types, said the way a clerk would understand them.
_VALIDATION_MESSAGES = {
    "missing": "缺少必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字（不能是 NaN 或无穷大）",
    "less_than_equal": "数值过大，不能超过 {le}",
    "greater_than_equal": "数值过小，不能小于 {ge}",
    "greater_than": "数值必须大于 {gt}",
    "less_than": "数值必须小于 {lt}",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "enum": "取值无效，可选值：{expected}",
    "literal_error": "取值无效，可选值：{expected}",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "json_invalid": "请求内容不是有效的 JSON",
    "model_attributes_type": "请求内容格式不正确",
    "extra_forbidden": "不认识的字段",
}

_LOCATION_NAMES = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头"}


def describe_validation_error(error: dict[str, Any]) -> dict[str, Any]:
    if error.get("type") == "json_invalid":  # its location is a character position, not a field
        return {"loc": ["body"], "field": "", "message": "请求体不是有效的 JSON，请检查格式（引号、逗号、括号）"}
    template = _VALIDATION_MESSAGES.get(error.get("type", ""))
    context = error.get("ctx") or {}
    try:
        message = template.format(**context) if template else error.get("msg", "取值无效")
    except (KeyError, IndexError):
        message = template or error.get("msg", "取值无效")
    loc = [str(part) for part in error.get("loc", ())]
    where = _LOCATION_NAMES.get(loc[0], loc[0]) if loc else ""
    field = ".".join(loc[1:]) if len(loc) > 1 else ""
    return {"loc": loc, "field": field, "message": f"{where}「{field}」{message}" if field else message}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        retry_after = getattr(exc, "retry_after_seconds", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return JSONResponse(
            {"detail": exc.detail, "code": exc.code, **exc.extra}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _pool_exhausted(request: Request, exc: SQLAlchemyTimeoutError) -> JSONResponse:
        # Every database connection stayed busy for the pool's whole timeout: shed the request.
        return await _domain_error(request, Overloaded(OVERLOADED_MESSAGE))

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        # Every process, every route, and the group-commit writers' failures (raised to each request):
        # the database being away is a 503 to retry, not a 500.  Any other database error stays a 500.
        if not database_unavailable(exc):
            raise exc
        log.warning("%s %s: database unavailable: %s", request.method, request.url.path, str(exc).strip()[:200])
        return await _domain_error(request, DatabaseUnavailable(DATABASE_UNAVAILABLE_MESSAGE))

    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(psycopg.Error, _database_error)

    @app.exception_handler(SQLAlchemyDataError)
    async def _unstorable(_: Request, exc: SQLAlchemyDataError) -> JSONResponse:
        # The database refused a value the request carried (a NUL character, a number out of its range)
        # before anything was written: the caller's data, not a fault of ours.
        log.info("value refused by the database: %s", exc.orig)
        return JSONResponse(
            {
                "detail": "请求中有数据库无法保存或查询的值（如不可见的控制字符 \\u0000、超出范围的数字），"
                "没有保存任何数据；请检查后重新提交",
                "code": "unstorable_value",
            },
            status_code=422,
        )

    @app.exception_handler(SQLAlchemyIntegrityError)
    async def _raced(_: Request, exc: SQLAlchemyIntegrityError) -> JSONResponse:
        # A key taken by a concurrent write that the writer's own locks and mappings did not foresee: the
        # request's transaction is rolled back, nothing stored; trying again sees the other write.
        if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise exc  # another constraint failed: a fault of ours, answered 500 and logged
        log.warning("write refused by a unique key taken concurrently: %s", exc.orig)
        return JSONResponse(
            {"detail": "同一数据正被另一请求同时修改，本次没有保存，请稍后重试", "code": "concurrent_write"},
            status_code=409,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [describe_validation_error(e) for e in exc.errors()]
        detail = "请求参数有误：" + "；".join(e["message"] for e in errors)
        return JSONResponse({"detail": detail, "code": "invalid_request", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "请求的地址不存在"
        elif exc.status_code == 405:
            detail = "该地址不支持此请求方法"
        elif exc.status_code == 400 and isinstance(detail, str) and detail.isascii():
            # FastAPI's and Starlette's own refusals of a body they cannot read (encoding, multipart).
            detail = "请求内容无法解析：请检查文件或数据的格式与编码（应为 UTF-8 的 JSON，或带边界的 multipart 表单）"
        return JSONResponse(
            {"detail": detail, "code": f"http_{exc.status_code}"},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

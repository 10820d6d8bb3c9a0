"""The error side of every process's OpenAPI document, decided once for all routes: each operation lists
the statuses it can answer (from its dependencies, parameters, body and method) with the one error model
every handler sends (`ErrorResponse`), in place of FastAPI's `HTTPValidationError`.  Generated clients
then know every answer; the fuzzing tests (tests/platform/test_fuzz.py) hold the documents to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from minsheng.errors import ErrorResponse

RateLimited = Callable[[str, str], bool]  # (method, path) → whether the process may answer 429

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATUS_DESCRIPTIONS = {
    400: "请求内容无法解析（编码或 multipart 表单格式不正确）",
    401: "未登录、令牌无效或已过期",
    403: "无权办理（说明允许的范围）",
    404: "要找的内容不存在",
    409: "与当前状态冲突（如期间已锁定、状态不允许、名称重复）",
    413: "请求内容过大（max_bytes 为上限），未保存任何数据",
    422: "参数或数据有误（errors 逐项、逐行说明），未保存任何数据",
    429: "请求过于频繁，未处理；Retry-After 为需等待的秒数",
    503: "系统繁忙或暂时不可用，未处理；Retry-After 为需等待的秒数",
}
FASTAPI_DESCRIPTIONS = {"Validation Error", "Additional Response"}  # its defaults, said in Chinese instead
RETRY_AFTER = {"Retry-After": {"description": "多少秒后可以重试", "schema": {"type": "integer"}}}
_ERROR_REF = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
# The processes' own answers outside the routes' code: every route can be shed when overloaded (503).
_ALWAYS = (503,)


def needs_principal(dependency: Callable) -> Callable:
    """Marks a dependency that refuses a request without a valid caller (401) or outside the caller's
    rights (403), so the documents list both for every operation that depends on it."""
    dependency.needs_principal = True  # type: ignore[attr-defined]
    return dependency


def _dependencies(dependant: Dependant) -> list[Dependant]:
    found = [dependant]
    for sub in dependant.dependencies:
        found.extend(_dependencies(sub))
    return found


def error_statuses(route: RouteContext, method: str, rate_limited: RateLimited) -> set[int]:
    """The error statuses `route` can answer to `method`, as its dependencies, parameters and body say."""
    dependants = _dependencies(route.dependant)
    statuses = set(_ALWAYS)
    if any(getattr(d.call, "needs_principal", False) for d in dependants):
        statuses |= {401, 403}
    # A path or a query can name a row that does not exist: an id, a code, a filter's org unit (404).
    if any(d.path_params or d.query_params for d in dependants):
        statuses |= {404, 422}
    if any(d.header_params or d.cookie_params for d in dependants):
        statuses.add(422)
    if route.body_field is not None:  # a body can also name a row that does not exist (404)
        statuses |= {400, 404, 413, 422}
    if method in WRITE_METHODS:
        statuses.add(409)
    if rate_limited(method, route.path_format):
        statuses.add(429)
    return statuses


def _error_response(status: int, declared: dict[str, Any] | None) -> dict[str, Any]:
    """The documented answer for `status`: a route's own description is kept; its own content only where
    it is not FastAPI's validation error (e.g. a readiness report)."""
    declared = declared or {}
    content = declared.get("content")
    schema = (content or {}).get("application/json", {}).get("schema")
    description = declared.get("description")
    if not description or description in FASTAPI_DESCRIPTIONS:
        description = STATUS_DESCRIPTIONS.get(status, "错误")
    answer: dict[str, Any] = {"description": description}
    if schema and status != 422:
        answer["content"] = content
    else:
        answer["content"] = {"application/json": {"schema": _ERROR_REF}}
    if status in (429, 503):
        answer["headers"] = {**RETRY_AFTER, **declared.get("headers", {})}
    return answer


def document_errors(schema: dict[str, Any], routes: list, rate_limited: RateLimited) -> dict[str, Any]:
    """Adds the error answers of every operation of `routes` to `schema` (an OpenAPI document), in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    model_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model_schema.pop("$defs", {}))
    components[ErrorResponse.__name__] = model_schema
    # Route contexts: the routes as included (an included router's prefix, dependencies and responses).
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            declared_errors = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(error_statuses(route, method, rate_limited) | declared_errors):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_error_contract(app: FastAPI, rate_limited: RateLimited) -> None:
    """Replaces `app.openapi` by FastAPI's document with every operation's error answers added."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate(), app.routes, rate_limited)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

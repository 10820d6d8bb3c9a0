"""The webhooks worker's door at the gateway (decision 0023): `/api/v1/webhooks/{path}` (endpoints, the delivery
log, replays) forwarded to the worker with a token the gateway signs for it; the worker checks the role (the city
office, or an integration account for its own endpoints)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from minsheng_gateway import proxy

router = APIRouter(tags=["对接系统 webhooks"])
WEBHOOKS = "webhooks"


async def forward(path: str, request: Request) -> Response:
    return await proxy.forward_to_process(WEBHOOKS, request.app.state.settings.webhooks_url, path, request)


for _method in ("GET", "POST", "PUT", "DELETE"):
    router.add_api_route(
        "/api/v1/webhooks/{path:path}",
        forward,
        methods=[_method],
        operation_id=f"webhooks_{_method.lower()}",
        summary="转发到对接系统推送服务（接收地址、投递记录、重新投递）",
        description=(
            "把 `/api/v1/webhooks/{path}` 转发到对接系统推送服务的 `/api/v1/{path}`，附上网关为其签发的短期令牌。"
        ),
        responses={
            401: {"description": "未登录"},
            403: {"description": "仅市民生办或对接系统账号"},
            502: {"description": "对接系统推送服务无法访问"},
        },
    )

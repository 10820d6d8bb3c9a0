"""Endpoints: listed, subscribed, changed, their secret rotated, removed (the city office; an integration account
its own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, status

from minsheng.auth.deps import PrincipalDep
from minsheng.db import SessionDep
from minsheng.messaging.asyncapi import platform_event_types
from minsheng_webhooks.endpoints import service
from minsheng_webhooks.endpoints.models import (
    EndpointCreate,
    EndpointPublic,
    EndpointSecret,
    EndpointUpdate,
    EventTypePublic,
)
from minsheng_webhooks.sender import now_of

router = APIRouter(prefix="/api/v1", tags=["对接系统 webhooks"])
EndpointPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="接收地址编号")]


@router.get("/event-types", response_model=list[EventTypePublic], summary="可订阅的事件类型")
def event_types(principal: PrincipalDep):
    service.require_manager(principal)
    return [
        EventTypePublic(type=t, summary=" ".join((m.__doc__ or t).split("\n\n")[0].split()))
        for t, m in platform_event_types().items()
    ]


@router.get("/endpoints", response_model=list[EndpointPublic], summary="接收地址（市民生办看全部，对接系统看自己的）")
def list_endpoints(request: Request, session: SessionDep, principal: PrincipalDep):
    return service.list_endpoints(session=session, principal=principal, now=now_of(request.app))


@router.post(
    "/endpoints",
    response_model=EndpointSecret,
    status_code=status.HTTP_201_CREATED,
    summary="订阅：登记接收地址（签名密钥只在此时显示一次）",
)
def create_endpoint(request: Request, session: SessionDep, principal: PrincipalDep, body: EndpointCreate):
    app = request.app
    return service.create_endpoint(
        session=session, principal=principal, body=body, settings=app.state.settings, now=now_of(app)
    )


@router.put("/endpoints/{endpoint_id}", response_model=EndpointPublic, summary="修改接收地址、订阅或启停")
def update_endpoint(
    request: Request, session: SessionDep, principal: PrincipalDep, endpoint_id: EndpointPath, body: EndpointUpdate
):
    app = request.app
    return service.update_endpoint(
        session=session,
        principal=principal,
        endpoint_id=endpoint_id,
        body=body,
        settings=app.state.settings,
        now=now_of(app),
    )


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointSecret,
    summary="更换签名密钥（旧密钥在过渡期内仍一并签名）",
)
def rotate_secret(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    endpoint_id: EndpointPath,
    secret: Annotated[str | None, Body(embed=True, max_length=200)] = None,
):
    app = request.app
    return service.rotate_secret(
        session=session,
        principal=principal,
        endpoint_id=endpoint_id,
        secret=secret,
        settings=app.state.settings,
        now=now_of(app),
    )


@router.delete("/endpoints/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除接收地址")
def delete_endpoint(session: SessionDep, principal: PrincipalDep, endpoint_id: EndpointPath) -> None:
    service.delete_endpoint(session=session, principal=principal, endpoint_id=endpoint_id)

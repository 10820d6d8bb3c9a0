"""The delivery log and replays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from minsheng.auth.deps import PrincipalDep
from minsheng.db import SessionDep
from minsheng_webhooks.deliveries import service
from minsheng_webhooks.deliveries.models import DeliveryPage, DeliveryStatus, Replayed, ReplayRange
from minsheng_webhooks.sender import now_of

router = APIRouter(prefix="/api/v1", tags=["对接系统 webhooks"])
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get(
    "/endpoints/{endpoint_id}/deliveries", response_model=DeliveryPage, summary="投递记录（最新在前，含每次尝试）"
)
def delivery_log(
    session: SessionDep,
    principal: PrincipalDep,
    endpoint_id: IdPath,
    status: DeliveryStatus | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    return DeliveryPage(
        data=service.delivery_log(
            session=session, principal=principal, endpoint_id=endpoint_id, status=status, before=before, limit=limit
        )
    )


def _wake(request: Request) -> None:
    waiting = getattr(request.app.state, "deliveries_waiting", None)
    if waiting is not None:
        waiting.set()


@router.post("/deliveries/{delivery_id}/replay", response_model=Replayed, summary="重新投递一条")
def replay_one(request: Request, session: SessionDep, principal: PrincipalDep, delivery_id: IdPath):
    replayed = service.replay_one(
        session=session, principal=principal, delivery_id=delivery_id, now=now_of(request.app)
    )
    _wake(request)
    return Replayed(replayed=replayed)


@router.post("/endpoints/{endpoint_id}/replay", response_model=Replayed, summary="重新投递一段时间内的全部事件")
def replay_range(
    request: Request, session: SessionDep, principal: PrincipalDep, endpoint_id: IdPath, body: ReplayRange
):
    replayed = service.replay_range(
        session=session,
        principal=principal,
        endpoint_id=endpoint_id,
        since=body.since,
        until=body.until,
        now=now_of(request.app),
    )
    _wake(request)
    return Replayed(replayed=replayed)

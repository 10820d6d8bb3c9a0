"""`GET /api/v1/consistency`: the gateway's official figures against each service's own, plan by plan (every plan a
service holds, so a plan the gateway has not learnt yet shows as missing figures, not as agreement)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import select

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng_gateway.plans.scope import GatewayPlans, legacy_code
from minsheng_gateway.projection.models import OfficialValue

router = APIRouter(prefix="/api/v1", tags=["运维 operations"])


class Difference(BaseModel):
    plan: str
    campaign: str
    indicator: str
    org_unit: str
    period: str
    service_value: float | None
    gateway_value: float | None


class ConsistencyReport(BaseModel):
    consistent: bool
    compared: dict[str, int]  # campaign → official figures compared (all its plans)
    plans: list[str]  # the plans compared: every plan of every service that answered
    unreachable: list[str]  # services that did not answer
    differences: list[Difference]


Key = tuple[str, str, str, str]  # plan, indicator, org unit, period


async def _service_values(client: httpx.AsyncClient, base_url: str) -> tuple[list[str], dict[Key, float]]:
    """The service's plans and every plan's official figures."""
    values = {}
    plans = [p["code"] for p in (await client.get(f"{base_url}/api/v1/plans")).raise_for_status().json()]
    for plan in plans:
        offset = 0
        while True:
            params = {"limit": 500, "offset": offset, "plan": plan}
            page = (await client.get(f"{base_url}/api/v1/official-values", params=params)).raise_for_status().json()
            for row in page["data"]:
                values[(plan, row["indicator"], row["org_unit"], row["period"])] = row["value"]
            offset += 500
            if offset >= page["count"]:
                break
    return plans, values


def _gateway_values(plans: GatewayPlans) -> dict[Key, tuple[str, float]]:
    """Every plan's official figures in the gateway's read models (each plan's in its own schema)."""
    values = {}
    for slot in plans.slots():
        code = slot.code or legacy_code()
        with slot.database.session() as session:
            for r in session.exec(select(OfficialValue)):
                values[(code, r.indicator_code, r.org_unit_code, r.period)] = (r.campaign, r.value)
    return values


@router.get(
    "/consistency",
    response_model=ConsistencyReport,
    summary="核对网关的正式数据与各服务自己的数据（逐个方案），列出差异",
)
async def consistency(request: Request) -> ConsistencyReport:
    settings = request.app.state.settings
    transport = getattr(request.app.state, "service_transport", None)
    async with httpx.AsyncClient(timeout=30.0, transport=transport) as client:
        answers = await asyncio.gather(
            *(_service_values(client, settings.service_url(c)) for c in CAMPAIGN_CODES), return_exceptions=True
        )
    mine = await asyncio.to_thread(_gateway_values, request.app.state.plans)
    differences, compared, unreachable, plans = [], {}, [], set()
    for campaign, answer in zip(CAMPAIGN_CODES, answers, strict=True):
        if isinstance(answer, BaseException):
            unreachable.append(campaign)
            continue
        their_plans, answer = answer
        compared[campaign] = len(answer)
        ours = {k: v for k, (c, v) in mine.items() if c == campaign}
        plans |= set(their_plans)
        for key in sorted(set(answer) | set(ours)):
            theirs, own = answer.get(key), ours.get(key)
            if theirs is None or own is None or abs(theirs - own) > 1e-9:
                differences.append(
                    Difference(
                        plan=key[0],
                        campaign=campaign,
                        indicator=key[1],
                        org_unit=key[2],
                        period=key[3],
                        service_value=theirs,
                        gateway_value=own,
                    )
                )
    return ConsistencyReport(
        consistent=not differences and not unreachable,
        compared=compared,
        plans=sorted(plans | {k[0] for k in mine}),
        unreachable=unreachable,
        differences=differences,
    )

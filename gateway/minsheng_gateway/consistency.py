"""`GET /api/v1/consistency`: the gateway's official figures against each service's own."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import select

from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng_gateway.projection.models import OfficialValue

router = APIRouter(prefix="/api/v1", tags=["运维 operations"])


class Difference(BaseModel):
    campaign: str
    indicator: str
    org_unit: str
    period: str
    service_value: float | None
    gateway_value: float | None


class ConsistencyReport(BaseModel):
    consistent: bool
    compared: dict[str, int]  # campaign → official figures compared
    unreachable: list[str]  # services that did not answer
    differences: list[Difference]


async def _service_values(client: httpx.AsyncClient, base_url: str) -> dict[tuple[str, str, str], float]:
    values, offset = {}, 0
    while True:
        page = (await client.get(f"{base_url}/api/v1/official-values", params={"limit": 500, "offset": offset})).json()
        for row in page["data"]:
            values[(row["indicator"], row["org_unit"], row["period"])] = row["value"]
        offset += 500
        if offset >= page["count"]:
            return values


@router.get(
    "/consistency", response_model=ConsistencyReport, summary="核对网关的正式数据与各服务自己的数据，列出每一处差异"
)
async def consistency(request: Request) -> ConsistencyReport:
    settings = request.app.state.settings
    transport = getattr(request.app.state, "service_transport", None)
    async with httpx.AsyncClient(timeout=30.0, transport=transport) as client:
        answers = await asyncio.gather(
            *(_service_values(client, settings.service_url(c)) for c in CAMPAIGN_CODES), return_exceptions=True
        )

    def gateway_values() -> dict[tuple[str, str, str], tuple[str, float]]:
        with request.app.state.database.session() as session:
            return {
                (r.indicator_code, r.org_unit_code, r.period): (r.campaign, r.value)
                for r in session.exec(select(OfficialValue))
            }

    mine = await asyncio.to_thread(gateway_values)
    differences, compared, unreachable = [], {}, []
    for campaign, answer in zip(CAMPAIGN_CODES, answers, strict=True):
        if isinstance(answer, BaseException):
            unreachable.append(campaign)
            continue
        compared[campaign] = len(answer)
        ours = {k: v for k, (c, v) in mine.items() if c == campaign}
        for key in sorted(set(answer) | set(ours)):
            theirs, own = answer.get(key), ours.get(key)
            if theirs is None or own is None or abs(theirs - own) > 1e-9:
                differences.append(
                    Difference(
                        campaign=campaign,
                        indicator=key[0],
                        org_unit=key[1],
                        period=key[2],
                        service_value=theirs,
                        gateway_value=own,
                    )
                )
    return ConsistencyReport(
        consistent=not differences and not unreachable,
        compared=compared,
        unreachable=unreachable,
        differences=differences,
    )

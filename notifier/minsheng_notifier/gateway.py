"""What the notifier asks the gateway (`minsheng_gateway/notifications/router.py`): the people with their
contacts and what each owes.  HTTP rather than a copy folded from events: who owes what is the inbox's
rule (permissions × calendar × the reports folded), and it stays in one place (decision 0021)."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI


def gateway_client(app: FastAPI) -> httpx.AsyncClient:
    """The app's client to the gateway (`app.state.gateway_transport`: tests reach an in-process gateway)."""
    client: httpx.AsyncClient | None = getattr(app.state, "gateway_client", None)
    if client is None or client.is_closed:
        settings = app.state.settings
        client = httpx.AsyncClient(
            base_url=settings.gateway_url.rstrip("/"),
            transport=getattr(app.state, "gateway_transport", None),
            headers={"Authorization": f"Bearer {settings.gateway_key}"},
            timeout=httpx.Timeout(120.0),
            trust_env=False,
        )
        app.state.gateway_client = client
    return client


async def _get(app: FastAPI, path: str, params: dict) -> dict:
    answer = await gateway_client(app).get(path, params={k: v for k, v in params.items() if v is not None})
    answer.raise_for_status()
    return answer.json()


async def owed(app: FastAPI, *, on: dt.date, horizon: int, plan: str | None = None) -> dict:
    return await _get(app, "/internal/notifier/owed", {"on": on.isoformat(), "horizon": horizon, "plan": plan})


async def owers(app: FastAPI, *, indicator: str, org_unit: str, plan: str | None = None) -> dict:
    return await _get(app, "/internal/notifier/owers", {"indicator": indicator, "org_unit": org_unit, "plan": plan})


async def people(app: FastAPI, *, plan: str | None = None) -> dict:
    return await _get(app, "/internal/notifier/people", {"plan": plan})


async def close_gateway_client(app: FastAPI) -> None:
    client = getattr(app.state, "gateway_client", None)
    app.state.gateway_client = None
    if client is not None:
        await client.aclose()

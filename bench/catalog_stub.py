"""Stands in for the campaign services a benchmark does not exercise: answers `GET
/<campaign>/api/v1/catalog` with that campaign's `catalog.yaml`, as the service itself would.

The gateway is ready only when it has every campaign's catalog (catalog_sync.py).  Pointing
`GATEWAY_<CAMPAIGN>_URL` at `http://…/<campaign>` lets it become ready without running four idle
services whose outbox relays would each poll their database 20 times a second on a 2-core machine.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException

from bench.data import catalogs

app = FastAPI(title="bench: catalog stub")
DOCUMENTS = {code: doc.model_dump(mode="json") for code, doc in catalogs().items()}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/{campaign}/api/v1/catalog")
def catalog(campaign: str) -> dict:
    if campaign not in DOCUMENTS:
        raise HTTPException(404, f"no campaign {campaign}")
    return DOCUMENTS[campaign]

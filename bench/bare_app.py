"""The floor for benchmark (a): a bare FastAPI POST endpoint, run with the same uvicorn command line.

It validates a body of the same shape as `POST /api/v1/reports` (the same fields and constraints as
`minsheng.reporting.schemas.ReportCreate`, copied so this app imports nothing of the platform) and
answers 201 with a response of the same shape as `ReportPublic`.  Like the product's endpoint it is a
plain `def`, so FastAPI runs it in its thread pool, as the service's endpoint did when the target was
set; the service's submission endpoint is now `async def` (group commit), so `/api/v1/reports-async`, the
same answer on the event loop, is measured too, as the stricter reference.
"""

from __future__ import annotations

import datetime as dt
import itertools

from fastapi import FastAPI, status
from pydantic import BaseModel, ConfigDict, Field


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(max_length=20)
    org_unit: str = Field(max_length=6)
    period: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None


class ReportOut(BaseModel):
    id: int
    indicator: str
    org_unit: str
    period: str
    value: float
    numerator: float | None
    denominator: float | None
    note: str
    status: str
    status_label: str
    revision: int
    is_current: bool
    return_reason: str | None
    submitted_by: str
    submitted_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None


app = FastAPI(title="bench: bare POST")
_ids = itertools.count(1)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/api/v1/reports", response_model=ReportOut, status_code=status.HTTP_201_CREATED)
def create_report(report_in: ReportIn):
    return _answer(report_in)


@app.post("/api/v1/reports-async", response_model=ReportOut, status_code=status.HTTP_201_CREATED)
async def create_report_async(report_in: ReportIn):
    """The same on the event loop, without the thread pool: the framework's fastest POST, the floor
    for an `async def` endpoint such as the service's submission (a second reference in the bench)."""
    return _answer(report_in)


def _answer(report_in: ReportIn) -> ReportOut:
    return ReportOut(id=next(_ids), indicator=report_in.indicator, org_unit=report_in.org_unit,
                     period=report_in.period, value=report_in.value or 0.0, numerator=report_in.numerator,
                     denominator=report_in.denominator, note=report_in.note, status="submitted",
                     status_label="待审核", revision=1, is_current=True, return_reason=None,
                     submitted_by="bench", submitted_at=dt.datetime.now(dt.UTC), reviewed_by=None,
                     reviewed_at=None)

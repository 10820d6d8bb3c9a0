"""The references for benchmark (a), run with the same uvicorn command line as the service.

Three endpoints take a body of the same shape as `POST /api/v1/reports` (the fields and constraints
of `minsheng.reporting.schemas.ReportCreate`, copied so this app imports nothing of the platform) and
answer 201 with a body of the shape of `ReportPublic`:

- `POST /api/v1/reports`, a bare `def` (FastAPI runs it in its thread pool): the reference the
  target was set against;
- `POST /api/v1/reports-async`, the same answer as `async def`, on the event loop: the framework's
  fastest POST, the floor for an `async def` endpoint such as the service's submission;
- `POST /api/v1/reports-template`, the peer a user would otherwise write: a create-and-commit endpoint
  as the FastAPI full-stack template writes its `create_item` (a SQLModel schema family from one base,
  `SessionDep`, `session.add(obj); session.commit(); session.refresh(obj)`, one commit per request,
  the engine with SQLAlchemy's default pool) on PostgreSQL, the database named by `BENCH_DATABASE_URL`.
  The template also looks up the signed-in user on every request; that is left out here.

The bare endpoints keep plain pydantic models: a SQLModel class costs more CPU to validate a body, and
the two floors must not move with this file.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, status
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, Session, SQLModel, create_engine

# ---- the bare endpoints: validation and an answer, no I/O ---------------------------------------


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = PydanticField(max_length=20)
    org_unit: str = PydanticField(max_length=6)
    period: str = PydanticField(max_length=20)
    note: str = PydanticField(default="", max_length=1000)
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


# ---- the template's peer: ReportBase / ReportCreate / Report(table=True) / ReportPublic -----------


class ReportBase(SQLModel):
    indicator: str = Field(max_length=20)
    org_unit: str = Field(max_length=6)
    period: str = Field(max_length=20)
    note: str = Field(default="", max_length=1000)
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None


class ReportCreate(ReportBase):
    model_config = ConfigDict(extra="forbid")


class ReportState(ReportBase):
    status: str = "submitted"
    status_label: str = "待审核"
    revision: int = 1
    is_current: bool = True
    return_reason: str | None = None
    submitted_by: str
    submitted_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None


class Report(ReportState, table=True):
    id: int | None = Field(default=None, primary_key=True)


class ReportPublic(ReportState):
    id: int


DATABASE_URL = os.environ.get("BENCH_DATABASE_URL")
engine = create_engine(DATABASE_URL) if DATABASE_URL else None


def get_db() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if engine is not None:  # the template migrates with Alembic; one table needs no more than this
        SQLModel.metadata.create_all(engine)
    yield
    if engine is not None:
        engine.dispose()


app = FastAPI(title="bench: references for (a)", lifespan=lifespan)
_ids = itertools.count(1)


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/api/v1/reports", response_model=ReportOut, status_code=status.HTTP_201_CREATED)
def create_report(report_in: ReportIn):
    return _answer(report_in)


@app.post("/api/v1/reports-async", response_model=ReportOut, status_code=status.HTTP_201_CREATED)
async def create_report_async(report_in: ReportIn):
    return _answer(report_in)


@app.post("/api/v1/reports-template", response_model=ReportPublic, status_code=status.HTTP_201_CREATED)
def create_report_template(*, session: SessionDep, report_in: ReportCreate) -> Any:
    report = Report.model_validate(report_in, update={"submitted_by": "bench"})
    session.add(report)
    session.commit()
    session.refresh(report)
    return report


def _answer(report_in: ReportIn) -> ReportOut:
    return ReportOut(
        id=next(_ids),
        indicator=report_in.indicator,
        org_unit=report_in.org_unit,
        period=report_in.period,
        value=report_in.value or 0.0,
        numerator=report_in.numerator,
        denominator=report_in.denominator,
        note=report_in.note,
        status="submitted",
        status_label="待审核",
        revision=1,
        is_current=True,
        return_reason=None,
        submitted_by="bench",
        submitted_at=dt.datetime.now(dt.UTC),
        reviewed_by=None,
        reviewed_at=None,
    )

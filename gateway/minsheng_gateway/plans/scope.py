"""Several plans side by side in the gateway's database (decision 0017, step 4): where a plan's read models are,
which plan a read is about (`?plan=`), and how the fold writes an event into its plan's tables.

The legacy plan's catalog and views stay in `public`; another plan's are in the schema `plan_<code>` (the catalog
branch and the per-plan `gateway_views` branch, `migration_plan.plan_migration_plan`), made when the first event
naming the plan arrives (its catalog.published.v1, normally).  Identity, the processed events and the view generation
are shared, in `public`, which every plan's `search_path` ends with.  `public.plan` lists every plan the gateway
knows (the registry `GET /api/v1/plans` reads), besides the legacy plan's own catalog row."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from sqlmodel import Session, select

from minsheng.catalog.document import PlanDoc, PlanState, legacy_plan
from minsheng.catalog.models import Plan
from minsheng.catalog.snapshot import CatalogCache
from minsheng.clock import TodayDep
from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.errors import NotFound
from minsheng_gateway.migration_plan import plan_migration_plan

log = logging.getLogger(__name__)


@functools.cache
def legacy_code() -> str:
    return legacy_plan().code


def schema_of(code: str | None) -> str | None:
    """The schema of a plan's tables: None (public) for the legacy plan or none named (an event without `plan`)."""
    if code is None or code == legacy_code():
        return None
    return "plan_" + code.replace("-", "_")  # a plan's code is [a-z][a-z0-9-]: a safe identifier


@dataclass(frozen=True)
class PlanSlot:
    """One plan's part of the gateway: its database (a `search_path` of its schema, then public) and catalog cache.
    The attribute names are those of the app's state, which is the legacy plan's slot (`minsheng.db.request_plan`)."""

    code: str | None  # None: the legacy plan
    database: Database
    catalog: CatalogCache


class GatewayPlans:
    """The plans' slots of one gateway process (`app.state.plans`), the legacy plan's being the app's own database
    and catalog cache, so that what knows one plan only goes on working."""

    def __init__(self, database: Database, catalog: CatalogCache):
        self.legacy = PlanSlot(None, database, catalog)
        self._slots: dict[str, PlanSlot] = {}
        self._made: set[str] = set()
        self._lock = threading.Lock()

    def slot(self, code: str | None) -> PlanSlot:
        schema = schema_of(code)
        if schema is None:
            return self.legacy
        with self._lock:
            if code not in self._slots:
                database = Database(self.legacy.database.url, plan=code, schema=schema)
                self._slots[code] = PlanSlot(code, database, CatalogCache())
            return self._slots[code]

    def catalog(self, code: str | None) -> CatalogCache:
        return self.slot(code).catalog

    @contextmanager
    def reading(self, code: str) -> Iterator[tuple[Session, CatalogCache]]:
        """The one way a read crosses plans (a series continued across plans, the 接续指标 a workbook may name):
        a session of plan `code`'s own tables and its catalog, beside the request's.  `code` must be a plan of the
        registry (`known_plans`): an unmade schema would leave the search path on public, the legacy plan's."""
        slot = self.slot(code)
        with slot.database.session() as session:
            yield session, slot.catalog

    def ensure_schema(self, code: str | None) -> None:
        """The plan's schema at its head revision (idempotent; the migration takes an advisory lock per schema, so
        two replicas making the same plan at once make it once)."""
        schema = schema_of(code)
        if schema is None or schema in self._made:
            return
        upgrade_to_head(plan_migration_plan(schema), self.legacy.database.url)
        log.info("plan %s: read models in schema %s", code, schema)
        with self._lock:
            self._made.add(schema)

    def upgrade_all(self) -> list[str]:
        """Every plan schema the database has, to the head revision (start-up: a new view revision reaches them)."""
        with self.legacy.database.session() as session:
            schemas = plan_schemas(session)
        for schema in schemas:
            upgrade_to_head(plan_migration_plan(schema), self.legacy.database.url)
            self._made.add(schema)
        return schemas

    def slots(self) -> list[PlanSlot]:
        """The legacy plan's slot and every other plan's the registry lists (the refresher's and rebuild's round)."""
        with self.legacy.database.session() as session:
            codes = [code for code in session.exec(select(Plan.code)) if schema_of(code) is not None]
        return [self.legacy, *(self.slot(code) for code in sorted(codes))]

    @contextmanager
    def folding(self, session: Session, code: str | None) -> Iterator[PlanSlot]:
        """Within the fold's transaction, write `code`'s tables: its schema made if new, the `search_path` set for
        the rest of the block and then back.  The identity map is emptied at each switch: two plans' rows may share a
        key (an indicator code) and must not be taken for each other."""
        slot = self.slot(code)
        schema = schema_of(code)
        if schema is None:
            yield slot
            return
        self.ensure_schema(code)
        session.flush()
        session.expunge_all()
        session.execute(sa.text(f"SET LOCAL search_path TO {schema}, public"))
        try:
            yield slot
            session.flush()
        finally:
            session.expunge_all()
            session.execute(sa.text("SET LOCAL search_path TO DEFAULT"))

    def dispose(self) -> None:
        with self._lock:
            slots, self._slots = list(self._slots.values()), {}
        for slot in slots:
            slot.database.dispose()


def plan_schemas(session: Session) -> list[str]:
    return list(
        session.execute(
            sa.text(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plan\\_%' AND EXISTS "
                "(SELECT 1 FROM pg_class WHERE relnamespace = pg_namespace.oid AND relname = 'alembic_version') "
                "ORDER BY nspname"
            )
        ).scalars()
    )


def register_plan(session: Session, plan: PlanDoc) -> None:
    """The plan in the registry (`public.plan`), as its catalog says (a closed plan stays closed: `apply_plan`).
    The session must be in public: a plan's own row is in its schema."""
    from minsheng.catalog.loader import CatalogChanges, apply_plan

    apply_plan(session=session, changes=CatalogChanges(), plan=plan)


def open_plans(app: FastAPI) -> None:
    """Start-up hook: the plans' slots, every plan's schema brought to the head revision."""
    plans = GatewayPlans(app.state.database, app.state.catalog)
    app.state.plans = plans
    upgraded = plans.upgrade_all()
    if upgraded:
        log.info("plan schemas at head: %s", ", ".join(upgraded))


async def plans_lifecycle(app: FastAPI) -> None:
    """Background job: disposes of the plans' connection pools at shutdown."""
    import asyncio

    try:
        await asyncio.Event().wait()
    finally:
        plans: GatewayPlans | None = getattr(app.state, "plans", None)
        if plans is not None:
            plans.dispose()


def known_plans(session: Session) -> list[PlanDoc]:
    """Every plan in the registry but drafts' (a draft is the city office's work in progress, nobody's plan yet)."""
    plans = [row.doc() for row in session.exec(select(Plan).order_by(Plan.start_date.desc()))]
    return [plan for plan in plans if plan.state is not PlanState.draft]


def chosen_plan(plans: list[PlanDoc], code: str | None, today) -> PlanDoc:  # noqa: ANN001 - a date
    """The plan a read is about: the one named, else the default (`plans.service.default_plan`); the legacy plan when
    the gateway knows none yet.  An unknown code is refused (404 plan_not_found)."""
    from minsheng_gateway.plans.service import default_plan

    if code is None:
        return default_plan(plans, today) or next((p for p in plans if p.legacy), None) or legacy_plan()
    for plan in plans:
        if plan.code == code:
            return plan
    if code == legacy_code() and not plans:
        return legacy_plan()  # before any catalog arrived
    raise NotFound(f"没有代码为“{code}”的方案，请从方案列表中选择", code="plan_not_found")


PlanQuery = Annotated[
    str | None,
    Query(
        description="方案代码（GET /api/v1/plans）；默认为当前方案（current）",
        max_length=40,
        pattern=r"^[a-z][a-z0-9-]{2,39}$",
    ),
]


def select_plan(request: Request, today: TodayDep, plan: PlanQuery = None) -> PlanDoc:
    """Router dependency of every read that depends on a plan: the request's session (`SessionDep`) and catalog
    (`CatalogDep`) are then the chosen plan's (`minsheng.db.request_plan`)."""
    plans: GatewayPlans = request.app.state.plans
    with plans.legacy.database.session() as session:
        doc = chosen_plan(known_plans(session), plan, today)
    # A plan is registered once its schema is made (the fold, the catalog pull), so the schema is there.
    request.state.plan = plans.slot(doc.code)
    return doc


SelectedPlan = Annotated[PlanDoc, Depends(select_plan)]
PLAN_SELECTED = [Depends(select_plan)]  # a router's `dependencies`

__all__ = [
    "PLAN_SELECTED",
    "GatewayPlans",
    "PlanQuery",
    "PlanSlot",
    "SelectedPlan",
    "chosen_plan",
    "known_plans",
    "open_plans",
    "plans_lifecycle",
    "register_plan",
    "schema_of",
    "select_plan",
]

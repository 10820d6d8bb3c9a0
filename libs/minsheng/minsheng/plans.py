"""Several plans side by side in a campaign service (decision 0017, step 4).

The legacy plan's catalog and reporting tables stay in `public`; a further plan `<code>` lives in schema
`plan_<code with - as _>`, made by the `catalog` and `reporting` migration branches run inside it.  Each plan has a
`PlanSlot`: its `Database` (connections with `search_path = plan_x, public`, so the outbox stays shared), its catalog
cache and its writers, under the same attribute names as the app's own state; `select_plan` (the `?plan=` of every
plan-dependent route) puts the slot on the request, and every dependency (`SessionDep`, `CatalogDep`, the writers)
takes it from there (`minsheng.db.request_plan`).  `publish_plan` creates or amends a plan from its catalog document
(`POST /api/v1/plans`): the same document twice changes nothing; a changed one is applied and published as the
campaign's new catalog (`catalog.published.v1`, naming the plan)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response, status
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import text
from sqlmodel import func, select

from minsheng.auth.deps import PrincipalDep
from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.document import CampaignDoc, PlanDoc, PlanPhase
from minsheng.catalog.loader import apply_catalog, apply_org_units, apply_plan, holds_catalog
from minsheng.catalog.models import CATALOG_TABLES, Indicator, Task
from minsheng.catalog.snapshot import CatalogCache
from minsheng.catalog.versions import CatalogDiff, CatalogVersionPublic, list_versions, record_version
from minsheng.clock import TodayDep, get_today
from minsheng.db import Database
from minsheng.db.group_commit import GroupCommitWriter
from minsheng.db.migrations import MigrationPlan, upgrade_to_head
from minsheng.errors import Conflict, NotFound, Unprocessable
from minsheng.evidence.models import EVIDENCE_TABLES
from minsheng.messaging import wake_relay
from minsheng.quality.models import QUALITY_TABLES
from minsheng.reporting import closing
from minsheng.reporting.changes import review_conflict, submission_conflict
from minsheng.reporting.implementation import TaskStates
from minsheng.reporting.locks import PeriodLocks
from minsheng.reporting.models import REPORTING_TABLES
from minsheng.reporting.republish import publish_catalog
from minsheng.reporting.review import ApprovalWriter
from minsheng.reporting.submissions import RevisionWriter

log = logging.getLogger(__name__)

PLAN_BRANCHES = ("catalog", "reporting")  # what a plan's schema holds; the outbox stays in public
PLAN_TABLES = CATALOG_TABLES | REPORTING_TABLES | EVIDENCE_TABLES | QUALITY_TABLES
SCHEMA_PREFIX = "plan_"


def plan_schema(code: str) -> str:
    """The schema of a non-legacy plan (plan codes are `[a-z][a-z0-9-]*`, so the name needs no quoting)."""
    return SCHEMA_PREFIX + code.replace("-", "_")


def plan_not_found(code: str) -> NotFound:
    return NotFound(f"方案「{code}」在本行动中不存在，请从方案列表中选择", code="plan_not_found")


@dataclass(eq=False)
class PlanSlot:
    """One plan of a campaign service: where its rows are and what writes them.  The attribute names are the app
    state's, so a route's dependencies read either alike (`minsheng.db.request_plan`)."""

    code: str
    database: Database
    catalog: CatalogCache
    period_locks: PeriodLocks
    task_states: TaskStates
    revisions: RevisionWriter
    approvals: ApprovalWriter
    submission_writer: GroupCommitWriter
    approval_writer: GroupCommitWriter

    def plan(self) -> PlanDoc:
        with self.database.session() as session:
            return self.catalog.snapshot(session).plan


def make_slot(app: FastAPI, code: str, database: Database, catalog: CatalogCache) -> PlanSlot:
    """A plan's writers: the period locks and task states they check, the revision writer with its report ids drawn
    ahead, the approval writer, and the group-commit writers running them (two submission shards: while one batch
    waits for its commit, the other is written; submissions are keyed by indicator, so a series stays in order);
    each commit wakes the outbox relay."""
    process = app.state.process
    locks, task_states = PeriodLocks(), TaskStates()
    revisions = RevisionWriter(
        locks=locks, task_states=task_states, catalog=catalog, evidence=app.state.evidence_policy
    )
    approvals = ApprovalWriter(locks=locks, catalog=catalog)
    submission_writer = GroupCommitWriter(
        database, revisions.write, name="report-submissions", process=process, shards=2, on_error=submission_conflict
    )
    approval_writer = GroupCommitWriter(
        database, approvals.write, name="report-approvals", process=process, on_error=review_conflict
    )
    for writer in (submission_writer, approval_writer):
        writer.after_commit.append(lambda: wake_relay(app))
    return PlanSlot(
        code, database, catalog, locks, task_states, revisions, approvals, submission_writer, approval_writer
    )


class CampaignPlans:
    """The plans of one campaign service (`app.state.plans`): the legacy one and those in their schemas."""

    def __init__(self, legacy: PlanSlot):
        self.legacy = legacy
        self._slots = {legacy.code: legacy}
        self._lock = threading.Lock()
        self.creating = threading.Lock()  # one plan created at a time in this process (the migrations lock across)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._added: asyncio.Queue[PlanSlot] | None = None

    def get(self, code: str) -> PlanSlot | None:
        return self._slots.get(code)

    def slots(self) -> list[PlanSlot]:
        return list(self._slots.values())

    def add(self, slot: PlanSlot) -> None:
        with self._lock:
            self._slots[slot.code] = slot
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._added.put_nowait, slot)

    def default(self, today: dt.date) -> PlanSlot:
        """Contract point 3: the plan in force today (the latest begun if several), else the legacy plan."""
        in_force = [(slot.plan(), slot) for slot in self.slots()]
        in_force = [(plan, slot) for plan, slot in in_force if plan.phase(today) is PlanPhase.in_force]
        if not in_force:
            return self.legacy
        return max(in_force, key=lambda pair: (pair[0].start, pair[0].code))[1]

    def cached(self) -> bool:
        """Every plan's catalog is in memory: choosing the default plan reads nothing."""
        return all(slot.catalog.cached for slot in self.slots())

    async def run(self) -> None:
        """The writers of every plan, those added later included, until cancelled (a background job)."""
        tasks: list[asyncio.Task] = []
        with self._lock:
            self._loop, self._added = asyncio.get_running_loop(), asyncio.Queue()
            for slot in self._slots.values():
                self._added.put_nowait(slot)
        try:
            while True:
                slot = await self._added.get()
                tasks += [
                    asyncio.create_task(slot.submission_writer.run(), name=f"submissions-{slot.code}"),
                    asyncio.create_task(slot.approval_writer.run(), name=f"approvals-{slot.code}"),
                ]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


# ---- the plans' schemas ----------------------------------------------------------------------------------------


def schema_migrations(app: FastAPI, schema: str) -> MigrationPlan:
    return app.state.migration_plan.for_schema(schema, PLAN_BRANCHES, PLAN_TABLES)


def plan_database(app: FastAPI, code: str) -> Database:
    return Database(app.state.settings.database_url, plan=code, schema=plan_schema(code))


def open_plans(app: FastAPI) -> None:
    """Start-up: every plan schema of the database brought to the migrations' head and given its slot."""
    plans: CampaignPlans = app.state.plans
    with app.state.database.session() as session:
        schemas = session.connection().execute(
            text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'plan\\_%' ORDER BY 1")
        )
        schemas = [row[0] for row in schemas]
    for schema in schemas:
        upgrade_to_head(schema_migrations(app, schema), app.state.settings.database_url)
        with app.state.database.session() as session:
            code = session.connection().execute(text(f'SELECT code FROM "{schema}".plan LIMIT 1')).scalar()
        if code is None or plan_schema(code) != schema:
            log.warning("schema %s holds no plan of its own; left alone", schema)
            continue
        slot = make_slot(app, code, plan_database(app, code), CatalogCache())
        slot.plan()  # read now, so no request waits for it
        plans.add(slot)


# ---- publishing a plan ------------------------------------------------------------------------------------------


class PlanPublication(BaseModel):
    """A plan as the gateway publishes it to one campaign (contract point 4)."""

    plan: PlanDoc
    campaign: CampaignDoc | None = Field(
        default=None, description="本行动在该方案中的目录；该方案没有本行动的任务时为空（方案仍在本行动中创建）"
    )


class PlanPublished(BaseModel):
    plan: str = Field(description="方案代码")
    campaign: str
    created: bool = Field(description="该方案在本行动中首次创建")
    changed: bool = Field(description="目录有变化（新版本已发布）；同一份文件再次发布时为 false")
    tasks: int = Field(description="本行动在该方案中的任务数")
    indicators: int = Field(description="本行动在该方案中的指标数")
    version: int | None = Field(
        default=None, description="本次发布形成的目录版本号；没有变化（或本行动在该方案中没有任务）时为空"
    )
    diff: CatalogDiff | None = Field(default=None, description="与上一版目录相比的变化；没有新版本时为空")


def publish_plan(app: FastAPI, body: PlanPublication, principal: Principal) -> tuple[PlanPublished, bool]:
    """Create the plan's schema if it is new, and bring its catalog to `body` (idempotent); returns the answer and
    whether the plan was created here.  A catalog that changed is recorded as the campaign's next version in the plan
    (`minsheng.catalog.versions`), in the same transaction."""
    campaign, plan = app.state.process, body.plan
    plans: CampaignPlans = app.state.plans
    if plan.legacy or plan.code == plans.legacy.code:
        raise Conflict(
            f"《{plan.name}》是原方案，其目录由本行动的目录文件维护，不能通过发布修改", code="plan_is_legacy"
        )
    doc = None
    if body.campaign is not None:
        if body.campaign.code != campaign:
            raise Unprocessable(f"发布的是行动 {body.campaign.code} 的目录，本服务是 {campaign}", code="wrong_campaign")
        try:  # the campaign's document under the plan as published (its years checked against this horizon)
            doc = CampaignDoc.model_validate({**body.campaign.model_dump(), "plan": plan.model_dump()})
        except ValidationError as exc:
            raise Unprocessable(
                f"目录与方案《{plan.name}》不符：{exc.errors()[0]['msg']}", code="catalog_invalid"
            ) from exc
    version = None
    with plans.creating:
        slot = plans.get(plan.code)
        created = slot is None
        if created:
            upgrade_to_head(schema_migrations(app, plan_schema(plan.code)), app.state.settings.database_url)
            slot = make_slot(app, plan.code, plan_database(app, plan.code), CatalogCache())
        with slot.database.session() as session:
            if doc is None:
                changes = apply_org_units(session=session)
                apply_plan(session=session, changes=changes, plan=plan)
                changed = changes.changed
            elif holds_catalog(session, doc):
                changed = False
            else:
                # An amendment: the rows become what the document says (upserted, retired, never deleted) and the
                # campaign's catalog is published again, as a new version of the plan's catalog.
                changes = apply_catalog(session=session, doc=doc, catalog=slot.catalog)
                changed = changes.changed or created
                if changes.changed:  # rows equal to the document already (e.g. keys written in another order): none
                    version = record_version(session, doc=doc, changes=changes, by=principal.label)
                publish_catalog(session=session, campaign=campaign)
            session.commit()
            tasks = session.exec(select(func.count()).select_from(Task).where(Task.retired == False)).one()  # noqa: E712
            indicators = session.exec(
                select(func.count()).select_from(Indicator).where(Indicator.retired == False)  # noqa: E712
            ).one()
        slot.catalog.drop()
        slot.plan()
        if created:
            plans.add(slot)
            log.info("plan %s created in %s", plan.code, campaign)
    answer = PlanPublished(
        plan=plan.code,
        campaign=campaign,
        created=created,
        changed=changed or created,
        tasks=tasks,
        indicators=indicators,
        version=version.version if version is not None else None,
        diff=CatalogDiff.of(version.created, version.updated, version.retired) if version is not None else None,
    )
    return answer, created


# ---- HTTP ------------------------------------------------------------------------------------------------------

PlanQuery = Annotated[
    str | None,
    Query(
        description="方案代码；缺省为今天正在执行的方案（没有则为原三年行动方案）",
        max_length=40,
    ),
]


async def select_plan(request: Request, plan: PlanQuery = None) -> None:
    """The route's plan (`?plan=`), put where the route's dependencies look for it (`minsheng.db.request_plan`)."""
    plans: CampaignPlans = request.app.state.plans
    if plan is not None:
        slot = plans.get(plan)
        if slot is None:
            raise plan_not_found(plan)
    elif len(plans.slots()) == 1:
        slot = plans.legacy
    else:
        today = await get_today(request)
        # Memory only, unless a catalog was just applied (then read once, off the event loop).
        slot = plans.default(today) if plans.cached() else await asyncio.to_thread(plans.default, today)
    request.state.plan = slot


PLAN_DEPENDENCY = Depends(select_plan)


def plan_router(*routers: APIRouter) -> APIRouter:
    """The campaign's plan-dependent routers, each route taking `?plan=`."""
    planned = APIRouter(dependencies=[PLAN_DEPENDENCY], responses={404: {"description": "方案不存在"}})
    for router in routers:
        planned.include_router(router)
    return planned


def plans_router(campaign: str) -> APIRouter:
    """`/api/v1/plans`: the service's plans, publishing one, closing one."""
    router = APIRouter(prefix="/api/v1", tags=["方案 plans"])

    @router.get("/plans", response_model=list[PlanDoc], summary="本行动的方案（原方案及已发布的各方案）")
    def read_plans(request: Request):
        return [slot.plan() for slot in request.app.state.plans.slots()]

    @router.post(
        "/plans",
        response_model=PlanPublished,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": PlanPublished, "description": "方案已存在：目录已更新为所发文件（相同则不变）"},
            403: {"description": "只能由市民生办发布"},
            409: {"description": "原方案不能通过发布修改"},
            422: {"description": "目录与方案不符"},
        },
        summary="发布方案（市民生办，由网关转发任务分解表）：新建该方案的数据区和目录；再次发布即修订，内容相同则不变",
    )
    async def create_plan(request: Request, response: Response, principal: PrincipalDep, body: PlanPublication):
        require_city_office(principal, "发布方案")
        answer, created = await asyncio.to_thread(publish_plan, request.app, body, principal)
        if answer.changed:
            wake_relay(request.app)
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return answer

    @router.get(
        "/plans/{code}/versions",
        response_model=list[CatalogVersionPublic],
        responses={404: {"description": "方案不存在"}},
        summary="本行动在该方案中的目录版本（修订记录，最新在前）：每版的发布人、时间和新增、修改、停用的条目",
    )
    def read_versions(request: Request, code: Annotated[str, Path(description="方案代码", max_length=40)]):
        slot = request.app.state.plans.get(code)
        if slot is None:
            raise plan_not_found(code)
        with slot.database.session() as session:
            return list_versions(session, plan=code, campaign=campaign)

    @router.post(
        "/plans/{code}/close",
        response_model=PlanDoc,
        responses={404: {"description": "方案不存在"}, 409: {"description": "尚未结束或仍有待审核"}},
        summary="关闭方案：实施期结束、待审核的都已审核后，本行动该方案的数据只读（市民生办）",
    )
    def close_plan(
        request: Request,
        principal: PrincipalDep,
        today: TodayDep,
        code: Annotated[str, Path(description="方案代码", max_length=40)],
    ):
        slot = request.app.state.plans.get(code)
        if slot is None:
            raise plan_not_found(code)
        with slot.database.session() as session:
            return closing.close_plan(
                session=session, catalog=slot.catalog, campaign=campaign, code=code, principal=principal, today=today
            )

    return router

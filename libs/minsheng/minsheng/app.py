"""The app factory every process uses: lifespan (migrate, seed, background work), health,
readiness, `/metrics`, error handling.  A process's app is a call to `create_app`; what belongs to the
process rather than to an app (the garbage collector's tuning) is set by its entry point, `minsheng.serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.middleware import Middleware

from minsheng.apidocs import install_api_docs
from minsheng.catalog.snapshot import CatalogCache
from minsheng.db import Database
from minsheng.db.metrics import DATABASE_METRICS
from minsheng.db.migrations import MigrationPlan, upgrade_to_head
from minsheng.errors import install_error_handlers
from minsheng.observability import PROCESS_READY, MetricsMiddleware, configure_logging, metrics_endpoint
from minsheng.openapi import RateLimited, install_error_contract
from minsheng.protection import install_protection
from minsheng.settings import ProcessSettings
from minsheng.uploads import UploadGuard

log = logging.getLogger(__name__)

StartupHook = Callable[[FastAPI], None]  # runs once, in order, before the process is ready
BackgroundJob = Callable[[FastAPI], Awaitable[None]]  # runs until shutdown


def _never_rate_limited(method: str, path: str) -> bool:
    return False


class Readiness(BaseModel):
    status: str = Field(description="ready | starting")
    process: str
    waiting_for: list[str] = Field(default=[], description="还在等待的：启动、数据库、目录……")
    degraded: list[str] = Field(
        default=[], description="可以接收请求，但部分功能暂不可用（如文件存储不可达时不能上传佐证材料）"
    )


def create_app(
    *,
    process: str,
    title: str,
    description: str,
    settings: ProcessSettings,
    migration_plan: MigrationPlan,
    routers: Sequence[APIRouter],
    startup: Sequence[StartupHook] = (),
    background: Sequence[BackgroundJob] = (),
    middleware: Sequence[Middleware] = (),
    rate_limited: RateLimited = _never_rate_limited,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(settings.log_level)
        database = Database(settings.database_url)
        app.state.database = database
        # Blocking work (DDL, seeding) runs in a thread so the event loop stays free.
        await asyncio.to_thread(upgrade_to_head, migration_plan, settings.database_url)
        for hook in startup:
            await asyncio.to_thread(hook, app)
        jobs = [asyncio.create_task(job(app), name=getattr(job, "__name__", "job")) for job in background]
        app.state.ready = True
        PROCESS_READY.labels(process).set(1)
        DATABASE_METRICS.watch(process, database)
        log.info("%s ready on %s:%s", process, settings.host, settings.port)
        try:
            yield
        finally:
            app.state.ready = False
            PROCESS_READY.labels(process).set(0)
            DATABASE_METRICS.unwatch(process)
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await database.dispose_async()

    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.process = process
    app.state.settings = settings
    app.state.migration_plan = migration_plan
    app.state.ready = False
    app.state.catalog = CatalogCache()
    app.state.upload_guard = UploadGuard.from_settings(settings)
    app.state.readiness_checks = []  # callables returning a list of things still awaited
    # Callables returning what does not work now but leaves the process ready (said in /readyz, 200 all the same).
    app.state.degraded_checks = []
    for extra in reversed(middleware):  # the first listed sees a request first
        app.add_middleware(extra.cls, *extra.args, **extra.kwargs)
    install_protection(app, settings)
    # Outermost: the requests refused at the edge (413) are counted too.
    app.add_middleware(MetricsMiddleware, process=process)
    install_error_handlers(app)
    install_api_docs(app)
    install_error_contract(app, rate_limited)

    @app.get("/healthz", tags=["运维 operations"], summary="进程存活")
    def healthz() -> dict:
        return {"status": "ok", "process": process}

    @app.get(
        "/readyz",
        tags=["运维 operations"],
        summary="可以接收请求（已迁移、已加载目录、数据库可达）",
        responses={
            200: {"model": Readiness},
            503: {"model": Readiness, "description": "尚未就绪（waiting_for 说明还在等什么）"},
        },
    )
    def readyz():
        waiting = [] if app.state.ready else ["startup"]
        try:
            app.state.database.ping()
        except Exception as exc:  # noqa: BLE001 - any database failure means not ready
            waiting.append(f"database: {exc.__class__.__name__}")
        for check in app.state.readiness_checks:
            waiting.extend(check(app))
        degraded = [item for check in app.state.degraded_checks for item in check(app)]
        if waiting:
            return JSONResponse(
                {"status": "starting", "process": process, "waiting_for": waiting, "degraded": degraded},
                status_code=503,
            )
        return {"status": "ready", "process": process, "degraded": degraded}

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    for router in routers:
        app.include_router(router)
    return app

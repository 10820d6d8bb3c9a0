import asyncio
import weakref
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine


def search_path_args(schema: str | None) -> dict:
    """The connection arguments of a plan's schema: its tables first, the shared ones (`public`) after."""
    return {"options": f"-csearch_path={schema},public"} if schema else {}


class Database:
    """The process's own PostgreSQL database, or one plan's part of it (decision 0017): `plan`/`schema` given, every
    connection's `search_path` is `<schema>, public`, so every query, ORM or text, sees that plan's catalog and
    reporting tables and the shared ones (outbox) in `public`; its sessions name the plan (`session_plan`)."""

    def __init__(self, url: str, *, plan: str | None = None, schema: str | None = None):
        if make_url(url).get_backend_name() != "postgresql":
            # Said at start-up: an old SQLite setting would otherwise fail at the first query.
            raise ValueError(f"the platform runs on PostgreSQL only, not on {make_url(url).get_backend_name()!r}")
        self.url = url
        self.plan = plan  # None: the legacy plan, in public
        self.schema = schema
        self._connect_args = search_path_args(schema)
        self._async_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
            weakref.WeakKeyDictionary()
        )
        # pool_timeout: a request that finds every connection busy for 3 s is refused with 503
        # (minsheng.errors), not kept waiting 30 s for a 500.  A further plan's pool is smaller: one plan is busy.
        pool = {"pool_size": 10, "max_overflow": 20} if schema is None else {"pool_size": 3, "max_overflow": 12}
        self.engine = create_engine(url, pool_pre_ping=True, pool_timeout=3, connect_args=self._connect_args, **pool)
        # Set-based writes (group commit, the gateway's fold) insert many rows at a time: one multi-row
        # INSERT per 1000 rows instead of a statement per row, with or without RETURNING.
        self.engine.dialect.use_insertmanyvalues_wo_returning = True

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False, info=self.session_info)

    @property
    def session_info(self) -> dict:
        """What a session of this database knows of it (`session_plan`); the async sessions of group commit too."""
        return {"plan": self.plan}

    @property
    def async_engine(self) -> AsyncEngine:
        """The same database for code that awaits it on the event loop (group commit, the relay):
        psycopg's async connection.  One engine per event loop: an async connection belongs to the
        loop that opened it."""
        loop = asyncio.get_running_loop()
        engine = self._async_engines.get(loop)
        if engine is None:
            # No liveness ping per checkout (a round trip per batch): a connection found dead fails
            # its batch, the pool drops it, and group commit retries the items on a fresh one.
            engine = create_async_engine(self.url, pool_size=5, max_overflow=5, connect_args=self._connect_args)
            engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
            self._async_engines[loop] = engine
        return engine

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    async def dispose_async(self) -> None:
        engine = self._async_engines.pop(asyncio.get_running_loop(), None)
        if engine is not None:
            await engine.dispose()
        self.dispose()


def session_plan(session: Session) -> str | None:
    """The plan a session works on (None: the legacy plan, in public): events written in it name that plan."""
    return session.info.get("plan")


def request_plan(request: Request):  # noqa: ANN201 - a PlanSlot, or the app's state (same attribute names)
    """Where a request finds its database, catalog cache and writers: the plan chosen by `?plan=` on a campaign
    service's routes (`minsheng.plans.select_plan` sets it), else the app's own (the gateway, the legacy plan)."""
    return getattr(request.state, "plan", None) or request.app.state


def get_session(request: Request) -> Iterator[Session]:
    database: Database = request_plan(request).database
    with database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

__all__ = ["Database", "Engine", "SessionDep", "get_session", "request_plan", "session_plan"]

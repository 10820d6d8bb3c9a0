import asyncio
import weakref
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine


class Database:
    """The process's own PostgreSQL database."""

    def __init__(self, url: str):
        if make_url(url).get_backend_name() != "postgresql":
            # Said at start-up: an old SQLite setting would otherwise fail at the first query.
            raise ValueError(f"the platform runs on PostgreSQL only, not on {make_url(url).get_backend_name()!r}")
        self.url = url
        self._async_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
            weakref.WeakKeyDictionary()
        )
        # pool_timeout: a request that finds every connection busy for 3 s is refused with 503
        # (minsheng.errors), not kept waiting 30 s for a 500.
        self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=3)
        # Set-based writes (group commit, the gateway's fold) insert many rows at a time: one multi-row
        # INSERT per 1000 rows instead of a statement per row, with or without RETURNING.
        self.engine.dialect.use_insertmanyvalues_wo_returning = True

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

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
            engine = create_async_engine(self.url, pool_size=5, max_overflow=5)
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


def get_session(request: Request) -> Iterator[Session]:
    database: Database = request.app.state.database
    with database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

__all__ = ["Database", "Engine", "SessionDep", "get_session"]

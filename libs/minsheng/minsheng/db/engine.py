import asyncio
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine


def _cache_batch_statements() -> None:
    """psycopg parses a statement's placeholders again on every execution once it has more than 50
    parameters (a guard against ORMs' ever-new multi-row INSERTs).  Group commit's multi-row INSERTs
    come in few shapes (one per batch size), and parsing them was a tenth of a submission's cost: let
    psycopg cache them like any other statement.  Its (private) limits, raised if they exist."""
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - a psycopg without this module simply parses as before
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 5000)
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 256 * 1024)


_cache_batch_statements()


class Database:
    """The process's own database: PostgreSQL in production and tests, SQLite for the local run."""

    def __init__(self, url: str):
        self.url = url
        self._async_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
            weakref.WeakKeyDictionary())
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            # pool_timeout: a request that finds every connection busy for 3 s is refused with 503
            # (minsheng.errors), not kept waiting 30 s for a 500.
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=3)
        # Set-based writes (group commit, the gateway's fold) insert many rows at a time: one multi-row
        # INSERT per 1000 rows instead of a statement per row, with or without RETURNING.
        self.engine.dialect.use_insertmanyvalues_wo_returning = True

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @property
    def async_engine(self) -> AsyncEngine:
        """The same database for code that awaits it on the event loop (group commit, the relay):
        psycopg's async connection, or aiosqlite.  One engine per event loop: an async connection
        belongs to the loop that opened it."""
        loop = asyncio.get_running_loop()
        engine = self._async_engines.get(loop)
        if engine is None:
            parsed = make_url(self.url)
            if parsed.get_backend_name() == "sqlite":
                engine = create_async_engine(parsed.set(drivername="sqlite+aiosqlite"), connect_args={"timeout": 30})
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            else:
                # No liveness ping per checkout (a round trip per batch): a connection found dead fails
                # its batch, the pool drops it, and group commit retries the items on a fresh one.
                engine = create_async_engine(parsed, pool_size=5, max_overflow=5)
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


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # WAL lets the request threads read while the seed or a relay writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_session(request: Request) -> Iterator[Session]:
    database: Database = request.app.state.database
    with database.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

__all__ = ["Database", "Engine", "SessionDep", "get_session"]

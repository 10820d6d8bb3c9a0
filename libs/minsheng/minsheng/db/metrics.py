"""The process's database on /metrics, read at scrape time: its size on disk and its connection pool."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from minsheng.db.engine import Database

log = logging.getLogger(__name__)

SIZE_CACHE_SECONDS = 60.0  # pg_database_size walks the database's files: not at every scrape


class DatabaseCollector(Collector):
    """`minsheng_database_size_bytes` and `minsheng_db_pool_connections{state}` of each watched database
    (the running app's: `create_app` watches it while the process runs)."""

    def __init__(self) -> None:
        self._watched: dict[str, Database] = {}
        self._sizes: dict[str, tuple[float, float]] = {}  # process → (when read, bytes)

    def watch(self, process: str, database: Database) -> None:
        self._watched[process] = database

    def unwatch(self, process: str) -> None:
        self._watched.pop(process, None)
        self._sizes.pop(process, None)

    def describe(self) -> list:
        return []  # unchecked: the series depend on the running processes

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "minsheng_database_size_bytes", "Size on disk of the process's own database", labels=["process"]
        )
        pool = GaugeMetricFamily(
            "minsheng_db_pool_connections",
            "The process's database connections: in use (checked out) or idle in its pool",
            labels=["process", "state"],
        )
        for process, database in list(self._watched.items()):
            read = self._size(process, database)
            if read is not None:
                size.add_metric([process], read)
            engine_pool = database.engine.pool
            pool.add_metric([process, "in_use"], engine_pool.checkedout())
            pool.add_metric([process, "idle"], engine_pool.checkedin())
        yield size
        yield pool

    def _size(self, process: str, database: Database) -> float | None:
        cached = self._sizes.get(process)
        if cached and time.monotonic() - cached[0] < SIZE_CACHE_SECONDS:
            return cached[1]
        try:
            with database.engine.connect() as connection:
                value = float(connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar())
        except Exception:  # noqa: BLE001 - a scrape must not fail: the series is missing meanwhile
            log.warning("could not read the size of %s's database", process, exc_info=True)
            return None
        self._sizes[process] = (time.monotonic(), value)
        return value


DATABASE_METRICS = DatabaseCollector()
REGISTRY.register(DATABASE_METRICS)

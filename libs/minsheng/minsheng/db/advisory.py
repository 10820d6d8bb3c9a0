"""A PostgreSQL advisory lock held on a connection of its own: one holder at a time across replicas.

`AdvisoryLease(database, "notifier-sender")`: `hold()` is true while this process holds the lock (taking it when
free); the lock goes with the connection, so a holder that dies or loses its database frees it at once and another
replica takes it on its next try.  Synchronous (call it in a thread from async code)."""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa

from minsheng.db.engine import Database

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a name (PostgreSQL's advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLease:
    def __init__(self, database: Database, name: str):
        self.database, self.name, self.key = database, name, lock_key(name)
        self._connection: sa.Connection | None = None

    def hold(self) -> bool:
        """True while held: checks the connection still answers, else (or if not held yet) tries to take it."""
        if self._connection is not None:
            try:
                self._connection.exec_driver_sql("SELECT 1")
                return True
            except sa.exc.SQLAlchemyError:  # the connection is gone (or was invalidated): so is the lock
                log.warning("advisory lease %s lost with its connection", self.name)
                self._drop()
        try:
            connection = self.database.engine.connect()
            taken = connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (self.key,)).scalar()
            connection.commit()
        except sa.exc.DBAPIError as exc:
            log.info("advisory lease %s: database unavailable (%s)", self.name, exc.__class__.__name__)
            return False
        if not taken:
            connection.close()
            return False
        log.info("advisory lease %s taken", self.name)
        self._connection = connection
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (self.key,))
                self._connection.commit()
            except sa.exc.DBAPIError:
                pass
            self._drop()

    def _drop(self) -> None:
        try:
            self._connection.invalidate()  # never back to the pool still holding the lock
            self._connection.close()
        except sa.exc.SQLAlchemyError:
            pass
        self._connection = None

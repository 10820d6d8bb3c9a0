"""Multi-row INSERTs as plain driver SQL, for the busiest writes on PostgreSQL (group commit, and
the gateway's live fold, whose upserts say what to do with a taken key in an `OnConflict`).

SQLAlchemy's executemany path builds, per call, a statement of the batch's size and runs every value
through its compiled form; for the submission writer that was a large part of a batch's CPU, spent
while requests wait.  Here the rows travel as one JSON parameter that PostgreSQL reads as rows of the
table's own type (`INSERT … SELECT … FROM json_populate_recordset(NULL::<table>, %s)`, so each column's
type and length check applies): the SQL text depends only on the table and the columns, whatever the number
of rows, so the driver converts and prepares it once; the values are encoded after each column's own bind
conversion (an enum to its name); and the rows of several tables go in one statement — one round trip —
as data-modifying CTEs.

A statement carries up to `MAX_ROWS` rows: a larger write is several statements.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

MAX_ROWS = 1000  # bounds one statement's parameter (and a failed batch's retry)


@dataclass(frozen=True)
class OnConflict:
    """What an INSERT does with a row whose `key` is taken: nothing (no `set_`), or set each column of
    `set_` to its SQL expression, which may read the new row (`excluded.<column>`) and the stored one
    (`<table>.<column>`), where `where` (SQL of the same kind) holds.  One rule for the driver SQL here
    and for a Core statement (`clause`)."""

    key: tuple[str, ...]
    set_: tuple[tuple[str, str], ...] = ()
    where: str | None = None

    def sql(self) -> str:
        target = f"ON CONFLICT ({', '.join(self.key)})"
        if not self.set_:
            return f"{target} DO NOTHING"
        sql = f"{target} DO UPDATE SET {', '.join(f'{column} = {value}' for column, value in self.set_)}"
        return sql + (f" WHERE {self.where}" if self.where else "")

    def clause(self, insert):  # noqa: ANN001, ANN201 - PostgreSQL's Insert
        if not self.set_:
            return insert.on_conflict_do_nothing(index_elements=list(self.key))
        return insert.on_conflict_do_update(
            index_elements=list(self.key),
            set_={column: sa.literal_column(value) for column, value in self.set_},
            where=sa.text(self.where) if self.where else None,
        )


@functools.lru_cache(maxsize=2048)
def _insert_sql(
    table: str, columns: tuple[str, ...], returning: tuple[str, ...], on_conflict: OnConflict | None = None
) -> str:
    names = ", ".join(columns)
    sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, %s)"
    if on_conflict is not None:
        sql += " " + on_conflict.sql()
    return sql + (f" RETURNING {', '.join(returning)}" if returning else "")


def _json_value(value: object) -> str:
    if isinstance(value, dt.date):  # datetimes too: ISO 8601 with the offset, as PostgreSQL reads it
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no JSON form for a bulk insert")


def insert_sql(
    connection: Connection,
    table: sa.Table,
    rows: Sequence[dict],
    returning: Sequence[str] = (),
    on_conflict: OnConflict | None = None,
) -> tuple[str, list]:
    """(SQL, parameters) of one INSERT of `rows` (one JSON parameter): e.g. a part of `insert_together`."""
    if not 0 < len(rows) <= MAX_ROWS:
        raise ValueError(f"{len(rows)} rows: driver-SQL inserts take 1 to {MAX_ROWS}")
    columns = tuple(rows[0])
    processors = [
        (column, process)
        for column in columns
        if (process := table.c[column].type.bind_processor(connection.dialect)) is not None
    ]
    if processors:
        rows = [row | {column: process(row[column]) for column, process in processors} for row in rows]
    document = json.dumps(rows, default=_json_value, ensure_ascii=False, allow_nan=False)
    return _insert_sql(table.name, columns, tuple(returning), on_conflict), [document]


class IdBlocks:
    """Ids of a table's serial column drawn ahead of the INSERT, a block at a time (one round trip per
    `block` rows): a batch that knows its new rows' ids can write them, and what refers to them
    (history records, events), in one statement.

    Holds the ids drawn and not yet handed out, for one table of one database: an app makes one per
    table it writes this way, so a test's fresh app draws afresh.  Ids stay unique (the column's own
    sequence); they are not dense (a block's unused ids are gone when the app stops, as a rolled-back
    INSERT's are)."""

    def __init__(self, table: sa.Table, column: str = "id", block: int = 100):
        self.table, self.column, self.block = table, column, block
        self._free: list[int] = []
        self._lock = threading.Lock()  # the group-commit writer and request threads (bulk uploads)

    def take(self, connection: Connection, count: int) -> list[int]:
        with self._lock:
            if len(self._free) >= count:
                taken, self._free[:] = self._free[:count], self._free[count:]
                return taken
        # Not under the lock: a caller on the event loop (a writer in a greenlet) awaits this query, and
        # another on the same thread must not block on a lock held across that wait.
        drawn = (
            connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                (self.table.name, self.column, max(count, self.block)),
            )
            .scalars()
            .all()
        )
        with self._lock:
            self._free.extend(drawn)
            taken, self._free[:] = self._free[:count], self._free[count:]
        return taken


def upsert(
    connection: Connection,
    table: sa.Table,
    rows: Sequence[dict],
    on_conflict: OnConflict,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert `rows` (dicts with the same keys; unique on the conflict key), doing `on_conflict` with
    those whose key is taken, in one statement; the `returning` columns of each row inserted or
    updated, in no particular order."""
    sql, params = insert_sql(connection, table, rows, returning, on_conflict)
    result = connection.exec_driver_sql(sql, tuple(params))
    return [tuple(row) for row in result] if returning else []


def insert_together(
    connection: Connection,
    inserts: Sequence[tuple[sa.Table, Sequence[dict]]],
    *,
    before: Sequence[tuple[str, Sequence]] = (),
) -> None:
    """Insert each table's rows, all in one statement (one round trip): the statements `before`
    ((SQL, parameters), e.g. an UPDATE) and the inserts as data-modifying CTEs, in that order, of the
    last insert.  Every part sees the database as it was before the statement (PostgreSQL's rule for
    data-modifying CTEs)."""
    parts = [*before, *(insert_sql(connection, table, rows) for table, rows in inserts if rows)]
    if not parts:
        return
    ctes = [f"write_{i} AS ({sql})" for i, (sql, _) in enumerate(parts[:-1])]
    sql = (f"WITH {', '.join(ctes)} " if ctes else "") + parts[-1][0]
    connection.exec_driver_sql(sql, tuple(value for _, params in parts for value in params))


__all__ = ["MAX_ROWS", "IdBlocks", "OnConflict", "insert_sql", "insert_together", "upsert"]

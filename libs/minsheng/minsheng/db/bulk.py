"""Multi-row INSERTs as plain driver SQL, for the busiest writes on PostgreSQL (group commit).

SQLAlchemy's executemany path builds, per call, a statement of the batch's size and runs every value
through its compiled form; for the submission writer that was a large part of a batch's CPU, spent
while requests wait.  Here the SQL text depends only on the table, the columns and the number of rows
(cached), the values reach the driver after each column's own bind conversion (an enum to its name),
and the rows of several tables go in one statement — one round trip — as data-modifying CTEs.

PostgreSQL only (SQLite has no data-modifying CTEs), and for batches of up to `MAX_ROWS` rows (the
driver takes at most 65,535 parameters per statement): callers keep their Core statements otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

MAX_ROWS = 1000  # × the widest table's columns (report: 18) stays far below 65,535 parameters


@functools.lru_cache(maxsize=2048)
def _insert_sql(table: str, columns: tuple[str, ...], count: int, returning: tuple[str, ...]) -> str:
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"
    return sql + (f" RETURNING {', '.join(returning)}" if returning else "")


def _insert(connection: Connection, table: sa.Table, rows: Sequence[dict], returning: Sequence[str] = ()
            ) -> tuple[str, list]:
    if not 0 < len(rows) <= MAX_ROWS:
        raise ValueError(f"{len(rows)} rows: driver-SQL inserts take 1 to {MAX_ROWS}")
    columns = tuple(rows[0])
    processors = [table.c[column].type.bind_processor(connection.dialect) for column in columns]
    params = []
    for row in rows:
        for column, process in zip(columns, processors, strict=True):
            params.append(row[column] if process is None else process(row[column]))
    return _insert_sql(table.name, columns, len(rows), tuple(returning)), params


def insert_returning(connection: Connection, table: sa.Table, rows: Sequence[dict],
                     returning: Sequence[str]) -> list[tuple]:
    """Insert `rows` (dicts with the same keys) and return the `returning` columns of each new row,
    in no particular order: match them by a key of the caller's."""
    sql, params = _insert(connection, table, rows, returning)
    return [tuple(row) for row in connection.exec_driver_sql(sql, tuple(params))]


def insert_together(connection: Connection, inserts: Sequence[tuple[sa.Table, Sequence[dict]]]) -> None:
    """Insert each table's rows, all in one statement (the first ones as CTEs of the last)."""
    parts = [_insert(connection, table, rows) for table, rows in inserts if rows]
    if not parts:
        return
    ctes = [f"insert_{i} AS ({sql})" for i, (sql, _) in enumerate(parts[:-1])]
    sql = (f"WITH {', '.join(ctes)} " if ctes else "") + parts[-1][0]
    connection.exec_driver_sql(sql, tuple(value for _, params in parts for value in params))


__all__ = ["MAX_ROWS", "insert_returning", "insert_together"]

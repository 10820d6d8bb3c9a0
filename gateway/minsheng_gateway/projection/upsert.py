"""How the fold's rows travel to PostgreSQL: the fast path behind every write of `fold.py`.

What a write does with a key already taken is the caller's rule (an `OnConflict`, stated in `fold.py`);
here only the transport is chosen, and both transports give the same rows:
- a few rows (a live poll's) go as one statement's JSON parameter (`minsheng.db.bulk`: the same SQL
  text whatever the number of rows, a plan the driver prepares once);
- many rows (a rebuild's thousands) are COPYed, in binary, into a temporary staging table, then
  written with one INSERT … SELECT (or UPDATE … FROM): one stream instead of a parameter per value.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session

from minsheng.db import bulk

# Below this many rows a statement with the rows as parameters beats staging them: COPY costs four
# round trips (create/truncate the staging table, its types, the copy, the write), which a live
# poll of a few dozen events pays for every table it writes; a rebuild's batches are thousands.
STAGE_FROM_ROWS = 100


def insert_rows(session: Session, table: sa.Table, rows: list[dict], on_conflict: bulk.OnConflict) -> None:
    """INSERT `rows` (non-empty; dicts with the same keys, unique on the conflict key), doing
    `on_conflict` where the key is taken."""
    connection = session.connection()
    if len(rows) < STAGE_FROM_ROWS:
        bulk.upsert(connection, table, rows, on_conflict)
        return
    stage, columns = _staged(session, table, rows).name, ", ".join(rows[0])
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage} {on_conflict.sql()}"
    )


def update_rows(session: Session, table: sa.Table, keys: list[dict], values: dict) -> None:
    """Set `values` (constants) in the rows of `table` whose key columns equal one of `keys` (non-empty;
    dicts with the same keys)."""
    connection = session.connection()
    columns = tuple(keys[0])
    if len(keys) < STAGE_FROM_ROWS:
        connection.execute(
            _update_by_key(table, columns, tuple(values.items())),
            [{f"key_{c}": key[c] for c in columns} for key in keys],
        )
        return
    stage = _staged(session, table, keys)
    connection.execute(
        table.update()
        .values(**values)
        .where(sa.tuple_(*(table.c[c] for c in columns)).in_(sa.select(*(stage.c[c] for c in columns))))
    )


@functools.cache
def _update_by_key(table: sa.Table, columns: tuple[str, ...], values: tuple[tuple[str, object], ...]) -> sa.Update:
    return table.update().values(dict(values)).where(*(table.c[c] == sa.bindparam(f"key_{c}") for c in columns))


def _staged(session: Session, table: sa.Table, rows: Sequence[dict]) -> sa.TableClause:
    """`rows` (dicts of some of `table`'s columns) COPYed into a temporary table of those columns,
    emptied before each use.  Binary COPY (text would spend more time formatting timestamps than
    anything else).  It bypasses SQLAlchemy, so the columns' own bind conversions (e.g. enum → name)
    are applied here."""
    connection = session.connection()
    columns = list(rows[0])
    names = ", ".join(columns)
    stage = f"stage_{table.name}_{'_'.join(columns)}"[:63]  # one staging table per shape (identifier limit)
    record = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    conversions = [
        (i, convert)
        for i, column in enumerate(columns)
        if (convert := table.c[column].type.bind_processor(connection.dialect)) is not None
    ]
    driver = connection.connection.driver_connection
    driver.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {table.name} WITH NO DATA; TRUNCATE {stage}"
    )
    types = [column.type_code for column in driver.execute(f"SELECT {names} FROM {stage} LIMIT 0").description]
    with driver.cursor() as cursor, cursor.copy(f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            values = record(row)
            if conversions:
                values = list(values)
                for i, convert in conversions:
                    values[i] = convert(values[i])
            copy.write_row(values)
    return sa.table(stage, *(sa.column(c) for c in columns))


__all__ = ["STAGE_FROM_ROWS", "insert_rows", "update_rows"]

"""The gateway's read models as a `ProgressSource`: the same kernel functions as in the services
compute the statuses, fed from the gateway's own tables."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, select

from minsheng.orgunits import CITY_CODE
from minsheng.progress.model import Observation
from minsheng.progress.periods import Period
from minsheng.progress.schemas import PendingValue, TaskStatusSummary
from minsheng_gateway.projection.models import (
    IndicatorProgressView,
    OfficialValue,
    ReportView,
    TaskStatusView,
    pending_condition,
)


class GatewaySource:
    def __init__(self, session: Session):
        self.session = session

    # Plain rows, not ORM objects: a summary on a cold day reads every official value there is.
    def official(
        self, codes: list[str], *, series: Sequence[tuple[str, str]] = (), periods: dict[str, set[str]] | None = None
    ) -> dict[str, list[Observation]]:
        """Every official value of `codes`; and, for the fold's partial roll-ups, the values of each
        (indicator, org unit) in `series`, and for each indicator in `periods` its values in those
        periods (any org unit) and all its city values.  One statement, a union of index lookups."""
        result: dict[str, list[Observation]] = defaultdict(list)
        if not (codes or series or periods):
            return result
        if not (series or periods):
            rows = self._run(_official_of_indicators(), codes=codes)
        else:
            pairs = [(code, period) for code, in_periods in (periods or {}).items() for period in sorted(in_periods)]
            rows = self._run(
                _official_for_fold(),
                codes=codes,
                period_codes=sorted(periods or {}),
                pairs={"series": list(series), "periods": pairs},
            )
        parsed: dict[str, Period] = {}
        for indicator, org_unit, period, value, numerator, denominator in rows:
            if (parsed_period := parsed.get(period)) is None:
                parsed_period = parsed[period] = Period.parse(period)
            result[indicator].append(
                Observation(
                    period=parsed_period, org_unit=org_unit, value=value, numerator=numerator, denominator=denominator
                )
            )
        return result

    def pending(self, codes: list[str]) -> dict[str, list[PendingValue]]:
        result: dict[str, list[PendingValue]] = defaultdict(list)
        for indicator, report_id, org_unit, period, value in self._run(_pending(), codes=codes):
            result[indicator].append(PendingValue(report_id=report_id, org_unit=org_unit, period=period, value=value))
        return result

    def stored_city_inputs(self, codes: list[str]) -> list[tuple[str, str | None]]:
        """(indicator, inputs as stored) of the city's progress rows of `codes`."""
        return list(self._run(_city_inputs(), codes=codes))

    def _run(
        self, statement: sa.Executable, *, pairs: dict[str, list[tuple[str, str]]] | None = None, **lists: list[str]
    ) -> sa.CursorResult:
        """`statement` (built once, `_among` and `_matching`) with its lists and pairs of keys bound."""
        params: dict[str, object] = dict(lists)
        for name, wanted in (pairs or {}).items():
            params[f"{name}_a"], params[f"{name}_b"] = [a for a, _ in wanted], [b for _, b in wanted]
        return self.session.connection().execute(statement, params)

    def task_statuses(self, numbers: list[int], org_unit: str, as_of: dt.date) -> dict[int, TaskStatusSummary]:
        result: dict[int, TaskStatusSummary] = {}
        for row in self.session.exec(
            select(TaskStatusView)
            .where(
                TaskStatusView.task_number.in_(numbers),
                TaskStatusView.org_unit_code == org_unit,
                TaskStatusView.period_end <= as_of,
            )
            .order_by(TaskStatusView.period_end)
        ):
            result[row.task_number] = TaskStatusSummary(
                state=row.state,
                period=row.period,
                narrative=row.narrative,
                problems=row.problems,
                reported_by=row.reported_by,
            )
        return result


# ---- the reads of every poll and summary, built once ------------------------------------------
# Building a statement costs more CPU than running it does for a live poll's few keys; so the keys
# are bound parameters, arrays: one SQL text whatever their number, a statement the driver prepares once.


def _among(column: sa.ColumnElement, name: str) -> sa.ColumnElement[bool]:
    return column == sa.any_(sa.bindparam(name, type_=ARRAY(sa.String)))


def _matching(columns: tuple, keys: tuple, name: str) -> sa.Select:
    """The rows whose `keys` are one of the pairs bound as `name`, joined as two arrays (`unnest`),
    one index lookup each: a row-value IN list is an OR that PostgreSQL evaluates for every row of the
    table once the list is long (a catching-up poll's hundreds of series)."""
    wanted = sa.func.unnest(
        sa.bindparam(f"{name}_a", type_=ARRAY(sa.String)), sa.bindparam(f"{name}_b", type_=ARRAY(sa.String))
    )
    wanted = wanted.table_valued("a", "b").render_derived(name=f"wanted_{name}")
    return sa.select(*columns).join(wanted, sa.and_(keys[0] == wanted.c.a, keys[1] == wanted.c.b))


def _official_columns() -> tuple:
    table = OfficialValue.__table__
    return (
        table.c.indicator_code,
        table.c.org_unit_code,
        table.c.period,
        table.c.value,
        table.c.numerator,
        table.c.denominator,
    )


@functools.cache
def _official_of_indicators() -> sa.Select:
    columns = _official_columns()
    return sa.select(*columns).where(_among(columns[0], "codes"))


@functools.cache
def _official_for_fold() -> sa.CompoundSelect:
    """UNION: a row found by two of the lookups is read once."""
    table, columns = OfficialValue.__table__, _official_columns()
    return sa.union(
        sa.select(*columns).where(_among(table.c.indicator_code, "codes")),
        _matching(columns, (table.c.indicator_code, table.c.org_unit_code), "series"),
        _matching(columns, (table.c.indicator_code, table.c.period), "periods"),
        sa.select(*columns).where(table.c.org_unit_code == CITY_CODE, _among(table.c.indicator_code, "period_codes")),
    )


@functools.cache
def _city_inputs() -> sa.Select:
    table = IndicatorProgressView.__table__
    return sa.select(table.c.indicator_code, table.c.inputs).where(
        table.c.org_unit_code == CITY_CODE, _among(table.c.indicator_code, "codes")
    )


@functools.cache
def _pending() -> sa.Select:
    table = ReportView.__table__
    # The partial index's own condition (ix_report_view_pending), so the index serves it.
    return (
        sa.select(table.c.indicator_code, table.c.report_id, table.c.org_unit_code, table.c.period, table.c.value)
        .where(_among(table.c.indicator_code, "codes"), sa.text(pending_condition()))
        .order_by(table.c.period_end)
    )

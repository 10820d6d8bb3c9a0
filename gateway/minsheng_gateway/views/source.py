"""The gateway's read models as a `ProgressSource`: the same kernel functions as in the services
compute the statuses, fed from the gateway's own tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, select

from minsheng.orgunits import CITY_CODE
from minsheng.progress.model import Observation
from minsheng.progress.periods import Period
from minsheng.progress.schemas import PendingValue, TaskStatusSummary
from minsheng_gateway.views.models import OfficialValue, ReportView, TaskStatusView


class GatewaySource:
    def __init__(self, session: Session):
        self.session = session

    # Plain rows, not ORM objects: a summary on a cold day reads every official value there is.
    def official(self, codes: list[str], *, series: Sequence[tuple[str, str]] = (),
                 periods: dict[str, set[str]] | None = None) -> dict[str, list[Observation]]:
        """Every official value of `codes`; and, for the fold's partial roll-ups, the values of each
        (indicator, org unit) in `series`, and for each indicator in `periods` its values in those
        periods (any org unit) and all its city values.  One statement, a union of index lookups."""
        table = OfficialValue
        columns = (table.indicator_code, table.org_unit_code, table.period, table.value, table.numerator,
                   table.denominator)
        parts = [sa.select(*columns).where(table.indicator_code.in_(codes))] if codes else []
        if series:
            parts.append(self._matching(columns, (table.indicator_code, table.org_unit_code), series))
        if periods:
            parts.append(self._matching(columns, (table.indicator_code, table.period),
                                        [(code, period) for code, in_periods in periods.items()
                                         for period in sorted(in_periods)]))
            parts.append(sa.select(*columns).where(table.org_unit_code == CITY_CODE,
                                                   table.indicator_code.in_(sorted(periods))))
        result: dict[str, list[Observation]] = defaultdict(list)
        if not parts:
            return result
        parsed: dict[str, Period] = {}
        for indicator, org_unit, period, value, numerator, denominator in self.session.execute(
                parts[0] if len(parts) == 1 else sa.union(*parts)):  # UNION: a row found twice is read once
            if (parsed_period := parsed.get(period)) is None:
                parsed_period = parsed[period] = Period.parse(period)
            result[indicator].append(Observation(period=parsed_period, org_unit=org_unit, value=value,
                                                 numerator=numerator, denominator=denominator))
        return result

    def _matching(self, columns: tuple, keys: tuple, pairs: Sequence[tuple[str, str]]) -> sa.Select:
        """The rows whose `keys` are one of `pairs`.  On PostgreSQL the pairs are joined as two arrays
        (`unnest`), one index lookup each: a row-value IN list is an OR that PostgreSQL evaluates for
        every row of the table once the list is long (a catching-up poll's hundreds of series)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return sa.select(*columns).where(sa.tuple_(*keys).in_(list(pairs)))
        wanted = sa.func.unnest(sa.literal([a for a, _ in pairs], ARRAY(sa.String)),
                                sa.literal([b for _, b in pairs], ARRAY(sa.String)))
        wanted = wanted.table_valued("a", "b").render_derived()
        return sa.select(*columns).join(wanted, sa.and_(keys[0] == wanted.c.a, keys[1] == wanted.c.b))

    def pending(self, codes: list[str]) -> dict[str, list[PendingValue]]:
        result: dict[str, list[PendingValue]] = defaultdict(list)
        for indicator, report_id, org_unit, period, value in self.session.execute(
                sa.select(ReportView.indicator_code, ReportView.report_id, ReportView.org_unit_code, ReportView.period,
                          ReportView.value)
                .where(ReportView.indicator_code.in_(codes), ReportView.is_current == True,  # noqa: E712
                       ReportView.status == "submitted").order_by(ReportView.period_end)):
            result[indicator].append(PendingValue(report_id=report_id, org_unit=org_unit, period=period, value=value))
        return result

    def task_statuses(self, numbers: list[int], org_unit: str, as_of: dt.date) -> dict[int, TaskStatusSummary]:
        result: dict[int, TaskStatusSummary] = {}
        for row in self.session.exec(select(TaskStatusView).where(
                TaskStatusView.task_number.in_(numbers), TaskStatusView.org_unit_code == org_unit,
                TaskStatusView.period_end <= as_of).order_by(TaskStatusView.period_end)):
            result[row.task_number] = TaskStatusSummary(state=row.state, period=row.period, narrative=row.narrative,
                                                        problems=row.problems, reported_by=row.reported_by)
        return result

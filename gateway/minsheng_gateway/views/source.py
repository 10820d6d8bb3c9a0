"""The gateway's read models as a `ProgressSource`: the same kernel functions as in the services
compute the statuses, fed from the gateway's own tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, select

from minsheng.progress.model import Observation
from minsheng.progress.periods import Period
from minsheng.progress.schemas import PendingValue, TaskStatusSummary
from minsheng_gateway.views.models import OfficialValue, ReportView, TaskStatusView


class GatewaySource:
    def __init__(self, session: Session):
        self.session = session

    def official(self, codes: list[str]) -> dict[str, list[Observation]]:
        result: dict[str, list[Observation]] = defaultdict(list)
        for row in self.session.exec(select(OfficialValue).where(OfficialValue.indicator_code.in_(codes))):
            result[row.indicator_code].append(Observation(period=Period.parse(row.period), org_unit=row.org_unit_code,
                                                          value=row.value, numerator=row.numerator,
                                                          denominator=row.denominator))
        return result

    def pending(self, codes: list[str]) -> dict[str, list[PendingValue]]:
        result: dict[str, list[PendingValue]] = defaultdict(list)
        for row in self.session.exec(select(ReportView).where(
                ReportView.indicator_code.in_(codes), ReportView.is_current == True,  # noqa: E712
                ReportView.status == "submitted").order_by(ReportView.period_end)):
            result[row.indicator_code].append(PendingValue(report_id=row.report_id, org_unit=row.org_unit_code,
                                                           period=row.period, value=row.value))
        return result

    def task_statuses(self, numbers: list[int], org_unit: str, as_of: dt.date) -> dict[int, TaskStatusSummary]:
        result: dict[int, TaskStatusSummary] = {}
        for row in self.session.exec(select(TaskStatusView).where(
                TaskStatusView.task_number.in_(numbers), TaskStatusView.org_unit_code == org_unit,
                TaskStatusView.period_end <= as_of).order_by(TaskStatusView.period_end)):
            result[row.task_number] = TaskStatusSummary(state=row.state, period=row.period, narrative=row.narrative,
                                                        problems=row.problems, reported_by=row.reported_by)
        return result

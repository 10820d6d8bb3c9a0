"""Reporting completeness (填报完成情况): for one period, what each lead department and each district owes
and how much of it has been handed in and approved.

"Who owes what" is the inbox's (`inbox.service.owed_series` for a bureau and for a district), the periods
due are the reporting calendar's, and the rows are the inbox's rows: this module only counts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from minsheng.auth.models import Role
from minsheng.auth.principal import Principal
from minsheng.catalog.models import OrgUnit, Task, TaskLeadDepartment
from minsheng.orgunits import CITY_CODE
from minsheng.progress.periods import Period
from minsheng.reporting.calendar import ReportingCalendar
from minsheng_gateway.inbox.models import InboxItemPublic, InboxState
from minsheng_gateway.inbox.service import OwingCatalog, Series, inbox_items, owed_series


class CompletenessRow(BaseModel):
    code: str | None = Field(description="区县代码；部门行为空")
    name: str = Field(description="牵头部门或区县名称")
    owed: int = Field(description="本期应报（指标×单位×期间）")
    submitted: int = Field(description="已报送（待审核或已通过）")
    approved: int = Field(description="已审核通过")
    returned: int = Field(description="被退回待重报")
    share: float | None = Field(description="报送率：已报送 / 应报；无应报为空")


class Completeness(BaseModel):
    as_of: dt.date
    period: str | None = Field(description="所问的期间；空为各报送频次的本期（最近一个已结束的期间）")
    periods: list[str] = Field(description="统计所涵盖的期间")
    departments: list[CompletenessRow]
    districts: list[CompletenessRow]


def _count(code: str | None, name: str, rows: Iterable[InboxItemPublic]) -> CompletenessRow:
    states = [r.state for r in rows]
    submitted = sum(1 for s in states if s in (InboxState.submitted, InboxState.approved))
    return CompletenessRow(
        code=code,
        name=name,
        owed=len(states),
        submitted=submitted,
        approved=states.count(InboxState.approved),
        returned=states.count(InboxState.returned),
        share=round(submitted / len(states), 4) if states else None,
    )


def _lead_departments(session: Session) -> list[str]:
    """Every department leading a task still in the plan, in the order the plan names them."""
    rows = session.exec(
        select(TaskLeadDepartment.department)
        .join(Task, Task.number == TaskLeadDepartment.task_number)
        .where(Task.retired == False)  # noqa: E712
        .order_by(TaskLeadDepartment.task_number, TaskLeadDepartment.position)
    )
    return list(dict.fromkeys(rows))


def completeness(
    *, session: Session, calendar: ReportingCalendar, today: dt.date, period: Period | None, replay: bool = False
) -> Completeness:
    """`replay`: `today` is a past day, counted as the reports stood at its end."""
    owers: list[tuple[str | None, str, set[tuple[str, str]]]] = []
    union: dict[tuple[str, str], Series] = {}
    catalog = OwingCatalog.read(session)

    def owes(code: str | None, name: str, principal: Principal) -> None:
        series, _ = owed_series(session=session, principal=principal, catalog=catalog)
        owers.append((code, name, {(i.code, org_unit) for i, org_unit in series}))
        union.update({(i.code, org_unit): (i, org_unit) for i, org_unit in series})

    departments = _lead_departments(session)
    for department in departments:
        owes(None, department, Principal(account_id=0, name=department, role=Role.bureau, department=department))
    districts = list(session.exec(select(OrgUnit).where(OrgUnit.code != CITY_CODE).order_by(OrgUnit.code)))
    for district in districts:
        owes(
            district.code,
            district.name,
            Principal(account_id=0, name=district.name, role=Role.district, org_unit=district.code),
        )

    rows = inbox_items(
        session=session,
        series=list(union.values()),
        calendar=calendar,
        today=today,
        share_of=period,
        share_only=True,
        replay=replay,
    )
    by_series: dict[tuple[str, str], list[InboxItemPublic]] = {}
    for row in rows:
        by_series.setdefault((row.indicator_id, row.org_unit), []).append(row)
    counted = [
        _count(code, name, (row for key in keys for row in by_series.get(key, []))) for code, name, keys in owers
    ]
    return Completeness(
        as_of=today,
        period=period.code if period else None,
        periods=sorted({r.period for r in rows}, key=Period.parse),
        departments=counted[: len(departments)],
        districts=counted[len(departments) :],
    )

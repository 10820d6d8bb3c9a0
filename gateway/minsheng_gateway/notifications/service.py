"""Who owes what, for the notifier: the inbox's own rules (`inbox.service`) for every enabled account."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from minsheng.catalog.models import Indicator, OrgUnit, TaskLeadDepartment
from minsheng.reporting.calendar import ReportingCalendar
from minsheng_gateway.identity.models import Account
from minsheng_gateway.inbox import service as inbox
from minsheng_gateway.inbox.models import DONE_STATES, InboxItemKind
from minsheng_gateway.notifications.models import OwedItem, Person, PersonOwes


def people(session: Session) -> list[Account]:
    return list(session.exec(select(Account).where(Account.disabled == False).order_by(Account.id)))  # noqa: E712


def person(account: Account) -> Person:
    return Person(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role.value,
        department=account.department,
        org_unit=account.org_unit,
        head=account.head,
        email=account.email,
        mobile=account.mobile,
        robots=list(account.robots or ()),
        muted=list(account.muted or ()),
    )


def _leads(session: Session) -> dict[int, list[str]]:
    leads: dict[int, list[str]] = {}
    for row in session.exec(select(TaskLeadDepartment).order_by(TaskLeadDepartment.position)):
        leads.setdefault(row.task_number, []).append(row.department)
    return leads


def owed(
    *, session: Session, accounts: list[Account], calendar: ReportingCalendar, on: dt.date, horizon: int
) -> list[PersonOwes]:
    """Every account's reports not in, due by `on` + `horizon` days (overdue ones included)."""
    catalog, leads = inbox.OwingCatalog.read(session), _leads(session)
    answer = []
    for account in accounts:
        series, _ = inbox.owed_series(session=session, principal=account.principal(), catalog=catalog)
        if not series:
            continue
        rows = inbox.inbox_items(session=session, series=series, calendar=calendar, today=on)
        items = [
            OwedItem(
                indicator_id=row.indicator_id,
                indicator_name=row.indicator_name,
                org_unit=row.org_unit,
                org_unit_name=row.org_unit_name,
                period=row.period,
                due_date=row.due_date,
                state=row.state,
                state_label=row.state_label,
                task=row.task,
                lead_departments=leads.get(row.task, []) if row.task is not None else [],
                return_reason=row.return_reason,
            )
            for row in rows
            if row.kind is InboxItemKind.indicator
            and row.state not in DONE_STATES
            and row.due_date <= on + dt.timedelta(days=horizon)
        ]
        if items:
            answer.append(PersonOwes(account_id=account.id, items=items))
    return answer


def owers(*, session: Session, accounts: list[Account], indicator: str, org_unit: str) -> list[Account]:
    """The accounts that owe this series (the people a 退回 of it is for)."""
    catalog = inbox.OwingCatalog.read(session)
    found = []
    for account in accounts:
        series, _ = inbox.owed_series(session=session, principal=account.principal(), catalog=catalog)
        if any(i.code == indicator and unit == org_unit for i, unit in series):
            found.append(account)
    return found


def names(*, session: Session, indicator: str, org_unit: str) -> dict[str, str | None]:
    found, unit = session.get(Indicator, indicator), session.get(OrgUnit, org_unit)
    return {"indicator_name": found.name if found else None, "org_unit_name": unit.name if unit else None}

"""What the signed-in person owes: the permission rules' scope × the reporting calendar × the reports the
gateway has folded.  Reads the gateway's own tables only (catalog, report_view, accounts).

Who owes what: what the kernel's rules let each report (`may_report`, and `reportable_at` for the
city-only indicators), narrowed to what each is expected to report:
- a bureau: the indicators of the tasks its department leads, for the city (the districts report their
  own shares);
- a district: every indicator that is not city-only, for itself;
- the city office: what nobody else owes: the campaign-level indicators, and the indicators of tasks
  none of whose lead departments has a bureau account, for the city;
- an integration account: the indicators granted to it, for the city; a viewer: nothing;
- and nobody owes anything of a task the city office set apart (`active_indicators`).

Besides the figures, a task's partners (协办单位, decision 0020) owe their own part of it once a quarter
(`owed_parts`, the kernel's `own_part`): a partner bureau for the city, a partner district for itself.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from minsheng.auth.models import Role
from minsheng.auth.principal import IndicatorScope, Principal, TaskPart, TaskScope, may_report, own_part
from minsheng.catalog.document import PlanDoc, ReportingFrequency
from minsheng.catalog.models import (
    Campaign,
    Indicator,
    OrgUnit,
    Task,
    TaskLeadDepartment,
    TaskPartnerDepartment,
    WorkItem,
)
from minsheng.catalog.snapshot import plan_of
from minsheng.orgunits import CITY_CODE
from minsheng.progress.periods import Period
from minsheng.reporting.calendar import DuePeriod, Relevance, ReportingCalendar
from minsheng.reporting.validation import reportable_at
from minsheng_gateway.identity.models import Account
from minsheng_gateway.inbox.models import (
    DONE_STATES,
    INBOX_KIND_LABELS,
    INBOX_STATE_LABELS,
    InboxItemKind,
    InboxItemPublic,
    InboxState,
    InboxSummary,
)
from minsheng_gateway.projection.models import FollowUpView, ReportView, TaskPartView, TaskStatusView
from minsheng_gateway.reads import current_as_of, known_by, tasks_apart

Series = tuple[Indicator, str]  # an indicator and the org unit it is owed for
PartOwed = tuple[int, TaskPart]  # a task and the part of it a partner owes
# How often a partner reports its part: a quarter, as the city's 季考评 reviews the tasks (decision 0020).
PART_FREQUENCY = ReportingFrequency.quarter
PARTS_RULE = "；协办任务中本单位承担部分的进展（每季度）"


def active_indicators(session: Session) -> list[Indicator]:
    """The indicators anyone may owe: in the plan, and not of a task counted apart (暂缓实施, 已取消, 待确定:
    nothing is owed for it, so no inbox, completeness share or overdue warning counts it)."""
    apart = tasks_apart(session)
    indicators = session.exec(
        select(Indicator)
        .where(Indicator.retired == False)  # noqa: E712
        .order_by(Indicator.campaign_code, Indicator.task_number.nulls_first(), Indicator.position)
    )
    return [i for i in indicators if i.task_number is None or i.task_number not in apart]


def lead_departments(session: Session) -> dict[int, set[str]]:
    leads: dict[int, set[str]] = defaultdict(set)
    for row in session.exec(select(TaskLeadDepartment)):
        leads[row.task_number].add(row.department)
    return leads


def task_partners(session: Session) -> dict[int, tuple[str, ...]]:
    """The partners of the tasks in the plan that have any, but of no task set apart (nothing is owed for it)."""
    apart = tasks_apart(session)
    partners: dict[int, list[str]] = defaultdict(list)
    for number, department in session.exec(
        select(TaskPartnerDepartment.task_number, TaskPartnerDepartment.department)
        .join(Task, Task.number == TaskPartnerDepartment.task_number)
        .where(Task.retired == False)  # noqa: E712
        .order_by(TaskPartnerDepartment.task_number, TaskPartnerDepartment.position)
    ):
        if number not in apart:
            partners[number].append(department)
    return {number: tuple(names) for number, names in partners.items()}


@dataclass(frozen=True)
class OwingCatalog:
    """What the rules of who owes what read: the indicators in the plan, each task's lead departments, and
    the departments with a bureau account. Read once to count for many people at once (completeness)."""

    indicators: list[Indicator]
    leads: dict[int, set[str]]
    bureau_departments: set[str]
    partners: dict[int, tuple[str, ...]] = field(default_factory=dict)  # `task_partners`

    @classmethod
    def read(cls, session: Session) -> OwingCatalog:
        bureaus = session.exec(
            select(Account.department).where(
                Account.role == Role.bureau,
                Account.disabled == False,  # noqa: E712
                Account.department.is_not(None),
            )
        )
        return cls(
            indicators=active_indicators(session),
            leads=lead_departments(session),
            bureau_departments=set(bureaus),
            partners=task_partners(session),
        )


def owed_series(
    *, session: Session, principal: Principal, catalog: OwingCatalog | None = None
) -> tuple[list[Series], str]:
    """The indicator × org unit pairs this person owes, and the rule in words (for the page).
    `catalog`: already read (see `OwingCatalog`)."""
    catalog = catalog or OwingCatalog.read(session)
    leads, role = catalog.leads, principal.role
    # Each owes for one org unit: a district for itself; the others for the city (the districts report
    # their own shares).
    org_unit = principal.org_unit if role is Role.district else CITY_CODE
    mine = []
    for indicator in catalog.indicators:
        scope = IndicatorScope(
            code=indicator.code,
            task_number=indicator.task_number,
            lead_departments=tuple(leads[indicator.task_number]) if indicator.task_number is not None else (),
            city_only=indicator.city_only,
        )
        if reportable_at(scope, org_unit) and may_report(principal, scope, org_unit, bulk=True):
            mine.append(indicator)
    if role is Role.bureau:
        rule = f"{principal.department}牵头任务的指标（全市数）"
    elif role is Role.district:
        rule = "本单位的各项指标（市级专属指标除外）"
    elif role is Role.city_office:
        # It may report anything; it owes what nobody else does.
        bureaus = catalog.bureau_departments
        mine = [i for i in mine if i.task_number is None or not (leads[i.task_number] & bureaus)]
        rule = "行动总目标，以及牵头部门尚无账号的任务指标（全市数）"
    elif role is Role.integration:
        rule = "授权写入的指标（全市数）"
    else:
        return [], "只读身份无需填报"
    return [(i, org_unit) for i in mine], rule


def owed_parts(*, principal: Principal, catalog: OwingCatalog) -> list[PartOwed]:
    """The tasks this person partners and the part of each it reports (the kernel's `own_part`), in task order."""
    owed = []
    for number, partners in sorted(catalog.partners.items()):
        part = own_part(principal, TaskScope(number, tuple(sorted(catalog.leads[number])), partners))
        if part is not None:
            owed.append((number, part))
    return owed


def _current_reports(
    session: Session, series: list[Series], periods: set[str] | None = None, as_of: dt.date | None = None
) -> dict[tuple[str, str, str], ReportView]:
    """The current revision of every report of these series (of these periods only, if given), by
    indicator × org unit × period; with `as_of`, the one that counted at the end of that day, as it
    stood then (`reads.py`)."""
    if not series:
        return {}
    wanted = {(i.code, org_unit) for i, org_unit in series}
    query = select(ReportView).where(
        ReportView.indicator_code.in_(sorted({code for code, _ in wanted})),
        ReportView.org_unit_code.in_(sorted({org_unit for _, org_unit in wanted})),
    )
    if periods is not None:
        query = query.where(ReportView.period.in_(sorted(periods)))
    if as_of is not None:
        rows = [r for r in session.exec(query.where(known_by(as_of))) if (r.indicator_code, r.org_unit_code) in wanted]
        return current_as_of(rows, as_of)
    current: dict[tuple[str, str, str], ReportView] = {}
    for row in session.exec(query.where(ReportView.is_current == True)):  # noqa: E712
        key = (row.indicator_code, row.org_unit_code, row.period)
        if (row.indicator_code, row.org_unit_code) in wanted and (
            key not in current or current[key].updated_at <= row.updated_at
        ):
            current[key] = row
    return current


def _state(report: ReportView | None) -> InboxState:
    return InboxState.not_reported if report is None else InboxState(report.status)


def _in_share(code: str, current: bool, period: Period | None) -> bool:
    """Whether a row counts in a period's share: the period asked for, else this period of its frequency."""
    return code == period.code if period is not None else current


def is_overdue(report: ReportView | None, due: DuePeriod, today: dt.date) -> bool:
    """Past its due date without a report that counts (submitted or approved; a returned one does not)."""
    return _state(report) not in DONE_STATES and due.overdue(today)


@dataclass(frozen=True)
class _Names:
    """What an inbox row says of where its indicator stands: the campaign, work item and task, the org unit."""

    campaigns: dict[str, Campaign]
    tasks: dict[int, Task]
    items: dict[int, WorkItem]
    org_units: dict[str, str]

    @classmethod
    def read(cls, session: Session) -> _Names:
        return cls(
            campaigns={c.code: c for c in session.exec(select(Campaign))},
            tasks={t.number: t for t in session.exec(select(Task))},
            items={w.number: w for w in session.exec(select(WorkItem))},
            org_units={o.code: o.name for o in session.exec(select(OrgUnit))},
        )

    def item(
        self,
        indicator: Indicator,
        org_unit: str,
        due: DuePeriod,
        *,
        current: bool,
        report: ReportView | None,
        today: dt.date,
    ) -> InboxItemPublic:
        task = self.tasks.get(indicator.task_number) if indicator.task_number is not None else None
        item = self.items.get(task.item_number) if task is not None else None
        state = _state(report)
        return InboxItemPublic(
            campaign=indicator.campaign_code,
            campaign_name=self.campaigns[indicator.campaign_code].name,
            item=item.number if item else None,
            item_title=item.title if item else None,
            task=task.number if task else None,
            task_title=task.title if task else None,
            indicator_id=indicator.code,
            indicator_name=indicator.name,
            unit=indicator.unit,
            frequency=indicator.frequency,
            org_unit=org_unit,
            org_unit_name=self.org_units.get(org_unit, org_unit),
            period=due.period.code,
            due_date=due.due,
            overdue=is_overdue(report, due, today),
            current=current,
            state=state,
            state_label=INBOX_STATE_LABELS[state],
            return_reason=report.return_reason if state is InboxState.returned else None,
            report_id=report.report_id if report else None,
            value=report.value if report else None,
        )

    def part(
        self, number: int, part: TaskPart, due: DuePeriod, *, current: bool, reported: bool, today: dt.date
    ) -> InboxItemPublic:
        task = self.tasks[number]
        item = self.items.get(task.item_number)
        state = InboxState.reported if reported else InboxState.not_reported
        return InboxItemPublic(
            kind=InboxItemKind.partner_part,
            kind_label=INBOX_KIND_LABELS[InboxItemKind.partner_part],
            campaign=task.campaign_code,
            campaign_name=self.campaigns[task.campaign_code].name,
            item=item.number if item else None,
            item_title=item.title if item else None,
            task=task.number,
            task_title=task.title,
            indicator_id=None,
            indicator_name=None,
            unit=None,
            partner_department=part.department,
            frequency=PART_FREQUENCY,
            org_unit=part.org_unit,
            org_unit_name=self.org_units.get(part.org_unit, part.org_unit),
            period=due.period.code,
            due_date=due.due,
            overdue=not reported and due.overdue(today),
            current=current,
            state=state,
            state_label=INBOX_STATE_LABELS[state],
        )


def _inbox_order(row: InboxItemPublic) -> tuple:
    """Returned first, then overdue, then by due date."""
    return (
        row.state is not InboxState.returned,
        not row.overdue,
        row.due_date,
        row.campaign,
        row.indicator_id or "",
        row.task or 0,
    )


def _reported_parts(session: Session, parts: list[PartOwed]) -> set[tuple[int, str, str]]:
    """(task, department or org unit, period) of the parts reported: a department's in `task_part_view`, a
    district's as its own task status."""
    numbers = sorted({number for number, _ in parts})
    units = sorted({part.org_unit for _, part in parts if part.department is None})
    found = set(
        session.exec(
            select(TaskPartView.task_number, TaskPartView.department, TaskPartView.period).where(
                TaskPartView.task_number.in_(numbers)
            )
        ).all()
    )
    if units:
        found |= set(
            session.exec(
                select(TaskStatusView.task_number, TaskStatusView.org_unit_code, TaskStatusView.period).where(
                    TaskStatusView.task_number.in_(numbers), TaskStatusView.org_unit_code.in_(units)
                )
            ).all()
        )
    return {tuple(row) for row in found}


def part_relevance(deadline: dt.date, plan: PlanDoc) -> Relevance:
    """A part is owed over the plan up to the quarter of the task's deadline."""
    last = Period.parse(f"{deadline.year}Q{(deadline.month - 1) // 3 + 1}").end
    return Relevance(plan.start, min(plan.end, last))


def _part_items(
    session: Session, names: _Names, parts: list[PartOwed], calendar: ReportingCalendar, today: dt.date, plan: PlanDoc
) -> list[InboxItemPublic]:
    """Every quarter due of every part owed (as it stands now), reported or not."""
    if not parts:
        return []
    current = calendar.current(PART_FREQUENCY, today, plan=plan)
    reported = _reported_parts(session, parts)
    rows = []
    for number, part in parts:
        relevance = part_relevance(names.tasks[number].deadline, plan)
        for due in calendar.due_periods(PART_FREQUENCY, today, plan=plan, relevance=relevance):
            who = part.department or part.org_unit
            rows.append(
                names.part(
                    number,
                    part,
                    due,
                    current=current is not None and due.period == current.period,
                    reported=(number, who, due.period.code) in reported,
                    today=today,
                )
            )
    return rows


def inbox_items(
    *,
    session: Session,
    series: list[Series],
    calendar: ReportingCalendar,
    today: dt.date,
    share_of: Period | None = None,
    share_only: bool = False,
    replay: bool = False,
    parts: list[PartOwed] = (),
) -> list[InboxItemPublic]:
    """Every period due of every series owed (periods that have ended, within the indicator's relevance),
    in the inbox's order: returned first, then overdue, then by due date.  `share_only`: only the rows
    of the share of `share_of` (see `period_rows`), read without the other periods' reports.  `replay`:
    `today` is a past day, and the reports are as they stood at its end.  `parts`: the partners' parts owed
    too (`owed_parts`; the inbox's, read as they stand now)."""
    names = _Names.read(session)
    plan = plan_of(session)
    current_periods = {f: calendar.current(f, today, plan=plan) for f in {i.frequency for i, _ in series}}
    shared = None
    if share_only:
        shared = {share_of.code} if share_of else {c.period.code for c in current_periods.values() if c}
    reports = _current_reports(session, series, shared, today if replay else None)

    # Every series of one frequency and relevance has the same periods due: listed once.
    @functools.cache
    def due_periods(frequency: ReportingFrequency, relevance: Relevance) -> list[DuePeriod]:
        return calendar.due_periods(frequency, today, plan=plan, relevance=relevance)

    rows: list[InboxItemPublic] = []
    for indicator, org_unit in series:
        current = current_periods[indicator.frequency]
        for due in due_periods(indicator.frequency, Relevance.of(indicator.kind, indicator.horizon, plan=plan)):
            is_current = current is not None and due.period == current.period
            if share_only and not _in_share(due.period.code, is_current, share_of):
                continue
            report = reports.get((indicator.code, org_unit, due.period.code))
            rows.append(names.item(indicator, org_unit, due, current=is_current, report=report, today=today))
    rows.extend(_part_items(session, names, list(parts), calendar, today, plan))
    rows.sort(key=_inbox_order)
    return rows


def follow_up_items(*, session: Session, series: list[Series]) -> list[InboxItemPublic]:
    """The open follow-up marks (待核实) on values of the series owed: whoever may report a value answers for it.
    Listed first, oldest mark first; they count in no period's share (the value itself was reported)."""
    owed = {(indicator.code, org_unit): indicator for indicator, org_unit in series}
    marks = session.exec(
        select(FollowUpView, ReportView.value)
        .outerjoin(ReportView, ReportView.report_id == FollowUpView.report_id)
        .where(FollowUpView.closed_at == None)  # noqa: E711
        .order_by(FollowUpView.opened_at, FollowUpView.follow_up)
    ).all()
    if not marks:
        return []
    names = _Names.read(session)
    rows = []
    for mark, value in marks:
        indicator = owed.get((mark.indicator_code, mark.org_unit_code))
        if indicator is None:
            continue
        task = names.tasks.get(indicator.task_number) if indicator.task_number is not None else None
        item = names.items.get(task.item_number) if task is not None else None
        rows.append(
            InboxItemPublic(
                kind=InboxItemKind.follow_up,
                kind_label=INBOX_KIND_LABELS[InboxItemKind.follow_up],
                campaign=indicator.campaign_code,
                campaign_name=names.campaigns[indicator.campaign_code].name,
                item=item.number if item else None,
                item_title=item.title if item else None,
                task=task.number if task else None,
                task_title=task.title if task else None,
                indicator_id=indicator.code,
                indicator_name=indicator.name,
                unit=indicator.unit,
                frequency=indicator.frequency,
                org_unit=mark.org_unit_code,
                org_unit_name=names.org_units.get(mark.org_unit_code, mark.org_unit_code),
                period=mark.period,
                due_date=mark.opened_at.date(),
                overdue=False,
                current=False,
                state=InboxState.follow_up,
                state_label=INBOX_STATE_LABELS[InboxState.follow_up],
                report_id=mark.report_id,
                value=value,
                follow_up=mark.follow_up,
                follow_up_comment=mark.comment,
                follow_up_answer=mark.answer,
            )
        )
    return rows


def period_rows(rows: list[InboxItemPublic], *, period: Period | None) -> list[InboxItemPublic]:
    """The rows of the period the share is of: the one asked for, else this period of each frequency."""
    return [r for r in rows if _in_share(r.period, r.current, period)]


def select_items(
    rows: list[InboxItemPublic], *, period: Period | None, state: InboxState | None
) -> tuple[list[InboxItemPublic], InboxSummary]:
    """The rows asked for and the summary of their period(s).  Without a period: this period of each
    frequency, and whatever earlier is still owed (overdue or returned)."""
    of_period = period_rows(rows, period=period)
    if period is not None:
        shown = of_period
    else:
        shown = [r for r in rows if r.current or r.state not in DONE_STATES]
    if state is not None:
        shown = [r for r in shown if r.state is state]
    done = sum(1 for r in of_period if r.state in DONE_STATES)
    summary = InboxSummary(
        periods=sorted({r.period for r in of_period}, key=lambda code: Period.parse(code)),
        owed=len(of_period),
        done=done,
        share_done=round(done / len(of_period), 4) if of_period else None,
        overdue=sum(1 for r in rows if r.overdue),
        returned=sum(1 for r in rows if r.state is InboxState.returned),
    )
    return shown, summary

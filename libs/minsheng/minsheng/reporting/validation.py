"""The rules a report must pass, each with a message a bureau clerk can act on and a stable code.

`check_report` returns every problem of a row (bulk uploads name them all); nothing here writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from minsheng.auth.principal import IndicatorScope, Principal, authorize_report
from minsheng.catalog.document import Aggregation
from minsheng.catalog.snapshot import CatalogSnapshot, IndicatorFact
from minsheng.errors import Forbidden, Unprocessable
from minsheng.orgunits import CITY_CODE
from minsheng.progress.periods import Period, parse_plan_period
from minsheng.progress.scale import ratio_scale
from minsheng.quality.service import Entry, Evaluation, blocked_message, evaluate, needs_evaluation, rule_set
from minsheng.reporting.implementation import TaskStates, refusal
from minsheng.reporting.locks import PeriodLocks, locked_message
from minsheng.reporting.models import PeriodLock
from minsheng.reporting.schemas import ReportCreate, RowError

# Units where a value below zero can be meaningful (a change in percentage points).
SIGNED_UNITS = {"百分点"}
PERCENT = "%"


EVIDENCE_REQUIRED = "evidence_required"


def evidence_required_message(subject: str) -> str:
    """The refusal of a submission without the evidence its catalog entry requires (须附佐证): a report's value, a
    task's status.  A workbook row carries no files, hence the way to do it."""
    return (
        f"{subject}须附佐证材料：请上传照片、验收证明、名单等佐证文件后再提交"
        "（Excel 文件不能附文件，此类指标请在「数据填报」页面填报并上传佐证）"
    )


def refuse_without_evidence(required: bool, evidence: list, subject: str) -> None:
    """须附佐证 for a request of its own (a task status): 422 `evidence_required`."""
    if required and not evidence:
        raise Unprocessable(evidence_required_message(subject), code=EVIDENCE_REQUIRED)


@dataclass(frozen=True)
class CheckedReport:
    """A row that passed every rule, with the value computed from numerator/denominator if omitted."""

    row: ReportCreate
    indicator: IndicatorFact
    period: Period
    value: float
    # The data quality rules evaluated for it (`with_quality`); None: no rule names its indicator there.
    quality: Evaluation | None = None

    @property
    def entry(self) -> Entry:
        return Entry(self.indicator.code, self.row.org_unit, self.period.code, self.value)


def with_quality(ctx: ReportContext, checked: Sequence[CheckedReport]) -> list[CheckedReport]:
    """The rows with the plan's data quality rules evaluated (issue 30): a database read only when a rule names one of
    their indicators."""
    rules = rule_set(ctx.session, ctx.catalog)
    entries = [c.entry for c in checked]
    if not needs_evaluation(rules, entries):
        return list(checked)
    evaluations = evaluate(ctx.session, rules, entries)
    return [dataclasses.replace(c, quality=e) for c, e in zip(checked, evaluations, strict=True)]


def quality_refusal(checked: CheckedReport) -> str | None:
    """Why a row may not be saved as it is: a 高 rule failed and its 说明 does not explain it."""
    if checked.quality is None or not checked.quality.blocking or checked.row.note.strip():
        return None
    return blocked_message(checked.quality.blocking)


@dataclass
class ReportContext:
    """Catalog lookups (the process's snapshot), the period locks and the tasks' states, for a request's rows."""

    session: Session
    today: dt.date
    catalog: CatalogSnapshot
    # None where the write itself checks the locks and states in its transaction (group commit): no query here.
    locks: PeriodLocks | None = None
    task_states: TaskStates | None = None

    def indicator(self, code: str) -> IndicatorFact | None:
        return self.catalog.indicators.get(code)

    def org_unit_exists(self, code: str) -> bool:
        return code in self.catalog.org_units

    def lead_departments(self, task_number: int | None) -> tuple[str, ...]:
        return self.catalog.lead_departments.get(task_number, ()) if task_number else ()

    def lock_covering(self, period: Period) -> PeriodLock | None:
        return None if self.locks is None else self.locks.covering(self.session, period)

    def task_refusal(self, indicator: IndicatorFact) -> Unprocessable | None:
        """Why the indicator's task takes no reports now (suspended or cancelled), if it does not."""
        if self.task_states is None or indicator.task_number is None:
            return None
        return refusal(self.task_states.get(self.session).get(indicator.task_number))

    def scope(self, indicator: IndicatorFact) -> IndicatorScope:
        return IndicatorScope(
            code=indicator.code,
            task_number=indicator.task_number,
            lead_departments=self.lead_departments(indicator.task_number),
            city_only=indicator.city_only,
            partner_departments=self.catalog.partner_departments.get(indicator.task_number, ())
            if indicator.task_number
            else (),
        )


def reportable_at(indicator: IndicatorFact | IndicatorScope, org_unit: str) -> bool:
    """City-only indicators have no district figures."""
    return not indicator.city_only or org_unit == CITY_CODE


class _Problems(list[RowError]):
    """A row's validation errors, in the order the rules find them."""

    def __init__(self, number: int):
        super().__init__()
        self.number = number

    def add(self, field: str, code: str, message: str) -> None:
        self.append(RowError(row=self.number, field=field, code=code, message=message))


def check_report(
    ctx: ReportContext, row: ReportCreate, principal: Principal, *, number: int = 1, bulk: bool = False
) -> tuple[CheckedReport | None, list[RowError], list[RowError]]:
    """(checked row, validation errors, permission errors)."""
    problems = _Problems(number)
    indicator, period = _known_references(ctx, row, problems)
    if indicator is None or period is None or problems:
        return None, list(problems), []

    try:
        authorize_report(principal, ctx.scope(indicator), row.org_unit, bulk=bulk)
    except Forbidden as exc:
        return None, [], [RowError(row=number, field="indicator", code=exc.code, message=exc.detail)]

    if (refused := ctx.task_refusal(indicator)) is not None:
        problems.add("indicator", refused.code, refused.detail)
        return None, list(problems), []

    _check_reportable_here(indicator, row.org_unit, problems)
    value = _value_from_ratio(indicator, row, problems)
    if value is None and not problems:
        problems.add("value", "missing_value", "请填写数值（比率类指标也可填写分子和分母）")
    if value is not None:
        _check_value_range(indicator, value, problems)
    if indicator.evidence_required and not row.evidence:
        subject = f"指标 {indicator.code}（{indicator.name}）"
        problems.add("evidence", EVIDENCE_REQUIRED, evidence_required_message(subject))
    if problems or value is None:
        return None, list(problems), []

    lock = ctx.lock_covering(period)
    if lock is not None:
        problems.add("period", "period_locked", locked_message(lock))
        return None, list(problems), []
    return CheckedReport(row=row, indicator=indicator, period=period, value=value), [], []


def _known_references(
    ctx: ReportContext, row: ReportCreate, problems: _Problems
) -> tuple[IndicatorFact | None, Period | None]:
    """The row's indicator, org unit and period exist (and the period may be reported now)."""
    indicator = ctx.indicator(row.indicator)
    if indicator is None:
        problems.add(
            "indicator",
            "unknown_indicator",
            f"指标「{row.indicator}」不存在或不属于本行动：指标编号形如 T002-1，见 /api/v1/indicators",
        )
    if not ctx.org_unit_exists(row.org_unit):
        problems.add(
            "org_unit", "unknown_org_unit", f"单位代码「{row.org_unit}」不存在：全市 370300，各区县见 /api/v1/org-units"
        )
    period, code, message = parse_plan_period(row.period, ctx.today, plan=ctx.catalog.plan)
    if code:
        problems.add("period", code, message)
    return indicator, period


def _check_reportable_here(indicator: IndicatorFact, org_unit: str, problems: _Problems) -> None:
    if not reportable_at(indicator, org_unit):
        problems.add(
            "org_unit",
            "city_only_indicator",
            f"指标 {indicator.code}（{indicator.name}）只统计全市数据，请以 370300（淄博市）填报，区县不单独填报",
        )


def _value_from_ratio(indicator: IndicatorFact, row: ReportCreate, problems: _Problems) -> float | None:
    """The row's value: as given, or computed from numerator/denominator (which, when given, must agree
    with it within rounding)."""
    value = row.value
    if row.numerator is None and row.denominator is None:
        return value
    if indicator.aggregation is not Aggregation.ratio:
        problems.add("numerator", "not_a_ratio", f"指标 {indicator.code} 不是比率类指标，不需要分子、分母，请只填数值")
    elif row.numerator is None or row.denominator is None:
        problems.add(
            "denominator" if row.denominator is None else "numerator",
            "ratio_incomplete",
            "比率类指标的分子和分母要同时填写",
        )
    elif row.denominator <= 0:
        problems.add("denominator", "invalid_denominator", "分母必须大于0")
    elif row.numerator < 0:
        problems.add("numerator", "negative_value", "分子不能为负数")
    elif indicator.unit == PERCENT and row.numerator > row.denominator:
        problems.add(
            "numerator",
            "numerator_above_denominator",
            f"分子（{row.numerator:g}）大于分母（{row.denominator:g}），比例不能超过100%，请核对",
        )
    else:
        computed = row.numerator / row.denominator * ratio_scale(indicator.unit, indicator.name)
        if value is None:
            return round(computed, 6)
        if abs(value - computed) > max(0.05, abs(computed) * 0.005):
            problems.add("value", "ratio_mismatch", f"数值 {value:g} 与分子/分母计算结果 {computed:.2f} 不一致，请核对")
    return value


def _check_value_range(indicator: IndicatorFact, value: float, problems: _Problems) -> None:
    """A percentage within 0–100; no value below zero but in a signed unit (百分点)."""
    if indicator.unit == PERCENT and not 0 <= value <= 100:
        problems.add("value", "percentage_out_of_range", f"百分比应在0到100之间，填写的是 {value:g}")
    elif value < 0 and indicator.unit not in SIGNED_UNITS:
        problems.add("value", "negative_value", f"{indicator.name}不能为负数（填写的是 {value:g}{indicator.unit}）")

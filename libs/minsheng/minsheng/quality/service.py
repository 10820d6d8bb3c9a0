"""Validation rules (saved with their checks, evaluated on entry) and outlier checks.

A rule is refused when saved, with a reason and a code; once saved it is compiled into the catalog snapshot's derived
views (`CatalogSnapshot.extra`), so a submission that no rule names costs a dictionary look-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.auth.principal import Principal, require_city_office
from minsheng.catalog.document import Aggregation, IndicatorKind
from minsheng.catalog.models import Indicator, OrgUnit
from minsheng.catalog.snapshot import CatalogCache, CatalogSnapshot
from minsheng.errors import NotFound, Unprocessable
from minsheng.messaging import OutboxEvent
from minsheng.messaging.outbox import outbox_rows
from minsheng.orgunits import CITY_CODE
from minsheng.quality import expressions
from minsheng.quality.expressions import ExpressionError, Node
from minsheng.quality.models import IMPORTANCE_LABELS, Importance, QualityBound, QualityFailure, QualityRule
from minsheng.quality.outliers import DEFAULT_THRESHOLD, modified_z_score, outside_bounds
from minsheng.quality.schemas import BoundPublic, BoundSet, OutlierCheck, RuleCreate, RuleFailure, ScorePublic
from minsheng.reporting.events import RULE_FAILED, RULE_RESOLVED, RuleFailed, RuleResolved, quality_event
from minsheng.reporting.models import Report

QUALITY_RULE_FAILED = "quality_rule_failed"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---- rules: saving, with their checks ---------------------------------------------------------------------------


def _measure(kind: IndicatorKind) -> str:
    """A level (a stock or a rate at a moment) or a flow (what is added over time: cumulative, yearly, one year's)."""
    return "level" if kind is IndicatorKind.level else "flow"


MEASURE_LABELS = {"level": "水平值（存量、比率）", "flow": "流量（新增、累计完成数）"}


def _parse_side(text: str, side: str) -> Node:
    try:
        return expressions.parse(text)
    except ExpressionError as exc:
        where = "左边" if side == "left" else "右边"
        raise Unprocessable(f"{where}表达式有误：{exc.message}", code=exc.code, extra={"field": side}) from exc


def check_rule(session: Session, rule_in: RuleCreate) -> tuple[Node, Node]:
    """Both sides parsed and checked against the catalog: every indicator known here, a district sum only of a summable
    indicator reported by the districts, flows not compared with levels, one reporting frequency."""
    left, right = _parse_side(rule_in.left, "left"), _parse_side(rule_in.right, "right")
    named = expressions.codes(left) | expressions.codes(right)
    summed = expressions.district_sums(left) | expressions.district_sums(right)
    if not named | summed:
        raise Unprocessable("规则至少要引用一个指标（两边都是常数的规则没有意义）", code="no_indicator")
    indicators: dict[str, Indicator] = {}
    for code in sorted(named | summed):
        indicator = session.get(Indicator, code)
        if indicator is None or indicator.retired:
            raise Unprocessable(
                f"指标「{code}」不存在或不属于本行动：规则只能引用本行动本方案的指标，见 /api/v1/indicators",
                code="unknown_indicator",
            )
        indicators[code] = indicator
    for code in sorted(summed):
        if indicators[code].aggregation is not Aggregation.sum or indicators[code].city_only:
            raise Unprocessable(
                f"指标 {code}（{indicators[code].name}）的区县数据不能相加（比率类或只统计全市的指标），"
                "不能用 sum_districts",
                code="not_summable",
            )
    sides = {
        side: {_measure(indicators[c].kind) for c in expressions.codes(node) | expressions.district_sums(node)}
        for side, node in (("left", left), ("right", right))
    }
    measures = sides["left"] | sides["right"]
    if len(measures) > 1:
        described = "；".join(
            f"{c}（{indicators[c].name}）是{MEASURE_LABELS[_measure(indicators[c].kind)]}" for c in sorted(indicators)
        )
        raise Unprocessable(f"规则把流量和水平值放在一起比较，没有意义：{described}", code="flow_level_mixed")
    frequencies = {indicators[c].frequency for c in indicators}
    if len(frequencies) > 1:
        raise Unprocessable(
            "规则引用的指标填报周期不同（月度、季度、年度），同一期间不会都有数值：请只比较同一填报周期的指标",
            code="frequency_mismatch",
        )
    return left, right


def list_rules(*, session: Session) -> list[QualityRule]:
    return list(session.exec(select(QualityRule).order_by(QualityRule.id)))


def get_rule(*, session: Session, rule_id: int) -> QualityRule:
    rule = session.get(QualityRule, rule_id)
    if rule is None:
        raise NotFound(f"规则 {rule_id} 不存在", code="rule_not_found")
    return rule


def save_rule(
    *,
    session: Session,
    catalog: CatalogCache,
    rule_in: RuleCreate,
    principal: Principal,
    rule_id: int | None = None,
) -> QualityRule:
    """A new rule, or a rule changed (its revision counts the changes); refused, with nothing written, if it does not
    pass `check_rule`.  Rules refer to indicators only, never to each other, so no rule can form a cycle."""
    require_city_office(principal, "设置数据质量规则")
    check_rule(session, rule_in)
    if rule_id is None:
        rule = QualityRule(**rule_in.model_dump(), changed_by=principal.label, changed_at=_now())
    else:
        rule = get_rule(session=session, rule_id=rule_id)
        for name, value in rule_in.model_dump().items():
            setattr(rule, name, value)
        rule.revision += 1
        rule.changed_by, rule.changed_at = principal.label, _now()
    session.add(rule)
    session.commit()
    session.refresh(rule)
    catalog.drop()  # the compiled rules live with the snapshot
    return rule


def delete_rule(*, session: Session, catalog: CatalogCache, rule_id: int, principal: Principal) -> None:
    require_city_office(principal, "删除数据质量规则")
    session.delete(get_rule(session=session, rule_id=rule_id))
    session.commit()
    catalog.drop()


# ---- rules: evaluating on entry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    left_text: str
    operator: str
    right_text: str
    left: Node
    right: Node
    importance: Importance
    instruction: str
    codes: frozenset[str]  # of the same org unit
    sums: frozenset[str]  # summed over the districts: the rule is the city's

    @property
    def indicators(self) -> frozenset[str]:
        return self.codes | self.sums

    def applies_to(self, indicator: str, org_unit: str) -> bool:
        if self.sums and org_unit != CITY_CODE:
            return False
        return indicator in self.indicators


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[CompiledRule, ...]
    by_indicator: dict[str, tuple[CompiledRule, ...]]

    def applying(self, indicator: str, org_unit: str) -> list[CompiledRule]:
        return [rule for rule in self.by_indicator.get(indicator, ()) if rule.applies_to(indicator, org_unit)]


def rule_set(session: Session, snapshot: CatalogSnapshot) -> RuleSet:
    """The plan's rules, compiled once per catalog snapshot."""

    def build() -> RuleSet:
        compiled = []
        for rule in list_rules(session=session):
            left, right = expressions.parse(rule.left), expressions.parse(rule.right)
            compiled.append(
                CompiledRule(
                    id=rule.id,
                    name=rule.name,
                    left_text=rule.left,
                    operator=rule.operator,
                    right_text=rule.right,
                    left=left,
                    right=right,
                    importance=rule.importance,
                    instruction=rule.instruction,
                    codes=frozenset(expressions.codes(left) | expressions.codes(right)),
                    sums=frozenset(expressions.district_sums(left) | expressions.district_sums(right)),
                )
            )
        by_indicator: dict[str, list[CompiledRule]] = {}
        for rule in compiled:
            for code in rule.indicators:
                by_indicator.setdefault(code, []).append(rule)
        return RuleSet(tuple(compiled), {code: tuple(rules) for code, rules in by_indicator.items()})

    return snapshot.extra("quality_rules", build)


@dataclass(frozen=True)
class Entry:
    """A value about to be saved: what the rules see of it."""

    indicator: str
    org_unit: str
    period: str
    value: float


@dataclass
class Evaluation:
    """The rules evaluated for one entry: those that failed, and those that held (an open failure of theirs there is
    resolved when the entry is saved)."""

    org_unit: str
    period: str
    failures: list[RuleFailure] = field(default_factory=list)
    passed: list[int] = field(default_factory=list)

    @property
    def blocking(self) -> list[RuleFailure]:
        return [f for f in self.failures if f.importance is Importance.high]


def _current_values(session: Session, org_unit: str, period: str, codes: Iterable[str]) -> dict[str, float]:
    table = Report.__table__
    rows = session.connection().execute(
        sa.select(table.c.indicator_code, table.c.value).where(
            table.c.is_current == True,  # noqa: E712
            table.c.org_unit_code == org_unit,
            table.c.period == period,
            table.c.indicator_code.in_(sorted(codes)),
        )
    )
    return {code: value for code, value in rows}


def _district_sums(session: Session, period: str, codes: Iterable[str]) -> dict[str, float]:
    table = Report.__table__
    rows = session.connection().execute(
        sa.select(table.c.indicator_code, sa.func.sum(table.c.value))
        .where(
            table.c.is_current == True,  # noqa: E712
            table.c.org_unit_code != CITY_CODE,
            table.c.period == period,
            table.c.indicator_code.in_(sorted(codes)),
        )
        .group_by(table.c.indicator_code)
    )
    return {code: total for code, total in rows}


def failure_of(rule: CompiledRule, left: float, right: float) -> RuleFailure:
    expression = f"{rule.left_text} {rule.operator} {rule.right_text}"
    label = IMPORTANCE_LABELS[rule.importance]
    return RuleFailure(
        rule=rule.id,
        name=rule.name,
        expression=expression,
        left_value=round(left, 6),
        right_value=round(right, 6),
        importance=rule.importance,
        importance_label=label,
        instruction=rule.instruction,
        indicators=sorted(rule.indicators),
        message=f"未通过规则「{rule.name}」（{expression}，重要程度{label}）：左边 {left:g}，右边 {right:g}。"
        f"{rule.instruction}",
    )


def needs_evaluation(rules: RuleSet, entries: Sequence[Entry]) -> bool:
    """Whether any rule names an entry's indicator (no database read otherwise)."""
    return any(rules.applying(e.indicator, e.org_unit) for e in entries)


def evaluate(session: Session, rules: RuleSet, entries: Sequence[Entry]) -> list[Evaluation]:
    """Per entry, the rules naming its indicator evaluated with the values current for its org unit and period, the
    entries of the same request counted as saved (a later one of a series over an earlier).  A rule whose values are
    not all there yet is not evaluated."""
    overlay: dict[tuple[str, str, str], float] = {(e.indicator, e.org_unit, e.period): e.value for e in entries}
    values_cache: dict[tuple[str, str], dict[str, float]] = {}
    sums_cache: dict[str, dict[str, float]] = {}
    evaluations = []
    for entry in entries:
        evaluation = Evaluation(entry.org_unit, entry.period)
        for rule in rules.applying(entry.indicator, entry.org_unit):
            key = (entry.org_unit, entry.period)
            if key not in values_cache:
                codes = {c for r in rules.rules for c in r.codes}
                values_cache[key] = _current_values(session, entry.org_unit, entry.period, codes)
            values = dict(values_cache[key])
            values.update({c: v for (c, o, p), v in overlay.items() if (o, p) == key})
            sums: dict[str, float] = {}
            if rule.sums:
                if entry.period not in sums_cache:
                    sums_cache[entry.period] = _district_sums(
                        session, entry.period, {c for r in rules.rules for c in r.sums}
                    )
                sums = dict(sums_cache[entry.period])
            left = expressions.evaluate(rule.left, values, sums)
            right = expressions.evaluate(rule.right, values, sums)
            if left is None or right is None:
                continue
            if expressions.compare(rule.operator, left, right):
                evaluation.passed.append(rule.id)
            else:
                evaluation.failures.append(failure_of(rule, left, right))
        evaluations.append(evaluation)
    return _once_per_rule(evaluations)


def _once_per_rule(evaluations: list[Evaluation]) -> list[Evaluation]:
    """A rule evaluated for several entries of one org unit and period (an upload holding both sides) is told once,
    at the last of them: the values are the same, the clerk explains it once."""
    seen: set[tuple[int, str, str]] = set()
    for evaluation in reversed(evaluations):
        where = (evaluation.org_unit, evaluation.period)
        evaluation.failures = [f for f in evaluation.failures if (f.rule, *where) not in seen]
        evaluation.passed = [r for r in evaluation.passed if (r, *where) not in seen]
        seen |= {(f.rule, *where) for f in evaluation.failures} | {(r, *where) for r in evaluation.passed}
    return evaluations


def blocked_message(failures: Sequence[RuleFailure]) -> str:
    return (
        "；".join(f.message for f in failures)
        + "。如核对后数据确实无误，请在「说明」中写明原因后再提交（说明将随报告交审核人查看）"
    )


def open_failures(session: Session, report_ids: Sequence[int]) -> dict[int, list[QualityFailure]]:
    """The open failures found when each report was saved (the review shows them beside the value)."""
    if not report_ids:
        return {}
    found: dict[int, list[QualityFailure]] = {}
    query = select(QualityFailure).where(
        QualityFailure.report_id.in_(report_ids),
        QualityFailure.resolved_at == None,  # noqa: E711
    )
    for failure in session.exec(query):
        found.setdefault(failure.report_id, []).append(failure)
    return found


# ---- bounds and outliers ----------------------------------------------------------------------------------------


def set_bound(
    *, session: Session, indicator: str, org_unit: str, bound_in: BoundSet, principal: Principal
) -> BoundPublic:
    require_city_office(principal, "设置指标上下限")
    if session.get(Indicator, indicator) is None:
        raise NotFound(f"指标「{indicator}」不存在或不属于本行动", code="unknown_indicator")
    if session.get(OrgUnit, org_unit) is None:
        raise NotFound(f"单位代码「{org_unit}」不存在", code="unknown_org_unit")
    if bound_in.minimum is None and bound_in.maximum is None:
        raise Unprocessable("请至少填写下限或上限之一", code="empty_bound")
    if bound_in.minimum is not None and bound_in.maximum is not None and bound_in.minimum > bound_in.maximum:
        raise Unprocessable(f"下限（{bound_in.minimum:g}）不能大于上限（{bound_in.maximum:g}）", code="bound_inverted")
    bound = session.get(QualityBound, (indicator, org_unit)) or QualityBound(
        indicator_code=indicator, org_unit_code=org_unit, changed_by="", changed_at=_now()
    )
    bound.minimum, bound.maximum = bound_in.minimum, bound_in.maximum
    bound.changed_by, bound.changed_at = principal.label, _now()
    session.add(bound)
    session.commit()
    return _bound_public(bound)


def _bound_public(bound: QualityBound) -> BoundPublic:
    return BoundPublic(
        indicator=bound.indicator_code,
        org_unit=bound.org_unit_code,
        minimum=bound.minimum,
        maximum=bound.maximum,
        changed_by=bound.changed_by,
        changed_at=bound.changed_at,
    )


def list_bounds(*, session: Session) -> list[BoundPublic]:
    return [_bound_public(b) for b in session.exec(select(QualityBound))]


def _score(against: str, value: float, points: list[float], threshold: float) -> ScorePublic:
    label = "与本单位历史相比" if against == "history" else "与同期其他区县相比"
    score = modified_z_score(value, points, threshold=threshold)
    return ScorePublic(
        against=against,
        points=score.points,
        median=score.median,
        mad=score.mad,
        score=None if score.score is None else round(score.score, 4),
        threshold=threshold,
        outlier=score.outlier,
        explanation=score.explanation(label),
    )


def outlier_checks(
    *, session: Session, indicator: str, period: str, threshold: float = DEFAULT_THRESHOLD, org_unit: str | None = None
) -> list[OutlierCheck]:
    """Each current value of an indicator for a period (or of one org unit): its modified z-score against the org
    unit's own earlier values (same kind of period) and against the other districts' values for the period, and the
    office's bounds."""
    table = Report.__table__
    current = sa.and_(table.c.is_current == True, table.c.indicator_code == indicator)  # noqa: E712
    rows = list(
        session.connection().execute(
            sa.select(table.c.id, table.c.org_unit_code, table.c.period, table.c.value).where(current)
        )
    )
    of_indicator = select(QualityBound).where(QualityBound.indicator_code == indicator)
    bounds = {b.org_unit_code: (b.minimum, b.maximum) for b in session.exec(of_indicator)}
    values = [SeriesValue(r.id, r.org_unit_code, r.period, r.value) for r in rows]
    return checks_of(indicator, period, values, bounds=bounds, threshold=threshold, org_unit=org_unit)


@dataclass(frozen=True)
class SeriesValue:
    """A current value of an indicator, as the outlier checks read it (a service's report, the gateway's view)."""

    report_id: int
    org_unit: str
    period: str
    value: float


def checks_of(
    indicator: str,
    period: str,
    values: Sequence[SeriesValue],
    *,
    bounds: dict[str, tuple[float | None, float | None]],
    threshold: float = DEFAULT_THRESHOLD,
    org_unit: str | None = None,
) -> list[OutlierCheck]:
    """The checks of each value of `period` among an indicator's current `values` (every org unit, every period): its
    own earlier values of the same period kind, the other districts' of the period (not the city's), its bounds."""
    same_period = [v for v in values if v.period == period]
    checks = []
    for row in same_period:
        if org_unit is not None and row.org_unit != org_unit:
            continue
        # Earlier periods of the same length (a month's history for a month): a code's length says its kind.
        history = [
            v.value for v in values if v.org_unit == row.org_unit and len(v.period) == len(period) and v.period < period
        ]
        scores = [_score("history", row.value, history, threshold)]
        if row.org_unit != CITY_CODE:
            peers = [v.value for v in same_period if v.org_unit not in (row.org_unit, CITY_CODE)]
            scores.append(_score("peers", row.value, peers, threshold))
        minimum, maximum = bounds.get(row.org_unit, (None, None))
        outside = outside_bounds(row.value, minimum, maximum)
        checks.append(
            OutlierCheck(
                indicator=indicator,
                org_unit=row.org_unit,
                period=period,
                value=row.value,
                report_id=row.report_id,
                scores=scores,
                bound=outside,
                flagged=outside is not None or any(s.outlier for s in scores),
            )
        )
    return sorted(checks, key=lambda c: c.org_unit)


# ---- failures recorded with the report that found them ----------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """A report revision just written, with the rules evaluated for it."""

    report_id: int
    indicator: str
    campaign: str
    actor: str
    note: str
    evaluation: Evaluation


def record_failures(connection: sa.Connection, saved: Sequence[Saved], at: dt.datetime, *, plan: str | None) -> None:
    """In the report's transaction: each rule evaluated there closes its open failure for the org unit and period (a
    rule that now holds: `rule_resolved`), and each that failed is recorded anew (`rule_failed`), events in the
    outbox."""
    failures, events = QualityFailure.__table__, []
    rows = []
    closed_by = _close_failures(connection, saved, at)
    for item in saved:
        evaluation = item.evaluation
        common = {"campaign": item.campaign, "org_unit": evaluation.org_unit, "period": evaluation.period}
        common |= {"indicator": item.indicator, "report_id": item.report_id, "actor": item.actor, "occurred_at": at}
        for rule in sorted(evaluation.passed):
            if closed_by.get((evaluation.org_unit, evaluation.period, rule)) is item:
                events.append(quality_event(item.campaign, RULE_RESOLVED, RuleResolved(rule=rule, **common)))
        for failure in evaluation.failures:
            explained = item.note if failure.importance is Importance.high else ""
            rows.append(
                {
                    "rule_id": failure.rule,
                    "org_unit_code": evaluation.org_unit,
                    "period": evaluation.period,
                    "report_id": item.report_id,
                    "indicator_code": item.indicator,
                    "left_value": failure.left_value,
                    "right_value": failure.right_value,
                    "importance": failure.importance.name,
                    "explained": explained,
                    "failed_at": at,
                }
            )
            data = RuleFailed(
                rule=failure.rule,
                name=failure.name,
                expression=failure.expression,
                importance=failure.importance.value,
                instruction=failure.instruction,
                indicators=failure.indicators,
                left_value=failure.left_value,
                right_value=failure.right_value,
                explained=explained,
                **common,
            )
            events.append(quality_event(item.campaign, RULE_FAILED, data))
    if rows:
        connection.execute(sa.insert(failures), rows)
    if events:
        connection.execute(sa.insert(OutboxEvent.__table__), outbox_rows(events, plan=plan))


def _close_failures(
    connection: sa.Connection, saved: Sequence[Saved], at: dt.datetime
) -> dict[tuple[str, str, int], Saved]:
    """The open failures of the rules evaluated, closed in one statement for the whole group commit (it runs in the
    writer's serial order: one statement per report would cost a round trip each); each key is closed by the last
    report of the group that evaluated it.  Returns the keys closed, with the report that closed each."""
    closing: dict[tuple[str, str, int], Saved] = {}
    for item in saved:
        evaluation = item.evaluation
        for rule in [*evaluation.passed, *(f.rule for f in evaluation.failures)]:
            closing[(evaluation.org_unit, evaluation.period, rule)] = item
    if not closing:
        return {}
    failures = QualityFailure.__table__
    keys = sa.values(
        sa.column("org_unit", sa.String),
        sa.column("period", sa.String),
        sa.column("rule_id", sa.Integer),
        sa.column("report_id", sa.Integer),
        name="closing",
    ).data([(*key, item.report_id) for key, item in closing.items()])
    closed = connection.execute(
        sa.update(failures)
        .where(
            failures.c.resolved_at == None,  # noqa: E711
            failures.c.org_unit_code == keys.c.org_unit,
            failures.c.period == keys.c.period,
            failures.c.rule_id == keys.c.rule_id,
        )
        .values(resolved_at=at, resolved_by_report=keys.c.report_id)
        .returning(failures.c.org_unit_code, failures.c.period, failures.c.rule_id)
    ).all()
    return {(o, p, r): closing[(o, p, r)] for o, p, r in closed}

"""From catalog facts and official values to progress answers.

Pure: the campaign services feed it from their own tables and the gateway from its read
models, so both compute the same figures with the same kernel functions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from minsheng.catalog.document import Aggregation, Comparator, IndicatorKind
from minsheng.orgunits import CITY_CODE
from minsheng.progress.model import (
    STATUS_LABELS,
    IndicatorSpec,
    Milestone,
    Observation,
    Status,
    Thresholds,
)
from minsheng.progress.periods import Period
from minsheng.progress.rollup import roll_up, summarize, worst_status
from minsheng.progress.scale import ratio_scale
from minsheng.progress.schemas import (
    IndicatorProgressPublic,
    PendingValue,
    SeriesPointPublic,
    TaskProgressPublic,
    TaskStatusSummary,
)
from minsheng.progress.status import compute_progress


@dataclass(frozen=True)
class IndicatorFacts:
    """What the catalog says about an indicator (the same in every process)."""

    code: str
    name: str
    unit: str
    campaign: str
    task_number: int | None
    target_value: float
    comparator: Comparator
    kind: IndicatorKind
    horizon: int
    first_year: int  # the plan's
    aggregation: Aggregation
    baseline_value: float | None = None
    milestones: tuple[Milestone, ...] = ()
    district_targets: dict[str, float] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        return ratio_scale(self.unit, self.name)


def spec_for(facts: IndicatorFacts, org_unit: str) -> tuple[IndicatorSpec, str | None]:
    """The indicator as judged for one org unit, and whose target that is.

    A district is judged against its own published target.  Without one, a rate or level
    target (a share, a per-capita value, a life expectancy) applies to the district as it
    does to the city; a total (a sum indicator) cannot be split, so there is no target.
    """
    if org_unit == CITY_CODE:
        target, basis, milestones = facts.target_value, "city", facts.milestones
    elif org_unit in facts.district_targets:
        target, basis, milestones = facts.district_targets[org_unit], "district", ()
    elif facts.aggregation is Aggregation.sum:
        target, basis, milestones = None, None, ()
    else:
        target, basis, milestones = facts.target_value, "city", ()
    baseline = facts.baseline_value if org_unit == CITY_CODE else None
    return IndicatorSpec(
        code=facts.code,
        target_value=target,
        comparator=facts.comparator,
        kind=facts.kind,
        horizon=facts.horizon,
        first_year=facts.first_year,
        aggregation=facts.aggregation,
        unit=facts.unit,
        baseline_value=baseline,
        milestones=milestones,
        ratio_scale=facts.scale,
    ), basis


@dataclass(frozen=True)
class ProgressInputs:
    """What an indicator's progress for one org unit is computed from, apart from the day: its
    official observations (rolled up for the city), each period's basis, the contributing org units
    and the values awaiting review.

    The day only moves the expected value, so a store of computed answers can keep these beside each
    answer and compute a new day's answer from them (`progress_from_inputs`) without re-reading every
    official value: what they hold is bounded by the periods of the plan and the reports pending,
    not by how many reports were ever stored.  `aggregation` and `scale` are those they were rolled up
    with; inputs rolled up differently from what the catalog says now are no longer valid."""

    observations: tuple[Observation, ...]
    basis_by_period: dict[str, str]
    contributors: tuple[str, ...]
    pending: tuple[PendingValue, ...]
    aggregation: Aggregation
    scale: float
    # The city's: who contributed to each period (`contributors` is their union), so that some periods
    # can be rolled up again without the others (`city_inputs_rolled_up_again`).  None: not kept
    # (a district's inputs, or city inputs stored before it was).
    contributors_by_period: dict[str, tuple[str, ...]] | None = None

    def valid_for(self, facts: IndicatorFacts) -> bool:
        return self.aggregation is facts.aggregation and self.scale == facts.scale

    def to_json(self) -> str:
        document = {
            "observations": [
                [o.period.code, o.org_unit, o.value, o.numerator, o.denominator] for o in self.observations
            ],
            "basis_by_period": self.basis_by_period,
            "contributors": list(self.contributors),
            "aggregation": self.aggregation.value,
            "scale": self.scale,
        }
        if self.contributors_by_period is not None:
            # Stored as the periods whose contributors are not all of `contributors`: mostly none.
            document["contributors_otherwise"] = {
                period: list(units)
                for period, units in self.contributors_by_period.items()
                if units != self.contributors
            }
        return json.dumps(document, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ProgressInputs:
        """Stored inputs carry no values awaiting review (`to_json` leaves them out): figures and status
        do not depend on them, and they change at every submission.  Whoever lists them adds the
        current ones (`with_pending`).  Documents stored with them (older rows) read the same."""
        data = json.loads(text)
        return cls(
            observations=tuple(
                Observation(
                    period=Period.parse(period),
                    org_unit=unit,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                )
                for period, unit, value, numerator, denominator in data["observations"]
            ),
            basis_by_period=data["basis_by_period"],
            contributors=tuple(data["contributors"]),
            pending=(),
            aggregation=Aggregation(data["aggregation"]),
            scale=data["scale"],
            contributors_by_period=_contributors_by_period(data),
        )


def _contributors_by_period(data: dict) -> dict[str, tuple[str, ...]] | None:
    if (otherwise := data.get("contributors_otherwise")) is None:
        return None
    everyone = tuple(data["contributors"])
    return {period: tuple(otherwise[period]) if period in otherwise else everyone for period in data["basis_by_period"]}


def pending_of(org_unit: str, pending: Sequence[PendingValue]) -> tuple[PendingValue, ...]:
    """The values awaiting review that an org unit's answer lists: a district's own; the city's, all."""
    return tuple(p for p in pending if org_unit == CITY_CODE or p.org_unit == org_unit)


def _reasons_listing(reasons: list[str], pending: Sequence[PendingValue]) -> list[str]:
    """The rule of an answer's reasons, stated once: the judgement's, then, when the answer lists values
    awaiting review, one sentence counting them, last."""
    return [*reasons, f"另有{len(pending)}份报告待审核，审核通过前不计入"] if pending else reasons


def with_pending(answer: IndicatorProgressPublic, pending: Sequence[PendingValue]) -> IndicatorProgressPublic:
    """`answer` listing `pending` (already `pending_of` its org unit) instead of what it listed.  Values
    awaiting review change neither figures nor status, so an answer stored without them is completed
    when it is read.  Which reason counted the values it listed is known from the count it listed
    (`answer.pending`, last by `_reasons_listing`), never from the sentence's words."""
    judged = answer.reasons[:-1] if answer.pending else answer.reasons
    return answer.model_copy(update={"pending": list(pending), "reasons": _reasons_listing(judged, pending)})


def progress_inputs(
    facts: IndicatorFacts, org_unit: str, official: Sequence[Observation], pending: Sequence[PendingValue]
) -> ProgressInputs:
    """`official`: approved values of this indicator for every org unit; `pending`: not yet approved."""
    relevant_pending = pending_of(org_unit, pending)
    if org_unit == CITY_CODE:
        rolled = roll_up(facts.aggregation, facts.scale, CITY_CODE, official)
        return _city_inputs(facts, rolled.observations, rolled.basis, rolled.contributors, relevant_pending)
    observations = tuple(o for o in official if o.org_unit == org_unit)
    return ProgressInputs(
        observations=observations,
        basis_by_period={o.period.code: "direct" for o in observations},
        contributors=(org_unit,) if observations else (),
        pending=relevant_pending,
        aggregation=facts.aggregation,
        scale=facts.scale,
    )


def _city_inputs(
    facts: IndicatorFacts,
    observations: Sequence[Observation],
    basis: dict[str, str],
    contributors: dict[str, tuple[str, ...]],
    pending: Sequence[PendingValue],
) -> ProgressInputs:
    return ProgressInputs(
        observations=tuple(sorted(observations, key=lambda o: o.period)),
        basis_by_period=dict(basis),
        contributors=tuple(sorted({unit for units in contributors.values() for unit in units})),
        pending=tuple(pending),
        aggregation=facts.aggregation,
        scale=facts.scale,
        contributors_by_period=dict(contributors),
    )


def city_inputs_rolled_up_again(
    facts: IndicatorFacts, stored: ProgressInputs, periods: set[str], official: Sequence[Observation]
) -> ProgressInputs:
    """The city's inputs after official values changed in `periods` only: `stored` (the city's inputs
    before, with `contributors_by_period`) with those periods rolled up again.  Equal to
    `progress_inputs(facts, CITY_CODE, every official value, ())`, without reading every value.

    `official` must hold every official value of the indicator in `periods` (any org unit) and every
    city value in those periods' years; others are ignored.  A roll-up is decided period by period,
    except that a year in which the city has a value of its own is all the city's (`rollup.roll_up`):
    such a year is replaced whole, from the city's values.  (A year cannot stop being the city's without
    a value being deleted, which only a snapshot does; its fold recomputes in full.)"""
    if stored.contributors_by_period is None:
        raise ValueError("stored city inputs without contributors_by_period cannot be rolled up in part")
    years = {Period.parse(code).year for code in periods}
    part = [o for o in official if o.period.code in periods or (o.org_unit == CITY_CODE and o.period.year in years)]
    city_years = {o.period.year for o in part if o.org_unit == CITY_CODE}
    rolled = roll_up(facts.aggregation, facts.scale, CITY_CODE, part)

    def replaced(period: Period) -> bool:
        return period.code in periods or period.year in city_years

    kept = [o for o in stored.observations if not replaced(o.period)]
    basis = {code: how for code, how in stored.basis_by_period.items() if not replaced(Period.parse(code))}
    contributors = {
        code: units for code, units in stored.contributors_by_period.items() if not replaced(Period.parse(code))
    }
    return _city_inputs(
        facts, kept + list(rolled.observations), basis | rolled.basis, contributors | rolled.contributors, ()
    )


def indicator_progress(
    facts: IndicatorFacts,
    org_unit: str,
    official: Sequence[Observation],
    pending: Sequence[PendingValue],
    as_of: dt.date,
    thresholds: Thresholds,
) -> IndicatorProgressPublic:
    """`official`: approved values of this indicator for every org unit; `pending`: not yet approved."""
    return progress_from_inputs(facts, org_unit, progress_inputs(facts, org_unit, official, pending), as_of, thresholds)


def progress_from_inputs(
    facts: IndicatorFacts,
    org_unit: str,
    inputs: ProgressInputs,
    as_of: dt.date,
    thresholds: Thresholds,
    *,
    figures_only: bool = False,
) -> IndicatorProgressPublic:
    """`figures_only`: the answer without its series (for a summary, which shows the status and the
    headline figures only; building the series points was most of the cost)."""
    spec, target_basis = spec_for(facts, org_unit)
    basis_by_period, contributors = inputs.basis_by_period, list(inputs.contributors)
    result = compute_progress(spec, list(inputs.observations), as_of, thresholds)
    counted = {p.period for p in result.series}
    bases = {basis_by_period.get(code, "direct") for code in counted}
    basis = "none" if not bases else bases.pop() if len(bases) == 1 else "mixed"
    reasons = list(result.reasons)
    if org_unit == CITY_CODE and basis == "districts":
        reasons.append(
            f"全市数据由{len(contributors)}个区县（功能区）的已审核数据汇总"
            + ("（按分子、分母加权）" if facts.aggregation is Aggregation.ratio else "")
        )
    elif org_unit == CITY_CODE and basis == "direct" and facts.aggregation is not Aggregation.none:
        reasons.append("区县未填报，采用全市直接填报的数据")
    if target_basis is None and org_unit != CITY_CODE:
        reasons.append("该区县没有分解此项总量目标，只显示完成数")
    return IndicatorProgressPublic(
        id=facts.code,
        name=facts.name,
        unit=facts.unit,
        campaign=facts.campaign,
        task_number=facts.task_number,
        org_unit=org_unit,
        as_of=as_of,
        status=result.status,
        status_label=STATUS_LABELS[result.status],
        target_value=spec.target_value,
        target_basis=target_basis,
        comparator=facts.comparator,
        kind=facts.kind,
        horizon=facts.horizon,
        current_value=result.current_value,
        completion=result.completion,
        expected_value=result.expected_value,
        projected_value=result.projected_value,
        projected_reaches_target=result.projected_reaches_target,
        basis=basis,
        contributors=contributors,
        series=[]
        if figures_only
        else [
            SeriesPointPublic(
                period=p.period,
                end=p.end,
                value=p.value,
                cumulative=p.cumulative,
                basis=basis_by_period.get(p.period, "direct"),
            )
            for p in result.series
        ],
        pending=list(inputs.pending),
        reasons=_reasons_listing(reasons, inputs.pending),
    )


# A task without numbers is judged by what its bureau reports (问题账单 → 履职清单).
STATE_TO_STATUS = {
    "completed": Status.completed,
    "in_progress": Status.on_track,
    "blocked": Status.behind,
    "not_started": Status.at_risk,
}


def judge_task(
    indicators: Sequence[tuple[str, Status]], reported: TaskStatusSummary | None
) -> tuple[Status, str, list[str]]:
    """A task's (status, basis, reasons) from its indicators' (id, status) and its reported status."""
    # Worst of the indicators that have data: an indicator nobody has reported yet is listed as
    # "no data" (and counted in the summaries) but does not mask the progress the others show.
    judged = [(code, status) for code, status in indicators if status not in (Status.no_target, Status.no_data)]
    silent = [code for code, status in indicators if status is Status.no_data]
    reasons: list[str] = []
    if judged:
        status, basis = worst_status(s for _, s in judged), "indicators"
        worst = [code for code, s in judged if s is status]
        reasons.append(f"任务状态取其指标中最差的：{STATUS_LABELS[status]}（{'、'.join(worst)}）")
        if silent:
            reasons.append(f"{'、'.join(silent)} 暂无已审核数据")
    elif reported is not None:
        status, basis = STATE_TO_STATUS[reported.state], "reported_status"
        lead = "指标均暂无已审核数据" if silent else "本任务无量化指标"
        reasons.append(f"{lead}，按{reported.period}填报的进展判断：{reported.narrative or reported.state}")
    elif silent:
        status, basis = Status.no_data, "indicators"
        reasons.append(f"指标 {'、'.join(silent)} 均暂无已审核数据")
    else:
        status, basis = Status.no_data, "none"
        reasons.append("本任务无量化指标，也尚未填报进展")
    if reported is not None and reported.problems:
        reasons.append(f"存在问题：{reported.problems}")
    return status, basis, reasons


def task_progress(
    *,
    number: int,
    title: str,
    campaign: str,
    item: int,
    lead_departments: list[str],
    org_unit: str,
    as_of: dt.date,
    indicators: list[IndicatorProgressPublic],
    reported: TaskStatusSummary | None,
) -> TaskProgressPublic:
    status, basis, reasons = judge_task([(i.id, i.status) for i in indicators], reported)
    return TaskProgressPublic(
        number=number,
        title=title,
        campaign=campaign,
        item=item,
        lead_departments=lead_departments,
        org_unit=org_unit,
        as_of=as_of,
        status=status,
        status_label=STATUS_LABELS[status],
        basis=basis,
        indicators=indicators,
        reported_status=reported,
        reasons=reasons,
    )


__all__ = [
    "IndicatorFacts",
    "ProgressInputs",
    "city_inputs_rolled_up_again",
    "indicator_progress",
    "judge_task",
    "spec_for",
    "summarize",
    "task_progress",
    "worst_status",
]

"""Roll-up of districts to the city, status summaries and ratio scales.  No database."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.catalog.document import Aggregation, Comparator, IndicatorKind
from minsheng.progress.model import IndicatorSpec, Observation, Status
from minsheng.progress.periods import Period
from minsheng.progress.rollup import roll_up, summarize, worst_status
from minsheng.progress.scale import ratio_scale
from minsheng.progress.status import compute_progress

CITY = "370300"
ZHANGDIAN = "370303"
ZICHUAN = "370302"


def obs(
    code: str, org_unit: str, value: float, numerator: float | None = None, denominator: float | None = None
) -> Observation:
    return Observation(
        period=Period.parse(code), org_unit=org_unit, value=value, numerator=numerator, denominator=denominator
    )


# --- ratio: weighted, never averaged --------------------------------------------------------------


def test_ratio_rolls_up_numerators_and_denominators():
    # 30/100 = 30 % and 90/200 = 45 %: the city is (30 + 90)/(100 + 200) × 100 = 40 %,
    # not the 37.5 % average of the two percentages.
    rolled = roll_up(
        Aggregation.ratio, 100, CITY, [obs("2022", ZHANGDIAN, 30, 30, 100), obs("2022", ZICHUAN, 45, 90, 200)]
    )
    (city,) = rolled.observations
    assert city.value == pytest.approx(40.0)
    assert city.value != pytest.approx(37.5)
    assert (city.org_unit, city.numerator, city.denominator) == (CITY, 120, 300)
    assert rolled.basis == {"2022": "districts"}
    assert rolled.contributors == {"2022": (ZICHUAN, ZHANGDIAN)}


def test_ratio_uses_the_scale_of_the_indicator():
    # 每千人: 45 places for 15 000 people → 45/15000 × 1000 = 3 per thousand.
    rolled = roll_up(
        Aggregation.ratio, 1000, CITY, [obs("2022", ZHANGDIAN, 2, 20, 10_000), obs("2022", ZICHUAN, 5, 25, 5_000)]
    )
    assert rolled.observations[0].value == pytest.approx(3.0)


def test_ratio_falls_back_to_the_city_value_when_a_district_lacks_its_denominator():
    # Zichuan sent only its percentage: the weights are unknown, so the city's own figure is used.
    rolled = roll_up(
        Aggregation.ratio,
        100,
        CITY,
        [obs("2022", ZHANGDIAN, 30, 30, 100), obs("2022", ZICHUAN, 45, 90, None), obs("2022", CITY, 41.2)],
    )
    (city,) = rolled.observations
    assert city.value == 41.2
    assert rolled.basis == {"2022": "direct"}
    assert rolled.contributors == {"2022": (CITY,)}


def test_ratio_without_parts_or_city_value_gives_no_city_figure():
    rolled = roll_up(Aggregation.ratio, 100, CITY, [obs("2022", ZHANGDIAN, 30), obs("2022", ZICHUAN, 45)])
    assert rolled.observations == ()
    assert rolled.basis == {}


# --- none: never aggregated ----------------------------------------------------------------------


def test_none_aggregation_uses_only_the_city_value():
    rolled = roll_up(
        Aggregation.none,
        1,
        CITY,
        [
            obs("2022", ZHANGDIAN, 80.1),
            obs("2022", ZICHUAN, 79.5),
            obs("2022", CITY, 80.6),
            obs("2023", ZHANGDIAN, 80.3),
        ],
    )
    assert [(o.period.code, o.value) for o in rolled.observations] == [("2022", 80.6)]
    assert rolled.basis == {"2022": "direct"}
    assert rolled.contributors == {"2022": (CITY,)}


# --- sum ---------------------------------------------------------------------------------------


def test_sum_adds_districts_and_falls_back_to_direct_per_year():
    rolled = roll_up(
        Aggregation.sum,
        1,
        CITY,
        [
            obs("2023", CITY, 500),  # only the city reported 2023
            obs("2022", ZICHUAN, 12),
            obs("2022", ZHANGDIAN, 30),  # 2022: only districts → their sum, 42
        ],
    )
    assert [(o.period.code, o.org_unit, o.value) for o in rolled.observations] == [
        ("2022", CITY, 42),
        ("2023", CITY, 500),
    ]
    assert rolled.basis == {"2022": "districts", "2023": "direct"}
    assert rolled.contributors == {"2022": (ZICHUAN, ZHANGDIAN), "2023": (CITY,)}


def test_a_direct_city_figure_rules_its_year_over_partial_district_sums():
    # The bureau's whole-city 99 for 2022 is official; Zhangdian's months would be a partial sum.
    rolled = roll_up(
        Aggregation.sum, 1, CITY, [obs("2022", CITY, 99), obs("2022", ZICHUAN, 12), obs("2022-06", ZHANGDIAN, 30)]
    )
    assert [(o.period.code, o.value) for o in rolled.observations] == [("2022", 99)]
    assert rolled.basis == {"2022": "direct"}


def test_sum_keeps_periods_apart():
    rolled = roll_up(
        Aggregation.sum,
        1,
        CITY,
        [obs("2022-01", ZHANGDIAN, 1), obs("2022Q1", ZHANGDIAN, 5), obs("2022-01", ZICHUAN, 2)],
    )
    assert {o.period.code: o.value for o in rolled.observations} == {"2022-01": 3, "2022Q1": 5}


def test_rolled_up_city_series_feeds_the_status():
    # Two districts build 25 + 15 = 40 kindergartens in 2022: the city is on track (40 ≥ 0.95 × 34.33).
    rolled = roll_up(Aggregation.sum, 1, CITY, [obs("2022", ZHANGDIAN, 25), obs("2022", ZICHUAN, 15)])
    spec = IndicatorSpec(
        code="T001-1",
        target_value=103,
        comparator=Comparator.at_least,
        kind=IndicatorKind.cumulative,
        horizon=2024,
        first_year=2022,
        aggregation=Aggregation.sum,
        unit="处",
    )
    progress = compute_progress(spec, rolled.observations, dt.date(2022, 12, 31))
    assert progress.current_value == 40
    assert progress.status is Status.on_track


# --- worst status and summary ----------------------------------------------------------------------


def test_worst_status_follows_severity():
    # behind > at_risk > no_data > on_track > completed > no_target
    assert worst_status([Status.completed, Status.on_track, Status.at_risk]) is Status.at_risk
    assert worst_status([Status.on_track, Status.no_data]) is Status.no_data
    assert worst_status([Status.no_data, Status.at_risk]) is Status.at_risk
    assert worst_status([Status.at_risk, Status.behind, Status.no_data]) is Status.behind
    assert worst_status([Status.no_target, Status.completed]) is Status.completed
    assert worst_status([Status.no_target]) is Status.no_target


def test_worst_status_of_nothing_is_neutral():
    assert worst_status([]) is Status.no_target


def test_summarize_counts_every_status():
    counts = summarize([Status.on_track, Status.on_track, Status.behind, Status.completed])
    assert counts == {"completed": 1, "on_track": 2, "at_risk": 0, "behind": 1, "no_data": 0, "no_target": 0}
    assert summarize([]) == {s.value: 0 for s in Status}


# --- ratio scale ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "name", "scale"),
    [
        ("%", "基本养老保险参保率", 100),
        ("%", "每千人口拥有执业医师数占比", 100),  # the unit decides first
        ("个", "每千人拥有婴幼儿托位数", 1000),
        ("名", "千人拥有社会体育指导员", 1000),
        ("公里", "万人拥有绿道长度", 10000),
        ("平方米", "人均公园绿地面积", 1),
        ("万元", "居民人均可支配收入", 1),
    ],
)
def test_ratio_scale(unit, name, scale):
    assert ratio_scale(unit, name) == scale


# --- rolling up again only the periods that changed ------------------------------------------------


def _facts(aggregation: Aggregation):
    from minsheng.progress.assemble import IndicatorFacts

    return IndicatorFacts(
        code="T000-1",
        name="测试指标",
        unit="%" if aggregation is Aggregation.ratio else "所",
        campaign="education",
        task_number=1,
        target_value=80.0,
        comparator=Comparator.at_least,
        kind=IndicatorKind.level if aggregation is not Aggregation.sum else IndicatorKind.cumulative,
        horizon=2024,
        first_year=2022,
        aggregation=aggregation,
    )


PERIOD_POOL = ["2022-03", "2022-06", "2022Q3", "2022", "2023-01", "2023-02", "2023Q2", "2024-05", "2024"]
UNIT_POOL = [CITY, ZHANGDIAN, ZICHUAN, "370304"]


def _random_value(rng, aggregation: Aggregation, period: str, unit: str) -> Observation:
    if aggregation is Aggregation.ratio and rng.random() < 0.85:  # now and then a rate without its parts
        denominator = rng.choice([0, 50, 100, 200])
        numerator = rng.randint(0, denominator)
        return obs(period, unit, numerator / denominator * 100 if denominator else 0.0, numerator, denominator)
    return obs(period, unit, float(rng.randint(0, 90)))


@pytest.mark.parametrize("aggregation", list(Aggregation))
@pytest.mark.parametrize("seed", range(40))
def test_rolling_up_again_the_changed_periods_equals_rolling_up_everything(aggregation, seed):
    """The gateway keeps the city's inputs current by rolling up again only the periods a poll's
    approvals touched (`city_inputs_rolled_up_again`); it must give exactly the inputs of a full
    roll-up, through city values that take a whole year over, ratios that cannot be weighted and
    values replaced by later approvals."""
    import random

    from minsheng.progress.assemble import ProgressInputs, city_inputs_rolled_up_again, progress_inputs

    rng = random.Random(seed)
    facts = _facts(aggregation)
    official: dict[tuple[str, str], Observation] = {}
    for _ in range(rng.randint(0, 14)):
        period, unit = rng.choice(PERIOD_POOL), rng.choice(UNIT_POOL[1:] if rng.random() < 0.8 else UNIT_POOL)
        official[period, unit] = _random_value(rng, aggregation, period, unit)
    stored = ProgressInputs.from_json(progress_inputs(facts, CITY, list(official.values()), ()).to_json())
    for _ in range(3):  # three polls, each applied to the inputs the previous one stored
        touched = set()
        for _ in range(rng.randint(1, 4)):
            period, unit = rng.choice(PERIOD_POOL), rng.choice(UNIT_POOL)
            official[period, unit] = _random_value(rng, aggregation, period, unit)
            touched.add(period)
        values = list(official.values())
        rng.shuffle(values)
        expected = progress_inputs(facts, CITY, values, ())
        got = city_inputs_rolled_up_again(facts, stored, touched, values)
        assert got.observations == expected.observations
        assert (got.basis_by_period, got.contributors, got.contributors_by_period) == (
            expected.basis_by_period,
            expected.contributors,
            expected.contributors_by_period,
        )
        stored = ProgressInputs.from_json(got.to_json())


def test_city_inputs_stored_without_contributors_per_period_are_not_rolled_up_in_part():
    from minsheng.progress.assemble import ProgressInputs, city_inputs_rolled_up_again

    old = ProgressInputs.from_json(
        '{"observations": [["2022", "370300", 5, null, null]], "basis_by_period": '
        '{"2022": "direct"}, "contributors": ["370300"], "pending": [], '
        '"aggregation": "sum", "scale": 1}'
    )
    assert old.contributors_by_period is None
    with pytest.raises(ValueError):
        city_inputs_rolled_up_again(_facts(Aggregation.sum), old, {"2022"}, [])


# --- values awaiting review, added to an answer when it is read ------------------------------------


@pytest.mark.parametrize("org_unit", [CITY, ZHANGDIAN])
def test_an_answer_completed_with_values_awaiting_review_is_the_one_computed_with_them(org_unit):
    """The gateway stores answers without the values awaiting review and lists the current ones when an
    answer is read (`with_pending`): whatever the stored answer listed, the answer served must be the
    one computed with the current values, its reasons included (one sentence counting them, last)."""
    from minsheng.progress.assemble import indicator_progress, pending_of, with_pending
    from minsheng.progress.model import Thresholds
    from minsheng.progress.schemas import PendingValue

    facts = _facts(Aggregation.sum)
    official = [obs("2022-06", ZHANGDIAN, 10.0), obs("2022-06", ZICHUAN, 5.0)]
    waiting = [
        (),
        (PendingValue(report_id=7, org_unit=ZHANGDIAN, period="2022-12", value=3.0),),
        (
            PendingValue(report_id=7, org_unit=ZHANGDIAN, period="2022-12", value=3.0),
            PendingValue(report_id=8, org_unit=ZICHUAN, period="2022-12", value=4.0),
        ),
    ]

    def answer(pending):
        return indicator_progress(facts, org_unit, official, pending, dt.date(2022, 12, 31), Thresholds())

    for stored in waiting:
        for now in waiting:
            expected = answer(now)
            got = with_pending(answer(stored), pending_of(org_unit, now))
            assert got == expected, (stored, now)
    counted = answer(waiting[2]).reasons[-1]
    assert counted == f"另有{2 if org_unit == CITY else 1}份报告待审核，审核通过前不计入"
    assert not any("待审核" in reason for reason in answer(()).reasons)

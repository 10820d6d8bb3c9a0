"""The catalog files are complete and consistent, and read as the plan says. No database needed.

Whether every cited sentence is verbatim in the plan's source documents is checked by
`tools/check_catalog.py --seeds <folder>` (the documents are not part of the repository); its own
behaviour is tested here on seed files written from the catalogs.
"""

import importlib.util
import re

import pytest
import yaml

from minsheng.catalog.document import (
    CAMPAIGN_CODES,
    Aggregation,
    CampaignDoc,
    Comparator,
    IndicatorDoc,
    IndicatorKind,
    MilestoneBasis,
    ReportingFrequency,
    contains_number,
    default_frequency,
)
from minsheng.catalog.loader import read_catalog_file
from tests.conftest import ROOT


def _load_tool(path):  # tools/ is a folder of scripts, not a package
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_catalog = _load_tool(ROOT / "tools" / "check_catalog.py")
DOCS = {
    code: read_catalog_file(ROOT / "services" / code / f"minsheng_{code}" / "catalog.yaml") for code in CAMPAIGN_CODES
}
TASKS = {t.number: t for doc in DOCS.values() for t in doc.tasks()}
INDICATORS = {i.code: i for doc in DOCS.values() for i in doc.all_indicators()}
PLAN_DOCUMENTS = ("000", "001", "002", "003", "004")  # the seeds the catalogs cite


def squeeze(text: str) -> str:
    return re.sub(r"[\s*]", "", text)


def test_plan_has_113_tasks_in_34_items_numbered_in_order():
    assert sorted(TASKS) == list(range(1, 114))
    items = [item.number for doc in DOCS.values() for item in doc.items]
    assert items == list(range(1, 35))


@pytest.mark.parametrize(
    ("campaign", "tasks", "items"),
    [
        ("education", 27, 7),
        ("health", 27, 6),
        ("eldercare", 19, 8),
        ("employment", 16, 6),
        ("livability", 24, 7),
    ],
)
def test_campaign_sizes_match_the_plan(campaign, tasks, items):
    assert len(DOCS[campaign].tasks()) == tasks
    assert len(DOCS[campaign].items) == items


def test_every_task_has_a_lead_department_title_and_deadline():
    for task in TASKS.values():
        assert task.lead_departments and all(d.startswith(("市", "淄博")) for d in task.lead_departments)
        assert 2 <= len(task.title) <= 40 and task.title != "TODO"
        assert task.deadline.year in (2022, 2023, 2024)
    # Task 58 is entirely a 2022 commitment; the plan's default is the end of 2024.
    assert TASKS[58].deadline.isoformat() == "2022-12-31"
    assert TASKS[2].deadline.isoformat() == "2024-12-31"


def test_every_indicator_has_unit_target_and_a_cited_source_containing_its_number():
    assert len(INDICATORS) >= 100
    for indicator in INDICATORS.values():
        assert indicator.unit and indicator.target_value is not None
        assert contains_number(indicator.source, indicator.target_value), indicator.code
        assert indicator.seed in PLAN_DOCUMENTS, indicator.code
        for target in indicator.district_targets:
            assert contains_number(target.source, target.target_value)
            assert target.seed in PLAN_DOCUMENTS and target.source
        for milestone in indicator.milestones:
            assert milestone.seed in PLAN_DOCUMENTS and milestone.source


def test_task_indicators_come_from_their_own_task_text():
    for indicator in INDICATORS.values():
        if indicator.code.startswith("T") and indicator.seed == "003":
            task = TASKS[int(indicator.code[1:4])]
            assert squeeze(indicator.source) in squeeze(task.text), indicator.code


@pytest.mark.parametrize(
    ("code", "target", "unit", "comparator", "kind", "horizon", "aggregation"),
    [
        ("T002-1", 103, "处", Comparator.at_least, IndicatorKind.cumulative, 2024, Aggregation.sum),
        ("T002-2", 800, "人", Comparator.at_least, IndicatorKind.yearly, 2024, Aggregation.sum),
        ("T002-3", 65, "%", Comparator.at_least, IndicatorKind.level, 2024, Aggregation.ratio),
        ("T003-3", 50000, "个", Comparator.at_least, IndicatorKind.cumulative, 2024, Aggregation.sum),
        ("T062-1", 300, "处", Comparator.at_least, IndicatorKind.one_year, 2022, Aggregation.sum),
        ("T076-1", 40000, "个", Comparator.at_least, IndicatorKind.cumulative, 2024, Aggregation.sum),
        ("T104-1", 40, "%", Comparator.about, IndicatorKind.level, 2024, Aggregation.ratio),
        ("T074-1", 4.9, "万元", Comparator.about, IndicatorKind.level, 2024, Aggregation.ratio),
        ("T106-1", 40000, "户", Comparator.at_least, IndicatorKind.cumulative, 2024, Aggregation.sum),
        ("T106-3", 665, "万平方米", Comparator.at_least, IndicatorKind.cumulative, 2024, Aggregation.sum),
    ],
)
def test_spot_checked_indicators_read_as_the_plan_says(code, target, unit, comparator, kind, horizon, aggregation):
    indicator = INDICATORS[code]
    assert (
        indicator.target_value,
        indicator.unit,
        indicator.comparator,
        indicator.kind,
        indicator.horizon,
        indicator.aggregation,
    ) == (target, unit, comparator, kind, horizon, aggregation)


def test_baselines_and_milestones_from_the_plan():
    nurses = INDICATORS["T069-3"]  # 养老护理员人数由2000人增加到4000人
    assert (nurses.baseline_value, nurses.target_value) == (2000, 4000)
    jobs = INDICATORS["T076-1"]  # 2022年新增1.63万个, 到2024年不少于4万个
    assert [(m.year, m.value) for m in jobs.milestones] == [(2022, 16300)]
    beds = INDICATORS["T059-1"]  # 2022年建设家庭养老床位3000张 (seed 001), 2023年2000张 (seed 002), 到2024年7000张
    assert beds.target_value == 7000
    assert [(m.year, m.value, m.basis) for m in beds.milestones] == [
        (2022, 3000, MilestoneBasis.reached),
        (2023, 2000, MilestoneBasis.year_flow),
    ]


# Seed 002: the 2023 政府工作报告's 年度指标, on the indicator each concerns: (indicator, value, basis, comparator).
# "新改扩建幼儿园、中小学33所" is not among them: it counts kindergartens and schools together, and no
# indicator does (T002-1 counts public kindergartens, T003-1 schools: 32 in three years).
ANNUAL_2023 = [
    ("H-EMP-1", 55000, MilestoneBasis.year_flow, None),  # 年内新增城镇就业5.5万人
    ("T007-1", 20, MilestoneBasis.year_flow, None),  # 培育20个集团化办学样板
    ("T035-2", 100, MilestoneBasis.reached, None),  # 名医专家(团队)工作室达到100家
    ("T043-2", 60, MilestoneBasis.reached, Comparator.at_least),  # 报销比例提高到60%以上 (the end target: 65%左右)
    ("T049-1", 3.8, MilestoneBasis.reached, None),  # 每千人口婴幼儿托位数达到3.8个
    ("T059-1", 2000, MilestoneBasis.year_flow, None),  # 建设…家庭养老床位2000张
]


def test_seed_002s_2023_annual_targets_are_milestones_of_their_indicators():
    cited = {
        code: [(m.value, m.basis, m.comparator) for m in indicator.milestones if m.seed == "002"]
        for code, indicator in INDICATORS.items()
    }
    assert {code: found for code, found in cited.items() if found} == {
        code: [(value, basis, comparator)] for code, value, basis, comparator in ANNUAL_2023
    }
    for code, *_ in ANNUAL_2023:
        (milestone,) = (m for m in INDICATORS[code].milestones if m.seed == "002")
        assert milestone.year == 2023 and milestone.quarter is None
        assert contains_number(milestone.source, milestone.value)


def _milestone(**changes) -> dict:
    return {"year": 2023, "value": 40, "source": "2023年新改扩建公办幼儿园40处", "seed": "002", **changes}


@pytest.mark.parametrize(
    ("indicator", "milestones", "problem"),
    [
        ({}, [_milestone(), _milestone(value=40.0)], "given twice"),
        ({}, [_milestone(year=2024)], "is the end target itself"),
        ({"horizon": 2023}, [_milestone(year=2024)], "after the indicator's horizon"),
        ({"kind": "level"}, [_milestone(basis="year_flow")], "a level has no flow"),
        ({"kind": "yearly"}, [_milestone()], "counts the year's flow"),
        ({"kind": "one_year", "horizon": 2023}, [_milestone(basis="year_flow")], "is the end target itself"),
        ({}, [_milestone(quarter=5)], "less than or equal to 4"),
    ],
)
def test_a_milestone_that_does_not_fit_its_indicator_is_rejected(indicator, milestones, problem):
    with pytest.raises(ValueError, match=problem):
        IndicatorDoc.model_validate(_indicator(**indicator, milestones=milestones))


def test_quarterly_and_year_flow_targets_are_accepted_beside_a_reached_one():
    doc = IndicatorDoc.model_validate(
        _indicator(
            milestones=[
                _milestone(value=34, source="2022年新改扩建公办幼儿园34处", year=2022),
                _milestone(quarter=2, basis="year_flow", value=20, source="上半年新改扩建20处"),
                _milestone(basis="year_flow"),
            ]
        )
    )
    assert [m.period_code for m in doc.milestones] == ["2022", "2023Q2", "2023"]


# (campaign, name fragment, target, comparator) for the headline targets of seeds 000/001
HEADLINES = [
    ("health", "县域内就诊率", 90, Comparator.at_least),
    ("health", "人均预期寿命", 80.5, Comparator.at_least),
    ("eldercare", "养老机构", 170, Comparator.at_least),
    ("eldercare", "床位", 35000, Comparator.at_least),
    ("employment", "城镇新增就业", 165000, Comparator.at_least),
    ("employment", "城镇登记失业率", 4.5, Comparator.at_most),
    ("employment", "毕业去向落实率", 85, Comparator.at_least),
    ("livability", "人均体育场地面积", 3.5, Comparator.at_least),
    ("livability", "经常参加体育锻炼人数比例", 42, Comparator.at_least),
    ("livability", "人均公园绿地面积", 20.9, Comparator.at_least),
    ("livability", "绿道长度", 1.8, Comparator.at_least),
    ("livability", "专业化物业管理覆盖率", 90, Comparator.at_least),
    ("education", "学前教育普及普惠", 80, Comparator.at_least),
    ("education", "义务教育优质均衡", 80, Comparator.at_least),
]


@pytest.mark.parametrize(("campaign", "fragment", "target", "comparator"), HEADLINES)
def test_headline_targets_are_campaign_level_indicators(campaign, fragment, target, comparator):
    matches = [i for i in DOCS[campaign].indicators if fragment in i.name]
    assert len(matches) == 1, f"{fragment} missing among {campaign} headline indicators"
    assert (matches[0].target_value, matches[0].comparator) == (target, comparator)
    assert matches[0].seed in ("000", "001")


# Zhangdian's own targets (seed 004) on the matching city indicator: (task, district value, city value)
ZHANGDIAN = [
    (2, 10, 103),
    (3, 9, 32),
    (3, 17300, 50000),
    (43, 65, 65),
    (58, 100, 100),
    (76, 3000, 40000),
    (95, 100, 200),
    (106, 12000, 40000),
    (106, 15800, 75000),
    (106, 151.9, 665),
]


@pytest.mark.parametrize(("task", "district_value", "city_value"), ZHANGDIAN)
def test_zhangdian_targets_sit_on_the_matching_indicator(task, district_value, city_value):
    matching = [
        i
        for i in INDICATORS.values()
        if i.code.startswith(f"T{task:03d}-")
        and any(t.org_unit == "370303" and t.target_value == district_value for t in i.district_targets)
    ]
    assert len(matching) == 1, f"Zhangdian target {district_value} not found on task {task}"
    assert matching[0].target_value == city_value


def _indicator(**changes) -> dict:
    base = {
        "code": "T002-1",
        "name": "新改扩建公办幼儿园数量",
        "unit": "处",
        "target_value": 103,
        "comparator": "ge",
        "kind": "cumulative",
        "horizon": 2024,
        "aggregation": "sum",
        "source": "三年新改扩建公办幼儿园103处",
    }
    return {**base, **changes}


def test_a_number_that_is_not_in_its_source_is_rejected():
    with pytest.raises(ValueError, match="does not appear"):
        IndicatorDoc.model_validate(_indicator(target_value=130))
    # 万 in the source counts: 1.63万个 is 16300 个
    assert IndicatorDoc.model_validate(_indicator(target_value=16300, source="新增城乡公益性岗位1.63万个以上"))


def test_every_indicator_states_its_reporting_frequency_in_the_file():
    for code in CAMPAIGN_CODES:
        raw = yaml.safe_load((ROOT / "services" / code / f"minsheng_{code}" / "catalog.yaml").read_text("utf-8"))
        stated = list(raw.get("indicators", [])) + [
            i for item in raw["items"] for task in item["tasks"] for i in task.get("indicators", [])
        ]
        assert stated and all("frequency" in i for i in stated), code


@pytest.mark.parametrize(
    ("code", "frequency"),
    [
        ("T002-1", ReportingFrequency.month),  # 三年新改扩建公办幼儿园103处: a count built up month by month
        ("T002-2", ReportingFrequency.month),  # 每年招聘公办幼儿教师800人: a yearly flow
        ("T002-3", ReportingFrequency.year),  # 公办园在园幼儿占比: a share
        ("T069-3", ReportingFrequency.quarter),  # 养老护理员人数: a stock checked each quarter
        ("H-EDU-1", ReportingFrequency.year),  # a share of districts
    ],
)
def test_reporting_frequency_follows_what_the_plan_measures(code, frequency):
    assert INDICATORS[code].frequency is frequency


def test_the_catalog_files_follow_the_guides_frequency_rule():
    assert all(i.frequency is default_frequency(i.kind, i.aggregation) for i in INDICATORS.values())


def test_a_document_published_before_frequencies_were_data_gets_the_guides_rule():
    assert IndicatorDoc.model_validate(_indicator()).frequency is ReportingFrequency.month
    assert (
        IndicatorDoc.model_validate(
            _indicator(kind="level", aggregation="ratio", unit="%", target_value=65, source="占比达到65%以上")
        ).frequency
        is ReportingFrequency.year
    )


def test_comparators_accept_ascii_spellings_and_serialize_as_symbols():
    indicator = IndicatorDoc.model_validate(_indicator(comparator="le"))
    assert indicator.comparator is Comparator.at_most
    assert indicator.model_dump(mode="json")["comparator"] == "≤"


def test_a_campaign_document_rejects_duplicate_indicator_codes():
    raw = DOCS["education"].model_dump(mode="json")
    raw["items"][0]["tasks"][1]["indicators"].append(raw["items"][0]["tasks"][1]["indicators"][0])
    with pytest.raises(ValueError, match="used twice"):
        CampaignDoc.model_validate(raw)


def write_seeds(folder, docs=DOCS, *, leave_out: str = "", departments: dict[int, str] | None = None):
    """Seed files holding exactly what the catalogs cite (task lines in 003, as the plan writes them)."""
    texts: dict[str, list[str]] = {number: [] for number in PLAN_DOCUMENTS}
    for doc in docs.values():
        for task in doc.tasks():
            lead = (departments or {}).get(task.number, "、".join(task.lead_departments))
            texts["003"].append(f"{task.number}、{task.text}(牵头部门:{lead})")
        for indicator in doc.all_indicators():
            cited = [
                (indicator.seed, indicator.source),
                *((m.seed, m.source) for m in indicator.milestones),
                *((t.seed, t.source) for t in indicator.district_targets),
            ]
            texts.update({seed: [*texts[seed], source] for seed, source in cited if source != leave_out})
    for number, lines in texts.items():
        (folder / f"{number}_0123456789abcdef.txt").write_text("\n".join(lines), encoding="utf-8")
    return folder


def test_the_catalog_check_passes_when_every_cited_sentence_is_in_its_document(tmp_path, capsys):
    assert check_catalog.main(["--seeds", str(write_seeds(tmp_path))]) == 0
    assert capsys.readouterr().out.count("0 problems") == len(CAMPAIGN_CODES)


def test_the_catalog_check_names_a_source_missing_from_its_document(tmp_path, capsys):
    unemployment = next(i for i in DOCS["employment"].indicators if i.name == "城镇登记失业率")
    assert check_catalog.main(["--seeds", str(write_seeds(tmp_path, leave_out=unemployment.source))]) == 1
    problem = f"PROBLEM: {unemployment.code}: source is not a verbatim part of seed {unemployment.seed}"
    assert problem in capsys.readouterr().out


def test_the_catalog_check_names_a_task_whose_lead_departments_differ(tmp_path, capsys):
    seeds = write_seeds(tmp_path, departments={80: "市人力资源和社会保障局", 2: "市发展改革委"})
    assert check_catalog.main(["--seeds", str(seeds)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: task 2: lead departments differ from seed 003 (市发展改革委)" in out
    assert "task 80" not in out  # the plan's long spelling of the bureau is the catalog's short one

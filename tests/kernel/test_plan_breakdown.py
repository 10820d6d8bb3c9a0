"""The city's 任务分解表 (minsheng.catalog.breakdown): the template a clerk fills, read back into the plan and one
campaign draft per campaign, and every bad input answered by sheet, row and column in Chinese; never an exception.
Nothing here touches a database: the parse is a pure function of the bytes."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from minsheng.catalog.breakdown import (
    BREAKDOWN_SHEET,
    COLUMNS,
    MAX_ROWS,
    PLAN_SHEET,
    BreakdownResult,
    KnownIndicators,
    campaign_counts,
    parse_breakdown,
    read_number,
)
from minsheng.catalog.document import (
    CAMPAIGN_CODES,
    Aggregation,
    Comparator,
    ContinuesDoc,
    IndicatorKind,
    PlanDoc,
    PlanState,
    ReportingFrequency,
    contains_number,
)
from minsheng.demo.breakdown import DEMO_WORKBOOK, demo_data, demo_workbook
from tests.support.breakdown import (
    CONTEXT,
    DOCS,
    GOOD_ROWS,
    KINDERGARTENS,
    KNOWN,
    NAMES,
    PLAN,
    filled,
    template,
)

LETTER = {spec.key: get_column_letter(index) for index, spec in enumerate(COLUMNS, start=1)}
HEADER_LETTER = {spec.header: LETTER[spec.key] for spec in COLUMNS} | {
    f"{unit.code} {unit.name}": get_column_letter(len(COLUMNS) + index)
    for index, unit in enumerate(CONTEXT["districts"], start=1)
}


def parse(content: bytes, **kwargs) -> BreakdownResult:
    return parse_breakdown(content, known_indicators=KNOWN, **CONTEXT, **kwargs)


def places(result: BreakdownResult) -> set[tuple]:
    return {(e.code, e.sheet, e.row, e.column, e.column_name) for e in result.errors}


def only_error(result: BreakdownResult):
    assert len(result.errors) == 1, [e.message for e in result.errors]
    return result.errors[0]


# ---- the template ------------------------------------------------------------------------------------------


def test_the_template_has_its_sheets_columns_drop_downs_and_an_explained_example():
    book = openpyxl.load_workbook(io.BytesIO(template(plan_years=range(2031, 2034))))
    assert book.sheetnames[:3] == [BREAKDOWN_SHEET, PLAN_SHEET, "说明"]
    sheet = book[BREAKDOWN_SHEET]
    header = [c.value for c in sheet[1]]
    assert header[:20] == [
        "所属领域",
        "序号",
        "工作事项",
        "具体任务",
        "主办单位",
        "协办单位",
        "指标",
        "单位",
        "比较方式",
        "目标值",
        "基期值",
        "完成时限",
        "指标类型",
        "汇总方式",
        "报送频次",
        "填报层级",
        "分年度目标",
        "分季度目标",
        "接续指标",
        "须附佐证",
    ]
    assert header[20:] == [f"{u.code} {u.name}" for u in CONTEXT["districts"]]  # one column per district, code first
    assert sheet.freeze_panes == "C2"
    # drop-downs: the five campaigns' names and every current lead department, from the hidden option sheet
    options = book["选项"]
    assert options.sheet_state == "hidden"
    lists = {options.cell(row=1, column=c).value: c for c in range(1, options.max_column + 1)}
    listed = lambda title: [  # noqa: E731
        options.cell(row=r, column=lists[title]).value
        for r in range(2, options.max_row + 1)
        if options.cell(row=r, column=lists[title]).value
    ]
    assert listed("所属领域") == [doc.name for doc in DOCS]
    assert listed("主办单位") == CONTEXT["departments"] and "市教育局" in listed("主办单位")
    assert {"张店区", "各区县（功能区）"} <= set(listed("协办单位"))
    validated = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    assert validated["A2"].type == "list" and validated["A2"].errorStyle == "stop"
    assert validated["E2"].errorStyle == "warning"  # two departments in one cell stay possible
    assert str(validated["A2"].sqref) == f"A2:A{MAX_ROWS + 1}"
    assert listed("须附佐证") == ["是", "否"] and validated[f"{LETTER['evidence']}2"].errorStyle == "stop"
    # the plan's fields, pre-filled with the years given
    plan_rows = {row[0]: row[1] for row in book[PLAN_SHEET].iter_rows(min_row=2, values_only=True)}
    assert (
        plan_rows["开始年份"] == 2031 and plan_rows["结束年份"] == 2033 and "名称" in plan_rows and "文号" in plan_rows
    )
    # every column is explained, in Chinese, with the plan's years in the examples
    guide = [row for row in book["说明"].iter_rows(values_only=True)]
    explained = {row[1]: row[3] for row in guide if row[0] and len(row) > 3 and row[3]}
    assert set(header[:20]) <= set(explained)
    assert "2031:20;2032:40" in explained["分年度目标"] and "2033-12-31" in explained["完成时限"]
    assert any(f"最多 {MAX_ROWS} 行" in str(row[0]) for row in guide)


def test_the_example_rows_of_the_guide_pass_the_dry_run_themselves():
    """The 说明 sheet's example is not a different dialect: pasted into the table, it reads without an error."""
    book = openpyxl.load_workbook(io.BytesIO(template(plan_years=range(2031, 2034))))
    guide = list(book["说明"].iter_rows(values_only=True))
    at = next(i for i, row in enumerate(guide) if row[0] == "所属领域")
    header = guide[at]
    rows = []
    for values in guide[at + 1 : at + 3]:
        row = {spec.key: values[index] for index, spec in enumerate(COLUMNS)}
        row["districts"] = {
            str(h).split()[0]: v for h, v in zip(header[len(COLUMNS) :], values[len(COLUMNS) :], strict=True) if v
        }
        rows.append(row)
    result = parse(filled(rows))
    assert result.ok, [e.message for e in result.errors]
    assert [i.code for i in result.campaigns["education"].all_indicators()] == ["T001-1", "T001-2"]


# ---- the round trip -----------------------------------------------------------------------------------------


def test_a_filled_template_reads_back_into_the_plan_and_one_draft_per_campaign():
    result = parse(filled())
    assert result.ok and result.usable and result.errors == [], [e.message for e in result.errors]
    assert result.rows == 5 and result.sheet == BREAKDOWN_SHEET
    plan = result.plan
    assert (plan.code, plan.name, plan.document_number) == ("plan-2031-2033", PLAN["name"], "测试〔2031〕1号")
    assert (plan.start, plan.end, plan.state) == (dt.date(2031, 1, 1), dt.date(2033, 12, 31), PlanState.draft)
    assert set(result.campaigns) == {"education", "eldercare", "employment"}
    assert {w.code for w in result.warnings} == {"campaign_without_tasks"}  # health and livability: none

    education = result.campaigns["education"]
    assert education.plan == plan and education.number == 1 and education.name == NAMES["education"]
    # work items numbered in order of appearance; tasks 1 and 3 share theirs
    assert [(i.number, i.title, [t.number for t in i.tasks]) for i in education.items] == [
        (1, "扩大优质教育资源供给", [1, 3])
    ]
    assert [i.number for i in result.campaigns["eldercare"].items] == [2]
    task = education.items[0].tasks[0]
    assert task.title == "新改扩建公办幼儿园和中小学" and task.text == KINDERGARTENS["text"]
    assert task.lead_departments == ("市教育局", "市自然资源和规划局") and task.deadline == dt.date(2033, 12, 31)
    kindergartens, share = task.indicators
    assert (kindergartens.code, kindergartens.target_value, kindergartens.unit) == ("T001-1", 60, "处")
    assert (kindergartens.kind, kindergartens.aggregation, kindergartens.frequency) == (
        IndicatorKind.cumulative,
        Aggregation.sum,
        ReportingFrequency.month,
    )
    assert (kindergartens.comparator, kindergartens.horizon, kindergartens.city_only) == (
        Comparator.at_least,
        2033,
        False,
    )
    assert [(m.year, m.value) for m in kindergartens.milestones] == [(2031, 20), (2032, 40)]
    assert [(d.org_unit, d.target_value) for d in kindergartens.district_targets] == [("370302", 6), ("370303", 8)]
    # every number stands in its source sentence: the row restated from its own cells
    assert kindergartens.source == "新改扩建公办幼儿园数量：到2033年累计不低于60处"
    assert kindergartens.district_targets[1].source == "张店区新改扩建公办幼儿园数量：到2033年累计不低于8处"
    assert kindergartens.milestones[0].source == "新改扩建公办幼儿园数量：到2031年累计不低于20处"
    assert (share.code, share.aggregation, share.frequency) == ("T001-2", Aggregation.ratio, ReportingFrequency.year)
    assert (share.baseline_value, share.baseline_year) == (65, 2030)
    assert share.source == "公办园在园幼儿占比：到2033年不低于70%（基期值65%）"
    assert contains_number(share.source, 65)
    # 须附佐证: the indicator's on its row, the task's own on a task row without indicators; 否 by default
    assert (kindergartens.evidence_required, share.evidence_required, task.evidence_required) == (True, False, False)
    assert education.items[0].tasks[1].evidence_required is True
    assert not any(i.evidence_required for i in result.campaigns["eldercare"].all_indicators())
    # 接续指标: the code the clerk wrote, linked to the earlier plan holding it (the 2022–2024 plan)
    assert kindergartens.continues == ContinuesDoc(plan=DOCS[0].plan.code, indicator="T002-1")
    assert share.continues is None
    # 协办单位 are the task's partners (各区县（功能区）: every district); a task without any names none
    assert task.partner_departments == ("市住房城乡建设局", "各区县（功能区）")
    assert result.campaigns["eldercare"].items[0].tasks[0].partner_departments == ()
    # what the catalog document has no place for yet, kept beside it
    assert result.indicators["T001-1"].quarterly_targets == (("2031Q2", 6), ("2031Q4", 20))

    beds = result.campaigns["eldercare"].items[0].tasks[0]
    assert beds.deadline == dt.date(2032, 12, 31)  # 2032年底
    assert beds.indicators[0].target_value == 3000 and beds.indicators[0].milestones[0].value == 1200
    assert (
        education.items[0].tasks[1].deadline == dt.date(2033, 12, 31) and education.items[0].tasks[1].indicators == ()
    )
    unemployment = result.campaigns["employment"].items[0].tasks[0].indicators[0]
    assert (unemployment.comparator, unemployment.city_only) == (Comparator.at_most, True)
    assert unemployment.source == "城镇登记失业率：到2033年不超过3.5%"

    counts = {c.code: c for c in campaign_counts(result)}
    assert (counts["education"].tasks, counts["education"].indicators, counts["education"].district_targets) == (
        2,
        2,
        2,
    )
    assert (counts["education"].annual_targets, counts["education"].quarterly_targets) == (2, 2)


@pytest.mark.parametrize(
    ("written", "read"),
    [(12000, 12000), ("12,000", 12000), ("１２，０００", 12000), ("12 000", 12000), ("１２．５", 12.5), ("65%", 65)],
)
def test_numbers_are_read_normalised(written, read):
    assert read_number(written, percent=True) == read


# ---- bad input, each by sheet, row and column ----------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_refused_as_a_whole():
    for content in (b"indicator,org_unit\nT001-1,370300\n", "任务分解表".encode(), b""):
        result = parse(content)
        assert not result.usable and not result.ok
        error = only_error(result)
        assert error.code == "not_xlsx" and ".xlsx" in error.message and error.row is None


def test_a_corrupt_zip_is_refused_as_unreadable():
    good = filled()
    for content in (good[: len(good) // 2], b"PK\x03\x04" + bytes(200)):
        result = parse(content)
        assert not result.usable and only_error(result).code == "unreadable_file"
    # a part damaged inside an intact archive
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w") as target:
        for part in source.infolist():
            data = source.read(part)
            target.writestr(part, b"<worksheet><sheetData><row" if part.filename.endswith("sheet1.xml") else data)
    assert only_error(parse(buffer.getvalue())).code == "unreadable_file"


def test_a_renamed_header_is_named_with_the_column_it_lost():
    def rename(book):
        book[BREAKDOWN_SHEET]["D1"] = "具体工作"

    result = parse(filled(edit=rename))
    assert not result.usable
    error = only_error(result)
    assert (error.code, error.sheet, error.row) == ("bad_header", BREAKDOWN_SHEET, 1)
    assert "具体任务" in error.message and "D 列「具体工作」" in error.message


def test_a_lost_header_is_said_to_be_lost():
    def clear(book):
        book[BREAKDOWN_SHEET].delete_rows(1)

    result = parse(filled(edit=clear))
    assert not result.usable and only_error(result).code == "header_missing"


def test_an_alias_header_and_a_title_row_above_it_are_read():
    def retitle(book):
        sheet = book[BREAKDOWN_SHEET]
        sheet["E1"] = "牵头单位"
        sheet.insert_rows(1)
        sheet["A1"] = "民生行动任务分解表"

    result = parse(filled(edit=retitle))
    assert result.ok, [e.message for e in result.errors]
    assert result.indicators["T001-1"].row == 3  # rows are the sheet's own numbers


def test_a_formula_where_a_value_belongs_is_refused_at_its_cell():
    def formula(book):
        book[BREAKDOWN_SHEET]["J2"] = "=10*6"

    result = parse(filled(edit=formula))
    assert result.usable and not result.ok
    error = only_error(result)
    assert (error.code, error.sheet, error.row, error.column, error.column_name) == (
        "formula_in_cell",
        BREAKDOWN_SHEET,
        2,
        "J",
        "目标值",
    )
    assert "=10*6" in error.message and "粘贴" in error.message


def test_a_merged_cell_is_refused_once_not_once_per_row_it_covers():
    def merge(book):
        sheet = book[BREAKDOWN_SHEET]
        sheet["C5"] = None  # the clerk merged 工作事项 over tasks 3 and 4 (rows 5 and 6)
        sheet.merge_cells("C5:C6")

    result = parse(filled(edit=merge))
    error = only_error(result)
    assert (error.code, error.row, error.column, error.column_name) == ("merged_cell", 5, "C", "工作事项")
    assert "C5:C6" in error.message


def with_dimension(content: bytes, ref: str) -> bytes:
    """The workbook as Excel and WPS save it: the sheet says its size first (<dimension>), which openpyxl's
    write-only mode leaves out (a reader then scans the whole sheet for it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            data = source.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetViews>", f'<dimension ref="{ref}"/><sheetViews>'.encode(), 1)
            target.writestr(part, data)
    return buffer.getvalue()


def test_fifty_thousand_rows_are_refused_with_the_limit_in_the_message():
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(BREAKDOWN_SHEET)
    sheet.append([spec.header for spec in COLUMNS])
    for number in range(1, 50_001):
        sheet.append([None, number])
    buffer = io.BytesIO()
    book.save(buffer)
    result = parse(with_dimension(buffer.getvalue(), f"A1:{get_column_letter(len(COLUMNS))}50001"))
    assert not result.usable
    error = only_error(result)
    assert error.code == "too_many_rows" and f"{MAX_ROWS} 行" in error.message and error.row == MAX_ROWS + 2


def test_a_sheet_named_in_another_language_is_found_by_its_header():
    def rename(book):
        book[BREAKDOWN_SHEET].title = "Breakdown"
        book[PLAN_SHEET].title = "Plan"

    result = parse(filled(edit=rename))
    assert result.ok and result.sheet == "Breakdown"
    assert {(w.code, w.sheet) for w in result.warnings} >= {("sheet_renamed", "Breakdown"), ("sheet_renamed", "Plan")}


def test_a_workbook_without_the_table_says_which_sheet_is_expected():
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.active.append(["name", "value"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = parse(buffer.getvalue())
    error = only_error(result)
    assert (
        error.code == "breakdown_sheet_missing" and "「Sheet1」" in error.message and BREAKDOWN_SHEET in error.message
    )


def bad(row_changes: dict, rows=GOOD_ROWS, at: int = 0) -> BreakdownResult:
    changed = [dict(r) for r in rows]
    changed[at] = {k: v for k, v in {**changed[at], **row_changes}.items() if v is not None}
    return parse(filled(changed))


@pytest.mark.parametrize(
    ("changes", "at", "code", "column", "says"),
    [
        ({"lead": "市教育局、市教育厅"}, 0, "unknown_department", "主办单位", "「市教育厅」"),
        ({"partners": "市财政厅"}, 0, "unknown_department", "协办单位", "「市财政厅」"),
        ({"partners": "市教育局、各区县"}, 0, "lead_and_partner", "协办单位", "「市教育局」既是主办单位又是协办单位"),
        ({"unit": None}, 0, "target_without_unit", "单位", "没有单位"),
        ({"target": None}, 2, "target_missing", "目标值", "没有目标值"),
        ({"target": "60以上"}, 0, "not_a_number", "目标值", "比较方式"),
        ({"target": "6,00"}, 0, "not_a_number", "目标值", "千分位"),
        ({"target": -5}, 0, "negative_number", "目标值", "负数"),
        ({"annual": "2031:20;2035:40"}, 0, "year_outside_plan", "分年度目标", "2035 年不在方案期"),
        ({"quarterly": "2030Q4:1"}, 0, "year_outside_plan", "分季度目标", "2030"),
        ({"deadline": dt.date(2035, 6, 30)}, 0, "year_outside_plan", "完成时限", "2035-06-30"),
        ({"deadline": "明年"}, 0, "bad_deadline", "完成时限", "不是日期"),
        ({"annual": "2031:20;2033:55"}, 0, "annual_conflicts_target", "分年度目标", "不一致"),
        ({"annual": "二〇三一年二十"}, 0, "bad_annual_targets", "分年度目标", "年份:数值"),
        ({"campaign": None}, 0, "campaign_missing", "所属领域", "五个行动之一"),
        ({"campaign": "交通出行"}, 0, "unknown_campaign", "所属领域", "「交通出行」"),
        ({"number": 1}, 2, "duplicate_number", "序号", "与第 2 行重复"),
        ({"number": "一"}, 2, "bad_number", "序号", "正整数"),
        ({"text": "建幼儿园"}, 0, "task_text_too_short", "具体任务", "至少 10 个字"),
        ({"kind": None}, 0, "kind_missing", "指标类型", "累计值"),
        ({"kind": "总量"}, 0, "unknown_kind", "指标类型", "下拉列表"),
        ({"continues": "T999-9"}, 0, "unknown_continues", "接续指标", "T999-9"),
        ({"continues": "幼儿园"}, 0, "bad_continues", "接续指标", "T002-1"),
        ({"level": "仅市级"}, 0, "city_only_with_districts", "370302 淄川区", "仅市级"),
        ({"item": None}, 0, "item_missing", "工作事项", "工作事项"),
        ({"text": "另一项任务的具体表述，与上一行不同"}, 1, "row_without_number", "具体任务", "填写序号"),
        ({"evidence": "要"}, 0, "unknown_evidence", "须附佐证", "「要」不是可选值"),
        ({"evidence": "必须"}, 3, "unknown_evidence", "须附佐证", "是、否"),  # a task row without indicators
    ],
)
def test_each_bad_cell_is_named_by_row_and_column(changes, at, code, column, says):
    result = bad(changes, at=at)
    assert result.usable and not result.ok
    assert {e.code for e in result.errors} == {code}, [e.message for e in result.errors]
    error, row = result.errors[0], at + 2
    assert (error.code, error.sheet, error.row, error.column_name) == (code, BREAKDOWN_SHEET, row, column)
    assert error.column == HEADER_LETTER[column] and error.field == column
    assert says in error.message and f"第 {row} 行" in error.message and f"{error.column} 列" in error.message


def test_a_continued_code_is_linked_to_the_latest_plan_before_this_one_that_holds_it():
    """The column holds an indicator code; codes repeat from plan to plan, so the link names the plan: the latest
    begun before the workbook's plan that has the code, never the workbook's own plan nor a later one."""
    legacy = DOCS[0].plan
    between = PlanDoc(code="plan-between", name="中间方案", start=dt.date(2028, 1, 1), end=dt.date(2030, 12, 31))
    later = PlanDoc(code="plan-later", name="以后的方案", start=dt.date(2034, 1, 1), end=dt.date(2036, 12, 31))
    own = PlanDoc(code="plan-2031-2033", name=PLAN["name"], start=dt.date(2031, 1, 1), end=dt.date(2033, 12, 31))
    known = KnownIndicators(
        plans=(
            (legacy, frozenset({"T002-1", "T003-1"})),
            (between, frozenset({"T002-1"})),
            (later, frozenset({"T002-1", "T009-9"})),
            (own, frozenset({"T009-9"})),  # the plan itself, published once before (an amendment)
        )
    )

    def linked(code: str):
        rows = [dict(r) for r in GOOD_ROWS]
        rows[0] |= {"continues": code}
        result = parse_breakdown(filled(rows), known_indicators=known, **CONTEXT)
        return result, result.campaigns["education"].items[0].tasks[0].indicators[0].continues if result.ok else None

    assert linked("T002-1")[1] == ContinuesDoc(plan="plan-between", indicator="T002-1")
    assert linked("t003-1")[1] == ContinuesDoc(plan=legacy.code, indicator="T003-1")
    refused, _ = linked("T009-9")  # only in a later plan and in the workbook's own
    assert [(e.code, e.column_name) for e in refused.errors] == [("unknown_continues", "接续指标")]
    assert "不是本方案之前的方案中的指标" in refused.errors[0].message


@pytest.mark.parametrize(
    ("changes", "at", "code", "column", "says"),
    [
        ({"indicator": None}, 2, "indicator_name_missing", "单位", "没有填写指标名称"),
        ({"indicator": "园"}, 0, "indicator_name_too_short", "指标", "指标名称「园」太短"),
        ({"unit": "处" * 21}, 0, "unit_too_long", "单位", "超过 20 个字"),
        ({"unit": "万人3"}, 0, "unit_with_digits", "单位", "含有数字"),
        ({"unit": 3}, 0, "unit_with_digits", "单位", "含有数字"),
        ({"frequency": "每周"}, 1, "unknown_frequency", "报送频次", "「每周」不是可选值"),
    ],
)
def test_an_indicators_name_unit_and_frequency_are_checked_at_their_cells(changes, at, code, column, says):
    result = bad(changes, at=at)
    assert result.usable and not result.ok
    assert [(e.code, e.row, e.column_name) for e in result.errors] == [(code, at + 2, column)]
    assert says in result.errors[0].message


def test_a_district_share_without_a_city_target_is_named_at_the_districts_cell():
    result = bad({"target": None})
    assert places(result) == {
        ("target_missing", BREAKDOWN_SHEET, 2, "J", "目标值"),
        ("district_without_city_target", BREAKDOWN_SHEET, 2, HEADER_LETTER["370303 张店区"], "370303 张店区"),
        ("district_without_city_target", BREAKDOWN_SHEET, 2, HEADER_LETTER["370302 淄川区"], "370302 淄川区"),
    }
    assert "张店区的分解值 8 没有对应的全市目标值" in next(
        e.message for e in result.errors if e.column == HEADER_LETTER["370303 张店区"]
    )


def test_a_district_column_with_an_unknown_code_is_named_in_the_header():
    def rename(book):
        book[BREAKDOWN_SHEET][f"{HEADER_LETTER['370303 张店区']}1"] = "370399 某区"

    result = parse(filled(edit=rename))
    assert places(result) == {("unknown_district", BREAKDOWN_SHEET, 1, HEADER_LETTER["370303 张店区"], "370399 某区")}


@pytest.mark.parametrize(
    ("plan", "code", "row", "says"),
    [
        (PLAN | {"end_year": 2030}, "plan_end_before_start", 5, "结束年份 2030 早于开始年份 2031"),
        (PLAN | {"start_year": "明年"}, "bad_year", 4, "四位数字"),
        (PLAN | {"name": None}, "plan_name_missing", 2, "方案名称"),
        (PLAN | {"code": "Demo Plan"}, "bad_plan_code", 6, "小写字母"),
    ],
)
def test_the_plans_own_fields_are_checked_on_their_sheet(plan, code, row, says):
    result = parse(filled(plan={k: v for k, v in plan.items() if v is not None}))
    assert result.plan is None and not result.ok
    error = next(e for e in result.errors if e.sheet == PLAN_SHEET)
    assert (error.code, error.row, error.column) == (code, row, "B") and says in error.message
    assert not result.campaigns  # no draft without its plan


def test_every_error_is_listed_not_only_the_first():
    rows = [dict(r) for r in GOOD_ROWS]
    rows[0] = rows[0] | {"lead": "市教育厅"}
    rows[2] = rows[2] | {"unit": None}
    rows[4] = rows[4] | {"number": 1}
    result = parse(filled(rows))
    assert {(e.code, e.row) for e in result.errors} == {
        ("unknown_department", 2),
        ("target_without_unit", 4),
        ("duplicate_number", 6),
    }
    # the rows without error still make their drafts, so the dry run can show what they would create
    assert "eldercare" not in result.campaigns and "employment" not in result.campaigns
    assert [task.number for task in result.campaigns["education"].tasks()] == [3]


def test_a_damaged_file_never_raises():
    """Random damage to a good workbook: every outcome is a result (usable or not), never an exception."""
    good = filled()
    generator = random.Random(26)
    for _ in range(25):
        damaged = bytearray(good)
        for _ in range(generator.randint(1, 20)):
            damaged[generator.randrange(len(damaged))] = generator.randrange(256)
        result = parse(bytes(damaged))
        assert isinstance(result, BreakdownResult)
        assert result.usable or result.errors


# ---- the demonstration workbook -------------------------------------------------------------------------------


def test_the_demonstration_workbook_dry_runs_clean_and_is_what_its_data_says():
    committed = parse(DEMO_WORKBOOK.read_bytes())
    assert committed.ok and committed.errors == [] and committed.warnings == [], [
        e.message for e in committed.errors + committed.warnings
    ]
    data = demo_data()
    plan = committed.plan
    assert plan.name.startswith("【演示】") and plan.code == data["plan"]["code"]
    assert plan.start <= dt.date(2026, 12, 1) <= plan.end  # its horizon includes the today
    assert set(committed.campaigns) == set(CAMPAIGN_CODES)
    for counts in campaign_counts(committed):
        assert 5 <= counts.tasks <= 10 and counts.indicators >= counts.tasks, counts
        assert counts.annual_targets and counts.district_targets, counts
    # the committed workbook is the one tools/build_breakdown_demo.py makes from the YAML
    rebuilt = parse(demo_workbook(**CONTEXT))
    assert rebuilt.plan == committed.plan and rebuilt.campaigns == committed.campaigns
    assert rebuilt.indicators == committed.indicators and rebuilt.tasks == committed.tasks

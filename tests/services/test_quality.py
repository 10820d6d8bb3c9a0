"""Data quality in a campaign service (issue 30): the rule grammar, rules refused when saved, rules evaluated on entry
(a 高 failure blocks unless explained), and the outlier math."""

import io
import json

import openpyxl
import pytest
from sqlmodel import select

from minsheng.messaging import OutboxEvent
from minsheng.quality import expressions
from minsheng.quality.expressions import ExpressionError
from minsheng.quality.outliers import modified_z_score, outside_bounds
from tests.conftest import CITY, EDU_BUREAU, VIEWER, ZHANGDIAN


@pytest.fixture
def education(campaign_client):
    return campaign_client("education")


def rule(left="T003-2", operator="<=", right="T003-1", importance="high", **extra):
    return {
        "name": "薄弱学校改造数不超过新改扩建数",
        "left": left,
        "operator": operator,
        "right": right,
        "importance": importance,
        "instruction": "完成改造的薄弱学校数不应超过新改扩建中小学数，请核对两项数据",
        **extra,
    }


def add_rule(client, body):
    response = client.post("/api/v1/quality/rules", json=body, headers=CITY)
    assert response.status_code == 201, response.text
    return response.json()


def report(indicator, value, org_unit="370303", period="2022-06", **extra):
    return {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value, **extra}


# ---- the grammar ------------------------------------------------------------------------------------------------


def test_the_grammar_reads_codes_numbers_operators_parentheses_and_district_sums():
    node = expressions.parse("(T003-1 - T003-2) * 2 / 4 + sum_districts(T002-1)")
    assert expressions.codes(node) == {"T003-1", "T003-2"}
    assert expressions.district_sums(node) == {"T002-1"}
    value = expressions.evaluate(node, {"T003-1": 10, "T003-2": 4}, {"T002-1": 7})
    assert value == pytest.approx(10)  # (10 - 4) * 2 / 4 + 7
    assert expressions.evaluate(expressions.parse("-T003-1 + 3"), {"T003-1": 1}, {}) == 2
    # a value missing, or a divisor that is zero at evaluation: not evaluated (None), never an error
    assert expressions.evaluate(node, {"T003-1": 10}, {"T002-1": 7}) is None
    assert expressions.evaluate(expressions.parse("T003-1 / T003-2"), {"T003-1": 1, "T003-2": 0}, {}) is None


@pytest.mark.parametrize(
    ("text", "code", "phrase"),
    [
        ("", "invalid_expression", "不能为空"),
        ("T003-1 +", "invalid_expression", "不完整"),
        ("(T003-1", "invalid_expression", "不完整"),
        ("T003-1 T003-2", "invalid_expression", "多出内容"),
        ("__import__('os')", "invalid_expression", "无法识别"),
        ("T003-1 ** 2", "invalid_expression", "此处应为"),
        ("sum_districts(3)", "invalid_expression", "应为一个指标编号"),
        ("T003-1 / (2 - 2)", "division_by_zero", "除以常数 0"),
        ("T003-1 / 0", "division_by_zero", "除以常数 0"),
    ],
)
def test_the_grammar_refuses_what_it_does_not_know_with_a_reason(text, code, phrase):
    with pytest.raises(ExpressionError) as refused:
        expressions.parse(text)
    assert refused.value.code == code and phrase in refused.value.message


# ---- rules saved ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        (rule(right="T999-1"), "unknown_indicator", "指标「T999-1」不存在或不属于本行动"),
        (rule(right="T043-1"), "unknown_indicator", "不属于本行动"),  # a health indicator: rules stay in a campaign
        (rule(right="T003-1 / (1 - 1)"), "division_by_zero", "除以常数 0"),
        (rule(left="T002-3", right="T002-1"), "flow_level_mixed", "流量和水平值"),  # a share against a count
        (rule(left="sum_districts(T002-3)", right="T002-3"), "not_summable", "不能相加"),
        (rule(left="T002-2", right="T004-3"), "flow_level_mixed", "流量和水平值"),
        (rule(left="1", right="2"), "no_indicator", "至少要引用一个指标"),
        (rule(left="T003-2 +"), "invalid_expression", "左边表达式有误"),
    ],
)
def test_a_rule_is_refused_when_saved_with_its_reason_and_nothing_is_written(education, body, code, phrase):
    response = education.post("/api/v1/quality/rules", json=body, headers=CITY)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and phrase in response.json()["detail"]
    assert education.get("/api/v1/quality/rules", headers=VIEWER).json() == []


def test_rules_mixing_reporting_frequencies_are_refused(education):
    # T002-4 (省级一类以上幼儿园占比) is yearly, H-EDU-1 yearly too but city-only; T002-3 vs T004-3: both yearly levels
    assert (
        education.post("/api/v1/quality/rules", json=rule(left="T002-3", right="T002-4"), headers=CITY).status_code
        == 201
    )
    response = education.post("/api/v1/quality/rules", json=rule(left="T002-1", right="T023-1"), headers=CITY)
    assert response.json()["code"] in {"frequency_mismatch", "flow_level_mixed"}


def test_only_the_city_office_edits_rules_and_a_change_is_a_new_revision(education):
    refused = education.post("/api/v1/quality/rules", json=rule(), headers=EDU_BUREAU)
    assert refused.status_code == 403 and refused.json()["code"] == "city_office_only"
    saved = add_rule(education, rule())
    assert saved["importance_label"] == "高" and saved["revision"] == 1
    changed = education.put(f"/api/v1/quality/rules/{saved['id']}", json=rule(importance="low"), headers=CITY)
    assert changed.status_code == 200 and changed.json()["revision"] == 2 and changed.json()["importance_label"] == "低"
    assert education.delete(f"/api/v1/quality/rules/{saved['id']}", headers=CITY).status_code == 204
    assert education.get("/api/v1/quality/rules", headers=VIEWER).json() == []
    missing = education.put(f"/api/v1/quality/rules/{saved['id']}", json=rule(), headers=CITY)
    assert missing.status_code == 404 and missing.json()["code"] == "rule_not_found"


# ---- rules on entry ---------------------------------------------------------------------------------------------


def test_a_high_failure_blocks_the_submission_until_the_note_explains_it(education):
    add_rule(education, rule())
    assert education.post("/api/v1/reports", json=report("T003-1", 3), headers=ZHANGDIAN).status_code == 201

    blocked = education.post("/api/v1/reports", json=report("T003-2", 5), headers=ZHANGDIAN)
    assert blocked.status_code == 422, blocked.text
    answer = blocked.json()
    assert answer["code"] == "quality_rule_failed"
    assert "完成改造的薄弱学校数不应超过新改扩建中小学数" in answer["detail"] and "说明" in answer["detail"]
    [failure] = answer["failures"]
    assert failure["left_value"] == 5 and failure["right_value"] == 3 and failure["importance_label"] == "高"
    assert failure["indicators"] == ["T003-1", "T003-2"]
    reports = education.get("/api/v1/reports", params={"indicator": "T003-2"}, headers=VIEWER).json()
    assert reports["count"] == 0  # nothing written

    explained = education.post(
        "/api/v1/reports",
        json=report("T003-2", 5, note="含 2 所异地重建后又改造的学校，已与区教育局核实"),
        headers=ZHANGDIAN,
    )
    assert explained.status_code == 201, explained.text
    assert [f["rule"] for f in explained.json()["quality"]] == [failure["rule"]]

    # a value that holds passes without a word; other districts are not concerned by Zhangdian's figures
    fine = education.post("/api/v1/reports", json=report("T003-2", 2), headers=ZHANGDIAN)
    assert fine.status_code == 201 and fine.json()["quality"] == []


def test_medium_and_low_failures_are_warnings_saved_with_the_report(education):
    add_rule(education, rule(importance="medium"))
    education.post("/api/v1/reports", json=report("T003-1", 3), headers=ZHANGDIAN)
    saved = education.post("/api/v1/reports", json=report("T003-2", 5), headers=ZHANGDIAN)
    assert saved.status_code == 201
    [warning] = saved.json()["quality"]
    assert warning["importance_label"] == "中" and "请核对两项数据" in warning["message"]


def test_the_districts_sum_is_checked_when_the_city_reports(education):
    add_rule(
        education,
        rule(
            name="区县合计不超过全市",
            left="sum_districts(T003-1)",
            right="T003-1",
            importance="high",
            instruction="各区县新改扩建中小学数之和不应超过全市数，请核对全市数据",
        ),
    )
    for unit, value in (("370303", 4), ("370302", 3)):
        assert (
            education.post("/api/v1/reports", json=report("T003-1", value, org_unit=unit), headers=CITY).status_code
            == 201
        )
    blocked = education.post("/api/v1/reports", json=report("T003-1", 6, org_unit="370300"), headers=CITY)
    assert blocked.status_code == 422 and blocked.json()["code"] == "quality_rule_failed"
    assert "左边 7，右边 6" in blocked.json()["detail"]
    assert (
        education.post("/api/v1/reports", json=report("T003-1", 7, org_unit="370300"), headers=CITY).status_code == 201
    )


def test_a_bulk_upload_names_the_blocking_rule_per_row_and_warns_per_report(education):
    add_rule(education, rule())
    add_rule(education, rule(name="改造数不超过两倍", right="T003-1 * 2", operator="<", importance="low"))
    rows = [report("T003-1", 3), report("T003-2", 6)]
    refused = education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY)
    assert refused.status_code == 422 and refused.json()["code"] == "bulk_rejected"
    [error] = refused.json()["errors"]
    assert error["row"] == 2 and error["code"] == "quality_rule_failed" and "请核对两项数据" in error["message"]
    rows[1]["note"] = "已核实"
    saved = education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY)
    assert saved.status_code == 201, saved.text
    first, second = (
        saved.json()["data"][::-1] if saved.json()["data"][0]["indicator"] == "T003-2" else saved.json()["data"]
    )
    assert first["quality"] == []
    assert sorted(f["importance_label"] for f in second["quality"]) == ["低", "高"]


def workbook(rows: list[dict]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["指标编号", "单位代码", "期间", "数值", "说明"])
    for r in rows:
        book.active.append([r["indicator"], r["org_unit"], r["period"], r["value"], r.get("note", "")])
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def test_an_excel_upload_names_the_rule_at_its_row_and_value_column(education):
    add_rule(education, rule())
    rows = [report("T003-1", 3), report("T003-2", 6)]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    refused = education.post("/api/v1/reports/upload", headers=CITY, files={"file": ("6月.xlsx", workbook(rows), xlsx)})
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["row"], error["column_name"], error["code"]) == (3, "数值", "quality_rule_failed")
    assert "第3行 D列（数值）" in refused.json()["detail"] and rule()["instruction"] in refused.json()["detail"]
    rows[1]["note"] = "已核实"
    saved = education.post("/api/v1/reports/upload", headers=CITY, files={"file": ("6月.xlsx", workbook(rows), xlsx)})
    assert saved.status_code == 201, saved.text
    assert [f["importance_label"] for r in saved.json()["data"] for f in r["quality"]] == ["高"]


def quality_events(client):
    with client.app.state.database.session() as session:
        rows = session.exec(
            select(OutboxEvent).where(OutboxEvent.type.like("minsheng.quality.%")).order_by(OutboxEvent.id)
        ).all()
    return [(r.type, r.key, json.loads(r.payload)["data"]) for r in rows]


def test_a_failure_and_its_resolution_are_events_in_the_outbox(education):
    saved = add_rule(education, rule(importance="medium"))
    education.post("/api/v1/reports", json=report("T003-1", 3), headers=ZHANGDIAN)
    education.post("/api/v1/reports", json=report("T003-2", 5), headers=ZHANGDIAN)
    [(kind, key, failed)] = quality_events(education)
    assert kind == "minsheng.quality.rule_failed.v1" and key == f"rule-{saved['id']}"
    assert (failed["org_unit"], failed["period"], failed["left_value"], failed["right_value"]) == (
        "370303",
        "2022-06",
        5,
        3,
    )
    assert failed["instruction"] == rule()["instruction"] and failed["importance"] == "medium"

    education.post("/api/v1/reports", json=report("T003-1", 6), headers=ZHANGDIAN)  # the other side corrected
    kind, key, resolved = quality_events(education)[-1]
    assert kind == "minsheng.quality.rule_resolved.v1" and key == f"rule-{saved['id']}"
    assert (resolved["org_unit"], resolved["indicator"]) == ("370303", "T003-1")
    education.post("/api/v1/reports", json=report("T003-1", 7), headers=ZHANGDIAN)  # nothing open: nothing to say
    assert len(quality_events(education)) == 2


# ---- outliers ---------------------------------------------------------------------------------------------------


def test_the_modified_z_score_of_a_value_against_its_points():
    score = modified_z_score(40, [10, 12, 11, 13, 9, 10])
    assert score.median == 10.5 and score.mad == 1.0
    assert score.score == pytest.approx(0.6745 * 29.5)
    assert score.outlier and "中位数 10.5" in score.explanation("与本单位历史相比")
    assert not modified_z_score(11, [10, 12, 11, 13, 9, 10]).outlier
    assert modified_z_score(40, [10, 12, 11, 13, 9, 10], threshold=30).outlier is False


def test_fewer_than_five_points_give_no_score_and_say_so():
    score = modified_z_score(1000, [1, 2, 3, 4])
    assert score.score is None and not score.outlier
    assert score.explanation("与同期其他区县相比") == "与同期其他区县相比：可比数据只有 4 个（少于 5 个），不计算分数"
    flat = modified_z_score(9, [5, 5, 5, 5, 5, 6])
    assert flat.score is None and "绝对中位差为 0" in flat.reason


def test_bounds_say_which_end_a_value_passed():
    assert outside_bounds(5, 0, 10) is None
    assert outside_bounds(12, 0, 10) == "高于上限 10（填写的是 12）"
    assert outside_bounds(-1, 0, None) == "低于下限 0（填写的是 -1）"


def test_outlier_checks_over_the_districts_and_the_offices_bounds(education):
    values = {"370302": 3, "370303": 40, "370304": 4, "370305": 3, "370306": 5, "370321": 4, "370322": 3}
    rows = [report("T003-1", v, org_unit=u) for u, v in values.items()]
    assert education.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY).status_code == 201
    bound = education.put("/api/v1/quality/bounds/T003-1/370304", json={"maximum": 3}, headers=CITY)
    assert bound.status_code == 200, bound.text
    inverted = education.put("/api/v1/quality/bounds/T003-1/370304", json={"minimum": 5, "maximum": 3}, headers=CITY)
    assert inverted.status_code == 422 and inverted.json()["code"] == "bound_inverted"

    checks = education.get(
        "/api/v1/quality/outliers", params={"indicator": "T003-1", "period": "2022-06"}, headers=VIEWER
    ).json()
    flagged = {c["org_unit"]: c for c in checks if c["flagged"]}
    assert set(flagged) == {"370303", "370304"}
    history, peers = flagged["370303"]["scores"]
    assert history["score"] is None and "可比数据只有 0 个" in history["explanation"]  # no history yet
    assert peers["outlier"] and peers["median"] == 3.5 and peers["points"] == 6
    assert flagged["370304"]["bound"] == "高于上限 3（填写的是 4）"

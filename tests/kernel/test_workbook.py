"""Excel in a campaign service: the template (scope, locked and unlocked cells, drop-downs from a hidden
sheet, last approved values), uploading it filled (all rows or none, errors by row and column), and the
same workbook given back with the refused cells marked."""

import io
from urllib.parse import unquote

import openpyxl
import pytest

from minsheng.reporting.files import XLSX_MEDIA_TYPE
from tests.conftest import CITY, EDU_BUREAU, VIEWER, ZHANGDIAN


@pytest.fixture
def education(campaign_client):
    return campaign_client("education")


def template(client, headers, period="2022-07", org_unit="370300"):
    response = client.get("/api/v1/reports/template", params={"period": period, "org_unit": org_unit}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    return response, openpyxl.load_workbook(io.BytesIO(response.content))


def rows_by_id(sheet):
    header = [c.value for c in sheet[1]]
    return header, {row[0].value: row for row in sheet.iter_rows(min_row=2)}


def cell(sheet, indicator, header_name):
    header, rows = rows_by_id(sheet)
    return rows[indicator][header.index(header_name)]


def upload(client, content, headers=EDU_BUREAU, path="/api/v1/reports/upload", name="教育局7月.xlsx"):
    return client.post(path, headers=headers, files={"file": (name, content, XLSX_MEDIA_TYPE)})


def saved(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_bureau_template_is_its_scope_prefilled_locked_with_drop_downs_and_instructions(education):
    # last month's approved value is what the template shows beside the input
    first = education.post(
        "/api/v1/reports",
        json={"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 12},
        headers=EDU_BUREAU,
    ).json()
    assert education.post(f"/api/v1/reports/{first['id']}/approve", headers=CITY).status_code == 200
    # a later, pending one does not count, nor one of the period itself
    education.post(
        "/api/v1/reports",
        json={"indicator": "T002-1", "org_unit": "370300", "period": "2022-07", "value": 3},
        headers=EDU_BUREAU,
    )

    response, book = template(education, EDU_BUREAU)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    filename = unquote(disposition.split("filename*=UTF-8''")[1])
    assert filename == "实施教育品质提升三年攻坚行动填报模板_淄博市_2022-07.xlsx"

    assert book.sheetnames[:2] == ["填报", "填报说明"]
    assert book["选项"].sheet_state == "hidden"
    assert "只在白色单元格填写" in "".join(str(c.value) for c in book["填报说明"]["A"])

    sheet = book["填报"]
    header, rows = rows_by_id(sheet)
    assert header[:3] == ["指标编号", "任务", "指标名称"] and "数值" in header and "分子" in header
    # the bureau's scope: the indicators of the tasks 市教育局 leads, none of another department's
    assert "T002-1" in rows and "T002-3" in rows
    assert all(code.startswith("T") for code in rows)
    assert cell(sheet, "T002-1", "上次审核通过值").value == 12
    assert cell(sheet, "T002-1", "上次审核期间").value == "2022-06"
    assert cell(sheet, "T002-1", "单位代码").value == "370300 淄博市"
    assert cell(sheet, "T002-1", "期间").value == "2022-07"
    assert "≥" in cell(sheet, "T002-1", "目标").value

    # protected; only the inputs unlocked (numerator and denominator only for a ratio indicator)
    assert sheet.protection.sheet
    assert cell(sheet, "T002-1", "指标编号").protection.locked
    assert cell(sheet, "T002-1", "指标名称").protection.locked
    assert not cell(sheet, "T002-1", "数值").protection.locked
    assert not cell(sheet, "T002-1", "说明").protection.locked
    assert cell(sheet, "T002-1", "分子").protection.locked
    assert not cell(sheet, "T002-3", "分子").protection.locked

    # org unit and period: drop-downs fed by the hidden sheet
    def validation(of):
        return next(v for v in sheet.data_validations.dataValidation if of.coordinate in v.sqref)

    org = validation(cell(sheet, "T002-3", "单位代码"))
    assert org.type == "list" and "'选项'!$A$2" in org.formula1
    assert "'选项'!$B$2" in validation(cell(sheet, "T002-3", "期间")).formula1
    options = [c.value for c in book["选项"]["A"][1:] if c.value]
    assert "370303 张店区" in options and len(options) == 12
    assert "2022-07" in [c.value for c in book["选项"]["B"]]


def test_a_district_template_is_its_own_unit_without_city_only_indicators(education):
    _, book = template(education, ZHANGDIAN, org_unit="370303")
    _, rows = rows_by_id(book["填报"])
    assert rows and "H-EDU-1" not in rows  # city-only
    assert [c.value for c in book["选项"]["A"][1:] if c.value] == ["370303 张店区"]
    refused = education.get(
        "/api/v1/reports/template", params={"period": "2022-07", "org_unit": "370302"}, headers=ZHANGDIAN
    )
    assert refused.status_code == 403 and "370303" in refused.json()["detail"]
    assert (
        education.get(
            "/api/v1/reports/template", params={"period": "2022-07", "org_unit": "370300"}, headers=VIEWER
        ).status_code
        == 403
    )
    bad_period = education.get(
        "/api/v1/reports/template", params={"period": "2025-01", "org_unit": "370303"}, headers=ZHANGDIAN
    )
    assert bad_period.status_code == 422 and "2022—2024" in bad_period.json()["detail"]


def test_a_filled_template_uploads_and_only_the_filled_rows_are_saved(education):
    _, book = template(education, EDU_BUREAU)
    sheet = book["填报"]
    cell(sheet, "T002-1", "数值").value = 4
    cell(sheet, "T002-1", "说明").value = "7月新开工4处"
    cell(sheet, "T002-3", "分子").value = 6500
    cell(sheet, "T002-3", "分母").value = 10000
    cell(sheet, "T002-3", "期间").value = "2022"

    response = upload(education, saved(book))
    assert response.status_code == 201, response.text
    stored = sorted((r["indicator"], r["period"], r["value"], r["note"]) for r in response.json()["data"])
    assert stored == [("T002-1", "2022-07", 4.0, "7月新开工4处"), ("T002-3", "2022", 65.0, "")]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 2


def test_a_bad_value_refuses_the_whole_workbook_names_row_and_column_and_the_marked_copy_shows_it(education):
    _, book = template(education, EDU_BUREAU)
    sheet = book["填报"]
    cell(sheet, "T002-1", "数值").value = 4
    bad = cell(sheet, "T002-3", "数值")
    bad.value = 120  # a percentage above 100
    content = saved(book)

    response = upload(education, content)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "bulk_rejected"
    [error] = body["errors"]
    assert (error["row"], error["column"], error["column_name"]) == (bad.row, bad.column_letter, "数值")
    assert "0到100之间" in error["message"]
    assert f"第{bad.row}行 {bad.column_letter}列（数值）" in body["detail"]
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0  # nothing saved, not even T002-1

    marked = upload(education, content, path="/api/v1/reports/upload/annotated")
    assert marked.status_code == 200 and marked.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "filename*=UTF-8''" in marked.headers["content-disposition"]
    returned = openpyxl.load_workbook(io.BytesIO(marked.content))
    marked_cell = returned["填报"][bad.coordinate]
    assert marked_cell.fill.fgColor.rgb == "FFFF0000"
    assert "0到100之间" in marked_cell.comment.text
    assert returned["填报"][cell(sheet, "T002-1", "数值").coordinate].comment is None
    assert returned["错误清单"]["D2"].value == error["message"]
    assert returned["填报"].protection.sheet  # still the template, to correct and upload again
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0  # marking saves nothing

    # corrected, the marked copy itself uploads
    returned["填报"][bad.coordinate].value = 65
    assert upload(education, saved(returned)).status_code == 201


def test_unparseable_cells_and_out_of_scope_rows_are_named_and_a_clean_file_has_nothing_to_mark(education):
    _, book = template(education, EDU_BUREAU)
    sheet = book["填报"]
    text = cell(sheet, "T002-1", "数值")
    text.value = "四"
    response = upload(education, saved(book))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["column"], error["field"]) == (text.row, text.column_letter, "value")
    assert "应为数字" in error["message"]

    text.value = 4
    clean = upload(education, saved(book), path="/api/v1/reports/upload/annotated")
    assert clean.status_code == 200 and clean.json() == {"detail": "没有发现错误，可以直接上传", "errors": []}
    assert education.get("/api/v1/reports", headers=VIEWER).json()["count"] == 0

    # another unit's row in a district's upload: refused (403), its cell named
    _, district_book = template(education, ZHANGDIAN, org_unit="370303")
    district_sheet = district_book["填报"]
    first_id = next(iter(rows_by_id(district_sheet)[1]))
    cell(district_sheet, first_id, "数值").value = 1
    cell(district_sheet, first_id, "单位代码").value = "370302 淄川区"
    refused = upload(education, saved(district_book), headers=ZHANGDIAN)
    assert refused.status_code == 403 and refused.json()["errors"][0]["column"] == "A"


def test_not_a_workbook_and_an_empty_template_are_refused_in_chinese(education):
    broken = upload(education, b"PK not really a zip")
    assert broken.status_code == 422 and broken.json()["code"] == "unreadable_file"
    _, book = template(education, EDU_BUREAU)
    empty = upload(education, saved(book))
    assert empty.status_code == 422 and empty.json()["code"] == "no_rows"
    csv = education.post(
        "/api/v1/reports/upload/annotated",
        headers=EDU_BUREAU,
        files={"file": ("rows.csv", b"indicator,org_unit,period,value\n", "text/csv")},
    )
    assert csv.status_code == 422 and "xlsx" in csv.json()["detail"]

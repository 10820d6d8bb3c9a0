"""The audit export: the city office downloads a campaign's change history for a period, as .xlsx and
as CSV (UTF-8 with BOM), with who, when, what and the previous value; nobody else may."""

import csv
import io

from openpyxl import load_workbook

from tests.conftest import CITY, EDU_BUREAU, VIEWER, ZHANGDIAN

REASON = '=HYPERLINK("http://x") 请附开工清单'
HEADER = ["时间", "操作人", "操作", "对象", "指标", "单位", "期间", "原值", "新值", "说明", "佐证材料（SHA-256）"]


def report(client, period, value, org_unit="370300"):
    body = {"indicator": "T002-1", "org_unit": org_unit, "period": period, "value": value, "note": "按月填报"}
    response = client.post("/api/v1/reports", json=body, headers=CITY)
    assert response.status_code == 201, response.text
    return response.json()


def history_of_june(client):
    """A submission, a revision of it, its return with a reason, and the lock of another quarter's month."""
    report(client, "2022-06", 12)
    revised = report(client, "2022-06", 14)
    returned = client.post(f"/api/v1/reports/{revised['id']}/return", json={"reason": REASON}, headers=CITY)
    assert returned.status_code == 200, returned.text
    report(client, "2022-09", 3, org_unit="370303")
    assert client.post("/api/v1/periods/2022-01/lock", headers=CITY).status_code == 201
    return revised


def export(client, period, fmt, headers=CITY):
    return client.get("/api/v1/audit/changes", params={"period": period, "format": fmt}, headers=headers)


def test_xlsx_lists_who_when_what_and_the_previous_value(campaign_client):
    client = campaign_client("education")
    revised = history_of_june(client)
    response = export(client, "2022Q2", "xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    assert "minsheng-audit-education-2022Q2.xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["修改记录"]
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    changes = [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]
    # only the quarter's changes: not September's report, not January's lock
    assert [c["操作"] for c in changes] == ["填报", "修订", "退回"]
    submitted, revision, returned = changes
    assert {c["期间"] for c in changes} == {"2022-06"}
    assert submitted["指标"].startswith("T002-1 ") and submitted["单位"].startswith("370300 ")
    assert "市民生办" in submitted["操作人"]
    assert submitted["原值"] == "" and submitted["新值"].startswith("12，待审核")
    # the revision shows the value it replaced, the return the state before it and its reason
    assert revision["原值"].startswith("12，待审核") and revision["新值"].startswith("14，待审核")
    assert returned["对象"] == f"报告 {revised['id']}"
    assert returned["原值"].startswith("14，待审核") and returned["新值"].startswith("14，被退回")
    assert returned["说明"] == REASON  # text, not a formula
    assert submitted["时间"] <= revision["时间"] <= returned["时间"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_csv_has_a_bom_and_a_year_takes_its_quarters_and_months(campaign_client):
    client = campaign_client("education")
    history_of_june(client)
    response = export(client, "2022", "csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    changes = [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]
    assert [(c["操作"], c["期间"]) for c in changes] == [
        ("填报", "2022-06"),
        ("修订", "2022-06"),
        ("退回", "2022-06"),
        ("填报", "2022-09"),
        ("锁定期间", "2022-01"),
    ]
    assert changes[1]["原值"].startswith("12，待审核")
    assert changes[3]["单位"].startswith("370303 ")
    assert changes[4]["对象"] == "期间锁定" and changes[4]["新值"].startswith("已锁定")
    assert changes[2]["说明"] == '\'=HYPERLINK("http://x") 请附开工清单'  # not a formula in Excel
    # a month with no changes is an empty file with its header, not an error
    empty = export(client, "2023-03", "csv")
    assert empty.status_code == 200
    assert list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig")))) == [HEADER]


def test_only_the_city_office_may_export(campaign_client):
    client = campaign_client("education")
    history_of_june(client)
    for headers in (EDU_BUREAU, ZHANGDIAN, VIEWER):
        refused = export(client, "2022Q2", "xlsx", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "city_office_only"
        assert "只能由市民生办办理" in refused.json()["detail"]
    assert export(client, "2022Q2", "csv", headers={}).status_code == 401
    bad = export(client, "2022-13", "csv")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period" and "月份" in bad.json()["detail"]
    assert export(client, "2022Q2", "pdf").status_code == 422

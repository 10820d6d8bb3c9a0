"""标准数据交换: the ADX export validated against the schema the gateway generates from its catalog (lxml's XML
Schema validator), the SDMX-JSON 2.0 message of the same values, and the 数据目录 sheet read back with openpyxl;
only the city office and integration accounts may have them. Values approved in a real campaign service, folded
into a real gateway."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from openpyxl import load_workbook

from minsheng.progress.periods import Period
from minsheng_gateway.exchange.models import adx_period, sdmx_period
from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN
from tests.support import views
from tests.support.identity import API_KEY, sign_in, views_gateway

ADX = "{urn:ihe:qrph:adx:2015}"
APPROVED = {  # (indicator, org unit, period) → value, as approved by the city office
    ("T002-1", "370303", "2022-06"): 3,
    ("T002-1", "370302", "2022-06"): 2,
    ("T002-1", "370303", "2022-07"): 4,
    ("H-EDU-1", "370300", "2022"): 95.5,
}


@pytest.fixture
def gateway(campaign_client, make_database):
    education = campaign_client("education")
    for (indicator, org_unit, period), value in APPROVED.items():
        body = {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value}
        who = {"370303": ZHANGDIAN, "370300": CITY}.get(org_unit, EDU_BUREAU)
        views.approve(education, body, who)
    # awaiting review: in no export
    pending = {"indicator": "T002-1", "org_unit": "370303", "period": "2022-08", "value": 50}
    assert education.post("/api/v1/reports", json=pending, headers=ZHANGDIAN).status_code == 201
    with views_gateway(make_database("gateway"), today=views.TODAY) as client:
        views.fold_all(client, views.outbox_events(education))
        yield client


def test_periods_in_adx_and_sdmx_form():
    assert [adx_period(Period.parse(c)) for c in ("2025-01", "2025Q1", "2025")] == [
        "2025-01-01/P1M",
        "2025-01-01/P3M",
        "2025-01-01/P1Y",
    ]
    assert [sdmx_period(Period.parse(c)) for c in ("2025-04", "2025Q2", "2025")] == ["2025-04", "2025-Q2", "2025"]


def adx_values(document: etree._Element) -> dict[tuple[str, str, str], float]:
    found = {}
    for group in document.iter(f"{ADX}group"):
        for value in group.iter(f"{ADX}dataValue"):
            key = (value.get("dataElement"), group.get("orgUnit"), group.get("period"))
            assert key not in found
            found[key] = float(value.get("value"))
    return found


def test_adx_export_validates_against_the_generated_schema_and_holds_the_approved_values(gateway):
    sign_in(gateway, "demo-city-office")
    xsd = gateway.get("/api/v1/exchange/adx/schema.xsd")
    assert xsd.status_code == 200, xsd.text
    schema = etree.XMLSchema(etree.fromstring(xsd.content))
    # the catalog's indicators are the schema's enumeration
    enumerated = etree.fromstring(xsd.content).xpath(
        "//xs:simpleType[@name='dataElementType']//xs:enumeration/@value",
        namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    assert {"T002-1", "H-EDU-1", "T003-1"} <= set(enumerated)

    answer = gateway.get("/api/v1/exchange/adx")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/adx+xml")
    document = etree.fromstring(answer.content)
    schema.assertValid(document)
    expected = {(i, o, adx_period(Period.parse(p))): v for (i, o, p), v in APPROVED.items()}
    assert adx_values(document) == expected
    groups = {(g.get("dataSet"), g.get("period"), g.get("orgUnit")) for g in document.iter(f"{ADX}group")}
    assert ("education", "2022-06-01/P1M", "370303") in groups and ("education", "2022-01-01/P1Y", "370300") in groups

    # a filter: one district's June
    june = gateway.get("/api/v1/exchange/adx", params={"period": "2022-06", "org_unit": "370303"})
    schema.assertValid(etree.fromstring(june.content))
    assert adx_values(etree.fromstring(june.content)) == {("T002-1", "370303", "2022-06-01/P1M"): 3}

    # what the schema refuses: an indicator outside the catalog, a period not in ADX's form
    for broken in (
        answer.content.replace(b'dataElement="T002-1"', b'dataElement="X999-9"'),
        answer.content.replace(b"2022-06-01/P1M", b"2022-06"),
    ):
        assert not schema.validate(etree.fromstring(broken))


def test_sdmx_json_message_holds_the_same_values(gateway):
    answer = gateway.get("/api/v1/exchange/sdmx-json", headers=API_KEY)  # an integration account
    assert answer.status_code == 200, answer.text
    assert "application/vnd.sdmx.data+json" in answer.headers["content-type"]
    message = answer.json()
    assert message["meta"]["schema"].startswith("https://json.sdmx.org/2.0")
    structure = message["data"]["structures"][message["data"]["dataSets"][0]["structure"]]
    indicators, areas = (d["values"] for d in structure["dimensions"]["series"])
    periods = structure["dimensions"]["observation"][0]["values"]
    units = structure["attributes"]["series"][0]["values"]
    found = {}
    for key, series in message["data"]["dataSets"][0]["series"].items():
        indicator, area = (int(i) for i in key.split(":"))
        for period, observation in series["observations"].items():
            found[(indicators[indicator]["id"], areas[area]["id"], periods[int(period)]["id"])] = observation[0]
        if indicators[indicator]["id"] == "T002-1":
            assert units[series["attributes"][0]]["id"] == "处"
    assert found == {(i, o, p): v for (i, o, p), v in APPROVED.items()}
    assert {"id": "2022", "start": "2022-01-01T00:00:00", "end": "2022-12-31T23:59:59"} in periods


def test_data_catalog_sheet_lists_indicators_and_interfaces(gateway):
    sign_in(gateway, "demo-city-office")
    answer = gateway.get("/api/v1/exchange/data-catalog.xlsx")
    assert answer.status_code == 200, answer.text
    workbook = load_workbook(io.BytesIO(answer.content))
    items = [list(r) for r in workbook["数据项"].iter_rows(values_only=True)]
    assert items[0] == [
        "数据项编码",
        "数据项名称",
        "计量单位",
        "更新频率",
        "牵头部门",
        "更新周期",
        "所属行动",
        "所属规划",
    ]
    by_code = {row[0]: row for row in items[1:]}
    t002 = by_code["T002-1"]
    assert (t002[2], t002[3]) == ("处", "月度") and t002[5].startswith("每月：次月10日前报送")
    assert t002[4] and t002[6] and t002[7]  # its lead department, campaign and plan
    assert by_code["H-EDU-1"][4] == "市民生办"  # a campaign's overall goal
    assert by_code["H-EDU-1"][3] == "年度" and by_code["H-EDU-1"][5].startswith("每年：次年1月31日前报送")
    interfaces = [list(r) for r in workbook["接口"].iter_rows(values_only=True)]
    assert interfaces[0] == ["接口路径", "请求方法", "接口说明", "接口分类"]
    rows = {(row[0], row[1]): row for row in interfaces[1:]}
    assert rows[("/api/v1/exchange/adx", "GET")][2].startswith("ADX 导出")
    assert all(path.startswith("/api/") for path, _ in rows)


@pytest.mark.parametrize("username", ["demo-zhangdian", "demo-education-bureau"])
def test_a_district_or_bureau_clerk_is_refused(gateway, username):
    sign_in(gateway, username)
    for path in ("/api/v1/exchange/adx", "/api/v1/exchange/sdmx-json", "/api/v1/exchange/data-catalog.xlsx"):
        answer = gateway.get(path)
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "exchange_not_allowed" and "市民生办" in answer.json()["detail"]


def test_bad_filters_are_explained(gateway):
    sign_in(gateway, "demo-city-office")
    answer = gateway.get("/api/v1/exchange/adx", params={"period": "2022-13"})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_period"
    answer = gateway.get("/api/v1/exchange/sdmx-json", params={"campaign": "nope"})
    assert answer.status_code == 422 and answer.json()["code"] == "unknown_campaign"
    assert gateway.get("/api/v1/exchange/adx", params={"org_unit": "999999"}).status_code == 404

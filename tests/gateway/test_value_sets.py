"""数据值集 (DHIS2 dataValueSets) through a whole gateway in front of the real education and employment services:
an import's summary says what the services wrote (read back through the export once approved), a dry run writes
nothing, unknown codes / duplicates / strings are conflicts found before anything is sent, a service refusing its
group writes none of it while another campaign's group is written, CSV works, and `lastUpdated` syncs
incrementally. Only the city office and integration accounts may use it."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import CITY, VIEWER, campaign_at
from tests.support import views
from tests.support.identity import API_KEY, sign_in, views_gateway

URL = "/api/v1/data-value-sets"
CAMPAIGNS = ("education", "employment")


@pytest.fixture
def setup(campaign_client, make_database):
    services = {campaign: campaign_client(campaign) for campaign in CAMPAIGNS}

    def to_service(request: httpx.Request) -> httpx.Response:
        answer = services[campaign_at(request.url)].request(
            request.method, request.url.raw_path.decode(), headers=dict(request.headers), content=request.content
        )
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    with views_gateway(make_database("gateway"), today=views.TODAY) as client:
        client.app.state.service_transport = httpx.MockTransport(to_service)
        fold(client, services)  # the catalogs
        yield client, services


def fold(client, services) -> None:
    for service in services.values():
        views.fold_all(client, views.outbox_events(service))


def stored(service) -> dict[tuple[str, str, str], float]:
    """What the service holds (current revisions, any status)."""
    rows = service.get("/api/v1/reports", params={"size": 500}, headers=VIEWER).json()["data"]
    return {(r["indicator"], r["org_unit"], r["period"]): r["value"] for r in rows}


def approve_all(client, services) -> None:
    for service in services.values():
        pending = service.get("/api/v1/reports", params={"status": "submitted", "size": 500}, headers=CITY).json()
        ids = [r["id"] for r in pending["data"]]
        if ids:
            assert service.post("/api/v1/reports/approve", json={"ids": ids}, headers=CITY).status_code == 200
    fold(client, services)


def value(element, period, org_unit, number, comment=""):
    return {"dataElement": element, "period": period, "orgUnit": org_unit, "value": number, "comment": comment}


GOOD = [
    value("T002-1", "2022-06", "370303", 3, "教育局系统导入"),
    value("T002-1", "202207", "370303", "4"),  # DHIS2's month form, a number as text
    value("T076-1", "2022-06", "370300", 7),
]


def test_an_import_writes_what_its_summary_says_and_the_export_reads_it_back(setup):
    client, services = setup
    csrf = sign_in(client, "demo-city-office")
    answer = client.post(URL, json={"dataValues": GOOD}, headers=csrf)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["status"] == "SUCCESS" and summary["conflicts"] == []
    assert summary["importCount"] == {"imported": 3, "updated": 0, "ignored": 0, "deleted": 0}
    assert {c["campaign"]: c["importCount"]["imported"] for c in summary["campaigns"]} == {
        "education": 2,
        "employment": 1,
    }
    assert stored(services["education"]) == {("T002-1", "370303", "2022-06"): 3, ("T002-1", "370303", "2022-07"): 4}
    assert stored(services["employment"]) == {("T076-1", "370300", "2022-06"): 7}
    notes = services["education"].get("/api/v1/reports", params={"period": "2022-06"}, headers=VIEWER).json()
    assert notes["data"][0]["note"] == "教育局系统导入"

    approve_all(client, services)
    exported = client.get(URL, headers=csrf).json()
    assert {(v["dataElement"], v["orgUnit"], v["period"]): v["value"] for v in exported["dataValues"]} == {
        ("T002-1", "370303", "2022-06"): 3,
        ("T002-1", "370303", "2022-07"): 4,
        ("T076-1", "370300", "2022-06"): 7,
    }
    assert exported["deletionsKnown"] is False
    # the same series again: an update, counted as one
    again = client.post(URL, json={"dataValues": [value("T076-1", "2022-06", "370300", 8)]}, headers=csrf).json()
    assert again["importCount"] == {"imported": 0, "updated": 1, "ignored": 0, "deleted": 0}


def test_a_dry_run_checks_and_writes_nothing(setup):
    client, services = setup
    csrf = sign_in(client, "demo-city-office")
    answer = client.post(URL, params={"dryRun": "true"}, json={"dataValues": GOOD}, headers=csrf)
    assert answer.status_code == 200, answer.text
    assert answer.json()["dryRun"] is True and answer.json()["importCount"]["imported"] == 3
    assert stored(services["education"]) == {} and stored(services["employment"]) == {}
    bad = client.post(
        URL, params={"dryRun": "true"}, json={"dataValues": [value("X-1", "2022-06", "370303", 1)]}, headers=csrf
    )
    assert bad.status_code == 200 and bad.json()["conflicts"][0]["errorCode"] == "unknown_data_element"


def test_unknown_codes_duplicates_and_strings_are_conflicts_and_their_group_is_not_sent(setup):
    client, services = setup
    csrf = sign_in(client, "demo-city-office")
    rows = [
        value("T076-1", "2022-06", "370300", 7),  # employment: clean, written
        value("NO-SUCH", "2022-06", "370303", 1),
        value("T002-1", "2022-06", "999999", 1),
        value("T002-1", "2022-08", "370303", "十二"),
        value("T002-1", "2022-09", "370303", 1),
        value("T002-1", "2022-09", "370303", 2),
        value("T002-1", "2022-10", "370303", 5),  # clean, but of the education group: not sent
    ]
    summary = client.post(URL, json={"dataValues": rows}, headers=csrf).json()
    codes = {(c["value"], c["errorCode"]) for c in summary["conflicts"]}
    assert codes == {
        (2, "unknown_data_element"),
        (3, "unknown_org_unit"),
        (4, "value_not_numeric"),
        (5, "duplicate_data_value"),
        (6, "duplicate_data_value"),
    }
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c["message"]) for c in summary["conflicts"])
    assert summary["status"] == "WARNING"
    assert summary["importCount"] == {"imported": 1, "updated": 0, "ignored": 6, "deleted": 0}
    assert stored(services["education"]) == {}
    assert stored(services["employment"]) == {("T076-1", "370300", "2022-06"): 7}


def test_a_service_refusing_its_group_writes_none_of_it_and_the_other_group_is_written(setup):
    client, services = setup
    csrf = sign_in(client, "demo-city-office")
    # 2022-05 locked in the education service: its rule, which the gateway does not check
    locked = services["education"].post("/api/v1/periods/2022-05/lock", headers=CITY)
    assert locked.status_code in (200, 201, 204), locked.text
    rows = [
        value("T002-1", "2022-06", "370303", 3),
        value("T002-1", "2022-05", "370303", 3),
        value("T076-1", "2022-06", "370300", 7),
    ]
    summary = client.post(URL, json={"dataValues": rows}, headers=csrf).json()
    assert [(c["value"], c["errorCode"]) for c in summary["conflicts"]] == [(2, "period_locked")]
    by_campaign = {c["campaign"]: c for c in summary["campaigns"]}
    assert by_campaign["education"]["status"] == "ERROR" and by_campaign["education"]["importCount"]["ignored"] == 2
    assert by_campaign["employment"]["status"] == "SUCCESS"
    assert stored(services["education"]) == {}
    assert stored(services["employment"]) == {("T076-1", "370300", "2022-06"): 7}


def test_csv_is_imported(setup):
    client, services = setup
    csrf = sign_in(client, "demo-city-office")
    text = "dataElement,period,orgUnit,value,comment\nT002-1,2022-06,370303,3,首行\nT076-1,2022-06,370300,7,\n"
    answer = client.post(URL, content=text.encode(), headers={**csrf, "Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["importCount"]["imported"] == 2
    assert stored(services["education"]) == {("T002-1", "370303", "2022-06"): 3}
    missing = client.post(URL, content=b"indicator,value\nT002-1,3\n", headers={**csrf, "Content-Type": "text/csv"})
    assert missing.status_code == 422 and missing.json()["code"] == "invalid_csv"


def test_last_updated_returns_only_newer_values(setup):
    client, services = setup
    csrf = sign_in(client, "demo-city-office")
    client.post(URL, json={"dataValues": GOOD[:1]}, headers=csrf)
    approve_all(client, services)
    first = client.get(URL, headers=csrf).json()["dataValues"]
    assert len(first) == 1
    mark = first[0]["lastUpdated"]
    client.post(URL, json={"dataValues": GOOD[2:]}, headers=csrf)
    approve_all(client, services)
    newer = client.get(URL, params={"lastUpdated": mark}, headers=csrf).json()["dataValues"]
    assert [(v["dataElement"], v["value"]) for v in newer] == [("T076-1", 7)]
    narrowed = client.get(URL, params={"orgUnit": "370300", "children": "true", "campaign": "education"}, headers=csrf)
    assert [v["orgUnit"] for v in narrowed.json()["dataValues"]] == ["370303"]
    assert client.get(URL, params={"lastUpdated": "昨天"}, headers=csrf).json()["code"] == "invalid_datetime"


def test_an_integration_account_writes_only_its_granted_indicators(setup):
    client, services = setup
    rows = [value("T076-1", "2022-06", "370300", 7), value("T002-1", "2022-06", "370303", 3)]
    summary = client.post(URL, json={"dataValues": rows}, headers=API_KEY).json()
    assert [(c["value"], c["errorCode"]) for c in summary["conflicts"]] == [(2, "indicator_not_granted")]
    assert stored(services["employment"]) == {("T076-1", "370300", "2022-06"): 7}
    assert stored(services["education"]) == {}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"importStrategy": "DELETE"}, "import_strategy_unsupported"),
        ({"idScheme": "name"}, "id_scheme_unsupported"),
        ({"idScheme": "code", "orgUnitIdScheme": "name"}, "id_scheme_unsupported"),
    ],
)
def test_unsupported_options_are_refused_in_chinese(setup, params, code):
    client, services = setup
    answer = client.post(URL, params=params, json={"dataValues": GOOD}, headers=API_KEY)
    assert answer.status_code == 422 and answer.json()["code"] == code
    assert "不受支持" in answer.json()["detail"]
    assert stored(services["employment"]) == {}


def test_a_file_above_the_body_limit_is_413(setup):
    client, _ = setup
    answer = client.post(URL, content=b"x" * (50 * 1024 * 1024), headers={**API_KEY, "Content-Type": "text/csv"})
    assert answer.status_code == 413


@pytest.mark.parametrize("username", ["demo-education-bureau", "demo-zhangdian", "demo-viewer", "demo-leader"])
def test_other_roles_are_refused(setup, username):
    client, _ = setup
    csrf = sign_in(client, username)
    for answer in (client.post(URL, json={"dataValues": GOOD}, headers=csrf), client.get(URL)):
        assert answer.status_code == 403 and answer.json()["code"] == "value_sets_not_allowed"


def test_without_credentials_it_is_401(setup):
    client, _ = setup
    for answer in (client.post(URL, json={"dataValues": GOOD}), client.get(URL)):
        assert answer.status_code == 401 and answer.json()["code"] == "not_signed_in"

"""The submission and approval writers write a batch as driver SQL (`minsheng.db.bulk`): the reports,
their history records and their events must be what a user sees — every
revision numbered in its series, each change recorded with what it replaced, each event naming its
revision and the one it superseded — also when an upload is larger than one statement may carry
(`MAX_ROWS` rows) and is written as several."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from minsheng.db import bulk
from tests.conftest import CITY, EDU_BUREAU

FIRST = [
    {"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 12, "note": "6月新开工12处"},
    {"indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 3},
    {"indicator": "T002-3", "org_unit": "370303", "period": "2022", "numerator": 65, "denominator": 100},
]
REVISION = [
    {"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 14, "note": "更正"},
    {"indicator": "T002-1", "org_unit": "370302", "period": "2022-07", "value": 1},
]


def stored(client) -> dict:
    """What was written, with every report id replaced by the revision it names (series, revision),
    so that two databases compare equal exactly when the ids point at the same revisions."""
    database = client.app.state.database
    with database.engine.connect() as connection:
        reports = [
            dict(row)
            for row in connection.execute(
                text(
                    "SELECT id, indicator_code, org_unit_code, period, period_start, period_end, value, numerator, "
                    "denominator, note, status, revision, is_current, submitted_by, reviewed_by, "
                    "reviewed_at IS NOT NULL AS reviewed FROM report ORDER BY id"
                )
            ).mappings()
        ]
        revision_of = {
            r.pop("id"): (r["indicator_code"], r["org_unit_code"], r["period"], r["revision"]) for r in reports
        }
        changes = [
            {**row, "entity_id": revision_of[int(row["entity_id"])]}
            for row in connection.execute(
                text(
                    "SELECT entity, entity_id, series_key, action, actor, previous, current FROM change_record "
                    "WHERE entity = 'report' ORDER BY id"
                )
            ).mappings()
        ]
        events = []
        for topic, key, type_, payload in connection.execute(
            text("SELECT topic, key, type, payload FROM outbox_event ORDER BY id")
        ):
            data = json.loads(payload)["data"]
            if not type_.startswith("minsheng.report."):
                continue
            data["report"]["report_id"] = revision_of[data["report"]["report_id"]]
            if data.get("supersedes") is not None:
                data["supersedes"] = revision_of[data["supersedes"]]
            data.pop("occurred_at")
            events.append((topic, key, type_, data))
    return {"reports": reports, "changes": changes, "events": events}


def submit_all(client) -> None:
    for rows in (FIRST, REVISION):  # a bulk upload, then single submissions through the group commit
        assert client.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY).status_code == 201
    for row in REVISION:
        assert (
            client.post("/api/v1/reports", json={**row, "value": row["value"] + 1}, headers=EDU_BUREAU).status_code
            == 201
        )


def approve_current(client) -> None:
    """The city office approves every current revision, in id order."""
    with client.app.state.database.engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM report WHERE is_current ORDER BY id")).scalars().all()
    for report_id in ids:
        assert client.post(f"/api/v1/reports/{report_id}/approve", headers=CITY).status_code == 200


def test_writers_store_reports_history_and_events(campaign_client):
    client = campaign_client("education")
    submit_all(client)
    approve_current(client)
    written = stored(client)
    series = [
        (r["indicator_code"], r["org_unit_code"], r["period"], r["revision"], r["is_current"], r["status"])
        for r in written["reports"]
    ]
    assert series == [
        ("T002-1", "370300", "2022-06", 1, False, "submitted"),
        ("T002-1", "370303", "2022-06", 1, True, "approved"),
        ("T002-3", "370303", "2022", 1, True, "approved"),
        ("T002-1", "370300", "2022-06", 2, False, "submitted"),
        ("T002-1", "370302", "2022-07", 1, False, "submitted"),
        ("T002-1", "370300", "2022-06", 3, True, "approved"),
        ("T002-1", "370302", "2022-07", 2, True, "approved"),
    ]
    assert [r["value"] for r in written["reports"]] == [12, 3, 65, 14, 1, 15, 2]
    approved = [r for r in written["reports"] if r["status"] == "approved"]
    assert all(r["reviewed"] and r["reviewed_by"] for r in approved)
    assert [(c["action"], c["entity_id"][3]) for c in written["changes"]] == [
        ("submitted", 1),
        ("submitted", 1),
        ("submitted", 1),
        ("revised", 2),
        ("submitted", 1),
        ("revised", 3),
        ("revised", 2),
        ("approved", 1),
        ("approved", 1),
        ("approved", 3),
        ("approved", 2),
    ]
    revised = written["changes"][5]
    assert json.loads(revised["previous"])["value"] == 14 and json.loads(revised["current"])["value"] == 15
    report_events = [
        (kind, data["report"]["report_id"][3], data["supersedes"][3] if data["supersedes"] else None)
        for _, _, kind, data in written["events"]
        if kind.startswith("minsheng.report.")
    ]
    assert report_events == [
        ("minsheng.report.submitted.v1", 1, None),
        ("minsheng.report.submitted.v1", 1, None),
        ("minsheng.report.submitted.v1", 1, None),
        ("minsheng.report.revised.v1", 2, 1),
        ("minsheng.report.submitted.v1", 1, None),
        ("minsheng.report.revised.v1", 3, 2),
        ("minsheng.report.revised.v1", 2, 1),
    ] + [("minsheng.report.approved.v1", n, None) for n in (1, 1, 3, 2)]
    assert all(
        topic == "minsheng.education.events" and key == data["report"]["indicator"]
        for topic, key, kind, data in written["events"]
        if kind.startswith("minsheng.report.")
    )


def test_an_upload_larger_than_one_statement_is_written_whole(campaign_client, monkeypatch):
    """An upload of more rows than one statement carries is written in several, all in its one
    transaction: every row a report with its history record and event, or (one bad row) none."""
    monkeypatch.setattr(bulk, "MAX_ROWS", 2)
    client = campaign_client("education")
    rows = [
        {"indicator": "T002-1", "org_unit": unit, "period": "2022-06", "value": n}
        for n, unit in enumerate(("370300", "370302", "370303", "370304", "370305"), start=1)
    ]
    bad = [*rows[:4], {**rows[4], "value": -1}]
    assert client.post("/api/v1/reports/bulk", json={"rows": bad}, headers=CITY).status_code == 422
    assert stored(client)["reports"] == []
    answer = client.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY)
    assert answer.status_code == 201, answer.text
    assert [r["value"] for r in answer.json()["data"]] == [1, 2, 3, 4, 5]
    written = stored(client)
    assert [(r["org_unit_code"], r["value"], r["revision"]) for r in written["reports"]] == [
        (r["org_unit"], r["value"], 1) for r in rows
    ]
    assert [c["entity_id"][1] for c in written["changes"]] == [r["org_unit"] for r in rows]
    assert [data["report"]["org_unit"] for _, _, _, data in written["events"]] == [r["org_unit"] for r in rows]


def test_one_statement_refuses_more_rows_than_it_may_carry(campaign_client):
    from minsheng.reporting.models import ChangeRecord

    client = campaign_client("education")
    with client.app.state.database.engine.connect() as connection:
        with pytest.raises(ValueError, match="rows"):
            bulk.insert_together(connection, [(ChangeRecord.__table__, [{"entity": "report"}] * (bulk.MAX_ROWS + 1))])


def test_ids_drawn_ahead_are_unique_across_threads_and_come_from_the_tables_sequence(campaign_client):
    """Report ids drawn ahead (`bulk.IdBlocks`) by the group-commit writer and by request threads at the
    same time: none is handed out twice, and a report the database numbers itself afterwards gets an id
    none of them has."""
    import threading

    from minsheng.reporting.models import Report

    client = campaign_client("education")
    engine = client.app.state.database.engine
    blocks = bulk.IdBlocks(Report.__table__, block=7)
    taken: list[int] = []

    def draw() -> None:
        for count in (1, 3, 5, 2, 8) * 4:
            with engine.connect() as connection:
                ids = blocks.take(connection, count)
                assert len(ids) == count
                taken.extend(ids)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 4 * 4 * 19 and len(set(taken)) == len(taken)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT nextval(pg_get_serial_sequence('report', 'id'))")).scalar() > max(taken)


def test_a_value_too_long_for_its_column_is_refused_not_cut(campaign_client):
    """The rows are read as the table's own type: a VARCHAR(20)'s length check still refuses."""
    from minsheng.reporting.models import ChangeRecord

    database = campaign_client("education").app.state.database
    with database.engine.connect() as connection, pytest.raises(Exception, match="too long"):
        bulk.insert_together(connection, [(ChangeRecord.__table__, [{"entity": "x" * 21}])])

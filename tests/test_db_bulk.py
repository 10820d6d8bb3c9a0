"""The submission and approval writers' two ways of writing a batch store the same thing: driver SQL
on PostgreSQL (`minsheng.db.bulk`, for batches of up to MAX_ROWS rows) and Core (SQLite, and larger
bulk uploads).

Two education services on their own PostgreSQL databases receive the same submissions, one of them
forced onto the Core path; their reports, history records and outbox events must be the same, apart
from what is generated (ids, times)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from minsheng.db import bulk
from tests.conftest import CITY, EDU_BUREAU

FIRST = [{"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 12, "note": "6月新开工12处"},
         {"indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 3},
         {"indicator": "T002-3", "org_unit": "370303", "period": "2022", "numerator": 65, "denominator": 100}]
REVISION = [{"indicator": "T002-1", "org_unit": "370300", "period": "2022-06", "value": 14, "note": "更正"},
            {"indicator": "T002-1", "org_unit": "370302", "period": "2022-07", "value": 1}]


def stored(client) -> dict:
    """What was written, with every report id replaced by the revision it names (series, revision),
    so that two databases compare equal exactly when the ids point at the same revisions."""
    database = client.app.state.database
    with database.engine.connect() as connection:
        reports = [dict(row) for row in connection.execute(text(
            "SELECT id, indicator_code, org_unit_code, period, period_start, period_end, value, numerator, "
            "denominator, note, status, revision, is_current, submitted_by, reviewed_by, reviewed_at IS NOT NULL "
            "AS reviewed FROM report ORDER BY id")).mappings()]
        revision_of = {r.pop("id"): (r["indicator_code"], r["org_unit_code"], r["period"], r["revision"])
                       for r in reports}
        changes = [{**row, "entity_id": revision_of[int(row["entity_id"])]} for row in connection.execute(text(
            "SELECT entity, entity_id, series_key, action, actor, previous, current FROM change_record "
            "WHERE entity = 'report' ORDER BY id")).mappings()]
        events = []
        for topic, key, type_, payload in connection.execute(text(
                "SELECT topic, key, type, payload FROM outbox_event ORDER BY id")):
            data = json.loads(payload)["data"]
            if type_ == "minsheng.indicator.status_changed.v1":
                events.append((topic, key, type_, data))
                continue
            if not type_.startswith("minsheng.report."):
                continue
            data["report"]["report_id"] = revision_of[data["report"]["report_id"]]
            if data.get("supersedes") is not None:
                data["supersedes"] = revision_of[data["supersedes"]]
            data.pop("occurred_at")
            events.append((topic, key, type_, data))
        statuses = [tuple(row) for row in connection.execute(text(
            "SELECT indicator_code, org_unit_code, status, as_of FROM indicator_status ORDER BY 1, 2"))]
    return {"reports": reports, "changes": changes, "events": events, "statuses": statuses}


def submit_all(client) -> None:
    for rows in (FIRST, REVISION):  # a bulk upload, then single submissions through the group commit
        assert client.post("/api/v1/reports/bulk", json={"rows": rows}, headers=CITY).status_code == 201
    for row in REVISION:
        assert client.post("/api/v1/reports", json={**row, "value": row["value"] + 1},
                           headers=EDU_BUREAU).status_code == 201


def approve_current(client) -> None:
    """The city office approves every current revision, in id order."""
    with client.app.state.database.engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM report WHERE is_current ORDER BY id")).scalars().all()
    for report_id in ids:
        assert client.post(f"/api/v1/reports/{report_id}/approve", headers=CITY).status_code == 200


def test_driver_sql_and_core_write_the_same_reports_history_and_events(campaign_client, monkeypatch):
    driver_sql = campaign_client("education")
    submit_all(driver_sql)
    approve_current(driver_sql)
    monkeypatch.setattr(bulk, "MAX_ROWS", 0)  # every batch now exceeds it: the Core statements
    core = campaign_client("education")
    submit_all(core)
    approve_current(core)
    written = stored(driver_sql)
    assert len(written["reports"]) == 7 and len(written["changes"]) == 7 + 4
    assert [r["revision"] for r in written["reports"]] == [1, 1, 1, 2, 1, 3, 2]
    approved = [r for r in written["reports"] if r["status"] == "approved"]
    assert len(approved) == 4 and all(r["reviewed"] and r["reviewed_by"] for r in approved)
    kinds = [event[2] for event in written["events"]]
    assert kinds.count("minsheng.report.approved.v1") == 4 and "minsheng.indicator.status_changed.v1" in kinds
    assert written["statuses"]
    assert written == stored(core)


def test_driver_sql_refuses_more_rows_than_one_statement_may_carry(campaign_client):
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
    blocks = bulk.IdBlocks(block=7)
    taken: list[int] = []

    def draw() -> None:
        for count in (1, 3, 5, 2, 8) * 4:
            with engine.connect() as connection:
                ids = blocks.take(connection, Report.__table__, count)
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

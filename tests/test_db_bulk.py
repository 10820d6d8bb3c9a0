"""The submission writer's two ways of writing a batch store the same thing: driver SQL on PostgreSQL
(`minsheng.db.bulk`, for batches of up to MAX_ROWS rows) and Core (SQLite, and larger bulk uploads).

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
            "denominator, note, status, revision, is_current, submitted_by FROM report ORDER BY id")).mappings()]
        revision_of = {r.pop("id"): (r["indicator_code"], r["org_unit_code"], r["period"], r["revision"])
                       for r in reports}
        changes = [{**row, "entity_id": revision_of[int(row["entity_id"])]} for row in connection.execute(text(
            "SELECT entity, entity_id, series_key, action, actor, previous, current FROM change_record "
            "WHERE entity = 'report' ORDER BY id")).mappings()]
        events = []
        for topic, key, type_, payload in connection.execute(text(
                "SELECT topic, key, type, payload FROM outbox_event WHERE type LIKE 'minsheng.report.%' ORDER BY id")):
            data = json.loads(payload)["data"]
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
        assert client.post("/api/v1/reports", json={**row, "value": row["value"] + 1},
                           headers=EDU_BUREAU).status_code == 201


def test_driver_sql_and_core_write_the_same_reports_history_and_events(campaign_client, monkeypatch):
    driver_sql = campaign_client("education")
    submit_all(driver_sql)
    monkeypatch.setattr(bulk, "MAX_ROWS", 0)  # every batch now exceeds it: the Core statements
    core = campaign_client("education")
    submit_all(core)
    written = stored(driver_sql)
    assert len(written["reports"]) == 7 and len(written["changes"]) == 7 and len(written["events"]) == 7
    assert [r["revision"] for r in written["reports"]] == [1, 1, 1, 2, 1, 3, 2]
    assert written == stored(core)


def test_driver_sql_refuses_more_rows_than_one_statement_may_carry(campaign_client):
    from minsheng.reporting.models import ChangeRecord

    client = campaign_client("education")
    with client.app.state.database.engine.connect() as connection:
        with pytest.raises(ValueError, match="rows"):
            bulk.insert_together(connection, [(ChangeRecord.__table__, [{"entity": "report"}] * (bulk.MAX_ROWS + 1))])

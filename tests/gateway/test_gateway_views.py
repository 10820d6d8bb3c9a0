"""The gateway's views from a service's real events: folded once, the same figures as the service,
rebuildable from the topics.  PostgreSQL for both databases, the real broker for the rebuild."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.messaging import IntegrationEvent, OutboxEvent
from minsheng.progress.model import Thresholds
from minsheng_gateway.migration_plan import migration_plan
from minsheng_gateway.settings import GatewaySettings
from tests.conftest import CITY, EDU_BUREAU, ZHANGDIAN
from tests.support.views import AS_OF, approve, comparable, fold_all, live_handlers, outbox_events, scenario


def test_gateway_folds_service_events_into_the_same_figures_the_service_computes(campaign_client, gateway):
    education = campaign_client("education")
    scenario(education)
    events = outbox_events(education)
    assert {e.type for e in events} >= {
        "minsheng.catalog.published.v1",
        "minsheng.report.submitted.v1",
        "minsheng.report.approved.v1",
        "minsheng.report.revised.v1",
        "minsheng.task_status.reported.v1",
    }
    assert all(fold_all(gateway, events))

    for code, org_unit in (("T002-1", "370300"), ("T002-1", "370303"), ("T002-3", "370300"), ("T002-1", "370302")):
        params = {"org_unit": org_unit, "as_of": AS_OF}
        ours = gateway.get(f"/api/v1/indicators/{code}/progress", params=params).json()
        theirs = education.get(f"/api/v1/indicators/{code}/progress", params=params).json()
        assert comparable(ours) == comparable(theirs), (code, org_unit)
    weighted = gateway.get("/api/v1/indicators/T002-3/progress", params={"as_of": AS_OF}).json()
    assert weighted["current_value"] == pytest.approx(155 / 300 * 100)
    pending = gateway.get("/api/v1/indicators/T002-1/progress", params={"org_unit": "370302", "as_of": AS_OF}).json()
    assert [p["value"] for p in pending["pending"]] == [9] and pending["current_value"] == 2

    city = gateway.get("/api/v1/city/summary").json()
    education_summary = next(c for c in city["campaigns"] if c["campaign"] == "education")
    assert sum(education_summary["tasks_by_status"].values()) == 27
    assert education_summary["tasks_by_status"]["behind"] >= 1  # task 6 reported blocked
    assert [h["id"] for h in education_summary["headline"]] == ["H-EDU-1", "H-EDU-2"]
    zhangdian = gateway.get("/api/v1/districts/370303/summary").json()
    assert zhangdian["org_unit_name"] == "张店区" and zhangdian["own_targets"] >= 1

    warnings = gateway.get("/api/v1/warnings").json()
    assert any(w["kind"] == "task" and w["id"] == "6" and w["lead_departments"] == ["市教育局"] for w in warnings)
    assert [w["since"] for w in warnings] == sorted((w["since"] for w in warnings), reverse=True)

    matrix = gateway.get("/api/v1/districts", params={"as_of": "2023-01-15"}).json()
    assert "已完成100分" in matrix["scoring_rule"]
    assert [r["label"] for r in matrix["rankings"]] == ["月调度", "季考评", "年评价"]
    yearly = matrix["rankings"][2]
    assert yearly["as_of"] == "2022-12-31"
    by_code = {d["code"]: d for d in yearly["districts"]}
    assert by_code["370303"]["campaigns"]["education"] is not None
    assert by_code["370303"]["rank"] < by_code["370323"]["rank"]  # Zhangdian reported, Yiyuan did not


def test_a_report_awaiting_review_is_listed_when_read_without_rewriting_the_stored_answers(campaign_client, gateway):
    """A submission changes neither figures nor status: the gateway does not recompute the series' rows
    for it, yet today's answers (served from those rows) list it, for the district and the city, and
    stop listing it once it is approved."""
    from minsheng_gateway.projection.models import IndicatorProgressView

    education = campaign_client("education")
    approve(education, {"indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 3}, ZHANGDIAN)
    fold_all(gateway, outbox_events(education))
    database = gateway.app.state.database

    def stored() -> dict:
        with database.session() as session:
            return {
                (r.org_unit_code, r.payload)
                for r in session.exec(
                    select(IndicatorProgressView).where(IndicatorProgressView.indicator_code == "T002-1")
                )
            }

    def served(org_unit: str) -> dict:
        return gateway.get("/api/v1/indicators/T002-1/progress", params={"org_unit": org_unit}).json()

    before = stored()
    waiting = education.post(
        "/api/v1/reports",
        headers=ZHANGDIAN,
        json={"indicator": "T002-1", "org_unit": "370303", "period": "2022-07", "value": 4},
    ).json()
    assert all(fold_all(gateway, outbox_events(education)[-1:]))
    assert stored() == before  # nothing recomputed for it
    for org_unit in ("370303", "370300"):
        answer = served(org_unit)
        assert [(p["report_id"], p["value"]) for p in answer["pending"]] == [(waiting["id"], 4)], org_unit
        assert answer["reasons"][-1] == "另有1份报告待审核，审核通过前不计入"
        assert answer["current_value"] == 3  # shown, never counted
    assert served("370302")["pending"] == []  # another district's answer does not list it

    assert education.post(f"/api/v1/reports/{waiting['id']}/approve", headers=CITY).status_code == 200
    fold_all(gateway, outbox_events(education))
    for org_unit in ("370303", "370300"):
        answer = served(org_unit)
        assert answer["pending"] == [] and answer["current_value"] == 7
        assert not any("待审核" in reason for reason in answer["reasons"])


def test_the_same_event_delivered_twice_changes_nothing(campaign_client, gateway):
    education = campaign_client("education")
    scenario(education)
    events = outbox_events(education)
    fold_all(gateway, events)
    before = (
        gateway.get("/api/v1/city/summary").json(),
        gateway.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json(),
    )
    assert not any(fold_all(gateway, events))  # every one is recognised as already processed
    after = (
        gateway.get("/api/v1/city/summary").json(),
        gateway.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json(),
    )
    assert after == before


def test_snapshots_rebuild_the_same_views_without_the_original_events(campaign_client, gateway, make_database):
    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))
    expected = gateway.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json()

    import minsheng_gateway.main as gateway_main

    # A second gateway that never saw the original events: only the republished snapshots.
    with education.app.state.database.session() as session:
        seen = session.exec(select(OutboxEvent.id)).all()
    assert education.post("/api/v1/events/republish", headers=CITY).status_code == 200
    assert education.post("/api/v1/events/republish", headers=EDU_BUREAU).status_code == 403
    with education.app.state.database.session() as session:
        snapshot_rows = session.exec(
            select(OutboxEvent).where(OutboxEvent.id.not_in(seen)).order_by(OutboxEvent.id)
        ).all()
    snapshots = [IntegrationEvent.from_json_bytes(r.payload) for r in snapshot_rows]
    assert {e.type for e in snapshots} == {
        "minsheng.catalog.published.v1",
        "minsheng.report.snapshot.v1",
        "minsheng.task_status.reported.v1",
    }
    settings = GatewaySettings().model_copy(
        update={
            "database_url": make_database("gateway2"),
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "catalog_retry_seconds": 3600,
        }
    )
    with TestClient(gateway_main.build_app(settings)) as fresh:
        fresh.app.state.clock = lambda: dt.date(2022, 12, 31)
        fold_all(fresh, snapshots)
        rebuilt = fresh.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json()
        assert rebuilt == expected


def test_rebuild_command_replays_the_topics_into_identical_views(campaign_client, gateway, make_database):
    from aiokafka import AIOKafkaProducer

    from minsheng.broker import LocalBroker
    from minsheng.messaging import publish_pending_events
    from minsheng_gateway.projection.rebuild import drop_read_models, fold_topics
    from tests.conftest import free_port

    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))
    expected = (
        gateway.get("/api/v1/city/summary").json(),
        gateway.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json(),
    )

    async def publish():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
        await producer.start()
        try:
            while (
                await publish_pending_events(education.app.state.database, producer, 500, ignore_backoff=True)
            ).claimed:
                pass
        finally:
            await producer.stop()

    broker = LocalBroker(free_port()).start()  # its own broker: the topics hold only this test's events
    try:
        asyncio.run(publish())
        database = Database(make_database("rebuilt"))
        import minsheng_gateway.main as gateway_main

        upgrade_to_head(migration_plan, database.url)
        generation = drop_read_models(database)
        read, applied, _ = asyncio.run(
            fold_topics(database, broker.bootstrap_servers, generation, Thresholds(), idle=2.0)
        )
        assert read >= applied > 0
        settings = GatewaySettings().model_copy(
            update={
                "database_url": database.url,
                "kafka_bootstrap_servers": "127.0.0.1:1",
                "catalog_retry_seconds": 3600,
            }
        )
        with TestClient(gateway_main.build_app(settings)) as rebuilt:
            rebuilt.app.state.clock = lambda: dt.date(2022, 12, 31)
            got = (
                rebuilt.get("/api/v1/city/summary").json(),
                rebuilt.get("/api/v1/indicators/T002-1/progress", params={"as_of": AS_OF}).json(),
            )
        assert got == expected
        database.dispose()
    finally:
        broker.stop()


def test_batch_fold_equals_event_by_event_fold_and_skips_repeats(campaign_client, gateway, make_database):
    """The consumer's batches give the same views as folding one event at a time; a batch holding
    repeats of itself applies each event once."""
    import minsheng_gateway.main as gateway_main

    education = campaign_client("education")
    scenario(education)
    events = outbox_events(education)
    fold_all(gateway, events)
    expected = gateway.get("/api/v1/indicators/T002-1/progress", params={"org_unit": "370302", "as_of": AS_OF}).json()

    settings = GatewaySettings().model_copy(
        update={
            "database_url": make_database("batch"),
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "catalog_retry_seconds": 3600,
        }
    )
    with TestClient(gateway_main.build_app(settings)) as batched:
        database, handlers = batched.app.state.database, live_handlers(batched.app)
        with database.session() as session:
            outcome = handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events + events[:3]])
            session.commit()
        assert (outcome.applied, outcome.skipped, outcome.duplicates) == (len(events), 0, 3)
        with database.session() as session:
            outcome = handlers.apply(session, [handlers.parser.parse(e.to_json_bytes()) for e in events])
        assert (outcome.applied, outcome.skipped, outcome.duplicates) == (0, 0, len(events))
        got = batched.get("/api/v1/indicators/T002-1/progress", params={"org_unit": "370302", "as_of": AS_OF}).json()
    assert got == expected
    assert got["current_value"] == 2 and [p["value"] for p in got["pending"]] == [9]


def test_an_event_of_a_retired_type_still_in_a_topic_is_skipped_not_poison(gateway):
    """Approvals sent `minsheng.indicator.status_changed.v1` until 2026-12 (decision 0018): a rebuild
    replaying a topic that holds such events reads them and skips them, as events without a handler;
    an unknown type would be poison and alert."""
    handlers = live_handlers(gateway.app)
    raw = json.dumps(
        {
            "specversion": "1.0",
            "id": "retired-1",
            "source": "/minsheng/education",
            "type": "minsheng.indicator.status_changed.v1",
            "subject": "T002-1",
            "time": "2026-11-30T08:00:00Z",
            "datacontenttype": "application/json",
            "data": {
                "campaign": "education",
                "indicator": "T002-1",
                "org_unit": "370300",
                "previous_status": "on_track",
                "status": "at_risk",
                "as_of": "2026-11-30",
                "current_value": 30.0,
                "expected_value": 40.0,
                "target_value": 103.0,
                "reasons": ["进度滞后"],
            },
        },
        ensure_ascii=False,
    ).encode()
    with gateway.app.state.database.session() as session:
        outcome = handlers.apply(session, [handlers.parser.parse(raw)])
        session.commit()
    assert (outcome.applied, outcome.skipped, outcome.duplicates) == (0, 1, 0)
    with pytest.raises(ValueError, match="does not match any of the expected tags"):  # poison
        handlers.parser.parse(raw.replace(b"status_changed.v1", b"status_moved.v1"))


SUMMARIES = ("/api/v1/city/summary", "/api/v1/districts/370303/summary", "/api/v1/districts/370302/summary")


@pytest.mark.parametrize("day", ["2023-01-15", "2023-06-30", "2024-12-31"])
def test_a_new_days_summaries_from_stored_inputs_equal_those_computed_in_full(campaign_client, gateway, day):
    """The first summaries of a new day are answered from the inputs stored with each progress row,
    not from every official value; they must be exactly the answers a full recomputation gives."""
    from sqlalchemy import update

    from minsheng_gateway.projection.models import IndicatorProgressView

    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))  # rows computed for 2022-12-31, each with its inputs
    database = gateway.app.state.database
    with database.session() as session:
        rows = session.exec(select(IndicatorProgressView)).all()
        assert rows and all(row.inputs for row in rows)
    gateway.app.state.clock = lambda: dt.date.fromisoformat(day)
    from_inputs = {path: gateway.get(path).json() for path in SUMMARIES}
    with database.session() as session:
        session.exec(update(IndicatorProgressView).values(inputs=None))  # as if stored before inputs were kept
        session.commit()
    in_full = {path: gateway.get(path).json() for path in SUMMARIES}
    assert from_inputs == in_full
    assert from_inputs["/api/v1/city/summary"]["as_of"] == day


def test_the_refresher_renews_stored_rows_to_the_answers_computed_in_full(campaign_client, gateway):
    from minsheng.clock import today_in_china
    from minsheng.progress.assemble import indicator_progress
    from minsheng.progress.queries import load_facts
    from minsheng_gateway.projection.models import IndicatorProgressView
    from minsheng_gateway.projection.refresher import refresh_stale_rows
    from minsheng_gateway.projection.source import GatewaySource

    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))  # computed for 2022-12-31: stale on the real today
    assert refresh_stale_rows(gateway.app) > 0
    today = today_in_china()
    with gateway.app.state.database.session() as session:
        rows = session.exec(select(IndicatorProgressView)).all()
        facts = load_facts(session, gateway.app.state.catalog)
        source = GatewaySource(session)
        official = source.official(list(facts))
        for row in rows:
            assert row.computed_on == today
            # Stored answers hold no reports awaiting review: they are added when read.
            expected = indicator_progress(
                facts[row.indicator_code],
                row.org_unit_code,
                official.get(row.indicator_code, []),
                [],
                today,
                Thresholds.from_settings(gateway.app.state.settings),
            )
            assert row.payload == expected.model_dump_json(), (row.indicator_code, row.org_unit_code)


def _clock(gateway, day: str) -> None:
    gateway.app.state.clock = lambda: dt.date.fromisoformat(day)


def test_answers_stored_before_midnight_serve_the_new_days_summaries(campaign_client, gateway):
    """In the hour before midnight each row gets its answer for the next day (`projection/ahead.py`);
    the new day's first summaries read those."""
    from sqlalchemy import delete, update

    from minsheng_gateway.projection.ahead import store_answers_ahead
    from minsheng_gateway.projection.models import IndicatorProgressView, OfficialValue

    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))  # rows computed for 2022-12-31
    database = gateway.app.state.database
    day = dt.date(2023, 1, 1)
    _clock(gateway, day.isoformat())
    expected = {path: gateway.get(path).json() for path in SUMMARIES}  # computed from the stored inputs
    stored = store_answers_ahead(database, gateway.app.state.catalog, day, Thresholds())
    with database.session() as session:
        rows = session.exec(select(IndicatorProgressView)).all()
        assert stored == len(rows) and all(row.next_on == day and row.computed_on < day for row in rows)
        # Leave the summaries nothing else to compute from: only the answers stored ahead can give them.
        session.exec(update(IndicatorProgressView).values(inputs=None))
        session.exec(delete(OfficialValue))
        session.commit()
    assert {path: gateway.get(path).json() for path in SUMMARIES} == expected
    assert store_answers_ahead(database, gateway.app.state.catalog, day, Thresholds()) == 0  # nothing left to do


def test_the_new_days_first_refresh_renews_each_row_to_its_answer_stored_ahead(campaign_client, gateway):
    """After midnight the refresher answers every row for the new day: the answer stored ahead for it
    (the same inputs, the same day), which then is the row's own and no longer stored beside it."""
    from minsheng_gateway.projection.ahead import store_answers_ahead
    from minsheng_gateway.projection.models import IndicatorProgressView
    from minsheng_gateway.projection.refresher import refresh_stale_rows

    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))  # rows computed for 2022-12-31
    database = gateway.app.state.database
    day = dt.date(2023, 1, 1)
    _clock(gateway, day.isoformat())
    expected = {path: gateway.get(path).json() for path in SUMMARIES}
    store_answers_ahead(database, gateway.app.state.catalog, day, Thresholds())
    with database.session() as session:
        ahead = {
            (row.indicator_code, row.org_unit_code): (row.next_status, row.next_payload)
            for row in session.exec(select(IndicatorProgressView))
        }
    assert refresh_stale_rows(gateway.app, today=day) == len(ahead)
    with database.session() as session:
        for row in session.exec(select(IndicatorProgressView)):
            assert (row.status, row.payload) == ahead[row.indicator_code, row.org_unit_code]
            assert row.computed_on == day and (row.next_on, row.next_status, row.next_payload) == (None,) * 3
    assert {path: gateway.get(path).json() for path in SUMMARIES} == expected


def test_a_row_that_changes_after_its_answer_was_stored_ahead_loses_it(campaign_client, gateway):
    """An answer ahead is the next day's answer to the row's inputs at the time: a report approved
    later must not be hidden by it at midnight."""
    from minsheng_gateway.projection.ahead import store_answers_ahead
    from minsheng_gateway.projection.models import IndicatorProgressView

    education = campaign_client("education")
    scenario(education)
    approve(education, {"indicator": "H-EDU-1", "org_unit": "370300", "period": "2022-06", "value": 50}, CITY)
    folded = outbox_events(education)
    fold_all(gateway, folded)
    day = dt.date(2023, 1, 1)
    store_answers_ahead(gateway.app.state.database, gateway.app.state.catalog, day, Thresholds())
    approve(education, {"indicator": "H-EDU-1", "org_unit": "370300", "period": "2022-12", "value": 85}, CITY)
    fold_all(gateway, outbox_events(education)[len(folded) :])
    with gateway.app.state.database.session() as session:
        rows = {(r.indicator_code, r.org_unit_code): r for r in session.exec(select(IndicatorProgressView))}
    assert rows["H-EDU-1", "370300"].next_on is None
    assert all(row.next_on == day for key, row in rows.items() if key != ("H-EDU-1", "370300"))
    _clock(gateway, day.isoformat())
    city = gateway.get("/api/v1/city/summary").json()
    figures = {f["id"]: f for c in city["campaigns"] for f in c["headline"]}
    assert figures["H-EDU-1"]["current_value"] == 85


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2026-11-27T15:30:00+00:00", dt.date(2026, 11, 28)),  # 23:30 in Beijing
        ("2026-11-27T14:59:00+00:00", None),  # 22:59 in Beijing: more than an hour before midnight
        ("2026-11-27T16:10:00+00:00", None),  # 00:10 on the 28th: the 29th is a day away
    ],
)
def test_answers_are_stored_ahead_in_the_last_hour_of_a_beijing_day(now, due):
    from minsheng_gateway.projection.ahead import next_day_due

    assert next_day_due(dt.datetime.fromisoformat(now), dt.timedelta(minutes=60)) == due


def test_todays_indicator_progress_is_the_stored_answer_and_equals_the_one_computed_in_full(campaign_client, gateway):
    """Dashboards poll `/indicators/{id}/progress`: today's answer is served as the consumer stored it
    when the row last changed, and it is exactly the answer computed from every official value."""
    from sqlalchemy import delete

    from minsheng.progress.assemble import indicator_progress
    from minsheng.progress.queries import load_facts
    from minsheng_gateway.projection.models import IndicatorProgressView, OfficialValue
    from minsheng_gateway.projection.source import GatewaySource

    education = campaign_client("education")
    scenario(education)
    fold_all(gateway, outbox_events(education))
    today = dt.date(2022, 12, 31)
    database = gateway.app.state.database
    with database.session() as session:
        keys = [(r.indicator_code, r.org_unit_code) for r in session.exec(select(IndicatorProgressView))]
        facts = load_facts(session, gateway.app.state.catalog)
        source = GatewaySource(session)
        official, pending = source.official(list(facts)), source.pending(list(facts))
        expected = {
            (code, unit): indicator_progress(
                facts[code], unit, official.get(code, []), pending.get(code, []), today, Thresholds()
            ).model_dump(mode="json")
            for code, unit in keys
        }
    assert len(keys) >= 6

    def served(code: str, unit: str, **params) -> dict:
        response = gateway.get(f"/api/v1/indicators/{code}/progress", params={"org_unit": unit, **params})
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        return response.json()

    assert {key: served(*key) for key in keys} == expected
    with database.session() as session:  # the stored answers stand on their own
        session.exec(delete(OfficialValue))
        session.commit()
    assert {key: served(*key) for key in keys} == expected
    assert served("T002-1", "370302")["current_value"] == 2
    assert served("T002-1", "370302", as_of="2022-12-30")["current_value"] is None  # another day: computed

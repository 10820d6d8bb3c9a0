"""Integration events are CloudEvents 1.0 in structured JSON, with `data` checked against a registered model."""

import datetime as dt
import json
import uuid

import pytest
from pydantic import BaseModel, ValidationError

from minsheng.messaging import IntegrationEvent, UnknownEventType, event_source, register_event, topic_for
from minsheng.messaging.events import data_model_for

EVENT_TYPE = "minsheng.test.events.value_reported.v1"


class ValueReported(BaseModel):
    indicator: str
    value: float
    period: dt.date


register_event(EVENT_TYPE, ValueReported)


def make_event(**changes) -> IntegrationEvent:
    fields = {
        "source": event_source("education"),
        "type": EVENT_TYPE,
        "subject": "T002-1",
        "data": {"indicator": "T002-1", "value": 3, "period": "2023-06-30"},
    }
    return IntegrationEvent(**{**fields, **changes})


def test_an_event_has_the_cloudevents_envelope_and_round_trips_as_json():
    event = make_event()
    body = json.loads(event.to_json_bytes())
    assert body["specversion"] == "1.0"
    assert str(uuid.UUID(body["id"], version=4)) == body["id"]
    assert body["source"] == "/minsheng/education"
    assert body["type"] == EVENT_TYPE
    assert body["subject"] == "T002-1"
    assert body["datacontenttype"] == "application/json"
    assert body["time"].endswith("Z")
    assert body["data"] == {"indicator": "T002-1", "value": 3.0, "period": "2023-06-30"}
    again = IntegrationEvent.from_json_bytes(event.to_json_bytes())
    assert again == event
    assert again.typed_data() == ValueReported(indicator="T002-1", value=3, period=dt.date(2023, 6, 30))


def test_events_are_immutable_and_get_fresh_ids_and_utc_times():
    first, second = make_event(), make_event()
    assert first.id != second.id
    assert first.time.utcoffset() == dt.timedelta(0)
    with pytest.raises(ValidationError):
        first.subject = "T003-1"
    beijing = dt.datetime(2024, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert make_event(time=beijing).time == dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC)
    with pytest.raises(ValidationError):
        make_event(time=dt.datetime(2024, 1, 1))  # naive: whose midnight?


def test_data_is_validated_on_creation_and_may_be_given_as_the_model():
    with pytest.raises(ValidationError):
        make_event(data={"indicator": "T002-1", "value": "many", "period": "2023-06-30"})
    event = make_event(data=ValueReported(indicator="T001-1", value=1.5, period=dt.date(2024, 3, 31)))
    assert event.data == {"indicator": "T001-1", "value": 1.5, "period": "2024-03-31"}

    class Other(BaseModel):
        indicator: str

    with pytest.raises(ValidationError):
        make_event(data=Other(indicator="T001-1"))


def test_unknown_types_are_refused_on_creation_and_on_receipt():
    with pytest.raises(ValidationError, match="unknown event type"):
        make_event(type="minsheng.test.events.never_registered.v1")
    body = json.loads(make_event().to_json_bytes())
    body["type"] = "minsheng.test.events.never_registered.v1"
    with pytest.raises(ValidationError):
        IntegrationEvent.from_json_bytes(json.dumps(body).encode())
    with pytest.raises(UnknownEventType):
        data_model_for("minsheng.test.events.never_registered.v1")


def test_received_events_are_checked_like_created_ones():
    body = json.loads(make_event().to_json_bytes())
    for broken in (
        {**body, "specversion": "0.3"},
        {**body, "data": {"indicator": "T002-1"}},
        {k: v for k, v in body.items() if k != "source"},
        {**body, "time": "yesterday"},
    ):
        with pytest.raises(ValidationError):
            IntegrationEvent.from_json_bytes(json.dumps(broken).encode())
    with pytest.raises(ValidationError):
        IntegrationEvent.from_json_bytes(b"\xff not json")
    extended = {**body, "traceparent": "00-abc-def-01"}  # a CloudEvents extension from a newer producer
    assert IntegrationEvent.from_json_bytes(json.dumps(extended).encode()).id == body["id"]


def test_registering_requires_a_versioned_type_and_is_idempotent():
    register_event(EVENT_TYPE, ValueReported)  # the same pair again: fine
    with pytest.raises(ValueError, match="already registered"):
        register_event(EVENT_TYPE, type("Impostor", (BaseModel,), {"__annotations__": {"x": int}}))
    for bad in ("minsheng.report.approved", "Minsheng.Report.v1", "approved.v0", "v1"):
        with pytest.raises(ValueError):
            register_event(bad, ValueReported)


def test_one_topic_per_campaign():
    assert topic_for("education") == "minsheng.education.events"
    assert {topic_for(c) for c in ("education", "health", "eldercare", "employment", "livability")} == {
        "minsheng.education.events",
        "minsheng.health.events",
        "minsheng.eldercare.events",
        "minsheng.employment.events",
        "minsheng.livability.events",
    }
    with pytest.raises(ValueError):
        topic_for("gateway")

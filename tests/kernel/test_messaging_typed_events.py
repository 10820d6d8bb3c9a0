"""A consumer's `TypedEventParser` (what handlers read) accepts and refuses exactly what
`IntegrationEvent.from_json_bytes` does, and gives the same envelope and data."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import BaseModel

from minsheng.messaging import IntegrationEvent, event_source, register_event
from minsheng.messaging.consumer import TypedEvent, TypedEventParser
from minsheng.reporting.events import REPORT_EVENT_TYPES, TASK_STATUS_REPORTED

REPORT = {
    "campaign": "education",
    "supersedes": 7,
    "actor": "edu",
    "occurred_at": "2022-07-01T16:00:00+08:00",
    "report": {
        "report_id": 8,
        "indicator": "T002-1",
        "org_unit": "370302",
        "period": "2022-06",
        "value": 3,
        "status": "approved",
        "revision": 2,
        "is_current": True,
        "submitted_by": "edu",
    },
}
TASK_STATUS = {
    "campaign": "education",
    "task": 6,
    "org_unit": "370300",
    "period": "2022Q4",
    "state": "blocked",
    "narrative": "协议未签",
    "problems": "",
    "revision": 1,
    "actor": "edu",
    "occurred_at": "2022-12-01T08:00:00Z",
}


def envelope(event_type: str, data: dict, **changes) -> bytes:  # noqa: ANN003
    body = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": event_source("education"),
        "type": event_type,
        "subject": "T002-1",
        "time": "2022-07-01T16:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data,
        **changes,
    }
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


@pytest.mark.parametrize(
    "raw",
    [
        envelope(REPORT_EVENT_TYPES["approved"], REPORT),
        envelope(REPORT_EVENT_TYPES["submitted"], {**REPORT, "supersedes": None}, subject=None),
        envelope(TASK_STATUS_REPORTED, TASK_STATUS, extension="tolerated"),
    ],
)
def test_the_same_event_as_integration_event(raw):
    expected = IntegrationEvent.from_json_bytes(raw)
    got = TypedEventParser().parse(raw)
    assert isinstance(got, TypedEvent)
    assert (got.id, got.type, got.source, got.subject, got.time) == (
        expected.id,
        expected.type,
        expected.source,
        expected.subject,
        expected.time,
    )
    assert got.time.utcoffset().total_seconds() == 0  # received times are in UTC, as IntegrationEvent's
    assert got.typed_data() == expected.typed_data()


@pytest.mark.parametrize(
    "raw",
    [
        envelope("minsheng.nobody.registered.v1", REPORT),  # unknown type
        envelope(REPORT_EVENT_TYPES["approved"], {**REPORT, "unexpected": 1}),  # data models forbid extras
        envelope(REPORT_EVENT_TYPES["approved"], {k: v for k, v in REPORT.items() if k != "report"}),
        envelope(REPORT_EVENT_TYPES["approved"], REPORT, time="2022-07-01T16:00:00"),  # naive time
        envelope(REPORT_EVENT_TYPES["approved"], REPORT, id=""),
        envelope(REPORT_EVENT_TYPES["approved"], REPORT, specversion="0.3"),
        b"not json",
    ],
)
def test_the_same_records_are_poison(raw):
    with pytest.raises(ValueError):
        IntegrationEvent.from_json_bytes(raw)
    with pytest.raises(ValueError):
        TypedEventParser().parse(raw)


def test_a_type_registered_later_is_understood():
    class Greeting(BaseModel):
        text: str

    event_type = f"minsheng.test.greeting_{uuid.uuid4().hex[:8]}.v1"
    parser = TypedEventParser()
    parser.parse(envelope(TASK_STATUS_REPORTED, TASK_STATUS))  # the parser was built before the type
    register_event(event_type, Greeting)
    assert parser.parse(envelope(event_type, {"text": "你好"})).typed_data() == Greeting(text="你好")

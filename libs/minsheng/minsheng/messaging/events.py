"""Integration events: CloudEvents 1.0 in structured JSON mode, with typed `data`.

An event's envelope is the CloudEvents context (`specversion`, `id`, `source`, `type`,
`subject`, `time`, `datacontenttype`); its `data` is validated against the pydantic model
registered for its `type`, both when the event is created and when it is received.  An event
whose type nobody registered is refused: a producer cannot emit a typo, and a consumer treats
such a record as poison instead of guessing.

Types are versioned (`minsheng.report.approved.v1`): a change that is not backwards compatible
is a new type (`…v2`), registered beside the old one while consumers migrate.

    class ReportApproved(BaseModel):
        indicator: str
        value: float

    register_event("minsheng.report.approved.v1", ReportApproved)
    event = IntegrationEvent(source=event_source("education"), type="minsheng.report.approved.v1",
                             subject="T002-1", data=ReportApproved(indicator="T002-1", value=3.0))
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from minsheng.catalog.document import CAMPAIGN_CODES

SPEC_VERSION = "1.0"
JSON = "application/json"
# The Kafka protocol binding's content type for a record carrying a structured-mode event.
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"

# Reverse-DNS-ish, lower case, dot separated, ending in a version: minsheng.report.approved.v1
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+\.v[1-9][0-9]*$")


class UnknownEventType(ValueError):
    """The event's `type` was never registered with `register_event`."""


_registry: dict[str, type[BaseModel]] = {}
_registry_lock = threading.Lock()


def register_event(event_type: str, data_model: type[BaseModel]) -> type[BaseModel]:
    """Declare an event type and the pydantic model its `data` must satisfy.

    Registering the same pair again is a no-op (modules may be imported twice in tests);
    registering a different model for a known type is an error.  Returns `data_model`.
    """
    if not EVENT_TYPE_PATTERN.match(event_type):
        raise ValueError(
            f"event type {event_type!r} must be dotted lower case ending in a version, "
            "e.g. 'minsheng.report.approved.v1'"
        )
    if not (isinstance(data_model, type) and issubclass(data_model, BaseModel)):
        raise TypeError(f"the data model of {event_type!r} must be a pydantic model class")
    with _registry_lock:
        known = _registry.get(event_type)
        if known is not None and known is not data_model:
            raise ValueError(f"event type {event_type!r} is already registered with {known.__qualname__}")
        _registry[event_type] = data_model
    return data_model


class RetiredEventData(BaseModel):
    """The data of an event type no longer sent (`retire_event`): read whatever it holds, kept none of it."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def retire_event(event_type: str) -> None:
    """Declare a type that is no longer sent.  Its events already in the topics stay readable: a
    consumer skips them as events it has no handler for, where an unknown type would be poison (and
    alert).  The AsyncAPI document no longer lists it (`messaging.asyncapi.platform_event_types`)."""
    register_event(event_type, RetiredEventData)


def data_model_for(event_type: str) -> type[BaseModel]:
    try:
        return _registry[event_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {event_type!r}: register it with register_event()") from None


def registered_event_types() -> dict[str, type[BaseModel]]:
    return dict(_registry)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def event_source(process: str) -> str:
    """The CloudEvents `source` of a process's events: `/minsheng/education`."""
    return f"/minsheng/{process}"


def topic_for(campaign: str) -> str:
    """The Kafka topic of a campaign's events: one topic per campaign, `minsheng.<campaign>.events`."""
    if campaign not in CAMPAIGN_CODES:
        raise ValueError(f"unknown campaign {campaign!r}; expected one of {', '.join(CAMPAIGN_CODES)}")
    return f"minsheng.{campaign}.events"


class IntegrationEvent(BaseModel):
    """A CloudEvents 1.0 event, immutable; `data` is validated against the model registered for `type`."""

    # Unknown attributes (CloudEvents extensions from a newer producer) are tolerated and dropped.
    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=255)
    time: AwareDatetime = Field(default_factory=utc_now)
    datacontenttype: Literal["application/json"] = JSON
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        return value.astimezone(dt.UTC)

    @model_validator(mode="before")
    @classmethod
    def _validate_data(cls, values: Any) -> Any:
        """Validate `data` against the registered model and store its JSON form (a typed model may be passed)."""
        if not isinstance(values, dict):
            return values
        event_type = values.get("type")
        if not isinstance(event_type, str):
            return values  # the field validation reports the missing or malformed type
        model = data_model_for(event_type)
        data = values.get("data")
        if isinstance(data, BaseModel):
            if not isinstance(data, model):
                raise ValueError(
                    f"data of {event_type!r} must be a {model.__qualname__}, not a {type(data).__qualname__}"
                )
            validated = data
        else:
            validated = model.model_validate(data if data is not None else {})
        return {**values, "data": validated.model_dump(mode="json")}

    def typed_data(self) -> BaseModel:
        """`data` as an instance of the model registered for this event's type."""
        return data_model_for(self.type).model_validate(self.data)

    def to_json_bytes(self) -> bytes:
        """The structured-mode JSON body (UTF-8); absent optional attributes are omitted, not null."""
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, raw: bytes | str) -> IntegrationEvent:
        """Parse and validate a received event. Raises `pydantic.ValidationError` (a `ValueError`)
        when the body is not a valid event, including when its type is unknown."""
        return cls.model_validate_json(raw)


__all__ = [
    "EVENT_TYPE_PATTERN",
    "IntegrationEvent",
    "RetiredEventData",
    "STRUCTURED_CONTENT_TYPE",
    "UnknownEventType",
    "data_model_for",
    "event_source",
    "register_event",
    "registered_event_types",
    "retire_event",
    "topic_for",
    "utc_now",
]

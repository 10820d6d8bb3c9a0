"""The platform's events as an AsyncAPI 3.0 document, generated from the registered event models.

    uv run python -m minsheng.messaging.asyncapi > docs/asyncapi.yaml

One channel per campaign topic (`minsheng.<campaign>.events`); one message per event type, whose
payload is the CloudEvents 1.0 structured-mode envelope with `type` fixed to the event type and `data`
the pydantic model's JSON schema (its definitions hoisted into `components/schemas`).  Each campaign
service *sends* on its own channel; the gateway *receives* from all of them.

Only the platform's own events are documented: types whose data model is defined in a platform package
(`minsheng`, `minsheng_<campaign>`, `minsheng_gateway`).  Types registered by tests or scripts are left
out, so the document does not depend on what else happens to be imported, and so are retired types
(still read, no longer sent).  Every documented type must say
what its Kafka partition key is (`PARTITION_KEYS`): a new event type fails here until it does.

The output is deterministic (messages and schemas sorted by name, channels in the plan's campaign order)
so the committed `docs/asyncapi.yaml` can be compared with a freshly generated one.
"""

from __future__ import annotations

import copy
import inspect
import re
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import yaml
from pydantic import BaseModel

import minsheng.reporting.events as reporting_events  # registers the platform's event types
import minsheng.supervision_events as supervision_events  # and the gateway's (督办单, decision 0022)
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging.events import (
    STRUCTURED_CONTENT_TYPE,
    IntegrationEvent,
    RetiredEventData,
    registered_event_types,
    topic_for,
)

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
CONTENT_TYPE = "application/cloudevents+json"
TITLE = "淄博市高品质民生平台 events"
REGENERATE_COMMAND = "uv run python -m minsheng.messaging.asyncapi > docs/asyncapi.yaml"
SCHEMA_REF = "#/components/schemas/{model}"

SERVERS = {
    "production": {
        "host": "kafka:9092",
        "protocol": "kafka",
        "title": "Production Kafka",
        "description": (
            "The KRaft Kafka node of docker-compose.yml (each process's `<PROCESS>_KAFKA_BOOTSTRAP_SERVERS`)."
        ),
    },
    "local": {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "title": "Local broker",
        "description": "The Kafka-protocol broker `make run` starts on this machine (`minsheng-broker`).",
    },
}

_INDICATOR_KEY = {
    "type": "string",
    "description": "The indicator code (指标编号): every event of one indicator stays in order on one partition.",
    "examples": ["T002-1", "H-EMP-1"],
}
_TASK_KEY = {
    "type": "string",
    "pattern": "^task-[1-9][0-9]*$",
    "description": (
        "`task-<n>`, the task number: the status reports and state changes of one task stay in order on one partition."
    ),
    "examples": ["task-1"],
}
_CAMPAIGN_KEY = {
    "type": "string",
    "enum": list(CAMPAIGN_CODES),
    "description": "The campaign code: the campaign-wide events of one campaign stay in order on one partition.",
    "examples": ["education"],
}

_RULE_KEY = {
    "type": "string",
    "pattern": "^rule-[1-9][0-9]*$",
    "description": "`rule-<id>`, the validation rule: its failures and resolutions stay in order on one partition.",
    "examples": ["rule-1"],
}

_FOLLOW_UP_KEY = {
    "type": "string",
    "pattern": "^follow-up-[1-9][0-9]*$",
    "description": "`follow-up-<id>`, the follow-up mark (待核实): its thread stays in order on one partition.",
    "examples": ["follow-up-1"],
}

_ORDER_KEY = {
    "type": "string",
    "pattern": "^DB-[0-9]{4}-[0-9]{4,}$",
    "description": "The 督办单's number: every step of one order stays in order on one partition.",
    "examples": ["DB-2026-0007"],
}

# event type -> (Kafka record key, what the CloudEvents `subject` holds)
PARTITION_KEYS: dict[str, tuple[dict[str, Any], str]] = {
    **{
        event_type: (_INDICATOR_KEY, "the indicator code")
        for event_type in reporting_events.REPORT_EVENT_TYPES.values()
    },
    reporting_events.REPORT_SNAPSHOT: (_INDICATOR_KEY, "the indicator code"),
    reporting_events.TASK_STATUS_REPORTED: (_TASK_KEY, "`task-<n>`"),
    reporting_events.TASK_STATE_CHANGED: (_TASK_KEY, "`task-<n>`"),
    reporting_events.CATALOG_PUBLISHED: (_CAMPAIGN_KEY, "the campaign code"),
    reporting_events.PERIOD_LOCKED: (_CAMPAIGN_KEY, "the period, e.g. `2022-06`"),
    reporting_events.PERIOD_UNLOCKED: (_CAMPAIGN_KEY, "the period, e.g. `2022-06`"),
    **{event_type: (_RULE_KEY, "`rule-<id>`") for event_type in reporting_events.QUALITY_EVENT_TYPES},
    **{event_type: (_FOLLOW_UP_KEY, "`follow-up-<id>`") for event_type in reporting_events.FOLLOW_UP_EVENT_TYPES},
    **{event_type: (_ORDER_KEY, "the order's number") for event_type in supervision_events.SUPERVISION_EVENT_TYPES},
}

_PLATFORM_PACKAGE = re.compile(r"^minsheng(_[a-z]+)?$")
# A docstring that starts by naming its types: "minsheng.period.locked.v1 / minsheng.period.unlocked.v1: …"
_TYPE_PREFIX = re.compile(r"^\s*minsheng\.[\w.{},]+(\s*/\s*minsheng\.[\w.{},]+)*\s*:?\s*")


def platform_event_types() -> dict[str, type[BaseModel]]:
    """The registered event types whose data model belongs to a platform package, sorted by type;
    not the retired ones, which are no longer sent (`retire_event`)."""
    registry = registered_event_types()
    return {
        t: registry[t]
        for t in sorted(registry)
        if _PLATFORM_PACKAGE.match(registry[t].__module__.split(".")[0]) and registry[t] is not RetiredEventData
    }


def _words(event_type: str) -> str:
    """`minsheng.task_status.reported.v1` -> `task status reported`."""
    return " ".join(event_type.split(".")[1:-1]).replace("_", " ")


def _docstring(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")


def _summary(event_type: str, model: type[BaseModel]) -> str:
    """The first paragraph of the model's docstring, without the list of types it may start with."""
    first_paragraph = " ".join(_docstring(model).split("\n\n")[0].split())
    text = _TYPE_PREFIX.sub("", first_paragraph, count=1)
    return f"{_words(event_type).capitalize()}: {text}" if text else _words(event_type).capitalize() + "."


def _hoist(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """Put the model's JSON schema and its definitions into `schemas`; return a reference to it."""
    schema = model.model_json_schema(ref_template=SCHEMA_REF)
    definitions = schema.pop("$defs", {})
    for name, definition in {**definitions, model.__name__: schema}.items():
        known = schemas.get(name)
        if known is not None and known != definition:
            raise ValueError(
                f"two different schemas are both named {name!r} (one from {model.__qualname__}); "
                "rename one of the models"
            )
        schemas[name] = definition
    return {"$ref": SCHEMA_REF.format(model=model.__name__)}


def _envelope(event_type: str, data_ref: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvents envelope as a producer writes it, with `type` fixed and `data` the model's schema."""
    schema = IntegrationEvent.model_json_schema(mode="serialization")
    properties = copy.deepcopy(schema["properties"])
    properties["type"] = {
        "type": "string",
        "const": event_type,
        "title": "Type",
        "description": "The CloudEvents type: which schema `data` follows.",
    }
    properties["source"]["description"] = "The producing process, `/minsheng/<campaign>` (`/minsheng/gateway`)."
    properties["source"]["examples"] = ["/minsheng/education"]
    properties["subject"]["description"] = "What the event is about (see the message description)."
    properties["time"]["description"] = "When the event was created, RFC 3339 in UTC."
    properties["data"] = data_ref
    # Absent optional attributes are omitted on the wire (`to_json_bytes` excludes None); the rest are always sent.
    required = [
        name
        for name, field in IntegrationEvent.model_fields.items()
        if name in properties and not (field.default is None and not field.is_required())
    ]
    return {
        "type": "object",
        "title": f"{event_type} (CloudEvents 1.0, structured mode)",
        "description": schema.get("description", ""),
        "properties": properties,
        "required": required,
    }


def _message(event_type: str, model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    try:
        key, subject = PARTITION_KEYS[event_type]
    except KeyError:
        raise ValueError(
            f"event type {event_type!r} has no partition key: describe it in minsheng.messaging.asyncapi.PARTITION_KEYS"
        ) from None
    key_text = key["description"][0].lower() + key["description"][1:]
    facts = f"`data` is a `{model.__name__}`. CloudEvents `subject`: {subject}. Kafka key: {key_text}"
    description = "\n\n".join(part for part in (_docstring(model), facts) if part)
    return {
        "name": event_type,
        "title": _words(event_type).capitalize(),
        "summary": _summary(event_type, model),
        "description": description,
        "contentType": CONTENT_TYPE,
        "tags": [{"name": event_type.split(".")[1]}],
        "headers": {
            "type": "object",
            "properties": {"content-type": {"type": "string", "const": STRUCTURED_CONTENT_TYPE}},
            "required": ["content-type"],
        },
        "payload": _envelope(event_type, _hoist(model, schemas)),
        "bindings": {"kafka": {"key": copy.deepcopy(key), "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _version() -> str:
    try:
        return metadata.version("minsheng")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0.0.0"


def build_asyncapi(event_types: Mapping[str, type[BaseModel]] | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `event_types` (default: the platform's registered events)."""
    types = dict(sorted((event_types if event_types is not None else platform_event_types()).items()))
    schemas: dict[str, Any] = {}
    messages = {event_type: _message(event_type, model, schemas) for event_type, model in types.items()}

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    # The campaign services' events go to their campaign's topic; the gateway's 督办单 events to a topic of their own.
    gateway_types = [t for t in messages if t in supervision_events.SUPERVISION_EVENT_TYPES]
    campaign_types = [t for t in messages if t not in gateway_types]
    for campaign in CAMPAIGN_CODES:
        channels[campaign] = {
            "address": topic_for(campaign),
            "title": f"{campaign} events",
            "description": f"Every integration event of the {campaign} campaign service, one topic per campaign.",
            "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in campaign_types},
        }
        channel_messages = [{"$ref": f"#/channels/{campaign}/messages/{t}"} for t in campaign_types]
        service = campaign.capitalize()
        operations[f"send{service}Events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{campaign}"},
            "title": f"The {campaign} service publishes its events",
            "description": (
                "Written to the service's outbox in the same transaction as the change; the relay "
                "publishes them with their partition key, one record per key at a time, so the "
                "events of one key are never reordered. Delivery is at least once."
            ),
            "messages": channel_messages,
        }
        operations[f"receive{service}Events"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{campaign}"},
            "title": f"The gateway consumes the {campaign} events",
            "description": (
                "The gateway folds the events into its city-wide and per-district views; its consumer "
                "is idempotent (each event id is applied once) and refuses unknown types."
            ),
            "messages": copy.deepcopy(channel_messages),
        }
    if gateway_types:
        _supervision_channel(channels, operations, gateway_types)

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": _version(),
            "description": (
                "Integration events between the processes of the 淄博市高品质民生三年行动 platform.\n\n"
                "Each event is a CloudEvents 1.0 event in structured JSON mode; its `data` follows the schema "
                "of its versioned `type` (an incompatible change is a new type, `…v2`). Topic: one per "
                "campaign, `minsheng.<campaign>.events`. Key: the indicator code for report and indicator "
                "events, `task-<n>` for task status and state, the campaign code for catalog and period events.\n\n"
                f"Generated from the registered event models: `{REGENERATE_COMMAND}`."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": copy.deepcopy(SERVERS),
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": dict(sorted(schemas.items())),
        },
    }


def _supervision_channel(channels: dict[str, Any], operations: dict[str, Any], types: list[str]) -> None:
    channels["supervision"] = {
        "address": supervision_events.SUPERVISION_TOPIC,
        "title": "supervision events",
        "description": (
            "Every step of a 督办单 (supervision order): opened, acknowledged, in progress, answered, closed or "
            "returned. "
            "The gateway owns the orders (decision 0022); its own consumer does not read this topic."
        ),
        "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in types},
    }
    channel_messages = [{"$ref": f"#/channels/supervision/messages/{t}"} for t in types]
    operations["sendSupervisionEvents"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/supervision"},
        "title": "The gateway publishes the steps of 督办单",
        "description": (
            "Written to the gateway's outbox in the same transaction as the step; its relay publishes them keyed by "
            "the order's number. Delivery is at least once."
        ),
        "messages": channel_messages,
    }
    operations["receiveSupervisionEvents"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/supervision"},
        "title": "The notifier consumes the steps of 督办单",
        "description": (
            "The notifier tells the responsible units of a new or returned order and escalates one left "
            "unacknowledged or unfinished after its deadline; its consumer is idempotent."
        ),
        "messages": copy.deepcopy(channel_messages),
    }


class _Dumper(yaml.SafeDumper):
    """Never writes anchors and aliases (`&id001`): every part of the document reads on its own."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def asyncapi_yaml(document: Mapping[str, Any] | None = None) -> str:
    """The document as YAML (Chinese kept readable, keys in the document's order)."""
    return yaml.dump(
        dict(document if document is not None else build_asyncapi()),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=120,
    )


if __name__ == "__main__":
    sys.stdout.buffer.write(asyncapi_yaml().encode("utf-8"))

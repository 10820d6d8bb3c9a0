"""The AsyncAPI 3.0 document of the platform's events: generated from the registered models, committed as
docs/asyncapi.yaml, and served by the gateway.  A sample event of every type validates against its message."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import types
import typing
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import AwareDatetime, BaseModel

import minsheng.reporting.events as reporting_events
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.messaging import IntegrationEvent, event_source, register_event, registered_event_types, topic_for
from minsheng.messaging.asyncapi import REGENERATE_COMMAND, asyncapi_yaml, build_asyncapi, platform_event_types
from minsheng.supervision_events import SUPERVISION_EVENT_TYPES, SUPERVISION_TOPIC
from minsheng_gateway.asyncapi_router import router as asyncapi_router
from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "asyncapi.yaml"


class NotAPlatformEvent(BaseModel):
    """Registered by this test module: must not leak into the platform's document."""

    anything: str


TEST_EVENT_TYPE = "minsheng.test.asyncapi.not_documented.v1"
register_event(TEST_EVENT_TYPE, NotAPlatformEvent)

# Every type the reporting module defines: the document must hold all of them.
PLATFORM_TYPES = {
    *reporting_events.REPORT_EVENT_TYPES.values(),
    reporting_events.TASK_STATUS_REPORTED,
    reporting_events.CATALOG_PUBLISHED,
    reporting_events.PERIOD_LOCKED,
    reporting_events.PERIOD_UNLOCKED,
    reporting_events.REPORT_SNAPSHOT,
    *SUPERVISION_EVENT_TYPES,
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_asyncapi()


# ---- JSON pointers and references ---------------------------------------------------------------------


def resolve(root: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are expected, got {ref!r}"
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in all_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in all_refs(value)]
    return []


def inline(schema: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """The schema with every reference replaced by its target and the definitions dropped."""
    assert depth < 50, "recursive schema"
    if isinstance(schema, dict):
        if "$ref" in schema:
            assert set(schema) == {"$ref"}, f"a $ref with siblings: {schema}"
            return inline(resolve(root, schema["$ref"]), root, depth + 1)
        return {key: inline(value, root, depth + 1) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [inline(value, root, depth + 1) for value in schema]
    return schema


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two parsed documents differ, as paths (for a readable failure)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            found
            for key in sorted(set(left) | set(right), key=str)
            for found in (
                differences(left[key], right[key], f"{path}/{key}")
                if key in left and key in right
                else [f"{path}/{key} ({'only committed' if key in left else 'only generated'})"]
            )
        ]
    return [] if left == right else [path or "/"]


# ---- a minimal JSON-schema check (jsonschema is not a dependency) ----------------------------------------

ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}
JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _valid_format(value: str, name: str) -> bool:
    try:
        if name == "date-time":
            return bool(RFC3339.match(value)) and dt.datetime.fromisoformat(value.replace("z", "Z")) is not None
        if name == "date":
            return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and dt.date.fromisoformat(value) is not None
    except ValueError:
        return False
    raise AssertionError(f"the test's validator does not know the format {name!r}")


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """The ways `instance` breaks `schema` (empty when valid).  Knows the keywords pydantic and the
    AsyncAPI document use, and refuses any other validation keyword rather than ignore it."""
    keywords = {
        "$ref",
        "type",
        "const",
        "enum",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "allOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
    }
    unknown = set(schema) - keywords - ANNOTATIONS
    assert not unknown, f"the test's validator does not know {sorted(unknown)} (at {path})"
    errors: list[str] = []
    if "$ref" in schema:
        errors += validate(instance, resolve(root, schema["$ref"]), root, path)
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(JSON_TYPES[name](instance) for name in allowed):
            return errors + [f"{path}: {instance!r} is not of type {allowed}"]
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{path}: {instance!r} is not {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} is not one of {schema['enum']}")
    for sub in schema.get("allOf", []):
        errors += validate(instance, sub, root, path)
    if "anyOf" in schema and all(validate(instance, sub, root, path) for sub in schema["anyOf"]):
        errors.append(f"{path}: {instance!r} matches none of anyOf")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0) or len(instance) > schema.get("maxLength", len(instance)):
            errors.append(f"{path}: length {len(instance)} outside the allowed range")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{path}: {instance!r} does not match {schema['pattern']!r}")
        if "format" in schema and not _valid_format(instance, schema["format"]):
            errors.append(f"{path}: {instance!r} is not a {schema['format']}")
    if JSON_TYPES["number"](instance):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{path}: {instance} < {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{path}: {instance} > {schema['maximum']}")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        errors += [f"{path}: missing {name!r}" for name in schema.get("required", []) if name not in instance]
        for name, value in instance.items():
            if name in properties:
                errors += validate(value, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {name!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(value, schema["additionalProperties"], root, f"{path}.{name}")
    if isinstance(instance, list) and "items" in schema:
        for index, value in enumerate(instance):
            errors += validate(value, schema["items"], root, f"{path}[{index}]")
    return errors


# ---- sample data: a valid instance of any event data model ---------------------------------------------

SAMPLE_TIME = dt.datetime(2023, 6, 30, 8, 0, tzinfo=dt.UTC)
SCALARS = {
    str: "T002-1",
    int: 1,
    float: 2.5,
    bool: True,
    dt.datetime: SAMPLE_TIME,
    AwareDatetime: SAMPLE_TIME,
    dt.date: SAMPLE_TIME.date(),
}


def sample_value(annotation: Any, full: bool) -> Any:
    """A value for a field: the least that is valid, or (`full`) something in every optional place."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        return sample_value(present[0], full) if full or len(present) == len(args) else None
    if origin is typing.Literal:
        return args[0]
    if origin is list or annotation is list:
        return [sample_value(args[0], full)] if full and args else []
    if origin is dict or annotation is dict:
        return {"code": "education"} if full else {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample_data(annotation, full)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    if annotation in SCALARS:
        return SCALARS[annotation]
    raise TypeError(f"teach sample_value() to make a {annotation!r}")


def sample_data(model: type[BaseModel], full: bool = False) -> BaseModel:
    values = {
        name: sample_value(field.annotation, full)
        for name, field in model.model_fields.items()
        if full or field.is_required()
    }
    return model.model_validate(values)


def sample_event(event_type: str, full: bool = False) -> dict[str, Any]:
    model = registered_event_types()[event_type]
    event = IntegrationEvent(
        source=event_source("education"), type=event_type, subject="T002-1", data=sample_data(model, full)
    )
    return json.loads(event.to_json_bytes())


# ---- the committed document ---------------------------------------------------------------------------


def test_the_committed_document_is_the_generated_one(document):
    hint = f"regenerate it (in {ROOT}): {REGENERATE_COMMAND}"
    assert COMMITTED.is_file(), f"docs/asyncapi.yaml is missing: {hint}"
    committed = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    if committed != document:
        changed = differences(committed, document)
        pytest.fail(f"docs/asyncapi.yaml is out of date ({len(changed)} differences, e.g. {changed[:5]}): {hint}")


def test_the_document_is_deterministic_and_the_yaml_round_trips(document):
    assert build_asyncapi() == document
    assert asyncapi_yaml() == asyncapi_yaml(document)
    assert yaml.safe_load(asyncapi_yaml(document)) == document
    assert "&id" not in asyncapi_yaml(document), "no YAML anchors: every part reads on its own"
    assert document["asyncapi"] == "3.0.0"
    assert document["defaultContentType"] == "application/cloudevents+json"
    assert document["info"]["title"] == "淄博市高品质民生平台 events"
    assert {name: (s["host"], s["protocol"]) for name, s in document["servers"].items()} == {
        "production": ("kafka:9092", "kafka"),
        "local": ("127.0.0.1:9092", "kafka"),
    }


def test_every_reference_resolves(document):
    refs = all_refs(document)
    assert refs
    for ref in refs:
        resolve(document, ref)  # raises KeyError when dangling


# ---- messages and schemas ------------------------------------------------------------------------------


def test_every_platform_event_type_is_a_message_and_test_types_are_not(document):
    messages = document["components"]["messages"]
    assert PLATFORM_TYPES <= set(platform_event_types())
    assert set(messages) == set(platform_event_types())
    assert TEST_EVENT_TYPE in registered_event_types() and TEST_EVENT_TYPE not in messages
    assert "NotAPlatformEvent" not in document["components"]["schemas"]
    assert list(messages) == sorted(messages)
    assert list(document["components"]["schemas"]) == sorted(document["components"]["schemas"])


@pytest.mark.parametrize("event_type", sorted(PLATFORM_TYPES))
def test_each_message_is_the_cloudevents_envelope_around_the_models_schema(document, event_type):
    model = registered_event_types()[event_type]
    message = document["components"]["messages"][event_type]
    assert message["name"] == event_type
    assert message["title"] and message["summary"] and model.__name__ in message["description"]
    payload = message["payload"]
    assert payload["properties"]["type"]["const"] == event_type
    assert {"specversion", "id", "source", "type", "time", "datacontenttype", "data"} <= set(payload["required"])
    assert "subject" not in payload["required"]  # omitted when absent
    # `data` is the model's own schema, its definitions hoisted into components/schemas
    assert payload["properties"]["data"] == {"$ref": f"#/components/schemas/{model.__name__}"}
    model_schema = model.model_json_schema()
    assert inline(payload["properties"]["data"], document) == inline(model_schema, model_schema)
    for name in model_schema.get("$defs", {}):
        assert name in document["components"]["schemas"]
    # the Kafka record: structured-mode content type header, and the partition key described
    assert message["headers"]["properties"]["content-type"]["const"].startswith("application/cloudevents+json")
    key = message["bindings"]["kafka"]["key"]
    assert key["type"] == "string" and key["description"]


KEY_EXAMPLES = {
    "minsheng.report.submitted.v1": "T002-1",
    "minsheng.report.revised.v1": "T002-1",
    "minsheng.report.approved.v1": "H-EMP-1",
    "minsheng.report.returned.v1": "T002-1",
    "minsheng.report.snapshot.v1": "T002-1",
    "minsheng.task_status.reported.v1": "task-12",
    "minsheng.catalog.published.v1": "education",
    "minsheng.period.locked.v1": "livability",
    "minsheng.period.unlocked.v1": "health",
    **dict.fromkeys(SUPERVISION_EVENT_TYPES, "DB-2026-0007"),
}


def test_the_partition_key_of_each_message_is_described(document):
    assert set(KEY_EXAMPLES) == PLATFORM_TYPES
    messages = document["components"]["messages"]
    for event_type, key in KEY_EXAMPLES.items():
        schema = messages[event_type]["bindings"]["kafka"]["key"]
        assert validate(key, schema, document) == [], event_type
    task_key = messages["minsheng.task_status.reported.v1"]["bindings"]["kafka"]["key"]
    assert validate("T002-1", task_key, document)
    campaign_key = messages["minsheng.catalog.published.v1"]["bindings"]["kafka"]["key"]
    assert validate("T002-1", campaign_key, document)
    assert "indicator" in messages["minsheng.report.approved.v1"]["bindings"]["kafka"]["key"]["description"]


@pytest.mark.parametrize("full", [False, True], ids=["minimal", "full"])
@pytest.mark.parametrize("event_type", sorted(PLATFORM_TYPES))
def test_a_sample_event_of_each_type_validates_against_its_message(document, event_type, full):
    body = sample_event(event_type, full)
    payload = document["components"]["messages"][event_type]["payload"]
    assert validate(body, payload, document) == []
    # and the check is not a rubber stamp
    other_type = next(t for t in sorted(PLATFORM_TYPES) if t != event_type)
    assert validate({**body, "type": other_type}, payload, document)
    assert validate({**body, "data": {**body["data"], "unexpected": 1}}, payload, document)
    required = next(iter(registered_event_types()[event_type].model_json_schema()["required"]))
    assert validate({**body, "data": {k: v for k, v in body["data"].items() if k != required}}, payload, document)
    assert validate({k: v for k, v in body.items() if k != "time"}, payload, document)
    assert validate({**body, "time": "2023-06-30 08:00"}, payload, document)


def test_the_validator_follows_nested_references(document):
    body = sample_event(reporting_events.REPORT_SNAPSHOT, full=True)
    payload = document["components"]["messages"][reporting_events.REPORT_SNAPSHOT]["payload"]
    assert validate(body, payload, document) == []
    body["data"]["reports"][0]["revision"] = "two"
    assert validate(body, payload, document) == ["$.data.reports[0].revision: 'two' is not of type ['integer']"]


# ---- channels and operations ---------------------------------------------------------------------------


def campaign_messages(document) -> set[str]:
    return set(document["components"]["messages"]) - set(SUPERVISION_EVENT_TYPES)


def test_every_campaign_topic_is_a_channel_carrying_every_campaign_message(document):
    channels = document["channels"]
    addresses = {channel["address"] for channel in channels.values()}
    assert addresses == {topic_for(c) for c in CAMPAIGN_CODES} | {SUPERVISION_TOPIC}
    for campaign in CAMPAIGN_CODES:
        assert channels[campaign]["address"] == topic_for(campaign)
        assert set(channels[campaign]["messages"]) == campaign_messages(document)


def test_the_supervision_topic_carries_the_six_steps_of_an_order(document):
    """督办单 (decision 0022): the gateway sends them on a topic of their own, the notifier receives them."""
    channel = document["channels"]["supervision"]
    assert channel["address"] == SUPERVISION_TOPIC
    assert set(channel["messages"]) == set(SUPERVISION_EVENT_TYPES)
    assert not campaign_messages(document) & set(SUPERVISION_EVENT_TYPES)
    key = document["components"]["messages"][SUPERVISION_EVENT_TYPES[0]]["bindings"]["kafka"]["key"]
    assert re.match(key["pattern"], "DB-2026-0007")


def test_each_service_sends_on_its_channel_and_the_gateway_receives_from_all(document):
    by_channel: dict[str, list[str]] = {}
    for operation in document["operations"].values():
        channel_ref = operation["channel"]["$ref"]
        by_channel.setdefault(channel_ref, []).append(operation["action"])
        # AsyncAPI 3: an operation's messages are the messages of its own channel
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel_ref}/messages/")
        channel = document["channels"][channel_ref.rsplit("/", 1)[1]]
        assert len(operation["messages"]) == len(channel["messages"])
    assert by_channel == {f"#/channels/{c}": ["send", "receive"] for c in (*CAMPAIGN_CODES, "supervision")}


# ---- the gateway serves it -----------------------------------------------------------------------------


def test_the_router_serves_the_document_as_json_and_yaml(document):
    app = FastAPI()
    app.include_router(asyncapi_router)
    with TestClient(app) as client:
        as_json = client.get("/asyncapi.json")
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
        assert as_json.json() == document
        as_yaml = client.get("/asyncapi.yaml")
        assert as_yaml.status_code == 200 and as_yaml.headers["content-type"].startswith("application/yaml")
        assert "淄博市高品质民生平台" in as_yaml.text  # Chinese as text, not escaped
        assert yaml.safe_load(as_yaml.text) == document
        assert as_yaml.text == asyncapi_yaml(document)
        tags = {
            tag
            for path in ("/asyncapi.json", "/asyncapi.yaml")
            for tag in client.get("/openapi.json").json()["paths"][path]["get"]["tags"]
        }
        assert tags == {"事件 events"}

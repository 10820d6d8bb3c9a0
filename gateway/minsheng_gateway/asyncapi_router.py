"""The platform's event contract, served by the gateway: the AsyncAPI 3.0 document generated from the
registered event models (the same document as the committed `docs/asyncapi.yaml`)."""

from __future__ import annotations

import functools
import json

from fastapi import APIRouter
from fastapi.responses import Response

from minsheng.messaging.asyncapi import asyncapi_yaml, build_asyncapi

router = APIRouter(tags=["事件 events"])


@functools.cache
def _rendered() -> tuple[bytes, bytes]:
    """The document as JSON and as YAML, built once: the registered models do not change while running."""
    document = build_asyncapi()
    return (json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"), asyncapi_yaml(document).encode("utf-8"))


@router.get(
    "/asyncapi.json",
    summary="平台事件契约（AsyncAPI 3.0，JSON）",
    response_class=Response,
    response_description="AsyncAPI 3.0 document",
    responses={200: {"content": {"application/json": {}}}},
)
def asyncapi_json() -> Response:
    return Response(_rendered()[0], media_type="application/json")


@router.get(
    "/asyncapi.yaml",
    summary="平台事件契约（AsyncAPI 3.0，YAML）",
    response_class=Response,
    response_description="AsyncAPI 3.0 document",
    responses={200: {"content": {"application/yaml": {}}}},
)
def asyncapi_yaml_document() -> Response:
    return Response(_rendered()[1], media_type="application/yaml; charset=utf-8")

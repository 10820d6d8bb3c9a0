"""The web app's generated API types (web/src/api/schema.ts) are those of the gateway as it is: regenerated
from the gateway's OpenAPI document with the pinned openapi-typescript, they must equal the committed file.
When this fails, run `npm run gen:api` in web/ and commit the result."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import minsheng_gateway.main as gateway_main

WEB = Path(__file__).resolve().parents[2] / "web"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_committed_api_types_match_the_gateways_document(tmp_path):
    assert (WEB / "node_modules" / "openapi-typescript").is_dir(), "run `npm ci` in web/ first"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(gateway_main.build_app().openapi()), encoding="utf-8")
    generated = tmp_path / "schema.ts"
    subprocess.run(
        ["node", "scripts/gen-api.mjs", "--input", str(document), "--output", str(generated)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=120,
    )
    committed = (WEB / "src" / "api" / "schema.ts").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == committed, "web/src/api/schema.ts is stale: npm run gen:api"

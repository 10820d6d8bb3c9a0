"""The API documentation pages (`/docs`: Swagger UI, `/redoc`: ReDoc) served from this process's own
files, so they work on a network without internet: the assets ship in the pinned PyPI package
`fastapi-offline`, and no page loads a script, style or font from anywhere else.

The pages hold no inline script, so they work under the same Content-Security-Policy as everything
else (`minsheng.protection`): Swagger UI is started by `/docs/init.js`.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"

_SWAGGER_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title} · 接口文档</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title} · 接口文档（ReDoc）</title>
<link rel="icon" href="{assets}/favicon.png">
</head><body><redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body></html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Add `/docs`, `/redoc` and their assets to an app created with `docs_url=None, redoc_url=None`."""
    title = escape(app.title)
    openapi = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="api-docs-assets")
    # validatorUrl None: Swagger UI would otherwise send the document to validator.swagger.io.
    settings = {"url": openapi, "dom_id": "#swagger-ui", "deepLinking": True, "validatorUrl": None}
    init_script = f"window.ui = SwaggerUIBundle({json.dumps(settings)});\n"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_SWAGGER_PAGE.format(title=title, assets=ASSETS_URL))

    @app.get("/docs/init.js", include_in_schema=False)
    def swagger_ui_init() -> Response:
        return Response(init_script, media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC_PAGE.format(title=title, assets=ASSETS_URL, openapi=openapi))

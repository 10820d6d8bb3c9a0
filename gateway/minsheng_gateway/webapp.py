"""The web app (工作台, built from `web/` into `GatewaySettings.web_dist`) served at `/`, one origin with the API.

A file of the build is served as it is, or as the gzipped copy the build made beside it (`<file>.gz`) to a
browser that accepts gzip; any other GET path is the single-page app's own route and gets
`index.html`, except the gateway's own namespaces (`/api/…`, `/docs`, `/metrics`, …), whose unknown paths
stay JSON 404s. This router must be the app's last: it only sees what no other route matched.
Without a build the gateway still runs and `/` says, in Chinese, how to build the app.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException

# First path segments the web app never takes over: the API and the gateway's operational endpoints.
RESERVED_SEGMENTS = frozenset(
    {"api", "docs", "redoc", "openapi.json", "metrics", "healthz", "readyz", "asyncapi.json", "asyncapi.yaml"}
)
# Vite names the files under assets/ by their content: a changed file gets a new name.
IMMUTABLE = "public, max-age=31536000, immutable"
# index.html names the current assets, so the browser asks again each time.
REVALIDATE = "no-cache"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>民生平台 · 工作台尚未构建</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.7">
<h1>工作台网页尚未构建</h1>
<p>网关正常运行，接口位于 <a href="/docs">/docs</a>；网页需要先构建一次：</p>
<pre>make run</pre>
<p>（或在 <code>web/</code> 目录执行 <code>npm ci &amp;&amp; npm run build</code>，需要 Node.js 20.19 以上。）</p>
</body></html>
"""

router = APIRouter(include_in_schema=False)


def _not_found() -> HTTPException:
    return HTTPException(status_code=404)  # the app's handler answers {"detail": "请求的地址不存在", ...}


def _file_in(dist: Path, path: str) -> Path | None:
    """The build's file at `path`, or None; never a file outside the build."""
    if not path or path.endswith("/"):
        return None
    candidate = (dist / path).resolve()
    if not candidate.is_relative_to(dist.resolve()) or not candidate.is_file():
        return None
    return candidate


def _accepts_gzip(request: Request) -> bool:
    """Whether Accept-Encoding names gzip (or *) without refusing it (q=0)."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            refused = params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
            return not refused
    return False


@router.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
async def web_app(path: str, request: Request) -> Response:
    if request.method not in ("GET", "HEAD") or path.split("/", 1)[0] in RESERVED_SEGMENTS:
        raise _not_found()
    dist = Path(request.app.state.settings.web_dist)
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT_PAGE, status_code=404 if path else 200, headers={"Cache-Control": REVALIDATE})
    asset = _file_in(dist, path)
    if asset is not None and asset != index.resolve():
        headers = {"Cache-Control": IMMUTABLE if path.startswith("assets/") else REVALIDATE, "Vary": "Accept-Encoding"}
        packed = asset.with_name(f"{asset.name}.gz")
        if _accepts_gzip(request) and packed.is_file():
            kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
            return FileResponse(packed, media_type=kind, headers={**headers, "Content-Encoding": "gzip"})
        return FileResponse(asset, headers=headers)
    if path.startswith("assets/"):
        raise _not_found()  # a stale page asking for an old build's file: a 404, not the app's HTML
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": REVALIDATE})

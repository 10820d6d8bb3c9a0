"""(web) The web app's speed: time to first render in Chromium, and the bytes each route loads.

Targets (issue 16): the first page is usable within a second on this machine, and the initial route's
JavaScript is at most 500 KB gzipped.

Bytes per route are read from the build (`web/dist`, `make web` first) and Vite's manifest
(`web/dist/.vite/manifest.json`): a route loads the entry chunk, its view's chunk, and, for a page
inside the signed-in frame, the layout's chunk, each with the chunks it imports statically, and their
CSS.  Each file is counted once, gzipped (zlib level 6, as a web server compresses on the fly).  Routes
are the views the router imports lazily; a view is inside the frame if web/src/router/index.ts lists it
in `appRoutes`.

Time to first render: a gateway (demo accounts, the build served at `/`) and the education service on
throw-away PostgreSQL databases and a real broker, started as `make run` starts them, or, with
BENCH_WEB_URL set (`BENCH_WEB_URL=http://127.0.0.1:8000` beside `make run`), the platform running there
with all five campaigns and its demo data; Chromium
(/usr/bin/chromium, headless, 1366×768) in a fresh context each round (empty cache, no cookies).
- 登录: navigation start → the sign-in form's user-name field visible (`performance.now()` in the page
  when it first is, polled every animation frame);
- 首页 after sign-in: the click on 登录 → the first chart on the home page drawn (a canvas with a size);
- 首页 opened signed in: navigation start of a fresh load of /home → its first chart drawn;
- 首页 reopened: the same, loaded again in that context (the browser's cache and compiled code warm, as
  for someone who opens the platform every day).
Median of the rounds (9; 2 with --quick).  Nothing is asserted.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import statistics
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.infra import (
    ROOT,
    BenchResult,
    Databases,
    Outcome,
    campaign_env,
    free_port,
    gateway_env,
    print_table,
    process_env,
    start_broker,
    start_uvicorn,
    wait_ready,
)

DIST = ROOT / "web" / "dist"
MANIFEST = DIST / ".vite" / "manifest.json"
ROUTER = ROOT / "web" / "src" / "router" / "index.ts"
ENTRY = "index.html"
LAYOUT = "src/layout/AppLayout.vue"
INITIAL_ROUTE_TARGET_KB = 500
FIRST_RENDER_TARGET_MS = 1000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}

# `performance.now()` (ms since navigation start) the first animation frame the condition holds.
FIRST_FRAME = """(selector) => new Promise((resolve) => {
  const check = () => {
    const el = document.querySelector(selector)
    const box = el && el.getBoundingClientRect()
    if (box && box.width > 0 && box.height > 0) resolve(performance.now())
    else requestAnimationFrame(check)
  }
  check()
})"""
SIGN_IN_FIELD = 'input[placeholder="用户名"]'
FIRST_CHART = ".el-main canvas"


@dataclass
class RouteBytes:
    view: str
    in_frame: bool
    js: int  # gzipped bytes
    css: int
    files: int


def _gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def _closure(manifest: dict, keys: list[str]) -> set[str]:
    """The manifest entries `keys` and every chunk they import statically."""
    seen: set[str] = set()
    stack = list(keys)
    while stack:
        key = stack.pop()
        if key in seen or key not in manifest:
            continue
        seen.add(key)
        stack.extend(manifest[key].get("imports", []))
    return seen


def _frame_views() -> set[str]:
    """Views the router lists in `appRoutes` (inside the signed-in frame)."""
    text = ROUTER.read_text()
    block = text[text.index("appRoutes") :]
    block = block[: block.index("\n]")]
    return {f"src/{m}" for m in re.findall(r"import\('@/([^']+\.vue)'\)", block)}


def route_bytes() -> list[RouteBytes]:
    manifest = json.loads(MANIFEST.read_text())
    frame = _frame_views()
    views = sorted(k for k in manifest if k.startswith("src/views/") and manifest[k].get("isDynamicEntry"))
    rows = []
    for view in views:
        in_frame = view in frame
        chunks = _closure(manifest, [ENTRY, view, *([LAYOUT] if in_frame else [])])
        js = {manifest[c]["file"] for c in chunks}
        css = {f for c in chunks for f in manifest[c].get("css", [])}
        rows.append(
            RouteBytes(
                view=view.removeprefix("src/views/"),
                in_frame=in_frame,
                js=sum(_gzipped(DIST / f) for f in js),
                css=sum(_gzipped(DIST / f) for f in css),
                files=len(js) + len(css),
            )
        )
    return rows


def _start_stack(stack: contextlib.ExitStack) -> str:
    databases = Databases()
    stack.callback(databases.close)
    broker = start_broker(stack)
    edu_port, gw_port = free_port(), free_port()
    education = start_uvicorn(
        stack,
        "web-education",
        "minsheng_education.main:app",
        process_env(**campaign_env("education", databases.make("web_education"), broker, edu_port)),
        edu_port,
    )
    gateway = start_uvicorn(
        stack,
        "web-gateway",
        "minsheng_gateway.main:app",
        process_env(
            **gateway_env(databases.make("web_gateway"), broker, gw_port, {"education": education.url}),
            GATEWAY_DEMO_USERS="true",
            GATEWAY_WEB_DIST=str(DIST),
            GATEWAY_RATE_SIGN_IN_PER_MINUTE="0",
        ),
        gw_port,
    )
    wait_ready(education)
    wait_ready(gateway, path="/healthz")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the catalog and the org units synced: 首页 has something to draw
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"{gateway.url}/api/v1/city/summary", timeout=5) as answer:
                if json.loads(answer.read()).get("campaigns"):
                    break
        time.sleep(0.5)
    return gateway.url


def first_render(base_url: str, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from minsheng.auth.demo import DEMO_PASSWORD

    times: dict[str, list[float]] = {"login": [], "home_after_sign_in": [], "home_signed_in": [], "home_reopened": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(rounds):
                context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="zh-CN")
                page = context.new_page()
                page.goto("/login", wait_until="commit")
                times["login"].append(page.evaluate(FIRST_FRAME, SIGN_IN_FIELD))
                page.fill(SIGN_IN_FIELD, "demo-city-office")
                page.fill('input[placeholder="密码"]', DEMO_PASSWORD)
                clicked = page.evaluate("performance.now()")
                page.get_by_role("button", name="登 录").click()
                page.wait_for_url("**/home")
                times["home_after_sign_in"].append(page.evaluate(FIRST_FRAME, FIRST_CHART) - clicked)
                signed_in = browser.new_context(
                    base_url=base_url, viewport=VIEWPORT, locale="zh-CN", storage_state=context.storage_state()
                )
                home = signed_in.new_page()
                home.goto("/home", wait_until="commit")
                times["home_signed_in"].append(home.evaluate(FIRST_FRAME, FIRST_CHART))
                home.goto("/home", wait_until="commit")
                times["home_reopened"].append(home.evaluate(FIRST_FRAME, FIRST_CHART))
                signed_in.close()
                context.close()
        finally:
            browser.close()
    return times


def run(quick: bool = False, client: str = "raw") -> BenchResult:  # noqa: ARG001 - the bench's common signature
    result = BenchResult("web")
    if not MANIFEST.exists():
        raise RuntimeError("web/dist/.vite/manifest.json missing: run `make web` first")
    routes = route_bytes()
    print("bytes per route (gzipped; entry + view + layout for pages in the frame, with their static imports):")
    print_table(
        ["view", "in frame", "JS KB", "CSS KB", "files"],
        [[r.view, "yes" if r.in_frame else "no", f"{r.js / 1024:.1f}", f"{r.css / 1024:.1f}", r.files] for r in routes],
    )
    result.data["routes"] = [r.__dict__ for r in routes]
    login = next(r for r in routes if r.view == "login/LoginView.vue")
    result.outcomes.append(
        Outcome(
            "web",
            f"initial route (登录) JS {login.js / 1024:.1f} KB gzipped",
            f"≤ {INITIAL_ROUTE_TARGET_KB} KB",
            login.js <= INITIAL_ROUTE_TARGET_KB * 1024,
        )
    )
    if (home := next((r for r in routes if r.view == "home/HomeView.vue"), None)) is not None:
        result.outcomes.append(
            Outcome(
                "web",
                f"首页 (the first page after sign-in) JS {home.js / 1024:.1f} KB gzipped",
                f"≤ {INITIAL_ROUTE_TARGET_KB} KB",
                home.js <= INITIAL_ROUTE_TARGET_KB * 1024,
            )
        )

    rounds = 2 if quick else 9
    with contextlib.ExitStack() as stack:
        base_url = os.environ.get("BENCH_WEB_URL") or _start_stack(stack)
        print(f"platform measured: {base_url}" + (" (BENCH_WEB_URL)" if "BENCH_WEB_URL" in os.environ else ""))
        times = first_render(base_url, rounds)
    result.data["first_render_ms"] = times
    print(f"time to first render in Chromium, ms (median of {rounds} rounds, each a fresh context):")
    labels = {
        "login": "登录: navigation → sign-in form visible",
        "home_after_sign_in": "首页: click 登录 → first chart drawn",
        "home_signed_in": "首页 opened signed in: navigation → first chart drawn",
        "home_reopened": "首页 reopened (browser cache warm): navigation → first chart drawn",
    }
    print_table(
        ["what", "median", "rounds"],
        [[labels[k], f"{statistics.median(v):.0f}", " / ".join(f"{x:.0f}" for x in v)] for k, v in times.items()],
    )
    for key, values in times.items():
        median = statistics.median(values)
        result.outcomes.append(
            Outcome("web", f"{labels[key]} {median:.0f} ms", f"≤ {FIRST_RENDER_TARGET_MS} ms", median <= 1000)
        )
    return result


__all__ = ["route_bytes", "run"]

"""The API docs render in Chromium with every request to another host cut off, as on a government
network without internet; and the web app runs under the Content-Security-Policy without a violation."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.support.browser import sign_in
from tests.support.web_stack import screenshot


def _offline(context, stack) -> list[str]:
    """Aborts every request that leaves the gateway's host; returns the list of those attempted."""
    home = urlsplit(stack.url).netloc
    left: list[str] = []

    def route(r) -> None:  # noqa: ANN001 - a Playwright Route
        if urlsplit(r.request.url).netloc in (home, ""):
            r.continue_()
        else:
            left.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return left


def test_swagger_ui_and_redoc_render_with_the_network_cut_off(new_context, stack):
    context = new_context()
    left = _offline(context, stack)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 10
    assert "网关" in page.locator(".info .title").inner_text()
    screenshot(page, "api-docs")
    page.goto("/redoc")
    page.wait_for_selector("[role=menuitem], .menu-content", timeout=30_000)
    assert left == []
    # ReDoc's footer links its maker's logo from their site: the policy stops it before it leaves, and
    # that is all it stops (no script or style of the pages is refused).
    refused = [e for e in errors if "Content Security Policy" in e]
    assert all("img-src" in e and "cdn.redoc.ly" in e for e in refused), refused


def test_the_web_app_signs_in_under_the_csp_without_a_violation(new_context, stack):
    context = new_context()
    left = _offline(context, stack)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    sign_in(page, "demo-city-office")
    page.wait_for_url("**/home")
    page.wait_for_load_state("networkidle")
    assert violations == [] and left == []

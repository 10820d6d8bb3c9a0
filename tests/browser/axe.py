"""axe-core in the page (the web app's pinned devDependency, web/node_modules/axe-core): the WCAG 2.0 A and
AA rules that GB/T 37668-2019 asks of a government web app. A page passes with no serious or critical finding."""

from __future__ import annotations

from collections import Counter

from playwright.sync_api import Page

from tests.support.processes import ROOT

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa"]
BLOCKING = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict]:
    """axe's violations on the page as it is shown now (each with its rule id, impact and nodes)."""
    assert AXE.is_file(), f"{AXE} is missing: install the web app's dev dependencies (`cd web && npm ci`)"
    page.wait_for_load_state("networkidle")
    # A tag or a dialog fading in would be judged at part opacity: wait until no finite animation is running.
    page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect?.getComputedTiming().endTime === Infinity)"
    )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the app's CSP (script-src 'self') refuses an inline <script>.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))",
        TAGS,
    )


def impact_counts(violations: list[dict]) -> Counter:
    """Failing elements by impact (as axe reports them: one rule may fail on many elements)."""
    counts: Counter = Counter()
    for violation in violations:
        counts[violation["impact"]] += len(violation["nodes"])
    return counts


def assert_accessible(page: Page, name: str) -> None:
    """No serious or critical axe finding on the page; the failure lists each rule and its elements."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    if blocking:
        lines = [f"{name}: {sum(len(v['nodes']) for v in blocking)} elements fail serious/critical WCAG rules"]
        for violation in blocking:
            lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
            for node in violation["nodes"][:15]:
                lines.append(f"    {node['target']}  {node['summary'].splitlines()[-1].strip()}")
            if len(violation["nodes"]) > 15:
                lines.append(f"    … and {len(violation['nodes']) - 15} more")
        raise AssertionError("\n".join(lines))

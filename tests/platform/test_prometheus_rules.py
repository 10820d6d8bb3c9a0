"""The alert rules as code (deploy/prometheus/alerts.yml): valid, unit-tested with `promtool test rules`
(deploy/prometheus/tests/), loaded by prometheus.yml and docker-compose, each alert explained in English
and Chinese with a runbook section in docs/operations.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package `prometheus`; .ci/run installs it)"
)


def _alerts() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@needs_promtool
def test_rules_are_valid():
    result = _promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
@pytest.mark.parametrize("tests", sorted((PROMETHEUS / "tests").glob("*.yml")), ids=lambda p: p.name)
def test_rules_pass_their_unit_tests(tests: Path):
    result = _promtool("test", "rules", str(tests))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_prometheus_config_loads_the_rules():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    assert "alerts.yml" in config["rule_files"]
    result = _promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_mounts_the_rules_beside_the_config():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_is_explained_in_two_languages_with_a_runbook():
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {_slug(line.lstrip("#")) for line in operations.splitlines() if line.startswith("#")}
    alerts = _alerts()
    assert {a["alert"] for a in alerts} >= {
        "MinshengProcessDown",
        "MinshengNotReady",
        "MinshengHighErrorRate",
        "MinshengOutboxAgeGrowing",
        "MinshengConsumerLagGrowing",
        "MinshengPoisonEvents",
        "MinshengFreshnessBudgetBurnFast",
        "MinshengFreshnessBudgetBurnSlow",
        "MinshengGroupCommitRefusals",
        "MinshengDatabaseDiskFull",
    }
    for alert in alerts:
        annotations = alert["annotations"]
        assert annotations["summary"].isascii(), alert["alert"]
        assert re.search(r"[\u4e00-\u9fff]", annotations["summary_zh"]), alert["alert"]
        assert alert["labels"]["severity"] in ("page", "ticket"), alert["alert"]
        document, _, anchor = annotations["runbook"].partition("#")
        assert document == "docs/operations.md" and anchor in anchors, f"{alert['alert']}: no section #{anchor}"


@needs_promtool
def test_every_alert_is_unit_tested():
    tested = set()
    for path in (PROMETHEUS / "tests").glob("*.yml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            tested |= {t["alertname"] for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    assert {a["alert"] for a in _alerts()} <= tested

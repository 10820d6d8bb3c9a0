"""Grafana dashboards as code (deploy/grafana): provisioned on the Prometheus data source, and every panel's
query asks for metrics the platform really exposes. A real Prometheus (Debian's `prometheus`, with the
alert and recording rules) scrapes a running gateway and education service under a little load; each
panel's query must return data from it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from minsheng.auth.demo import DEMO_PASSWORD
from tests.conftest import free_port
from tests.support import evidence_files as files
from tests.support.metrics_stack import MetricsStack, running_stack, scrape
from tests.support.objectstore import bucket_name
from tests.support.processes import die_with_parent, wait_until

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS = shutil.which("prometheus")
# What a panel's variables stand for in the test: a rate window of several 1 s scrapes, and one campaign.
VARIABLES = {"$__rate_interval": "20s", "$campaign": "education"}
# Series Prometheus makes itself for every target.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring"}


def panels() -> Iterator[tuple[str, dict]]:
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            yield f"{dashboard['uid']}: {panel['title']}", panel


def queries() -> list[tuple[str, str]]:
    """(where, PromQL with the dashboard variables filled in) of every panel target."""
    found = []
    for where, panel in panels():
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"{where}: unknown variable in {target['expr']}"
            found.append((f"{where} [{target['refId']}]", expr))
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: every identifier that is not a function, keyword,
    label (inside matchers or grouping clauses) or duration."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if not rest.startswith("(") and match.group().lower() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def test_dashboards_are_provisioned_on_the_prometheus_data_source():
    assert {p.stem for p in DASHBOARDS} == {
        "minsheng-overview",
        "minsheng-campaign",
        "minsheng-events",
        "minsheng-database",
    }
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (datasource,) = datasources["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "minsheng.yml").read_text())["providers"][0]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]["grafana"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in compose["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in compose["volumes"]
    for where, panel in panels():
        assert panel["datasource"]["uid"] == datasource["uid"], where
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), where
        assert re.search(r"[\u4e00-\u9fff]", panel["title"]), f"{where}: a Chinese title"
    for path in DASHBOARDS:
        ids = [panel["id"] for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]]
        assert len(ids) == len(set(ids)), path.name


def test_the_name_parser_reads_promql():
    assert metric_names(
        'histogram_quantile(0.99, sum by (process, le) (rate(minsheng_http_requests_bucket{a="b"}[5m])))'
    ) == {"minsheng_http_requests_bucket"}
    assert metric_names("time() - max(last_ts) and on() (sum(lag) > 0) / 0.01") == {"last_ts", "lag"}
    assert metric_names("minsheng:ratio:rate1h / 0.01") == {"minsheng:ratio:rate1h"}


# ---- against a running platform ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded_stack(admin_engine, module_broker, object_store, tmp_path_factory) -> Iterator[MetricsStack]:
    """The gateway and the education service after a little work: sign-ins (one failed), reports, a review, 佐证材料
    uploaded (one refused) and, never saved with a report, cleaned up (after seconds here, not hours)."""
    evidence = {
        "object_store_url": object_store.endpoint,
        "object_store_access_key": object_store.credentials.access_key,
        "object_store_secret_key": object_store.credentials.secret_key,
        "evidence_bucket": bucket_name("grafana"),
        "evidence_pending_hours": "0.0005",
        "evidence_sweep_seconds": "1",
    }
    with running_stack(admin_engine, module_broker, tmp_path_factory.mktemp("grafana-stack"), evidence) as stack:
        api = f"{stack.gateway.url}/api/v1"
        httpx.post(f"{api}/auth/login", json={"username": "demo-viewer", "password": "wrong-password"}, timeout=20)
        with httpx.Client(base_url=api, timeout=20) as client:
            for username in ("demo-education-bureau", "demo-city-office"):
                response = client.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
                client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
                if username == "demo-education-bureau":
                    ids = [
                        client.post(
                            "/campaigns/education/reports",
                            json={"indicator": "T002-1", "org_unit": org_unit, "period": "2022-06", "value": 2},
                        ).json()["id"]
                        for org_unit in ("370303", "370302", "370304")
                    ]
            client.post(f"/campaigns/education/reports/{ids[0]}/approve").raise_for_status()
            client.post(f"/campaigns/education/reports/{ids[1]}/return", json={"reason": "请核对"}).raise_for_status()
            uploads = [
                client.post("/campaigns/education/evidence", files={"file": (name, content)}).status_code
                for name, content in (("现场.jpg", files.jpeg()), ("程序.pdf", files.EXE))
            ]
            assert uploads[0] == 201 and 400 <= uploads[1] < 500, uploads
        wait_until(
            lambda: any(name == "minsheng_evidence_swept_total" for name, _ in scrape(stack.education.url)),
            timeout=60,
            message="the photo never saved with a report cleaned up",
        )
        # The gateway's fold of that work is what its freshness and backlog series come from.
        wait_until(
            lambda: any(name == "minsheng_view_freshness_seconds_count" for name, _ in scrape(stack.gateway.url)),
            timeout=30,
            message="the gateway's fold of the reports",
        )
        # The lag per partition is the consumer's watchdog's: reported at its next look (every 2 s).
        wait_until(
            lambda: any(name == "minsheng_consumer_lag" for name, _ in scrape(stack.gateway.url)),
            timeout=30,
            message="the gateway's consumer lag reported",
        )
        yield stack


def test_every_panel_reads_only_metrics_the_processes_expose(loaded_stack: MetricsStack):
    exposed = PROMETHEUS_OWN | recorded_names()
    for process in loaded_stack.processes:
        exposed |= {name for name, _ in scrape(process.url)}
    for where, expr in queries():
        unknown = metric_names(expr) - exposed
        assert not unknown, f"{where}: {sorted(unknown)} exposed by no process ({expr})"


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed (Debian package `prometheus`; .ci/run)")
def test_every_panel_query_returns_data_from_a_real_prometheus(loaded_stack: MetricsStack, tmp_path: Path):
    shutil.copy(RULES, tmp_path / "alerts.yml")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {"job_name": process.name, "static_configs": [{"targets": [process.url.removeprefix("http://")]}]}
            for process in loaded_stack.processes
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    api = f"http://127.0.0.1:{port}/api/v1"

    def query(expr: str) -> list:
        response = httpx.get(f"{api}/query", params={"query": expr}, timeout=10)
        assert response.status_code == 200, f"{expr}: {response.text}"
        return response.json()["data"]["result"]

    try:
        expected = len(loaded_stack.processes)
        wait_until(
            lambda: len(query("up == 1")) == expected,
            timeout=60,
            message=f"Prometheus scraping all {expected} processes",
        )
        # Enough scrapes for rates over the panels' window, while a little traffic goes on.
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            httpx.get(f"{loaded_stack.gateway.url}/api/v1/tasks?campaign=education&limit=5", timeout=10)
            time.sleep(0.5)
        empty = [f"{where}: {expr}" for where, expr in queries() if not query(expr)]
        assert not empty, "panels without data:\n" + "\n".join(empty)
    finally:
        server.terminate()
        server.wait(10)
        log.close()

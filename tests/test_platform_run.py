"""`make run`'s runner brings up PostgreSQL, the broker, five services and the gateway as real processes;
the gateway serves the whole catalog it learned over HTTP; Ctrl-C stops every process; the database
server keeps its data for the next run."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import httpx
import psycopg
import pytest

from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from minsheng.topology import ALL_PROCESSES, GATEWAY
from tests.conftest import ROOT, free_port
from tests.postgres import local_postgres

# Generous for a loaded machine: the first run of a data directory also runs initdb.
START_TIMEOUT = 240


def _start_runner(base: int, broker_port: int, postgres_port: int, data_dir) -> subprocess.Popen:
    """`make run`'s runner on its own embedded PostgreSQL (no DATABASE_URL inherited from the suite), without
    the demo dataset: these tests count the reports they make (the dataset has its own tests)."""
    env = {key: value for key, value in os.environ.items() if not key.endswith("_DATABASE_URL")}
    return subprocess.Popen(
        [
            sys.executable,
            "deploy/run_local.py",
            "--base-port",
            str(base),
            "--broker-port",
            str(broker_port),
            "--postgres-port",
            str(postgres_port),
            "--data-dir",
            str(data_dir),
            "--no-demo-data",
        ],
        cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until_announced(runner: subprocess.Popen) -> tuple[bool, list[str]]:
    """The runner's output up to its banner; False if it ended or took too long first."""
    output: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = runner.stdout.readline()
        if not line and runner.poll() is not None:
            return False, output
        output.append(line)
        if "Ctrl-C stops every process" in line:
            return True, output
    runner.kill()
    return False, output


def _ports_free(base: int) -> bool:
    """Nothing listens on the platform's ports (after Ctrl-C: nothing kept one)."""
    for offset in range(len(ALL_PROCESSES)):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", base + offset)) == 0:
                return False
    return True


def _free_base() -> int:
    """A base port for the platform's six processes, below the kernel's ephemeral range: a port in
    that range can be taken at any moment as the local end of some connection (the suite opens
    many), and a service that cannot bind its port makes the whole run exit."""
    try:
        ephemeral_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    for _ in range(100):
        base = random.randrange(20000, ephemeral_low - len(ALL_PROCESSES), 10)
        try:
            with contextlib.ExitStack() as stack:
                for offset in range(len(ALL_PROCESSES)):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError("no free range of ports for the platform")


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def platform(tmp_path):
    base = _free_base()
    runner = _start_runner(base, free_port(), free_port(), tmp_path / "var")
    announced, output = _read_until_announced(runner)
    if not announced:
        runner.kill()
        pytest.fail("platform did not start:\n" + "".join(output[-60:]))
    yield base, "".join(output)
    runner.send_signal(signal.SIGINT)
    runner.wait(timeout=60)


def test_six_processes_come_up_and_the_gateway_serves_the_whole_catalog(platform):
    base, output = platform
    for process in ALL_PROCESSES:
        port = base + process.port - GATEWAY.port
        assert f"http://127.0.0.1:{port}/docs" in output
        assert _get(f"http://127.0.0.1:{port}/healthz")["process"] == process.name
    # Where an operator's Prometheus and Grafana find the alert rules and dashboards.
    assert str(ROOT / "deploy/prometheus/alerts.yml") in output
    assert str(ROOT / "deploy/grafana/dashboards") in output

    gateway = f"http://127.0.0.1:{base}"
    deadline = time.monotonic() + 60  # the gateway is ready once every service's catalog has arrived
    while _get_status(f"{gateway}/readyz") != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    tasks = _get(f"{gateway}/api/v1/tasks?limit=500")
    assert tasks["count"] == 113 and [t["number"] for t in tasks["data"]] == list(range(1, 114))
    for task in tasks["data"]:
        assert task["campaign"] in ("education", "health", "eldercare", "employment", "livability")
        assert task["lead_departments"] and task["text"] and task["item"]
        for indicator in task["indicators"]:
            assert indicator["task_number"] == task["number"] and indicator["campaign"] == task["campaign"]
            assert {"id", "name", "unit", "target_value", "comparator", "kind", "horizon"} <= indicator.keys()
    assert sum(len(t["indicators"]) for t in tasks["data"]) > 100

    indicators = _get(f"{gateway}/api/v1/indicators?limit=500")
    headline = [i for i in indicators["data"] if i["task_number"] is None]
    assert {i["campaign"] for i in headline} == {"education", "health", "eldercare", "employment", "livability"}
    unemployment = next(i for i in headline if i["name"] == "城镇登记失业率")
    assert (unemployment["target_value"], unemployment["comparator"], unemployment["unit"]) == (4.5, "≤", "%")

    units = _get(f"{gateway}/api/v1/org-units")
    assert {u["code"] for u in units["data"]} >= {
        "370300",
        "370302",
        "370303",
        "370304",
        "370305",
        "370306",
        "370321",
        "370322",
        "370323",
    }
    targets = _get(f"{gateway}/api/v1/org-units/370303/targets?limit=500")
    campaigns = {t["campaign"] for t in targets["data"]}
    assert campaigns == {"education", "health", "eldercare", "employment", "livability"}
    kindergartens = next(t for t in targets["data"] if t["indicator_id"] == "T002-1")
    assert (kindergartens["target_value"], kindergartens["city_target_value"]) == (10, 103)
    assert _get_status(f"{gateway}/api/v1/org-units/123456/targets") == 404


def _signed_in(gateway: str, username: str) -> tuple[httpx.Client, dict[str, str]]:
    """A browser signed in at the gateway as a demo account, and the CSRF header its writes carry."""
    client = httpx.Client(base_url=gateway, timeout=10)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    response.raise_for_status()
    return client, {"X-CSRF-Token": response.json()["csrf_token"]}


def test_a_report_approved_in_a_service_reaches_the_city_and_district_views(platform):
    base, output = platform
    gateway = f"http://127.0.0.1:{base}"
    assert DEMO_PASSWORD in output and all(account.username in output for account in DEMO_ACCOUNTS)
    district, csrf = _signed_in(gateway, "demo-zhangdian")
    report = (
        district.post(
            "/api/v1/campaigns/education/reports",
            headers=csrf,
            json={"indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 4},
        )
        .raise_for_status()
        .json()
    )
    office, csrf = _signed_in(gateway, "demo-city-office")
    office.post(f"/api/v1/campaigns/education/reports/{report['id']}/approve", headers=csrf).raise_for_status()
    approved_at = time.monotonic()
    deadline = approved_at + 30
    while time.monotonic() < deadline:
        district = _get(f"{gateway}/api/v1/indicators/T002-1/progress?org_unit=370303")
        if district["current_value"] == 4:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the approved report never reached the gateway")
    print(f"report visible in the gateway {time.monotonic() - approved_at:.3f} s after approval")
    city = _get(f"{gateway}/api/v1/city/summary")
    education_summary = next(c for c in city["campaigns"] if c["campaign"] == "education")
    assert education_summary["indicators_by_status"]["no_data"] < 19  # T002-1 now has data
    zhangdian = _get(f"{gateway}/api/v1/districts/370303/summary")
    assert zhangdian["org_unit_name"] == "张店区"
    assert _get(f"{gateway}/api/v1/consistency")["consistent"] is True


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_ctrl_c_stops_every_process(tmp_path):
    base, broker_port, postgres_port = _free_base(), free_port(), free_port()
    runner = _start_runner(base, broker_port, postgres_port, tmp_path / "var")
    announced, output = _read_until_announced(runner)
    if not announced:
        runner.kill()
        pytest.fail(f"make run ended before announcing the platform (exit {runner.wait()}):\n{''.join(output[-40:])}")
    assert not _ports_free(base) and _listening(postgres_port)
    runner.send_signal(signal.SIGINT)
    assert runner.wait(timeout=60) == 0
    time.sleep(0.5)
    assert _ports_free(base), "a process kept its port after Ctrl-C"
    assert not _listening(broker_port), "the broker outlived Ctrl-C"
    assert not _listening(postgres_port), "PostgreSQL outlived Ctrl-C"
    assert not (tmp_path / "var" / "postgres" / "postmaster.pid").exists(), "PostgreSQL did not shut down cleanly"


def test_the_local_postgres_keeps_its_databases_and_data_from_one_run_to_the_next(tmp_path):
    server = local_postgres.LocalPostgres(tmp_path / "postgres", free_port())
    try:
        server.start(timeout=120)
        server.create_databases(["minsheng_education", "minsheng_gateway"])
        with psycopg.connect(server.url("minsheng_education").replace("+psycopg", "")) as connection:
            connection.execute("CREATE TABLE kept (value text)")
            connection.execute("INSERT INTO kept VALUES ('a report')")
        server.stop()
        assert not _listening(server.port)

        server.start(timeout=120)
        server.create_databases(["minsheng_education", "minsheng_gateway"])  # they exist: left as they are
        with psycopg.connect(server.url("minsheng_education").replace("+psycopg", "")) as connection:
            assert connection.execute("SELECT value FROM kept").fetchall() == [("a report",)]
    finally:
        server.stop()


def test_a_port_already_taken_is_reported_not_mistaken_for_the_local_server(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = local_postgres.LocalPostgres(tmp_path / "postgres", taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="could not create any TCP/IP sockets"):
            server.start(timeout=120)
    server.stop()

"""`make run`'s runner brings up broker, five services and the gateway as real processes;
the gateway serves the whole catalog it learned over HTTP; Ctrl-C stops every process."""

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
import pytest

from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from minsheng.topology import ALL_PROCESSES, GATEWAY
from tests.conftest import ROOT, free_port


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
def platform(make_database):
    base = _free_base()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for process in ALL_PROCESSES:  # PostgreSQL here, as in production; `make run` uses SQLite files
        env[f"{process.env_prefix}DATABASE_URL"] = make_database(process.name)
    runner = subprocess.Popen(
        [sys.executable, "deploy/run_local.py", "--base-port", str(base), "--broker-port", str(free_port())],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = runner.stdout.readline()
        if not line and runner.poll() is not None:
            break
        output.append(line)
        if "Ctrl-C stops every process" in line:
            break
    else:
        runner.kill()
        pytest.fail("platform did not start:\n" + "".join(output))
    if runner.poll() is not None:
        pytest.fail("runner exited:\n" + "".join(output))
    yield base, "".join(output)
    runner.send_signal(signal.SIGINT)
    runner.wait(timeout=60)


def test_six_processes_come_up_and_the_gateway_serves_the_whole_catalog(platform):
    base, output = platform
    for process in ALL_PROCESSES:
        port = base + process.port - GATEWAY.port
        assert f"http://127.0.0.1:{port}/docs" in output
        assert _get(f"http://127.0.0.1:{port}/healthz")["process"] == process.name

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
    assert {u["code"] for u in units["data"]} >= {"370300", "370302", "370303", "370304", "370305", "370306",
                                                  "370321", "370322", "370323"}
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
    report = district.post("/api/v1/campaigns/education/reports", headers=csrf, json={
        "indicator": "T002-1", "org_unit": "370303", "period": "2022-06", "value": 4}).raise_for_status().json()
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


def test_ctrl_c_stops_every_process(make_database):
    base = _free_base()
    broker_port = free_port()
    runner = subprocess.Popen(
        [sys.executable, "deploy/run_local.py", "--base-port", str(base), "--broker-port", str(broker_port)],
        cwd=ROOT, env={**os.environ, **{f"{p.env_prefix}DATABASE_URL": make_database(p.name) for p in ALL_PROCESSES}},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    for line in runner.stdout:
        output.append(line)
        if "Ctrl-C stops every process" in line:
            break
    else:
        pytest.fail(f"make run ended before announcing the platform (exit {runner.wait()}):\n{''.join(output[-40:])}")
    assert not _ports_free(base)
    runner.send_signal(signal.SIGINT)
    assert runner.wait(timeout=60) == 0
    time.sleep(0.5)
    assert _ports_free(base), "a process kept its port after Ctrl-C"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", broker_port)) != 0, "the broker outlived Ctrl-C"

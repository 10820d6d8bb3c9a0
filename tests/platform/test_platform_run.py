"""`make run`'s runner brings up PostgreSQL, the broker, five services and the gateway as real processes;
the gateway serves the whole catalog it learned over HTTP; a process that dies is restarted (within a
limit); Ctrl-C stops every process; the database server keeps its data for the next run."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

import minsheng_gateway.main as gateway_main
from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from minsheng.topology import ALL_PROCESSES, CAMPAIGNS, GATEWAY
from tests.conftest import ROOT, free_port
from tests.support.identity import gateway_settings
from tests.support.postgres import load_deploy_module, local_postgres
from tests.support.processes import wait_until

# Generous for a loaded machine: the first run of a data directory also runs initdb.
START_TIMEOUT = 240


run_local = load_deploy_module("run_local")


def _start_runner(
    base: int, broker_port: int, postgres_port: int, data_dir, object_store_port: int | None = None
) -> subprocess.Popen:
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
            # The object store's S3 port and the seven after it (SeaweedFS's own components).
            "--object-store-port",
            str(object_store_port or _free_base(8)),
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


def _free_base(count: int = len(ALL_PROCESSES)) -> int:
    """A base port for `count` consecutive free ports (the platform's six processes), below the kernel's
    ephemeral range: a port in that range can be taken at any moment as the local end of some connection
    (the suite opens many), and a service that cannot bind its port makes the whole run exit."""
    try:
        ephemeral_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    for _ in range(100):
        base = random.randrange(20000, ephemeral_low - count, 10)
        try:
            with contextlib.ExitStack() as stack:
                for offset in range(count):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError("no free range of ports for the platform")


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class Output:
    """The runner's output, read on in a thread once it announced the platform (a pipe nobody reads
    would stop the runner at its next line)."""

    def __init__(self, runner: subprocess.Popen, lines: list[str]):
        self.lines = lines
        self._reader = threading.Thread(target=self._read, args=(runner,), daemon=True)
        self._reader.start()

    def _read(self, runner: subprocess.Popen) -> None:
        for line in runner.stdout:
            self.lines.append(line)

    def __str__(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def platform(tmp_path):
    base = _free_base()
    runner = _start_runner(base, free_port(), free_port(), tmp_path / "var")
    announced, output = _read_until_announced(runner)
    if not announced:
        runner.kill()
        pytest.fail("platform did not start:\n" + "".join(output[-60:]))
    text = "".join(output)
    yield base, text, runner, Output(runner, output)
    runner.send_signal(signal.SIGINT)
    runner.wait(timeout=60)


def test_six_processes_come_up_and_the_gateway_serves_the_whole_catalog(platform):
    base, output, _, _ = platform
    for process in ALL_PROCESSES:
        port = base + process.port - GATEWAY.port
        assert f"http://127.0.0.1:{port}/docs" in output
        assert _get(f"http://127.0.0.1:{port}/healthz")["process"] == process.name
    # Where an operator's Prometheus and Grafana find the alert rules and dashboards.
    assert str(ROOT / "deploy/prometheus/alerts.yml") in output
    assert str(ROOT / "deploy/grafana/dashboards") in output

    gateway = f"http://127.0.0.1:{base}"
    # Announced once the gateway says it is ready (every service's catalog arrived): the two agree.
    assert _get_status(f"{gateway}/readyz") == 200
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
    base, output, _, _ = platform
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
    base, broker_port, postgres_port, object_store_port = _free_base(), free_port(), free_port(), _free_base(8)
    runner = _start_runner(base, broker_port, postgres_port, tmp_path / "var", object_store_port)
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
    assert not _listening(object_store_port), "the object store outlived Ctrl-C"
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


# ---- the supervisor: a process that dies is restarted, within a limit -----------------------------------


def _small_server(port: int, directory) -> subprocess.Popen:
    """A real, small process of our own that answers HTTP on 127.0.0.1:`port`."""
    return subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=run_local.die_with_parent,
    )


def _answers(port: int) -> bool:
    return _get_status(f"http://127.0.0.1:{port}/") == 200


def test_the_supervisor_restarts_a_process_killed_with_sigkill_and_says_so(tmp_path):
    port, lines = free_port(), []
    supervisor = run_local.Supervisor(backoff_first=0.2, log=lines.append)
    child = supervisor.add(
        run_local.Supervised("web", start=lambda: _small_server(port, tmp_path), stop=run_local.terminate)
    )
    try:
        wait_until(lambda: _answers(port), 30, message="the small server answering")
        first = child.process.pid
        os.kill(first, signal.SIGKILL)

        def answers_again() -> bool:
            supervisor.check()
            return child.process.pid != first and _answers(port)

        wait_until(answers_again, 30, interval=0.1, message=lambda: f"the server restarted; log: {lines}")
        assert lines[0] == (
            f"supervisor: web (pid {first}) ended (SIGKILL); "
            "restarting it in 0.2 s (restart 1 of at most 5 in 10 minutes)"
        )
        assert lines[1] == f"supervisor: web started again (pid {child.process.pid})"
    finally:
        supervisor.stop_all()
    assert child.process.poll() is not None and not _listening(port)


def test_a_process_that_keeps_dying_stops_everything_with_a_clear_message(tmp_path):
    lines, starts = [], []

    def start() -> subprocess.Popen:
        starts.append(time.monotonic())
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], preexec_fn=run_local.die_with_parent)

    port = free_port()
    supervisor = run_local.Supervisor(limit=3, backoff_first=0.05, log=lines.append)
    healthy = supervisor.add(
        run_local.Supervised("web", start=lambda: _small_server(port, tmp_path), stop=run_local.terminate)
    )
    supervisor.add(run_local.Supervised("flaky", start=start, stop=run_local.terminate))
    try:
        with pytest.raises(run_local.GiveUp) as gave_up:
            supervisor.run(until=lambda: len(starts) > 10, interval=0.02)  # bounded, should it never give up
    finally:
        supervisor.stop_all()
    assert re.fullmatch(
        r"supervisor: flaky \(pid \d+\) ended \(exit code 3\) after 3 restarts within 10 minutes; "
        r"stopping the platform \(see its log above\)",
        str(gave_up.value),
    )
    assert len(starts) == 4  # the first start and three restarts
    # Each restart announced, with a pause that doubles.
    delays = [re.search(r"restarting it in (\S+) s", line).group(1) for line in lines if "restarting" in line]
    assert delays == ["0.05", "0.1", "0.2"]
    assert healthy.process.poll() is not None, "stop_all left the other process running"


def test_restarts_older_than_the_window_are_forgotten(tmp_path):
    """A process that dies now and then (each time after longer than the window) is restarted every time."""
    lines, starts = [], []

    def start() -> subprocess.Popen:
        starts.append(time.monotonic())
        return subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(0.5)"], preexec_fn=run_local.die_with_parent
        )

    supervisor = run_local.Supervisor(limit=1, window=0.3, backoff_first=0.05, log=lines.append)
    supervisor.add(run_local.Supervised("sometimes", start=start, stop=run_local.terminate))
    try:
        supervisor.run(until=lambda: len(starts) >= 4, interval=0.02)
    finally:
        supervisor.stop_all()
    assert [line.endswith("(restart 1 of at most 1 in 0.005 minutes)") for line in lines if "restarting" in line] == [
        True
    ] * 3


def _child_serving(runner_pid: int, port: int) -> int:
    """The runner's child process that was started to serve `port` (from its command line)."""
    for task in os.listdir(f"/proc/{runner_pid}/task"):
        for pid in open(f"/proc/{runner_pid}/task/{task}/children").read().split():
            try:
                command = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except FileNotFoundError:
                continue
            if (
                b"minsheng.serve" in command
                and b"--port" in command
                and command[command.index(b"--port") + 1] == str(port).encode()
            ):
                return int(pid)
    raise LookupError(f"no child of the runner serves port {port}")


def test_a_process_killed_with_sigkill_is_restarted_and_the_platform_answers_again(platform):
    base, _, runner, output = platform
    gateway = f"http://127.0.0.1:{base}"
    ports = {"gateway": base, "education": base + CAMPAIGNS["education"].port - GATEWAY.port}
    killed = {name: _child_serving(runner.pid, port) for name, port in ports.items()}
    for pid in killed.values():
        os.kill(pid, signal.SIGKILL)
    for name, pid in killed.items():
        said = f"supervisor: {name} (pid {pid}) ended (SIGKILL); restarting it in 1 s (restart 1 of at most 5"
        wait_until(lambda said=said: said in str(output), 30, message=lambda said=said: f"{said!r} in:\n{output}")
    for name, port in ports.items():
        wait_until(
            lambda port=port: _get_status(f"http://127.0.0.1:{port}/readyz") == 200,
            START_TIMEOUT,
            interval=0.5,
            message=lambda name=name: f"{name} ready again; the runner said:\n{output}",
        )
        assert _child_serving(runner.pid, port) != killed[name]
    assert runner.poll() is None, "the runner stopped"
    # The platform answers again: a district's report, through the restarted gateway to the restarted service.
    district, csrf = _signed_in(gateway, "demo-zhangdian")
    report = district.post(
        "/api/v1/campaigns/education/reports",
        headers=csrf,
        json={"indicator": "T002-1", "org_unit": "370303", "period": "2022-07", "value": 2},
    )
    assert report.status_code == 201, report.text
    assert report.json()["status"] == "submitted"


def test_the_gateway_is_not_ready_while_the_demo_data_loads(make_database, tmp_path):
    """`make run` marks the demo load with a file (GATEWAY_DEMO_DATA_LOADING): /readyz waits for it, so that
    "ready" means ready for people, figures included, as the banner printed after it does."""
    marker = tmp_path / "demo-data-loading"
    marker.touch()
    settings = gateway_settings(
        make_database("gateway"),
        kafka_bootstrap_servers="127.0.0.1:1",
        catalog_retry_seconds=3600,
        demo_data=True,
        demo_data_loading=marker,
    )
    with TestClient(gateway_main.build_app(settings)) as gateway:
        waiting = gateway.get("/readyz")
        assert waiting.status_code == 503 and "demo_data" in waiting.json()["waiting_for"]
        marker.unlink()
        assert "demo_data" not in gateway.get("/readyz").json().get("waiting_for", [])

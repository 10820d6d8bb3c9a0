"""`make run`: the whole platform on this machine, on the embedded defaults.

Starts PostgreSQL (data kept in var/postgres between runs), the local Kafka-protocol broker,
the five campaign services and the gateway, each in its own process; every process has its own
database, migrates it and seeds its catalog on start-up.  Prints the URLs once all answer /readyz
and every service's outbox relay is connected.  Ctrl-C stops everything it started.

A process whose <PREFIX>DATABASE_URL is set in the environment uses that database instead; when
every one is set, no PostgreSQL is started.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx
from local_postgres import LocalPostgres  # deploy/local_postgres.py, beside this script

from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_API_KEY, DEMO_BY_USERNAME, DEMO_PASSWORD
from minsheng.auth.keys import ensure_key_pair
from minsheng.broker import LocalBroker
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.clock import today_in_china
from minsheng.demo.loader import load_demo_data
from minsheng.topology import ALL_PROCESSES, CAMPAIGNS, GATEWAY, LOCAL_POSTGRES_PORT
from minsheng_gateway.identity.tokens import FreshBearer, ServiceTokenSigner

ROOT = Path(__file__).resolve().parents[1]


def die_with_parent() -> None:
    """Children get SIGTERM if this runner dies, even by SIGKILL: no orphaned servers holding ports."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_ready(url: str, processes: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a process exited during start-up; see its log above")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s")


def wait_relay_connected(url: str, process: str, timeout: float) -> bool:
    """A service takes reports as soon as it is ready (they wait in its outbox); its relay child starts
    beside it and needs a few seconds more.  The platform is announced once events flow, so that the
    first report approved reaches the gateway at once.  False (and a note) if it takes longer."""
    deadline = time.monotonic() + timeout
    sample = f'minsheng_outbox_relay_connected{{process="{process}"}} 1.0'
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/metrics", timeout=2) as response:
                if sample in response.read().decode("utf-8", "replace"):
                    return True
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    print(
        f"note: the outbox relay of {process} is not connected yet; its events wait in the outbox (see {url}/metrics)",
        file=sys.stderr,
        flush=True,
    )
    return False


def print_monitoring() -> None:
    """Where an operator's Prometheus and Grafana find what watches this platform."""
    print("\n  monitoring (as code; docs/operations.md, Alerts and runbooks):", flush=True)
    rows = (
        ("alert rules", ROOT / "deploy/prometheus/alerts.yml", "prometheus.yml's rule_files"),
        ("Grafana dashboards", ROOT / "deploy/grafana/dashboards", "*.json, ready to import"),
        ("Grafana provisioning", ROOT / "deploy/grafana/provisioning", "docker compose up grafana: port 3000"),
    )
    for what, path, note in rows:
        print(f"    {what:<21} {path}  ({note})", flush=True)


def load_demo(private_key: Path, service_urls: dict[str, str]) -> None:
    """The demo dataset, submitted and approved as the city office with a token signed by this run's key,
    straight to the services (the gateway learns it from their events, as in real use)."""
    print("demo data  loading into the empty campaigns (演示数据; --no-demo-data skips it)…", flush=True)
    signer = ServiceTokenSigner.from_setting(str(private_key), lifetime=60)
    headers = FreshBearer(signer, DEMO_BY_USERNAME["demo-city-office"].principal(), CAMPAIGN_CODES)
    clients = {c: httpx.Client(base_url=url, timeout=300) for c, url in service_urls.items()}
    try:
        loaded = load_demo_data(clients, headers, today=today_in_china())
    finally:
        for client in clients.values():
            client.close()
    if not any(loaded.values()):
        print("demo data  already there (each campaign holds reports): nothing loaded", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--base-port",
        type=int,
        default=GATEWAY.port,
        help="gateway port; the services take the next five (default 8000 → 8001–8005)",
    )
    parser.add_argument("--broker-port", type=int, default=9092)
    parser.add_argument(
        "--postgres-port",
        type=int,
        default=LOCAL_POSTGRES_PORT,
        help=f"PostgreSQL's port on 127.0.0.1 (default {LOCAL_POSTGRES_PORT})",
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / "var"),
        help="where PostgreSQL keeps its data (postgres/) and its log (postgres.log)",
    )
    parser.add_argument(
        "--demo-data",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="load the demo dataset (2022–2024, marked 演示数据 in the app) into empty campaigns (default on)",
    )
    args = parser.parse_args()

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = {p.name: args.base_port + (p.port - GATEWAY.port) for p in ALL_PROCESSES}
    env = dict(os.environ)
    postgres: LocalPostgres | None = None
    missing = [p for p in ALL_PROCESSES if not env.get(f"{p.env_prefix}DATABASE_URL")]
    if missing:
        postgres = LocalPostgres(data_dir / "postgres", args.postgres_port)
        try:
            postgres.start(preexec_fn=die_with_parent)
            postgres.create_databases(p.database for p in missing)
        except Exception as error:  # noqa: BLE001 - told plainly, with the server's log, instead of a traceback
            postgres.stop()
            print(f"PostgreSQL could not start: {error}", file=sys.stderr, flush=True)
            return 1
        for process in missing:
            env[f"{process.env_prefix}DATABASE_URL"] = postgres.url(process.database)
        print(
            f"database  PostgreSQL 127.0.0.1:{postgres.port}  data {postgres.data_dir}  log {postgres.log_path}",
            flush=True,
        )
    broker = LocalBroker(args.broker_port, preexec_fn=die_with_parent).start()
    print(f"broker    Kafka protocol (Tansu)  {broker.bootstrap_servers}", flush=True)

    for process in ALL_PROCESSES:
        prefix = process.env_prefix
        env[f"{prefix}PORT"] = str(ports[process.name])
        env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
        env.setdefault(f"{prefix}DEMO_USERS", "true")  # the README's demo accounts
    # The gateway signs service tokens with this key pair, made on first start (kept under var/).
    private_key, public_key = ensure_key_pair(data_dir / "jwt")
    env.setdefault("GATEWAY_JWT_PRIVATE_KEY", str(private_key))
    for campaign in CAMPAIGNS.values():
        env.setdefault(f"{campaign.env_prefix}JWT_PUBLIC_KEY", str(public_key))
    for campaign in CAMPAIGNS:
        env[f"GATEWAY_{campaign.upper()}_URL"] = f"http://127.0.0.1:{ports[campaign]}"
    if args.demo_data:
        env.setdefault("GATEWAY_DEMO_DATA", "true")  # the app marks every page 演示数据

    processes: list[subprocess.Popen] = []

    def stop_all(*_: object) -> None:
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.stop()
        if postgres is not None:
            postgres.stop()  # last: the services may write while they shut down

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a runner started from a script may inherit SIGINT as ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        for process in (*CAMPAIGNS.values(), GATEWAY):
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        process.app,
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(ports[process.name]),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    cwd=ROOT,
                    preexec_fn=die_with_parent,
                )
            )
        for process in (*CAMPAIGNS.values(), GATEWAY):
            wait_ready(f"http://127.0.0.1:{ports[process.name]}", processes, timeout=120)
        for process in CAMPAIGNS.values():
            wait_relay_connected(f"http://127.0.0.1:{ports[process.name]}", process.name, timeout=60)
        if args.demo_data:
            load_demo(private_key, {c: f"http://127.0.0.1:{ports[c]}" for c in CAMPAIGNS})
        print("\n淄博市高品质民生平台 is running:", flush=True)
        for process in (GATEWAY, *CAMPAIGNS.values()):
            url = f"http://127.0.0.1:{ports[process.name]}"
            print(f"  {process.name:<11} {url}/docs   ({url}/metrics)", flush=True)
        print(f"\n  try: curl 'http://127.0.0.1:{ports['gateway']}/api/v1/tasks?limit=500'", flush=True)
        if env.get("GATEWAY_DEMO_USERS", "").lower() in ("true", "1", "yes"):
            print(f"\n  demo accounts (sign in at the gateway; demo only), password {DEMO_PASSWORD}:", flush=True)
            for account in DEMO_ACCOUNTS:
                print(f"    {account.username:<26} {account.display_name}", flush=True)
            print(f"  demo API key of demo-integration: {DEMO_API_KEY}", flush=True)
        print_monitoring()
        print("Ctrl-C stops every process.", flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("a process exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon the clean-up
        stop_all()


if __name__ == "__main__":
    sys.exit(main())

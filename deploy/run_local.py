"""`make run`: the whole platform on this machine, on the embedded defaults.

Starts PostgreSQL (data kept in var/postgres between runs), the object store (SeaweedFS, data in
var/objectstore; the services keep their 佐证材料 there over S3), the local Kafka-protocol broker,
the five campaign services and the gateway, each in its own process; every process has its own
database, migrates it and seeds its catalog on start-up.  Loads the demo dataset into empty
campaigns, then prints the URLs once the gateway's /readyz says ready: that waits for the demo data
too (the runner's marker file), so the banner and /readyz agree.  A process that dies is restarted
(at most RESTART_LIMIT times in RESTART_WINDOW, with a growing pause); past that, everything stops.
Ctrl-C stops everything it started.

A process whose <PREFIX>DATABASE_URL is set in the environment uses that database instead; when
every one is set, no PostgreSQL is started.  Likewise the object store: when every service's (and the gateway's,
for the 督办单's files) <PREFIX>OBJECT_STORE_URL is set, no SeaweedFS is started.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from local_objectstore import Credentials, LocalObjectStore  # deploy/local_objectstore.py, beside this script
from local_postgres import LocalPostgres  # deploy/local_postgres.py, beside this script

from minsheng.auth.demo import DEMO_ACCOUNTS, DEMO_API_KEY, DEMO_BY_USERNAME, DEMO_PASSWORD
from minsheng.auth.keys import ensure_key_pair
from minsheng.broker import LocalBroker
from minsheng.catalog.document import CAMPAIGN_CODES, legacy_plan
from minsheng.clock import today_in_china
from minsheng.demo.loader import load_demo_data
from minsheng.demo.publication import close_ended_plan, publish_demo_plan
from minsheng.topology import (
    ALL_PROCESSES,
    CAMPAIGNS,
    GATEWAY,
    LOCAL_OBJECT_STORE_PORT,
    LOCAL_POSTGRES_PORT,
    NOTIFIER,
    WEBHOOKS,
)
from minsheng_gateway.identity.tokens import FreshBearer, ServiceTokenSigner

ROOT = Path(__file__).resolve().parents[1]


def die_with_parent() -> None:
    """Children get SIGTERM if this runner dies, even by SIGKILL: no orphaned servers holding ports."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_ready(url: str, timeout: float, probe: str = "/readyz") -> None:
    """Until `url`/readyz answers 200 (a process that dies meanwhile is the supervisor's to restart); with
    probe="/healthz", until it serves requests at all (ready for people or not)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}{probe}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url}{probe} not 200 after {timeout:.0f}s")


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


class LocalMailbox:
    """`make run`'s SMTP server (aiosmtpd on 127.0.0.1): the notifier's e-mails are kept as .eml files under
    var/mail and announced on the console, so a developer sees what the city's mail relay would carry."""

    def __init__(self, folder: Path, port: int):
        from aiosmtpd.controller import Controller

        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.port = folder, port

        class Keep:
            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
                name = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns()}.eml"
                name.write_bytes(envelope.content)
                print(f"mail      to {', '.join(envelope.rcpt_tos)} kept in {name}", flush=True)
                return "250 OK"

        self.controller = Controller(Keep(), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


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


def city_office_headers(private_key: Path) -> FreshBearer:
    """Requests as the city office, with a token signed by this run's key (renewed as it expires)."""
    signer = ServiceTokenSigner.from_setting(str(private_key), lifetime=60)
    return FreshBearer(signer, DEMO_BY_USERNAME["demo-city-office"].principal(), CAMPAIGN_CODES)


def say(line: str) -> None:
    print(line, flush=True)


def load_demo(private_key: Path, service_urls: dict[str, str], plan: str) -> dict[str, int]:
    """The demo dataset of one plan, submitted and approved as the city office, straight to the services (the
    gateway learns it from their events, as in real use).  What people changed meanwhile is skipped and logged
    by the loader (minsheng.demo.loader)."""
    say(f"demo data  loading plan {plan} into the campaigns that hold none of it (演示数据; --no-demo-data skips it)…")
    headers = city_office_headers(private_key)
    clients = {c: httpx.Client(base_url=url, timeout=300) for c, url in service_urls.items()}
    try:
        return load_demo_data(clients, headers, today=today_in_china(), plan=plan, log=say)
    finally:
        for client in clients.values():
            client.close()


def load_demo_plans(private_key: Path, service_urls: dict[str, str], gateway_url: str) -> bool:
    """The 2022–2024 plan's demo data, that plan closed (it ended in 2024), then the demonstration plan in force
    (2025–2027) published from its 任务分解表 through the gateway's upload path and given demo reports up to what
    fell due: a newcomer signing in today sees this month's work.  True if any report was loaded."""
    legacy = legacy_plan().code
    loaded = any(load_demo(private_key, service_urls, legacy).values())
    wait_ready(gateway_url, timeout=120, probe="/healthz")
    with httpx.Client(base_url=gateway_url, timeout=300) as gateway:
        close_ended_plan(gateway, legacy, log=say)
        current = publish_demo_plan(gateway, log=say)
    if current is not None:
        loaded = any(load_demo(private_key, service_urls, current).values()) or loaded
    return loaded


def wait_consistent(gateway_url: str, timeout: float) -> bool:
    """Until the gateway's official figures are the services' own (`/api/v1/consistency`): the demo data
    approved has reached the views people look at.  False (and a note) if it takes longer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{gateway_url}/api/v1/consistency", timeout=60) as response:
                if json.loads(response.read()).get("consistent"):
                    return True
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(3)
    print(f"note: the gateway is still taking in the demo data (see {gateway_url}/api/v1/consistency)", flush=True)
    return False


def republish_all(private_key: Path, service_urls: dict[str, str]) -> None:
    """After the broker came back (empty: Tansu keeps nothing), each service publishes its state again, so
    that events the broker took but the gateway had not read yet are not missed (the gateway's consumers
    are idempotent: what it had already read changes nothing)."""
    headers = city_office_headers(private_key)
    with httpx.Client(timeout=120) as client:
        for campaign, url in service_urls.items():
            try:
                client.post(f"{url}/api/v1/events/republish", headers=dict(headers)).raise_for_status()
            except httpx.HTTPError as error:
                print(f"supervisor: {campaign} could not republish its state: {error}", file=sys.stderr, flush=True)
                continue
            print(f"supervisor: {campaign} republished its state for the gateway", flush=True)


# A process that dies is started again, up to RESTART_LIMIT times within RESTART_WINDOW seconds, after a
# pause that doubles each time (BACKOFF_FIRST … BACKOFF_MAX): a crash is survived, a process that cannot
# run (a port taken, a broken setting) stops the platform within a minute instead of looping forever.
RESTART_LIMIT = 5
RESTART_WINDOW = 600.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0


class GiveUp(RuntimeError):
    """A process died more often than the supervisor restarts it: the platform stops."""


def how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


@dataclass(eq=False)
class Supervised:
    """One process of the platform: how to start it (again) and to stop it."""

    name: str
    start: Callable[[], subprocess.Popen]
    stop: Callable[[subprocess.Popen], None]
    after_restart: Callable[[], None] | None = None  # in a thread, once started again
    stop_early: bool = False  # asked to stop together with the others of its kind, before the rest
    process: subprocess.Popen | None = None
    restarts: deque[float] = field(default_factory=deque)  # when, within the window
    due: float | None = None  # a restart is scheduled at this time


def terminate(process: subprocess.Popen | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Supervisor:
    """Starts the platform's processes and restarts one that dies (`check`, from the thread that started
    them: a child's PR_SET_PDEATHSIG follows that thread), within the limit; says so on stderr."""

    def __init__(
        self,
        *,
        limit: int = RESTART_LIMIT,
        window: float = RESTART_WINDOW,
        backoff_first: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_MAX,
        log: Callable[[str], None] | None = None,
    ):
        self.limit, self.window = limit, window
        self.backoff_first, self.backoff_max = backoff_first, backoff_max
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.children: list[Supervised] = []

    def add(self, child: Supervised) -> Supervised:
        """Supervise `child`, started here unless it runs already (its `process` given)."""
        if child.process is None:
            child.process = child.start()
        self.children.append(child)
        return child

    def check(self) -> None:
        """One look at every process: schedule the restart of one that died, start those due.  Raises
        GiveUp when one died again after `limit` restarts within `window` seconds."""
        now = time.monotonic()
        for child in self.children:
            if child.due is None:
                code = child.process.poll() if child.process is not None else -signal.SIGKILL
                if code is None:
                    continue
                while child.restarts and now - child.restarts[0] > self.window:
                    child.restarts.popleft()
                pid = f" (pid {child.process.pid})" if child.process is not None else ""
                minutes = f"{self.window / 60:g} minutes"
                if len(child.restarts) >= self.limit:
                    raise GiveUp(
                        f"supervisor: {child.name}{pid} ended ({how_it_ended(code)}) after {self.limit} restarts "
                        f"within {minutes}; stopping the platform (see its log above)"
                    )
                delay = min(self.backoff_first * 2 ** len(child.restarts), self.backoff_max)
                child.due = now + delay
                self.log(
                    f"supervisor: {child.name}{pid} ended ({how_it_ended(code)}); restarting it in {delay:g} s "
                    f"(restart {len(child.restarts) + 1} of at most {self.limit} in {minutes})"
                )
            elif now >= child.due:
                child.due = None
                child.restarts.append(now)
                try:
                    child.process = child.start()
                except Exception as error:  # noqa: BLE001 - counted as one more death; the limit ends it
                    self.log(f"supervisor: {child.name} could not start again: {error}")
                    continue
                self.log(f"supervisor: {child.name} started again (pid {child.process.pid})")
                if child.after_restart is not None:
                    threading.Thread(target=child.after_restart, name=f"after-{child.name}", daemon=True).start()

    def run(self, until: Callable[[], bool], interval: float = 0.5) -> None:
        """Supervise until `until()` is true (or GiveUp)."""
        while not until():
            self.check()
            time.sleep(interval)

    def stop_all(self) -> None:
        """Those marked `stop_early` asked to stop together first, then each in the reverse order of start
        (the database last: the services may write while they shut down)."""
        for child in self.children:
            if child.stop_early and child.process is not None and child.process.poll() is None:
                child.process.terminate()
        for child in reversed(self.children):
            child.stop(child.process)


class Startup(threading.Thread):
    """Waits for the platform to be ready, loads the demo data, then announces the platform: in a thread,
    so that the supervisor (main thread) restarts a process that dies meanwhile."""

    def __init__(self, work: Callable[[], None]):
        super().__init__(name="startup", daemon=True)
        self.work, self.error = work, None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which stops the platform
            self.error = error


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
        "--object-store-port",
        type=int,
        default=LOCAL_OBJECT_STORE_PORT,
        help=f"the object store's S3 port on 127.0.0.1 (default {LOCAL_OBJECT_STORE_PORT})",
    )
    parser.add_argument(
        "--smtp-port",
        type=int,
        default=None,
        help="the local SMTP server's port on 127.0.0.1, where the notifier's e-mails go (kept in <data-dir>/mail); "
        "default: the gateway's port + 25 (8025)",
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / "var"),
        help="where PostgreSQL and the object store keep their data (postgres/, objectstore/) and logs",
    )
    parser.add_argument(
        "--demo-data",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="load the demo dataset (the plan's years, marked 演示数据 in the app) into empty campaigns (default on)",
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
    object_store: LocalObjectStore | None = None
    # The campaign services keep their 佐证材料 there, and the gateway those of 督办单 answers (its own bucket).
    stores_files = [*CAMPAIGNS.values(), GATEWAY]
    if any(not env.get(f"{p.env_prefix}OBJECT_STORE_URL") for p in stores_files):
        folder = data_dir / "objectstore"
        # SeaweedFS's own components (master, volume, filer) on the ports after the S3 port's: fixed, so a
        # restart finds its volumes where the master last saw them.
        own_ports = {name: args.object_store_port + 1 + i for i, name in enumerate(LocalObjectStore.COMPONENTS)}
        object_store = LocalObjectStore(folder, args.object_store_port, Credentials.kept_in(folder), ports=own_ports)
        try:
            object_store.start(preexec_fn=die_with_parent)
        except Exception as error:  # noqa: BLE001 - told plainly, with the store's log, instead of a traceback
            object_store.stop()
            if postgres is not None:
                postgres.stop()
            print(f"the object store (SeaweedFS) could not start: {error}", file=sys.stderr, flush=True)
            return 1
        for process in stores_files:
            for name, value in object_store.environment(process.env_prefix).items():
                env.setdefault(name, value)
        print(f"files     SeaweedFS S3 {object_store.endpoint}  data {folder}  log {object_store.log_path}", flush=True)
    supervisor = Supervisor()
    if postgres is not None:
        # Restarted in place: the same data directory (crash recovery keeps every committed report); the
        # services' pools reconnect (pre-ping) and their writes resume.
        supervisor.add(
            Supervised(
                "postgresql",
                start=lambda: postgres.start(preexec_fn=die_with_parent).process,
                stop=lambda _: postgres.stop(),
                process=postgres.process,
            )
        )
    if object_store is not None:
        # Restarted in place, as the database is: an upload meanwhile answers 503, reports go on.
        supervisor.add(
            Supervised(
                "objectstore",
                start=lambda: object_store.start(preexec_fn=die_with_parent).process,
                stop=lambda _: object_store.stop(),
                process=object_store.process,
            )
        )
    broker = LocalBroker(args.broker_port, preexec_fn=die_with_parent)
    service_urls = {c: f"http://127.0.0.1:{ports[c]}" for c in CAMPAIGNS}
    gateway_url = f"http://127.0.0.1:{ports['gateway']}"
    private_key, public_key = ensure_key_pair(data_dir / "jwt")  # made on first start, kept under var/

    for process in ALL_PROCESSES:
        prefix = process.env_prefix
        env[f"{prefix}PORT"] = str(ports[process.name])
        env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap_servers
        env.setdefault(f"{prefix}DEMO_USERS", "true")  # the demo accounts (docs/development.md)
    # The gateway signs service tokens with this run's key pair.
    env.setdefault("GATEWAY_JWT_PRIVATE_KEY", str(private_key))
    for campaign in CAMPAIGNS.values():
        env.setdefault(f"{campaign.env_prefix}JWT_PUBLIC_KEY", str(public_key))
    for campaign in CAMPAIGNS:
        env[f"GATEWAY_{campaign.upper()}_URL"] = service_urls[campaign]
    # The notifier (decision 0021): the gateway's public key for the 消息中心's tokens, a key of this run's own to
    # read who owes what at the gateway, and the local SMTP server.  The demo accounts have addresses
    # (<user name>@example.gov.cn), so the day's digests land in var/mail.  Its clock is the machine's: to see a
    # reminder before a due date, set the rules' days so today is N days before it (提醒规则), or read the tests
    # (tests/notifier), which travel in time.
    smtp_port = args.smtp_port or args.base_port + 25
    notifier_key_file = data_dir / "notifier-key"
    if not notifier_key_file.exists():
        notifier_key_file.write_text(secrets.token_hex(32))
    notifier_key = notifier_key_file.read_text().strip()
    env.setdefault("NOTIFIER_JWT_PUBLIC_KEY", str(public_key))
    env.setdefault("GATEWAY_NOTIFIER_KEY", notifier_key)
    env.setdefault("NOTIFIER_GATEWAY_KEY", notifier_key)
    env["GATEWAY_NOTIFIER_URL"] = f"http://127.0.0.1:{ports[NOTIFIER.name]}"
    env["NOTIFIER_GATEWAY_URL"] = gateway_url
    env.setdefault("NOTIFIER_APP_URL", gateway_url)
    env.setdefault("NOTIFIER_SMTP_HOST", "127.0.0.1")
    env.setdefault("NOTIFIER_SMTP_PORT", str(smtp_port))
    # The webhooks worker (decision 0023): the gateway's public key for its tokens. Its SSRF guard stays on: an
    # endpoint on this machine needs WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=true and WEBHOOKS_ALLOW_HTTP=true.
    env.setdefault("WEBHOOKS_JWT_PUBLIC_KEY", str(public_key))
    env["GATEWAY_WEBHOOKS_URL"] = f"http://127.0.0.1:{ports[WEBHOOKS.name]}"
    mailbox = LocalMailbox(data_dir / "mail", smtp_port)
    # While this file exists the gateway's /readyz says it waits for the demo data: "ready" (and the
    # banner below, printed once /readyz is 200) means ready for people, the demo figures included.
    demo_loading = data_dir / "demo-data-loading"
    if args.demo_data:
        env.setdefault("GATEWAY_DEMO_DATA", "true")  # the app marks every page 演示数据
        env["GATEWAY_DEMO_DATA_LOADING"] = str(demo_loading)
        demo_loading.touch()

    def uvicorn(name: str, app: str) -> Callable[[], subprocess.Popen]:
        command = [sys.executable, "-m", "minsheng.serve", app, "--host", "127.0.0.1", "--port", str(ports[name])]
        command += ["--log-level", "warning"]
        return lambda: subprocess.Popen(command, env=env, cwd=ROOT, preexec_fn=die_with_parent)

    def start_up() -> None:
        for process in CAMPAIGNS.values():
            wait_ready(service_urls[process.name], timeout=120)
        for process in CAMPAIGNS.values():
            wait_relay_connected(service_urls[process.name], process.name, timeout=60)
        if args.demo_data:
            try:
                if load_demo_plans(private_key, service_urls, gateway_url):
                    wait_consistent(gateway_url, timeout=180)
            except Exception as error:  # noqa: BLE001 - the platform runs on, with what was loaded
                print(f"demo data  loading failed, the platform runs on without (all of) it: {error}", flush=True)
            finally:
                demo_loading.unlink(missing_ok=True)
        wait_ready(gateway_url, timeout=120)
        print("\n淄博市高品质民生平台 is running:", flush=True)
        for process in (GATEWAY, *CAMPAIGNS.values(), NOTIFIER, WEBHOOKS):
            url = f"http://127.0.0.1:{ports[process.name]}"
            print(f"  {process.name:<11} {url}/docs   ({url}/metrics)", flush=True)
        print(f"\n  try: curl '{gateway_url}/api/v1/tasks?limit=500'", flush=True)
        if env.get("GATEWAY_DEMO_USERS", "").lower() in ("true", "1", "yes"):
            print(f"\n  demo accounts (sign in at the gateway; demo only), password {DEMO_PASSWORD}:", flush=True)
            for account in DEMO_ACCOUNTS:
                print(f"    {account.username:<26} {account.display_name}", flush=True)
            print(f"  demo API key of demo-integration: {DEMO_API_KEY}", flush=True)
        print_monitoring()
        print(
            f"  a process that dies is restarted (at most {RESTART_LIMIT} times in {RESTART_WINDOW / 60:.0f} minutes)",
            flush=True,
        )
        print("Ctrl-C stops every process.", flush=True)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a runner started from a script may inherit SIGINT as ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        # Restarted on the same address, empty (Tansu keeps nothing): relays and consumers reconnect, events
        # not yet published wait in the outboxes, and the services republish their state for what was lost.
        supervisor.add(
            Supervised(
                "broker",
                start=lambda: broker.start().process,
                stop=lambda _: broker.stop(),
                after_restart=lambda: republish_all(private_key, service_urls),
            )
        )
        print(f"broker    Kafka protocol (Tansu)  {broker.bootstrap_servers}", flush=True)
        mailbox.start()
        print(f"mail      SMTP 127.0.0.1:{smtp_port}  kept in {mailbox.folder}", flush=True)
        for process in (*CAMPAIGNS.values(), GATEWAY, NOTIFIER, WEBHOOKS):
            start = uvicorn(process.name, process.app)
            supervisor.add(Supervised(process.name, start=start, stop=terminate, stop_early=True))
        startup = Startup(start_up)
        startup.start()
        supervisor.run(until=lambda: startup.error is not None)
        print(f"the platform did not come up: {startup.error}", file=sys.stderr, flush=True)
        return 1
    except GiveUp as error:
        print(error, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        # A second Ctrl-C (or SIGTERM, which `uv run` forwards as well) must not abandon the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
        try:
            mailbox.stop()
        except (AssertionError, RuntimeError):  # never started
            pass
        if object_store is not None:
            object_store.stop()
        if postgres is not None:
            postgres.stop()  # also when it was never handed to the supervisor


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark needs: throw-away PostgreSQL databases, free ports, real processes (uvicorn,
the Tansu broker), readiness waits, percentiles and the JSON results.

Processes are started exactly as `deploy/run_local.py` starts them (`python -m minsheng.serve <app> --host
127.0.0.1 --port P --log-level warning`, environment `<PREFIX>DATABASE_URL`, `<PREFIX>PORT`, …), so a
figure measured here is a figure of `make run` on PostgreSQL.  Everything a benchmark starts is
registered on a `contextlib.ExitStack` and stopped by its own pid; databases are dropped afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from minsheng.auth.demo import DEMO_BY_USERNAME
from minsheng.auth.keys import public_pem
from minsheng.broker import LocalBroker
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng_gateway.identity.tokens import FreshBearer, ServiceTokenSigner

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
# One folder of server logs per run: two runs at once (it happens on a shared machine) keep theirs apart.
LOGS = RESULTS / "logs" / f"{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
# The server the test-suite uses (127.0.0.1:5432 as postgres), reached as a service deployed beside its
# database would reach it: through the server's Unix socket when it has one.  Over loopback TCP every
# statement also pays the kernel's TCP path at both ends, on the service's own core: measured in (a) on
# 2026-11-27, median 43-53 % over TCP against 56-59 % through the socket.  MINSHENG_TEST_POSTGRES
# overrides both (docs/performance.md shows how to measure over TCP).
PG_SOCKET = Path("/var/run/postgresql/.s.PGSQL.5432")
ADMIN_URL = os.environ.get("MINSHENG_TEST_POSTGRES") or (
    f"postgresql+psycopg://postgres@/postgres?host={PG_SOCKET.parent}"
    if PG_SOCKET.exists()
    else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DB_PREFIX = "minsheng_bench_"

# The bench stands in for the gateway: its own key pair signs the demo accounts' service tokens
# (minsheng.auth.demo), and the services it starts trust its public key.
# The key travels in the environment so that the load generators, spawned processes that import this
# module again, sign with the same key as the services were given.
if "MINSHENG_BENCH_SIGNING_KEY" not in os.environ:
    os.environ["MINSHENG_BENCH_SIGNING_KEY"] = (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
BENCH_SIGNER = ServiceTokenSigner(
    serialization.load_pem_private_key(os.environ["MINSHENG_BENCH_SIGNING_KEY"].encode(), password=None),
    lifetime=60,
)
BENCH_PUBLIC_KEY = public_pem(BENCH_SIGNER.private_key.public_key())
EDU_BUREAU = FreshBearer(BENCH_SIGNER, DEMO_BY_USERNAME["demo-education-bureau"].principal(), CAMPAIGN_CODES)
CITY_OFFICE = FreshBearer(BENCH_SIGNER, DEMO_BY_USERNAME["demo-city-office"].principal(), CAMPAIGN_CODES)


def die_with_parent() -> None:
    """Children get SIGTERM if the benchmark dies, even by SIGKILL: no orphaned servers holding ports."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- PostgreSQL ---------------------------------------------------------------------------------


class Databases:
    """Creates empty databases on the admin server and drops every one of them on close."""

    def __init__(self, admin_url: str = ADMIN_URL):
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def make(self, label: str) -> str:
        name = f"{DB_PREFIX}{label}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        with self.engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()
        self.engine.dispose()


def psycopg_dsn(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string (for raw psycopg: COPY, polling)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# ---- processes ----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_uvicorn(
    stack: contextlib.ExitStack,
    name: str,
    app: str,
    env: dict[str, str],
    port: int | None = None,
    entry: str = "minsheng.serve",
) -> Server:
    """One uvicorn process with run_local.py's exact command line; its output goes to a log file.
    `entry="uvicorn"`: uvicorn's own, for the reference apps a user would write and run so."""
    port = port or free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    log_file = log_path.open("w")
    stack.callback(log_file.close)
    process = subprocess.Popen(
        [sys.executable, "-m", entry, app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    server = Server(name, port, process, log_path)
    stack.callback(server.stop)
    return server


@contextlib.contextmanager
def running_alone(server: Server, others: list[Server]):
    """`server` (and its child processes) running, `others` (and theirs) stopped, for the block: two
    processes measured in turn never share the CPU, and neither is restarted between rounds."""

    def signal_all(target: Server, sig: signal.Signals) -> None:
        for pid in [target.process.pid, *children(target.process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    for other in others:
        signal_all(other, signal.SIGSTOP)
    signal_all(server, signal.SIGCONT)
    try:
        yield
    finally:
        for other in others:
            signal_all(other, signal.SIGCONT)


def start_broker(stack: contextlib.ExitStack) -> LocalBroker:
    broker = LocalBroker(free_port(), preexec_fn=die_with_parent).start()
    stack.callback(broker.stop)
    return broker


def wait_ready(server: Server, path: str = "/readyz", timeout: float = 180.0) -> float:
    """Seconds until `path` answers 200. Raises (with the log's tail) if the process dies or times out."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited during start-up:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}{path}", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} not ready at {path} after {timeout:.0f}s:\n{server.log_tail()}")


def process_env(**extra: str) -> dict[str, str]:
    """The environment for a process (the *_env helpers add each one's variables, log level WARNING:
    INFO lines per request would cost time on the hot paths)."""
    env = dict(os.environ)
    env.update({"PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def campaign_env(campaign: str, database_url: str, broker: LocalBroker, port: int) -> dict[str, str]:
    prefix = f"{campaign.upper()}_"
    return {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}PORT": str(port),
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        f"{prefix}JWT_PUBLIC_KEY": BENCH_PUBLIC_KEY,
        f"{prefix}LOG_LEVEL": "WARNING",
    }


def gateway_env(database_url: str, broker: LocalBroker, port: int, service_urls: dict[str, str]) -> dict[str, str]:
    env = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_PORT": str(port),
        "GATEWAY_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    env.update({f"GATEWAY_{campaign.upper()}_URL": url for campaign, url in service_urls.items()})
    return env


def product_fingerprint() -> dict[str, str]:
    """Modification time of every product source file: the platform is developed while it is measured,
    so a run records which code it measured (and notices code changing under it)."""
    found = {}
    for folder in ("libs", "services", "gateway"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found[str(path.relative_to(ROOT))] = dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(
                timespec="seconds"
            )
    return found


# ---- statistics and results ---------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): p99 of 200 samples is the 198th smallest, a real sample."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def latency_summary(seconds: Sequence[float]) -> dict:
    return {
        "n": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p90_ms": ms(percentile(seconds, 90)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
    }


@dataclass
class Outcome:
    """One line of the final table."""

    benchmark: str
    figure: str
    target: str
    met: bool | None  # None: could not be judged (the benchmark failed), or a reference row
    note: str = ""
    reference: bool = False  # shown beside the targets, not judged by one


@dataclass
class BenchResult:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    data: dict = field(default_factory=dict)


MACHINE_SPEED: dict = {}  # filled once per run by `python -m bench` (machine_speed)


def write_result(result: BenchResult, quick: bool) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{result.name}-{'quick-' if quick else ''}{stamp}.json"
    payload = {
        "benchmark": result.name,
        "quick": quick,
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], **MACHINE_SPEED},
        "outcomes": [o.__dict__ for o in result.outcomes],
        "data": result.data,
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[("—" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(_width(h), *(_width(r[i]) for r in cells)) if cells else _width(h) for i, h in enumerate(headers)]
    line = "  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)))


def _width(s: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _width(s))


# ---- where the CPU went -------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def children(pid: int) -> list[int]:
    """The pids of a process's children (a campaign service's outbox relay)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process (server and backends), by pid — read from /proc only."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = _process_cpu(int(entry.name))
            except OSError:
                continue
    return found


def _machine_busy() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICK


class CpuMeter:
    """Cores used by each named process, by its child processes (`<name> children`: a campaign service's
    outbox relay), PostgreSQL and the whole machine while the block runs."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.cores: dict[str, float] = {}

    def _snapshot(self) -> tuple[dict[str, float], dict[int, float]]:
        snap = {name: _process_cpu(pid) for name, pid in self.pids.items()}
        snap.update({f"{name} children": sum(map(_process_cpu, children(pid))) for name, pid in self.pids.items()})
        snap["machine"] = _machine_busy()
        return snap, _postgres_cpu()

    def __enter__(self) -> CpuMeter:
        (self._start, self._pg_start), self._t0 = self._snapshot(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        (end, pg_end), elapsed = self._snapshot(), time.monotonic() - self._t0
        self.cores = {name: round((end[name] - self._start[name]) / elapsed, 2) for name in end}
        # Backends that ended during the block are missed (an undercount); new ones count in full.
        pg = sum(cpu - self._pg_start.get(pid, 0.0) for pid, cpu in pg_end.items())
        self.cores["postgresql"] = round(pg / elapsed, 2)
        self.cores["machine_of"] = os.cpu_count()


def wait_settled(pid: int, max_wait: float = 30.0, threshold: float = 0.05) -> float:
    """Wait (bounded) until a process and its children are idle — a campaign service's relay child is
    still importing for a few seconds after the service answers /readyz.  Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < max_wait:
        before = _process_cpu(pid) + sum(map(_process_cpu, children(pid)))
        time.sleep(0.5)
        if (_process_cpu(pid) + sum(map(_process_cpu, children(pid))) - before) / 0.5 < threshold:
            break
    return time.monotonic() - started


def background_load(seconds: float = 2.0) -> float:
    """Cores busy on the machine while none of the benchmark's processes work (other users' load)."""
    before, t0 = _machine_busy(), time.monotonic()
    time.sleep(seconds)
    return (_machine_busy() - before) / (time.monotonic() - t0)


def machine_speed() -> dict:
    """A fixed pure-Python loop, timed: single-core speed as the benchmarks' processes see it.

    Machines of the same kind differ, and one machine differs over time (the host's other tenants): on
    2026-11-27 one machine ran this loop in 17 to 27 ms within the hour, and the whole bench at about
    half the rates another machine of the same kind had given.  Absolute figures ((b), (d)) compare
    across runs only next to this one; the ratios ((a), (c)) depend on it much less."""
    import timeit

    loop_ms = min(timeit.repeat("sum(range(1_000_000))", number=5, repeat=5)) / 5 * 1000
    steal = _steal_share(1.0)
    return {"python_loop_ms": round(loop_ms, 1), "cpu_steal_share": steal}


def _steal_share(seconds: float) -> float | None:
    """Share of CPU time the hypervisor gave to others (the `steal` column of /proc/stat)."""

    def read() -> list[int] | None:
        try:
            return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None

    before = read()
    time.sleep(seconds)
    after = read()
    if not before or not after or len(before) < 8:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    return round(delta[7] / sum(delta), 3) if sum(delta) else 0.0


def wait_for_quiet(max_wait: float, threshold: float = 0.3) -> float:
    """The figures are only as good as the machine is idle: wait (bounded) for other load to stop.
    Returns the last background load seen, in cores; the caller records it next to its figures."""
    deadline = time.monotonic() + max_wait
    load = background_load()
    while load > threshold and time.monotonic() < deadline:
        print(f"  … machine busy with other work ({load:.2f} of {os.cpu_count()} cores); waiting", flush=True)
        time.sleep(3)
        load = background_load()
    if load > threshold:
        print(
            f"  ! measuring on a machine already {load:.2f} cores busy with other work: figures are pessimistic",
            flush=True,
        )
    return round(load, 2)

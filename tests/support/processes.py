"""Run platform processes as real subprocesses for failure tests: start, wait, SIGTERM, SIGKILL, restart.

    edu = ServiceProcess.campaign("education", port=free_port(), database_url=make_database("education"),
                                  bootstrap_servers=broker.bootstrap_servers, log_dir=tmp_path)
    edu.start().wait_ready()
    ...
    edu.kill()            # SIGKILL: no lifespan shutdown, no flush, nothing
    edu.start().wait_ready()

Every child gets PR_SET_PDEATHSIG (SIGKILL) so that a test runner killed by anything never leaves
servers holding ports.  Caution: the kernel delivers that signal when the *thread* that forked the
child exits, so start processes from the test's own thread, never from a short-lived worker thread.

Each process writes its output to `<log_dir>/<name>.log` (appended across restarts); `tail()` gives
the end of it for failure messages.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from minsheng.topology import ALL_PROCESSES, CAMPAIGNS, GATEWAY, NOTIFIER, WEBHOOKS
from tests.support.identity import PRIVATE_KEY_PEM, PUBLIC_KEY_PEM

ROOT = Path(__file__).resolve().parents[2]
# A URL where nothing listens (port 1 on loopback): a campaign service the gateway should not reach.
UNREACHABLE_URL = "http://127.0.0.1:1"

T = TypeVar("T")
# Repeated every ~100 ms while a broker or a service is away: hidden from `tail()` by default.
LOG_NOISE = ("Unable connect to node", "Unable to update metadata", "NodeNotReadyError", "not available yet")


def die_with_parent() -> None:
    """preexec_fn: the child is killed if the process (thread) that started it dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_until(
    predicate: Callable[[], T], timeout: float, interval: float = 0.2, message: str | Callable[[], str] = "condition"
) -> T:
    """Call `predicate` until it returns something truthy; return that. Exceptions count as "not yet".

    Raises AssertionError after `timeout` seconds, with the last value or exception in the message."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - e.g. a process still starting: try again
            last = exc
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} not reached within {timeout:.0f}s; last: {last!r}")
        time.sleep(interval)


def _clean_environment() -> dict[str, str]:
    """os.environ without any platform process's own settings, so nothing leaks in from the shell."""
    prefixes = tuple(p.env_prefix for p in ALL_PROCESSES)
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


class ServiceProcess:
    """One uvicorn process (a campaign service or the gateway) on 127.0.0.1:port."""

    def __init__(self, name: str, app: str, port: int, env: Mapping[str, str], log_dir: Path):
        self.name, self.app, self.port = name, app, port
        self.env = dict(env)
        self.log_path = Path(log_dir) / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    # ---- construction ----------------------------------------------------------------------

    @classmethod
    def campaign(
        cls, campaign: str, *, port: int, database_url: str, bootstrap_servers: str, log_dir: Path, **extra: str
    ) -> ServiceProcess:
        spec = CAMPAIGNS[campaign]
        prefix = spec.env_prefix
        env = {
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}PORT": str(port),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            f"{prefix}JWT_PUBLIC_KEY": PUBLIC_KEY_PEM,
            f"{prefix}LOG_LEVEL": "INFO",
            **{f"{prefix}{k.upper()}": v for k, v in extra.items()},
        }
        return cls(campaign, spec.app, port, env, log_dir)

    @classmethod
    def gateway(
        cls,
        *,
        port: int,
        database_url: str,
        bootstrap_servers: str,
        services: Mapping[str, str],
        log_dir: Path,
        **extra: str,
    ) -> ServiceProcess:
        """`services`: campaign → base URL; campaigns not given point at an address where nothing listens."""
        prefix = GATEWAY.env_prefix
        env = {
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}PORT": str(port),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            f"{prefix}LOG_LEVEL": "INFO",
            f"{prefix}JWT_PRIVATE_KEY": PRIVATE_KEY_PEM,
            **{f"{prefix}{c.upper()}_URL": services.get(c, UNREACHABLE_URL) for c in CAMPAIGNS},
            **{f"{prefix}{k.upper()}": v for k, v in extra.items()},
        }
        return cls("gateway", GATEWAY.app, port, env, log_dir)

    @classmethod
    def notifier(
        cls,
        *,
        port: int,
        database_url: str,
        bootstrap_servers: str,
        gateway_url: str,
        gateway_key: str,
        log_dir: Path,
        **extra: str,
    ) -> ServiceProcess:
        """The notifier, reading who owes what from the gateway at `gateway_url` with `gateway_key` (the gateway's
        GATEWAY_NOTIFIER_KEY)."""
        prefix = NOTIFIER.env_prefix
        env = {
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}PORT": str(port),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            f"{prefix}LOG_LEVEL": "INFO",
            f"{prefix}JWT_PUBLIC_KEY": PUBLIC_KEY_PEM,
            f"{prefix}GATEWAY_URL": gateway_url,
            f"{prefix}GATEWAY_KEY": gateway_key,
            f"{prefix}APP_URL": gateway_url,
            **{f"{prefix}{k.upper()}": v for k, v in extra.items()},
        }
        return cls("notifier", NOTIFIER.app, port, env, log_dir)

    @classmethod
    def webhooks(
        cls, *, port: int, database_url: str, bootstrap_servers: str, log_dir: Path, **extra: str
    ) -> ServiceProcess:
        """The webhooks worker (decision 0023), reached through the gateway with its tokens."""
        prefix = WEBHOOKS.env_prefix
        env = {
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}PORT": str(port),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            f"{prefix}LOG_LEVEL": "INFO",
            f"{prefix}JWT_PUBLIC_KEY": PUBLIC_KEY_PEM,
            **{f"{prefix}{k.upper()}": v for k, v in extra.items()},
        }
        return cls("webhooks", WEBHOOKS.app, port, env, log_dir)

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_env(self, **values: str) -> None:
        """Change settings for the next start, e.g. set_env(database_url=...)."""
        for key, value in values.items():
            self.env[f"{self.prefix}{key.upper()}"] = value

    # ---- life cycle ------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> ServiceProcess:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running (pid {self.process.pid})")
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start #{self.starts} of {self.name} on port {self.port} =====\n".encode())
        log.flush()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "minsheng.serve",
                    self.app,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    "--timeout-graceful-shutdown",
                    "5",
                ],
                cwd=ROOT,
                env={**_clean_environment(), "PYTHONUNBUFFERED": "1", **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        finally:
            log.close()  # the child holds its own descriptor
        return self

    def _poll_http(self, path: str, ok: Callable[[httpx.Response], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive:
                    raise RuntimeError(
                        f"{self.name} exited (code {self.process and self.process.returncode}) "
                        f"while waiting for {what}:\n{self.tail()}"
                    )
                try:
                    response = client.get(self.url + path)
                    if ok(response):
                        return
                    last = f"{response.status_code} {response.text[:300]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.2)
        raise TimeoutError(f"{self.name}: {what} not reached after {timeout:.0f}s (last: {last})\n{self.tail()}")

    def wait_ready(self, timeout: float = 60.0) -> ServiceProcess:
        """Until GET /readyz answers 200 (migrated, seeded, background jobs started)."""
        self._poll_http("/readyz", lambda r: r.status_code == 200, timeout, "/readyz 200")
        return self

    def wait_healthy(self, timeout: float = 60.0) -> ServiceProcess:
        """Until GET /healthz answers 200: the process serves HTTP (for the gateway, before its catalogs)."""
        self._poll_http("/healthz", lambda r: r.status_code == 200, timeout, "/healthz 200")
        return self

    def wait_catalog(self, campaign: str, timeout: float = 60.0) -> ServiceProcess:
        """Gateway only: until it serves the tasks of `campaign` (its catalog arrived), whatever /readyz says
        about the campaigns that are not running."""
        self.wait_healthy(timeout)
        self._poll_http(
            f"/api/v1/tasks?campaign={campaign}&limit=1",
            lambda r: r.status_code == 200 and r.json().get("count", 0) > 0,
            timeout,
            f"catalog of {campaign}",
        )
        return self

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful: lifespan shutdown runs), SIGKILL if it does not exit within `timeout`."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused process would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        code, self.process = self.process.returncode, None
        return code

    def kill(self) -> int | None:
        """SIGKILL: the process dies at once, mid-whatever."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        code, self.process = self.process.returncode, None
        return code

    def pause(self) -> None:
        """SIGSTOP: the process is frozen (a long GC pause, a stalled VM) but keeps its sockets."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        self.process.send_signal(signal.SIGCONT)

    def restart(self, timeout: float = 60.0, *, hard: bool = False) -> ServiceProcess:
        """Stop (SIGKILL if `hard`, else SIGTERM), start again on the same port, wait for /readyz."""
        self.kill() if hard else self.stop()
        return self.start().wait_ready(timeout)

    def tail(self, lines: int = 40, *, noise: tuple[str, ...] = LOG_NOISE) -> str:
        """The last `lines` lines of the log, without the lines containing any of `noise`."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return f"(no log at {self.log_path})"
        kept = [line for line in text.splitlines() if not any(n in line for n in noise)]
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(kept[-lines:])

    def metric(self, name: str, **labels: str) -> float:
        """A value from GET /metrics (Prometheus text): the sample `name{labels…}`, 0 when absent."""
        text = httpx.get(self.url + "/metrics", timeout=5.0).text
        wanted = [f'{k}="{v}"' for k, v in labels.items()]
        total = 0.0
        for line in text.splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            sample, _, value = line.rpartition(" ")
            metric_name = sample.split("{", 1)[0]
            if metric_name == name and all(w in sample for w in wanted):
                total += float(value)
        return total

    def __repr__(self) -> str:
        state = f"pid {self.process.pid}" if self.alive else "stopped"
        return f"<{self.name} {self.url} {state}>"


class ProcessGroup:
    """Owns processes and brokers for one test; `close()` stops all of them, newest first."""

    def __init__(self) -> None:
        self._owned: list[Any] = []

    def add(self, thing: T) -> T:
        self._owned.append(thing)
        return thing

    def close(self) -> None:
        errors = []
        # Servers first (SIGKILL: their databases are dropped next, nothing to flush), then brokers,
        # which stop faster once no client holds a connection.
        ordered = sorted(reversed(self._owned), key=lambda thing: not isinstance(thing, ServiceProcess))
        for thing in ordered:
            try:
                if isinstance(thing, ServiceProcess):
                    thing.kill()
                else:
                    thing.stop()
            except Exception as exc:  # noqa: BLE001 - clean up the rest anyway
                errors.append(exc)
        self._owned.clear()
        if errors:
            raise errors[0]


__all__ = ["LOG_NOISE", "ProcessGroup", "ROOT", "ServiceProcess", "UNREACHABLE_URL", "die_with_parent", "wait_until"]

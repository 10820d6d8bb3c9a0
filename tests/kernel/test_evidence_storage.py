"""The kernel's S3 client (minsheng.evidence.storage) against the session's real SeaweedFS: what is put is
read back byte for byte, a bucket is made on the first write, presigned URLs work and expire, and a store
that is away or not configured is a 503 to retry, never a 500."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from minsheng.evidence.storage import ObjectStore, StorageUnavailable
from tests.conftest import free_port
from tests.support.objectstore import bucket_name


def store_for(object_store, **changes) -> ObjectStore:
    settings = {
        "url": object_store.endpoint,
        "access_key": object_store.credentials.access_key,
        "secret_key": object_store.credentials.secret_key,
        "bucket": bucket_name("storage"),
        "timeout": 2.0,
    }
    return ObjectStore(**{**settings, **changes})


def test_put_head_stream_delete_round_trip(object_store):
    store = store_for(object_store, prefix="education/")
    data = os.urandom(700_000)  # several chunks
    digest = hashlib.sha256(data).hexdigest()
    key = store.key("evidence/abc")
    assert key == "education/evidence/abc"

    store.put(key, data, media_type="application/pdf", sha256=digest)  # the bucket does not exist yet

    head = store.head(key)
    assert (head.size, head.media_type, head.metadata["sha256"]) == (len(data), "application/pdf", digest)
    size, chunks = store.stream(key, chunk=64 * 1024)
    assert size == len(data)
    assert b"".join(chunks) == data
    assert list(store.list_keys()) == [(key, len(data))]

    store.delete([key, store.key("evidence/never-there")])
    assert store.head(key) is None
    assert list(store.list_keys()) == []


def test_presigned_url_fetches_the_object_without_credentials(object_store):
    store = store_for(object_store)
    store.put("k", b"%PDF-1.7 test", media_type="application/pdf", sha256="x")
    url = store.presign("k", seconds=60, filename="验收证书.pdf")
    assert url.startswith(object_store.endpoint)
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == b"%PDF-1.7 test"
    assert "filename*=UTF-8''%E9%AA%8C" in answer.headers["content-disposition"]
    # The same object without a signature is refused: the bucket is never public.
    assert httpx.get(f"{object_store.endpoint}/{store.bucket}/k").status_code == 403


def test_wrong_credentials_are_refused_as_unavailable(object_store):
    store = store_for(object_store, secret_key="not-the-secret")
    with pytest.raises(StorageUnavailable) as refused:
        store.put("k", b"x", media_type="image/png", sha256="x")
    assert refused.value.status_code == 503 and refused.value.retry_after_seconds > 0
    assert not store.ping()


def test_store_away_is_503_with_a_chinese_message():
    store = ObjectStore(
        url=f"http://127.0.0.1:{free_port()}", access_key="a", secret_key="b", bucket="minsheng-x", timeout=1.0
    )
    with pytest.raises(StorageUnavailable) as refused:
        store.put("k", b"x", media_type="image/png", sha256="x")
    assert "文件存储暂时不可用" in refused.value.detail
    assert refused.value.code == "object_store_unavailable"
    assert not store.ping()


def test_not_configured_is_said_so():
    store = ObjectStore(url="http://127.0.0.1:1", access_key="", secret_key="", bucket="minsheng-x")
    assert not store.configured and not store.ping()
    with pytest.raises(StorageUnavailable) as refused:
        store.head("k")
    assert refused.value.code == "object_store_not_configured"

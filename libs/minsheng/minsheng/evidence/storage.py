"""The object store over the S3 API (boto3): put, stream, head, delete, presign.  No filesystem fallback:
a campaign service keeps its files in its own bucket (or prefix) of whatever S3-compatible store its
settings name, and nowhere else.

Every failure to reach the store (refused, timed out, a 5xx, credentials refused) is `StorageUnavailable`:
a 503 with Retry-After and a Chinese message, the request's files not stored.  Calls block: run them in
a worker thread (sync routes do), never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from minsheng.errors import DomainError, NotFound
from minsheng.evidence.settings import EvidenceSettings

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
UNAVAILABLE_MESSAGE = "文件存储暂时不可用，本次文件未保存，请稍后重试；填报的数据不受影响，可以先提交不带佐证材料的数据"
NOT_CONFIGURED_MESSAGE = "本服务未配置文件存储（对象存储），暂时不能上传佐证材料；填报的数据不受影响，请联系系统管理员"
_MISSING = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET = {"NoSuchBucket"}


class StorageUnavailable(DomainError):
    """The object store cannot be reached or refuses to work: retry later (503, Retry-After)."""

    status_code = 503
    code = "object_store_unavailable"
    retry_after_seconds = 10


@dataclass(frozen=True)
class StoredObject:
    size: int
    media_type: str
    metadata: dict[str, str]


class ObjectStore:
    """One bucket (and key prefix) of an S3-compatible store: the campaign's own."""

    def __init__(
        self,
        *,
        url: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        prefix: str = "",
        region: str = "us-east-1",
        timeout: float = 5.0,
    ):
        self.url, self.bucket, self.prefix = url, bucket, prefix
        self.configured = bool(url and access_key and secret_key)
        self._client = boto3.client(
            "s3",
            endpoint_url=url or None,
            aws_access_key_id=access_key or "unset",
            aws_secret_access_key=secret_key or "unset",
            region_name=region,
            config=Config(
                # Path-style addressing: MinIO, SeaweedFS and the clouds' S3 endpoints all take it; virtual hosts
                # would need DNS for every bucket.
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                connect_timeout=timeout,
                read_timeout=max(timeout, 30.0),
                # One quick retry for a dropped connection; a store that is away answers 503 promptly instead.
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=20,
            ),
        )
        self._bucket_checked = False

    @classmethod
    def from_settings(cls, settings: EvidenceSettings) -> ObjectStore:
        secret = settings.object_store_secret_key  # a plain str where settings were copied without validation
        secret = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        return cls(
            url=settings.object_store_url,
            access_key=_read(settings.object_store_access_key_file) or settings.object_store_access_key,
            secret_key=_read(settings.object_store_secret_key_file) or secret,
            bucket=settings.evidence_bucket,
            prefix=settings.evidence_prefix,
            region=settings.object_store_region,
            timeout=settings.object_store_timeout_seconds,
        )

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    # ---- the calls -----------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, *, media_type: str, sha256: str) -> None:
        """Store `data` under `key` (all or nothing: S3 never shows a partial object).  The bucket is made on
        the first write if it does not exist yet."""
        self._require_configured()
        arguments = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": media_type,
            "Metadata": {"sha256": sha256},
        }
        try:
            self._call("put_object", **arguments)
        except _BucketMissing:
            self.ensure_bucket()
            self._call("put_object", **arguments)

    def head(self, key: str) -> StoredObject | None:
        """What the store has under `key`, or None."""
        self._require_configured()
        try:
            answer = self._call("head_object", Bucket=self.bucket, Key=key)
        except (_ObjectMissing, _BucketMissing):
            return None
        return StoredObject(answer["ContentLength"], answer.get("ContentType", ""), answer.get("Metadata", {}))

    def stream(self, key: str, chunk: int = CHUNK) -> tuple[int, Iterator[bytes]]:
        """(size, chunks) of the object: read as they are sent on, never whole in memory."""
        self._require_configured()
        try:
            answer = self._call("get_object", Bucket=self.bucket, Key=key)
        except (_ObjectMissing, _BucketMissing) as exc:
            log.error("object %s/%s is missing from the store", self.bucket, key)
            raise NotFound("文件内容在存储中缺失，请联系系统管理员", code="evidence_content_missing") from exc
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk)
            finally:
                body.close()

        return answer["ContentLength"], chunks()

    def read(self, key: str) -> bytes:
        _, chunks = self.stream(key)
        return b"".join(chunks)

    def delete(self, keys: Iterable[str]) -> None:
        """Remove the objects (a key that is not there counts as removed)."""
        self._require_configured()
        wanted = [{"Key": key} for key in keys]
        for start in range(0, len(wanted), 1000):  # S3's limit per request
            try:
                answer = self._call(
                    "delete_objects",
                    Bucket=self.bucket,
                    Delete={"Objects": wanted[start : start + 1000], "Quiet": True},
                )
            except _BucketMissing:
                return
            failed = [error for error in answer.get("Errors", []) if error.get("Code") not in _MISSING]
            if failed:
                raise StorageUnavailable(UNAVAILABLE_MESSAGE, extra={"failed": len(failed)})

    def presign(self, key: str, *, seconds: int = 300, filename: str | None = None, inline: bool = True) -> str:
        """A URL that fetches the object for `seconds` without credentials (for a deployment that lets browsers
        reach the store; the platform itself streams files through the gateway instead)."""
        self._require_configured()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename, inline=inline)
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def ping(self) -> bool:
        """Whether the store answers for this bucket (a bucket not made yet counts: the first write makes it)."""
        if not self.configured:
            return False
        try:
            self._call("head_bucket", Bucket=self.bucket)
        except (_BucketMissing, _ObjectMissing):  # HEAD has no body: a missing bucket is a bare 404
            return True
        except StorageUnavailable:
            return False
        return True

    def ensure_bucket(self) -> None:
        try:
            self._client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):  # made meanwhile by a replica
                return
            raise StorageUnavailable(UNAVAILABLE_MESSAGE) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(UNAVAILABLE_MESSAGE) from exc

    def list_keys(self) -> Iterator[tuple[str, int]]:
        """(key, size) of every object under the prefix: for the operators' reconciliation and the tests."""
        self._require_configured()
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["Size"]
        except ClientError as exc:
            if _code(exc) in _NO_BUCKET:
                return
            raise StorageUnavailable(UNAVAILABLE_MESSAGE) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(UNAVAILABLE_MESSAGE) from exc

    # ---- errors ----------------------------------------------------------------------------------------

    def require_configured(self) -> None:
        self._require_configured()

    def _require_configured(self) -> None:
        if not self.configured:
            raise StorageUnavailable(NOT_CONFIGURED_MESSAGE, code="object_store_not_configured")

    def _call(self, operation: str, **arguments: Any) -> Any:
        try:
            return getattr(self._client, operation)(**arguments)
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING:
                raise _ObjectMissing(code) from exc
            if code in _NO_BUCKET:
                raise _BucketMissing(code) from exc
            log.warning("object store refused %s on %s: %s", operation, self.bucket, exc)
            raise StorageUnavailable(UNAVAILABLE_MESSAGE) from exc
        except BotoCoreError as exc:  # refused, timed out, the connection dropped
            log.warning("object store unreachable (%s on %s): %s", operation, self.bucket, exc)
            raise StorageUnavailable(UNAVAILABLE_MESSAGE) from exc


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8").strip() if path else ""


class _ObjectMissing(Exception):
    pass


class _BucketMissing(Exception):
    pass


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def content_disposition(filename: str, *, inline: bool) -> str:
    """`inline` (shown in the page) or `attachment`, with the name in UTF-8 (RFC 6266) and an ASCII fallback."""
    from urllib.parse import quote

    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"

"""The settings of 佐证材料 (evidence files) and of the object store that keeps them, read by each campaign
service with its own prefix (EDUCATION_OBJECT_STORE_URL, EDUCATION_EVIDENCE_BUCKET …)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from minsheng.topology import LOCAL_OBJECT_STORE_PORT

MB = 1024 * 1024


class EvidenceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # Any S3-compatible store: MinIO, SeaweedFS, a cloud's OSS/COS/OBS S3 endpoint.  By default `make run`'s
    # SeaweedFS; without an access key no file can be stored (uploads answer 503), reports still can.
    object_store_url: str = f"http://127.0.0.1:{LOCAL_OBJECT_STORE_PORT}"
    object_store_access_key: str = ""
    object_store_secret_key: SecretStr = SecretStr("")
    # Or the paths of files holding them (a Docker secret, /run/secrets/…), read at start-up.
    object_store_access_key_file: str = ""
    object_store_secret_key_file: str = ""
    object_store_region: str = "us-east-1"
    # Connecting, and waiting for an answer: a store that is away costs an upload this long, then 503.
    object_store_timeout_seconds: float = 5.0
    # The campaign's own bucket (`minsheng-<campaign>` unless set), as it owns its database; a prefix inside it
    # where one bucket is shared (e.g. "education/").
    evidence_bucket: str = "minsheng-evidence"
    evidence_prefix: str = ""
    # Limits: one file, the files of one report revision (or task status), and how many.
    evidence_max_file_bytes: int = 20 * MB
    evidence_max_report_bytes: int = 100 * MB
    evidence_max_files: int = 20
    # Uploaded and not yet saved with a report: at most this many per account, removed after this many hours.
    evidence_max_pending_per_account: int = 100
    evidence_pending_hours: float = 6.0
    # How often the clean-up runs, and how long an upload may be under way before its remains count as debris.
    evidence_sweep_seconds: float = 300.0
    evidence_upload_grace_seconds: float = 900.0
    # Images: at most this many pixels (a small file may decode to gigabytes), and the thumbnail's longer side.
    evidence_image_max_pixels: int = 60_000_000
    evidence_thumbnail_pixels: int = 320

"""Settings shared by every process; each process subclasses with its own env prefix.

Ports and names of the six processes live in `topology.py` so that the run script,
docker-compose and its test all read the same facts.
"""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ProcessSettings(BaseSettings):
    """What every process reads from its environment (with its own prefix, e.g. EDUCATION_PORT)."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int
    # PostgreSQL; by default the process's database on `make run`'s server (topology.Process.default_database_url).
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    log_level: str = "INFO"
    # Requests with a larger body are refused with 413 (minsheng.protection); uploads are the largest: an
    # evidence file of 20 MB (minsheng.evidence) in its multipart form.
    max_body_bytes: int = 21 * 1024 * 1024
    # Uploaded files (minsheng.uploads).  A workbook (.xlsx, a zip) is judged from its directory before
    # anything in it is inflated: what all its parts inflate to, what one part does, how many parts, and
    # how much more a part (of 1 MB or more) is inflated than compressed.  A filled template of 5000
    # rows is a few MB inflated, compressed about 10 times.
    upload_max_unpacked_bytes: int = 64 * 1024 * 1024
    upload_max_entry_bytes: int = 32 * 1024 * 1024
    upload_max_entries: int = 500
    upload_max_compression_ratio: float = 100.0
    # Reading is bounded too: rows (blank ones counted) and columns of a sheet or CSV, and seconds (the
    # parse runs in a child process, killed past them: the gateway gives up at 30 s); parses at once.
    upload_max_rows: int = 20_000
    upload_max_columns: int = 200
    upload_parse_seconds: float = 10.0
    upload_parse_concurrency: int = 2
    # Origins allowed to call this process from a browser (CORS); none by default: one origin, the gateway's.
    cors_origins: list[str] = []
    # Seed the demo users listed in docs/development.md (local run only; never in production).
    demo_users: bool = False
    # The outbox relay child (minsheng.messaging.relay_process) is replaced when it sends no status line for
    # this long (hung), or when events wait on a connected relay and none is published or fails for this long.
    relay_silent_seconds: float = 15.0
    relay_stall_seconds: float = 90.0
    # Status thresholds (see minsheng.progress.model.Thresholds).
    status_on_track_ratio: float = 0.95
    status_at_risk_ratio: float = 0.80
    status_approx_tolerance: float = 0.05

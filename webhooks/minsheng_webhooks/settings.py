"""The webhooks worker's settings, read from WEBHOOKS_* variables (docs/decisions/0023-webhooks.md)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from minsheng.settings import ProcessSettings
from minsheng.topology import WEBHOOKS

# The Standard Webhooks specification's schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
SPEC_SCHEDULE = [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class WebhooksSettings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix=WEBHOOKS.env_prefix, extra="ignore")

    port: int = WEBHOOKS.port
    database_url: str = WEBHOOKS.default_database_url
    # The gateway's public key (PEM or a file): the API is reached through the gateway, which signs a token.
    jwt_public_key: str = ""
    # Seconds before each try of a delivery (the first is the first try); after the last one it has failed.
    # Each wait is stretched or shortened by up to `retry_jitter` of itself, so endpoints back up out of step.
    retry_schedule: list[float] = Field(default_factory=lambda: list(SPEC_SCHEDULE), min_length=1, max_length=20)
    retry_jitter: float = Field(default=0.1, ge=0, le=0.5)
    # An endpoint must answer 2xx within this many seconds; what it answers is read up to `max_response_bytes`.
    timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    max_response_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    # An endpoint failing without one success for this long is disabled (and the fact recorded on it).
    disable_after_seconds: float = 5 * 24 * 3600.0
    # A rotated secret's predecessor still signs (beside the new one) for this long.
    rotation_grace_seconds: float = 24 * 3600.0
    # SSRF: destinations in private, loopback, link-local, multicast or reserved ranges are refused unless the
    # operator allows them (a test's receiver on 127.0.0.1; an intranet system); plain http likewise.
    allow_private_destinations: bool = False
    allow_http: bool = False
    # How often due deliveries are looked for (new events wake the sender at once), and how many go at a time.
    send_seconds: float = 1.0
    concurrency: int = Field(default=20, ge=1, le=200)
    consumer_stall_seconds: float = 20.0

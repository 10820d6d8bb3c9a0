"""The processes of the platform: names, default ports, env prefixes.

One place for these facts: the run script, the services' settings and the
docker-compose test all read them from here.
"""

from dataclasses import dataclass

from minsheng.catalog.document import CAMPAIGN_CODES

# `make run`'s PostgreSQL: beside, not on, the usual 5432 (the tests' server, or a system one).
LOCAL_POSTGRES_PORT = 5433
# `make run`'s object store (SeaweedFS, deploy/local_objectstore.py): its S3 endpoint on 127.0.0.1.
LOCAL_OBJECT_STORE_PORT = 8333


@dataclass(frozen=True)
class Process:
    name: str  # "education" … "livability", "gateway", "notifier" or "webhooks"
    port: int
    app: str  # uvicorn import path

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def database(self) -> str:
        """The process's own database, the same name in `make run`, docker-compose and production."""
        return f"minsheng_{self.name}"

    @property
    def default_database_url(self) -> str:
        """The PostgreSQL server that `make run` starts (deploy/local_postgres.py), so that the command-line
        tools (minsheng-migrate, minsheng-tokens) reach the local run's databases unless told otherwise."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{LOCAL_POSTGRES_PORT}/{self.database}"


GATEWAY = Process("gateway", 8000, "minsheng_gateway.main:app")
CAMPAIGNS = {
    code: Process(code, 8001 + index, f"minsheng_{code}.main:app") for index, code in enumerate(CAMPAIGN_CODES)
}
# Beside the gateway: who is told what and when (催办, 退回, 督办单; docs/decisions/0021-notifier.md).
NOTIFIER = Process("notifier", 8006, "minsheng_notifier.main:app")
# Outbound webhooks (Standard Webhooks): the events to other systems' HTTPS endpoints (docs/decisions/0023-webhooks.md).
WEBHOOKS = Process("webhooks", 8007, "minsheng_webhooks.main:app")
ALL_PROCESSES = (GATEWAY, *CAMPAIGNS.values(), NOTIFIER, WEBHOOKS)

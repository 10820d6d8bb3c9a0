"""The processes of the platform: names, default ports, env prefixes.

One place for these facts: the run script, the services' settings and the
docker-compose test all read them from here.
"""

from dataclasses import dataclass

from minsheng.catalog.document import CAMPAIGN_CODES


@dataclass(frozen=True)
class Process:
    name: str  # "education" … "livability", or "gateway"
    port: int
    app: str  # uvicorn import path

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///./var/{self.name}.db"


GATEWAY = Process("gateway", 8000, "minsheng_gateway.main:app")
CAMPAIGNS = {
    code: Process(code, 8001 + index, f"minsheng_{code}.main:app") for index, code in enumerate(CAMPAIGN_CODES)
}
ALL_PROCESSES = (GATEWAY, *CAMPAIGNS.values())

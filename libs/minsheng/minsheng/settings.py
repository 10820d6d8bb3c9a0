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
    # SQLite file for the one-command local run; PostgreSQL in production and tests.
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    log_level: str = "INFO"

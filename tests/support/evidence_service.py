"""An education service in-process with its evidence in the session's SeaweedFS (a bucket of its own), and the
body of a report that attaches files: for the evidence tests of the service and of the gateway."""

from __future__ import annotations

from fastapi.testclient import TestClient

from minsheng_education.main import service as education_service
from tests.support.identity import PUBLIC_KEY_PEM
from tests.support.objectstore import bucket_name


def start(make_database, object_store, **settings) -> TestClient:
    """Entered: the caller exits it (the `education` fixture does)."""
    values = {
        "database_url": make_database("education"),
        "jwt_public_key": PUBLIC_KEY_PEM,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "object_store_url": object_store.endpoint,
        "object_store_access_key": object_store.credentials.access_key,
        "object_store_secret_key": object_store.credentials.secret_key,
        "evidence_bucket": bucket_name("education"),
        "object_store_timeout_seconds": 2.0,
        **settings,
    }
    client = TestClient(education_service.create_app(education_service.settings.model_copy(update=values)))
    client.__enter__()
    return client


def report(period="2022-06", value=2.0, evidence=(), org_unit="370303", indicator="T002-1"):
    return {
        "indicator": indicator,
        "org_unit": org_unit,
        "period": period,
        "value": value,
        "evidence": [{"id": i, "caption": c} for i, c in evidence],
    }

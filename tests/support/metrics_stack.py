"""A running platform for the operations tests: the education service and the gateway as real processes
on the suite's broker and PostgreSQL, and what their `/metrics` say."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_URL, free_port
from tests.support.processes import ProcessGroup, ServiceProcess

Samples = dict[tuple[str, frozenset], float]


def scrape(url: str) -> Samples:
    """Every sample of a process's /metrics: (name, labels) → value."""
    response = httpx.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def scrape_client(client: httpx.Client) -> Samples:
    """The same, of an in-process app's client (a TestClient)."""
    response = client.get("/metrics")
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


NOTIFIER_KEY = "metrics-notifier-key"


@dataclass
class MetricsStack:
    gateway: ServiceProcess
    education: ServiceProcess
    notifier: ServiceProcess
    webhooks: ServiceProcess

    @property
    def processes(self) -> tuple[ServiceProcess, ...]:
        return (self.gateway, self.education, self.notifier, self.webhooks)


@contextlib.contextmanager
def running_stack(  # noqa: ANN001 - the suite's fixtures
    admin_engine, broker, log_dir, service_settings: dict[str, str] | None = None
) -> Iterator[MetricsStack]:
    """For a module's fixture: `with running_stack(admin_engine, broker, tmp_path) as stack: yield stack`;
    `service_settings` are the education service's extra settings (e.g. the object store)."""
    created: list[str] = []

    def database(label: str) -> str:
        name = f"minsheng_test_ops_{label}_{uuid.uuid4().hex[:10]}"
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    group = ProcessGroup()
    try:
        education = group.add(
            ServiceProcess.campaign(
                "education",
                port=free_port(),
                database_url=database("education"),
                bootstrap_servers=broker.bootstrap_servers,
                log_dir=log_dir,
                **(service_settings or {}),
            )
        )
        notifier_port, webhooks_port = free_port(), free_port()
        gateway = group.add(
            ServiceProcess.gateway(
                port=free_port(),
                database_url=database("gateway"),
                bootstrap_servers=broker.bootstrap_servers,
                services={"education": education.url},
                log_dir=log_dir,
                demo_users="true",
                notifier_url=f"http://127.0.0.1:{notifier_port}",
                notifier_key=NOTIFIER_KEY,
                webhooks_url=f"http://127.0.0.1:{webhooks_port}",
            )
        )
        notifier = group.add(
            ServiceProcess.notifier(
                port=notifier_port,
                database_url=database("notifier"),
                bootstrap_servers=broker.bootstrap_servers,
                gateway_url=gateway.url,
                gateway_key=NOTIFIER_KEY,
                log_dir=log_dir,
            )
        )
        webhooks = group.add(
            ServiceProcess.webhooks(
                port=webhooks_port,
                database_url=database("webhooks"),
                bootstrap_servers=broker.bootstrap_servers,
                log_dir=log_dir,
            )
        )
        education.start()
        gateway.start()
        notifier.start()
        webhooks.start()
        education.wait_ready(90)
        gateway.wait_catalog("education", 90)
        notifier.wait_ready(90)
        webhooks.wait_ready(90)
        yield MetricsStack(gateway=gateway, education=education, notifier=notifier, webhooks=webhooks)
    finally:
        group.close()
        with admin_engine.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

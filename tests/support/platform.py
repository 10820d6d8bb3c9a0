"""The platform under test of the failure scenarios (tests/chaos, and the live stream in tests/gateway): the
education service and the gateway as uvicorn subprocesses on their own broker and PostgreSQL databases, with
the calls the scenarios make and the checks of "caught up" decided from the databases (tests/chaos/
test_failures.py says why so little is started and why each test has a broker of its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from minsheng.broker import LocalBroker
from tests.conftest import CITY, EDU_BUREAU, free_port
from tests.support.processes import UNREACHABLE_URL, ProcessGroup, ServiceProcess, die_with_parent, wait_until

AS_OF = "2024-12-31"  # the plan's end: progress answers that do not depend on today's date


# ---- databases ------------------------------------------------------------------------------------


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params):
    return query(url, sql, **params)[0][0]


def outbox_backlog(service_db: str) -> int:
    return scalar(service_db, "select count(*) from outbox_event where published_at is null")


def outbox_event_ids(service_db: str, after_id: int = 0) -> set[str]:
    return {r[0] for r in query(service_db, "select event_id from outbox_event where id > :after", after=after_id)}


def max_outbox_id(service_db: str) -> int:
    return scalar(service_db, "select coalesce(max(id), 0) from outbox_event")


def processed_ids(gateway_db: str) -> set[str]:
    return {r[0] for r in query(gateway_db, "select event_id from processed_event")}


# ---- the platform under test ----------------------------------------------------------------------


@dataclass
class Platform:
    broker: LocalBroker
    education: ServiceProcess
    gateway: ServiceProcess
    education_db: str
    gateway_db: str
    group: ProcessGroup
    make_database: Callable[[str], str]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))

    # -- service calls --
    def submit(
        self,
        indicator: str,
        org_unit: str,
        period: str,
        value: float | None = None,
        headers: dict = EDU_BUREAU,
        **extra,
    ) -> dict:
        body = {"indicator": indicator, "org_unit": org_unit, "period": period, "value": value, **extra}
        response = self.http.post(f"{self.education.url}/api/v1/reports", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    def approve(self, report_id: int) -> dict:
        response = self.http.post(f"{self.education.url}/api/v1/reports/{report_id}/approve", headers=CITY)
        assert response.status_code == 200, response.text
        return response.json()

    def approved(self, indicator: str, org_unit: str, period: str, value: float | None = None, **extra) -> dict:
        return self.approve(self.submit(indicator, org_unit, period, value, **extra)["id"])

    # -- gateway reads --
    def gw(self, path: str, **params) -> dict:
        response = self.http.get(f"{self.gateway.url}{path}", params=params)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def progress(self, code: str, org_unit: str = "370300", **params) -> dict:
        return self.gw(f"/api/v1/indicators/{code}/progress", org_unit=org_unit, **params)

    def consistency(self) -> dict:
        return self.gw("/api/v1/consistency")

    def education_consistent(self) -> dict:
        """The education part of /consistency: reachable, and not one difference."""
        report = self.consistency()
        assert "education" not in report["unreachable"], report
        edu_differences = [d for d in report["differences"] if d["campaign"] == "education"]
        assert edu_differences == [], report
        return report

    # -- propagation --
    def diagnose(self, after_outbox_id: int = 0) -> str:
        """What a failed wait needs to say: where the events are stuck (outbox, relay, broker, consumer)."""
        lines = []
        try:
            head = query(
                self.education_db,
                "select id, type, attempts, last_error, next_attempt_at from outbox_event "
                "where published_at is null order by id limit 1",
            )
            missing = outbox_event_ids(self.education_db, after_outbox_id) - processed_ids(self.gateway_db)
            lines.append(
                f"outbox backlog {outbox_backlog(self.education_db)}, head {head}; "
                f"{len(missing)} published events not applied by the gateway"
            )
        except Exception as exc:  # noqa: BLE001 - a diagnosis must not raise
            lines.append(f"databases: {exc!r}")
        for process, names in (
            (self.education, ("minsheng_outbox_published_total", "minsheng_outbox_publish_failures_total")),
            (self.gateway, ("minsheng_events_consumed_total",)),
        ):
            try:
                lines.append(f"{process.name}: " + ", ".join(f"{n}={process.metric(n):g}" for n in names))
            except Exception as exc:  # noqa: BLE001
                lines.append(f"{process.name}: /metrics did not answer ({exc!r})")
        lines += [self.education.tail(15), self.gateway.tail(15)]
        return "\n".join(lines)

    def caught_up(self, after_outbox_id: int = 0) -> bool:
        """Every outbox row published, and every event (after `after_outbox_id`) applied by the gateway."""
        return outbox_backlog(self.education_db) == 0 and outbox_event_ids(
            self.education_db, after_outbox_id
        ) <= processed_ids(self.gateway_db)

    def wait_caught_up(self, timeout: float = 30.0, after_outbox_id: int = 0) -> None:
        wait_until(
            lambda: self.caught_up(after_outbox_id),
            timeout,
            interval=0.25,
            message=lambda: "gateway caught up with the service\n" + self.diagnose(after_outbox_id),
        )

    # -- restarts --
    def restart_gateway_on_fresh_database(self) -> None:
        """SIGKILL the gateway, give it an empty database, start it, wait for the education catalog."""
        self.gateway.kill()
        self.gateway_db = self.make_database("gateway")
        self.gateway.set_env(database_url=self.gateway_db)
        self.gateway.start().wait_catalog("education", timeout=60)

    def fresh_gateway_on_an_empty_broker(self, *, education_reachable: bool = True) -> None:
        """Broker and gateway both lose everything; the test then produces the records it wants."""
        self.replace_broker_with_an_empty_one()
        self.gateway.kill()
        self.gateway_db = self.make_database("gateway")
        self.gateway.set_env(
            database_url=self.gateway_db, education_url=self.education.url if education_reachable else UNREACHABLE_URL
        )
        self.gateway.start()
        if education_reachable:
            self.gateway.wait_catalog("education", timeout=60)
        else:
            self.gateway.wait_healthy(timeout=60)

    def replace_broker_with_an_empty_one(self) -> None:
        """The broker loses everything (Tansu keeps nothing on disk): stop it, start a fresh one, same port."""
        port = self.broker.port
        self.broker.stop()
        self.broker = self.group.add(LocalBroker(port, preexec_fn=die_with_parent).start())


def start_platform(
    make_database: Callable[[str], str], group: ProcessGroup, log_dir: Path, **gateway_settings: str
) -> Platform:
    """A broker of its own, the education service and the gateway on fresh databases, caught up with the
    catalog the service announced at start-up; the processes belong to `group`. `gateway_settings`: the gateway's
    extra settings (e.g. the notifier's key)."""
    broker = group.add(LocalBroker(free_port(), preexec_fn=die_with_parent).start())
    education_db, gateway_db = make_database("education"), make_database("gateway")
    education = group.add(
        ServiceProcess.campaign(
            "education",
            port=free_port(),
            database_url=education_db,
            bootstrap_servers=broker.bootstrap_servers,
            log_dir=log_dir,
        )
    )
    gateway = group.add(
        ServiceProcess.gateway(
            port=free_port(),
            database_url=gateway_db,
            bootstrap_servers=broker.bootstrap_servers,
            services={"education": education.url},
            log_dir=log_dir,
            **gateway_settings,
        )
    )
    education.start()
    gateway.start()
    education.wait_ready(timeout=90)
    gateway.wait_catalog("education", timeout=90)
    running = Platform(broker, education, gateway, education_db, gateway_db, group, make_database)
    # Once the gateway has applied the catalog the service announced, the pipe works.
    running.wait_caught_up(timeout=60)
    return running

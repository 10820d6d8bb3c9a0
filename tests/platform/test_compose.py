"""docker-compose.yml and the files it uses, checked against the code's real settings.

Nothing is built or run: the compose file, the PostgreSQL init script, the Prometheus config
and the Dockerfile are parsed, and every expectation comes from `minsheng.topology` and the
settings classes the processes actually use.  The other files are found through the compose
file (its mounts and build sections), so a test aimed at another compose file checks that one's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from minsheng.topology import ALL_PROCESSES, CAMPAIGNS, GATEWAY, Process
from minsheng_gateway.settings import GatewaySettings
from tests.support.settings import settings_class

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"  # read at fixture time, so a test can point it elsewhere

REQUIRED_FIELDS = ("port", "database_url", "kafka_bootstrap_servers", "host")
INITDB_DIR = "/docker-entrypoint-initdb.d"
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"

PER_PROCESS = pytest.mark.parametrize("process", ALL_PROCESSES, ids=lambda p: p.name)
PER_CAMPAIGN = pytest.mark.parametrize("campaign", CAMPAIGNS.values(), ids=lambda p: p.name)


def bind_mount_source(compose_dir: Path, service_name: str, service: dict, target: str) -> Path:
    """The host file mounted at `target` (short or long volume syntax)."""
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            source, mounted_at = volume.get("source"), volume.get("target")
        else:
            source, mounted_at, *_ = volume.split(":") + [None]
        if mounted_at and source and source.startswith((".", "/")):
            mounted_at = mounted_at.rstrip("/")
            if mounted_at == target or mounted_at.startswith(f"{target}/"):
                return (compose_dir / source).resolve()
            if target.startswith(f"{mounted_at}/"):  # a directory mounted above the target
                return (compose_dir / source / target[len(mounted_at) + 1 :]).resolve()
    raise AssertionError(f"service {service_name!r} mounts no host file at {target}")


def published_ports(service: dict) -> list[tuple[int | None, int]]:
    """(published, container) pairs of a service's `ports`, short or long syntax."""
    pairs = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            published = entry.get("published")
            pairs.append((int(published) if published is not None else None, int(entry["target"])))
        else:
            parts = str(entry).split("/")[0].split(":")
            pairs.append((int(parts[-2]) if len(parts) >= 2 else None, int(parts[-1])))
    return pairs


def as_mapping(value, what: str) -> dict:
    """Compose allows `environment`/`args` as a mapping or a list of KEY=VALUE."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {key: ("" if item is None else str(item)) for key, item in value.items()}
    mapping = {}
    for item in value:
        key, sep, rest = str(item).partition("=")
        assert sep, f"{what}: entry {item!r} has no value"
        mapping[key] = rest
    return mapping


@dataclass
class Deployment:
    compose_file: Path

    @cached_property
    def compose(self) -> dict:
        return yaml.safe_load(self.compose_file.read_text(encoding="utf-8"))

    @property
    def directory(self) -> Path:
        return self.compose_file.parent

    @property
    def services(self) -> dict:
        return self.compose.get("services") or {}

    def service(self, name: str) -> dict:
        assert name in self.services, f"{self.compose_file.name} has no service {name!r}"
        return self.services[name]

    def environment(self, name: str) -> dict[str, str]:
        return as_mapping(self.service(name).get("environment"), f"service {name!r} environment")

    def build_args(self, name: str) -> dict[str, str]:
        build = self.service(name).get("build")
        assert isinstance(build, dict), f"service {name!r}: `build` must be a mapping with context, dockerfile and args"
        return as_mapping(build.get("args"), f"service {name!r} build args")

    def dockerfile(self, name: str) -> Path:
        build = self.service(name).get("build")
        assert isinstance(build, dict), f"service {name!r}: `build` must be a mapping with context, dockerfile and args"
        context = (self.directory / build.get("context", ".")).resolve()
        return (context / build.get("dockerfile", "Dockerfile")).resolve()

    @cached_property
    def created_databases(self) -> set[str]:
        script = bind_mount_source(self.directory, "postgres", self.service("postgres"), INITDB_DIR)
        if script.is_dir():
            sql = "\n".join(path.read_text(encoding="utf-8") for path in sorted(script.glob("*.sql")))
        else:
            sql = script.read_text(encoding="utf-8")
        sql = re.sub(r"--[^\n]*", "", sql)
        return set(re.findall(r'CREATE\s+DATABASE\s+"?([A-Za-z0-9_]+)"?', sql, flags=re.IGNORECASE))

    @cached_property
    def prometheus(self) -> dict:
        config = bind_mount_source(self.directory, "prometheus", self.service("prometheus"), PROMETHEUS_CONFIG)
        return yaml.safe_load(config.read_text(encoding="utf-8"))


@pytest.fixture
def deployment() -> Deployment:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    return Deployment(COMPOSE_FILE)


# --- the six processes ---------------------------------------------------------------------------


@PER_PROCESS
def test_process_has_a_service_on_its_topology_port(deployment: Deployment, process: Process):
    service = deployment.service(process.name)
    ports = published_ports(service)
    assert ports, f"service {process.name!r} publishes no port"
    assert (process.port, process.port) in ports, (
        f"service {process.name!r} publishes {ports} (published, container); "
        f"topology says {process.port}:{process.port}"
    )
    variable = f"{process.env_prefix}PORT"
    value = deployment.environment(process.name).get(variable)
    assert value == str(process.port), f"service {process.name!r}: {variable}={value!r}, topology says {process.port}"


@PER_PROCESS
def test_process_environment_is_only_what_its_settings_read(deployment: Deployment, process: Process):
    fields = settings_class(process).model_fields
    environment = deployment.environment(process.name)
    for variable in environment:
        assert variable.upper().startswith(process.env_prefix), (
            f"service {process.name!r}: {variable} does not start with {process.env_prefix}"
        )
        field = variable[len(process.env_prefix) :].lower()
        assert field in fields, (
            f"service {process.name!r}: {variable} is read by nothing; "
            f"{settings_class(process).__name__} has no field {field!r}"
        )
    for field in REQUIRED_FIELDS:
        variable = f"{process.env_prefix}{field.upper()}"
        assert variable in environment, f"service {process.name!r} does not set {variable}"


@PER_PROCESS
def test_settings_class_reads_the_service_environment(
    deployment: Deployment, process: Process, monkeypatch: pytest.MonkeyPatch
):
    """The settings class, given exactly the service's environment, ends up with those values."""
    environment = deployment.environment(process.name)
    for variable in list(os.environ):
        if variable.upper().startswith(process.env_prefix):
            monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    settings = settings_class(process)()
    assert settings.port == process.port, f"service {process.name!r}: settings read port {settings.port}"
    assert settings.host == "0.0.0.0", f"service {process.name!r}: settings read host {settings.host!r}, not 0.0.0.0"
    fields = settings_class(process).model_fields
    for variable, value in environment.items():
        field = variable[len(process.env_prefix) :].lower()
        if not variable.upper().startswith(process.env_prefix) or field not in fields:
            continue  # reported by test_process_environment_is_only_what_its_settings_read
        read = getattr(settings, field)
        assert str(read) == value or read == type(read)(value), (
            f"service {process.name!r}: {variable}={value!r} but settings read {field}={read!r}"
        )


@PER_PROCESS
def test_process_database_is_its_own_postgres_database(deployment: Deployment, process: Process):
    variable = f"{process.env_prefix}DATABASE_URL"
    raw = deployment.environment(process.name).get(variable)
    assert raw, f"service {process.name!r} does not set {variable}"
    url = make_url(raw)
    assert url.drivername.startswith("postgresql"), f"service {process.name!r}: {variable} is not PostgreSQL: {raw}"
    assert url.host == "postgres", (
        f"service {process.name!r}: {variable} host is {url.host!r}, not the postgres service"
    )
    assert url.port in (None, 5432), (
        f"service {process.name!r}: {variable} port is {url.port}, postgres listens on 5432"
    )
    assert url.database in deployment.created_databases, (
        f"service {process.name!r}: {variable} names database {url.database!r}, "
        f"which the init SQL does not create (it creates {sorted(deployment.created_databases)})"
    )
    assert url.database == process.database, (
        f"service {process.name!r}: {variable} names database {url.database!r}, not {process.database!r} "
        "(the name `make run` gives it too)"
    )
    postgres_env = deployment.environment("postgres")
    assert url.username == postgres_env.get("POSTGRES_USER"), (
        f"service {process.name!r}: {variable} user {url.username!r} is not POSTGRES_USER"
    )
    assert url.password == postgres_env.get("POSTGRES_PASSWORD"), (
        f"service {process.name!r}: {variable} password is not POSTGRES_PASSWORD"
    )


def test_no_two_processes_share_a_database(deployment: Deployment):
    owners: dict[str, str] = {}
    for process in ALL_PROCESSES:
        raw = deployment.environment(process.name).get(f"{process.env_prefix}DATABASE_URL")
        assert raw, f"service {process.name!r} does not set {process.env_prefix}DATABASE_URL"
        database = make_url(raw).database
        assert database not in owners, f"services {owners[database]!r} and {process.name!r} share database {database!r}"
        owners[database] = process.name


@PER_PROCESS
def test_process_waits_for_its_backends_and_reports_readiness(deployment: Deployment, process: Process):
    service = deployment.service(process.name)
    depends_on = service.get("depends_on")
    assert isinstance(depends_on, dict), f"service {process.name!r}: depends_on must name conditions"
    for backend in ("postgres", "kafka"):
        condition = (depends_on.get(backend) or {}).get("condition")
        assert condition == "service_healthy", (
            f"service {process.name!r}: depends_on {backend} has condition {condition!r}, not service_healthy"
        )
    test = service.get("healthcheck", {}).get("test")
    command = " ".join(test) if isinstance(test, list) else str(test)
    assert f":{process.port}/readyz" in command, (
        f"service {process.name!r}: healthcheck {command!r} does not ask /readyz on port {process.port}"
    )


@PER_CAMPAIGN
def test_gateway_points_at_each_campaign_service(deployment: Deployment, campaign: Process):
    variable = f"{GATEWAY.env_prefix}{campaign.name.upper()}_URL"
    assert f"{campaign.name}_url" in GatewaySettings.model_fields, f"GatewaySettings has no {campaign.name}_url"
    raw = deployment.environment(GATEWAY.name).get(variable)
    assert raw, f"service 'gateway' does not set {variable}"
    url = urlsplit(raw)
    assert url.hostname == campaign.name, f"service 'gateway': {variable}={raw} does not name service {campaign.name!r}"
    assert url.hostname in deployment.services, f"service 'gateway': {variable}={raw} names no compose service"
    assert url.port == campaign.port, (
        f"service 'gateway': {variable}={raw}, but {campaign.name} listens on {campaign.port}"
    )


# --- Kafka ---------------------------------------------------------------------------------------


def listener_addresses(value: str) -> set[tuple[str, int]]:
    addresses = set()
    for listener in value.split(","):
        url = urlsplit(listener.strip())
        addresses.add((url.hostname or "", url.port))
    return addresses


def test_kafka_runs_in_kraft_mode(deployment: Deployment):
    environment = deployment.environment("kafka")
    roles = {role.strip() for role in environment.get("KAFKA_PROCESS_ROLES", "").split(",")}
    assert {"broker", "controller"} <= roles, f"service 'kafka': KAFKA_PROCESS_ROLES={roles}, needs broker,controller"
    node_id = environment.get("KAFKA_NODE_ID")
    assert node_id, "service 'kafka': KAFKA_NODE_ID is not set"
    voters = environment.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
    assert f"{node_id}@" in voters, f"service 'kafka': KAFKA_CONTROLLER_QUORUM_VOTERS={voters!r} lacks node {node_id}"
    controller = environment.get("KAFKA_CONTROLLER_LISTENER_NAMES")
    assert controller and controller in environment.get("KAFKA_LISTENERS", ""), (
        "service 'kafka': KAFKA_LISTENERS has no listener named by KAFKA_CONTROLLER_LISTENER_NAMES"
    )
    assert environment.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "1", (
        "service 'kafka': KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR must be 1 on a single node"
    )
    assert deployment.service("kafka").get("healthcheck"), "service 'kafka' has no healthcheck"


@PER_PROCESS
def test_process_bootstraps_from_the_kafka_service(deployment: Deployment, process: Process):
    variable = f"{process.env_prefix}KAFKA_BOOTSTRAP_SERVERS"
    raw = deployment.environment(process.name).get(variable)
    assert raw, f"service {process.name!r} does not set {variable}"
    advertised = listener_addresses(deployment.environment("kafka").get("KAFKA_ADVERTISED_LISTENERS", ""))
    for server in raw.split(","):
        host, _, port = server.strip().rpartition(":")
        assert host == "kafka", f"service {process.name!r}: {variable}={raw} does not name the kafka service"
        assert (host, int(port)) in advertised, (
            f"service {process.name!r}: {variable}={raw}, but kafka advertises {sorted(advertised)}"
        )


# --- PostgreSQL, Prometheus, the image -----------------------------------------------------------


def test_postgres_creates_one_database_per_process(deployment: Deployment):
    postgres = deployment.service("postgres")
    assert str(postgres.get("image", "")).startswith("postgres:16"), (
        f"service 'postgres' image is {postgres.get('image')}"
    )
    test = postgres.get("healthcheck", {}).get("test")
    assert "pg_isready" in (" ".join(test) if isinstance(test, list) else str(test)), (
        "service 'postgres': healthcheck does not use pg_isready"
    )
    expected = {f"minsheng_{process.name}" for process in ALL_PROCESSES}
    missing = expected - deployment.created_databases
    assert not missing, f"init SQL of service 'postgres' does not create {sorted(missing)}"


@PER_PROCESS
def test_prometheus_scrapes_process_metrics(deployment: Deployment, process: Process):
    target = f"{process.name}:{process.port}"
    scraped_at = []
    for job in deployment.prometheus.get("scrape_configs") or []:
        targets = [t for static in job.get("static_configs") or [] for t in static.get("targets") or []]
        if target in targets:
            scraped_at.append(job.get("metrics_path", "/metrics"))
    assert scraped_at, f"prometheus: no scrape job targets {target} (service {process.name!r})"
    assert "/metrics" in scraped_at, f"prometheus: {target} is scraped at {scraped_at}, not /metrics"


@PER_PROCESS
def test_process_image_is_built_from_the_shared_dockerfile(deployment: Deployment, process: Process):
    dockerfile = deployment.dockerfile(process.name)
    assert dockerfile.is_file(), f"service {process.name!r}: Dockerfile {dockerfile} does not exist"
    declared = set(
        re.findall(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", dockerfile.read_text(encoding="utf-8"), re.MULTILINE)
    )
    args = deployment.build_args(process.name)
    assert args.get("APP") == process.app, (
        f"service {process.name!r}: build arg APP={args.get('APP')!r}, topology's app is {process.app!r}"
    )
    assert args.get("ENV_PREFIX") == process.env_prefix, (
        f"service {process.name!r}: build arg ENV_PREFIX={args.get('ENV_PREFIX')!r}, "
        f"topology says {process.env_prefix!r}"
    )
    undeclared = set(args) - declared
    assert not undeclared, (
        f"service {process.name!r}: build args {sorted(undeclared)} are not ARGs of {dockerfile.name}"
    )


def test_all_processes_share_one_dockerfile(deployment: Deployment):
    dockerfiles = {process.name: deployment.dockerfile(process.name) for process in ALL_PROCESSES}
    assert len(set(dockerfiles.values())) == 1, f"processes are built from different Dockerfiles: {dockerfiles}"


@pytest.mark.parametrize("campaign", [*CAMPAIGNS.values(), GATEWAY], ids=lambda p: p.name)
def test_each_campaign_service_and_the_gateway_keep_their_files_in_the_object_store_with_credentials_as_secrets(
    deployment: Deployment, campaign: Process
):
    # The gateway keeps the 佐证材料 of 督办单 answers (its own bucket), as each service keeps its reports'.
    environment = deployment.environment(campaign.name)
    prefix = campaign.env_prefix
    url = urlsplit(environment[f"{prefix}OBJECT_STORE_URL"])
    assert url.hostname == "objectstore" and url.port == 9000
    assert "objectstore" in deployment.services
    store = deployment.service("objectstore")
    assert not store.get("ports"), "the object store is reached by the services only, never published"
    store_environment = deployment.environment("objectstore")
    for key, store_variable in (("access_key", "MINIO_ROOT_USER_FILE"), ("secret_key", "MINIO_ROOT_PASSWORD_FILE")):
        secret = f"objectstore_{key}"
        # A path to a secret, never the value itself, and the same secret the store is given.
        assert environment[f"{prefix}OBJECT_STORE_{key.upper()}_FILE"] == f"/run/secrets/{secret}"
        assert store_environment[store_variable] == f"/run/secrets/{secret}"
        assert secret in deployment.service(campaign.name)["secrets"] and secret in store["secrets"]
        assert f"{prefix}OBJECT_STORE_{key.upper()}" not in environment
        assert deployment.compose["secrets"][secret]["file"].startswith("./var/")

"""deploy/k8s: rendered as kustomize does (a small Python equivalent of the features the overlay uses; the
same as `kubectl kustomize` where kubectl is installed), every core object valid against the Kubernetes
schemas (kubernetes-validate), the operators' resources carrying what they need, and the platform's
rules: probes, resources, disruption budgets, several gateways, secrets, and only the gateway reaching
the services."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from minsheng.supervision_events import SUPERVISION_TOPIC
from minsheng.topology import ALL_PROCESSES, CAMPAIGNS, GATEWAY, Process
from tests.support.settings import settings_class

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAY = K8S / "overlays" / "production"
KUBERNETES_VERSION = "1.37.0"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass"}
OPERATOR_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/")
PER_PROCESS = pytest.mark.parametrize("process", ALL_PROCESSES, ids=lambda p: p.name)


def render(directory: Path) -> list[dict]:
    """kustomize's build of `directory`, for what our kustomizations use: resources (files and
    directories), namespace, labels (metadata only) and images."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - {"apiVersion", "kind", "resources", "namespace", "labels", "images"}
    assert not unknown, f"{directory}: the test's renderer does not know {sorted(unknown)}"
    objects: list[dict] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        if path.is_dir():
            objects += render(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        if "namespace" in kustomization and obj["kind"] not in CLUSTER_SCOPED:
            metadata["namespace"] = kustomization["namespace"]
        for group in kustomization.get("labels", []):
            assert not group.get("includeSelectors") and not group.get("includeTemplates")
            metadata.setdefault("labels", {}).update(group["pairs"])
        for container in _containers(obj):
            for image in kustomization.get("images", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    return objects


def _containers(obj: dict) -> list[dict]:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", []) + spec.get("initContainers", [])


@cache
def _rendered() -> tuple[str, ...]:
    return tuple(json.dumps(obj, sort_keys=True) for obj in render(OVERLAY))


def objects() -> list[dict]:
    return [json.loads(text) for text in _rendered()]


def find(kind: str, name: str) -> dict:
    matches = [o for o in objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name}"
    return copy.deepcopy(matches[0])


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: the Python rendering stands")
def test_the_python_rendering_is_kubectl_kustomize():
    result = subprocess.run(["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    by_kubectl = sorted(json.dumps(doc, sort_keys=True) for doc in yaml.safe_load_all(result.stdout) if doc)
    assert by_kubectl == sorted(_rendered())


def test_every_core_object_is_valid_against_the_kubernetes_schemas():
    core = [o for o in objects() if not o["apiVersion"].startswith(OPERATOR_GROUPS)]
    assert {o["kind"] for o in core} >= {"Namespace", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}
    for obj in core:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    for obj in objects():
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "minsheng", obj["metadata"]["name"]


def _deployment(process: Process) -> tuple[dict, dict]:
    deployment = find("Deployment", process.name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


def _env(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container["env"]}


@PER_PROCESS
def test_each_process_runs_with_probes_resources_and_a_disruption_budget(process: Process):
    deployment, container = _deployment(process)
    assert container["image"] == f"registry.example.org/minsheng/{process.name}:1.0.0"
    assert container["ports"] == [{"name": "http", "containerPort": process.port}]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # Migrations run before the server answers: the start-up probe gives them minutes, not seconds.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    assert deployment["spec"]["replicas"] >= 2
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    budgets = [
        o
        for o in objects()
        if o["kind"] == "PodDisruptionBudget" and o["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    ]
    assert len(budgets) == 1 and budgets[0]["spec"]["minAvailable"] >= 1
    service = find("Service", process.name)
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_more_than_one_gateway():
    deployment, _ = _deployment(GATEWAY)
    assert deployment["spec"]["replicas"] >= 2


@PER_PROCESS
def test_each_process_reads_only_its_own_settings_and_its_secrets_from_secret_objects(process: Process):
    _, container = _deployment(process)
    env = _env(container)
    fields = set(settings_class(process).model_fields)
    own = {name[len(process.env_prefix) :].lower() for name in env if name.startswith(process.env_prefix)}
    assert own <= fields, f"{process.name}: variables its settings do not read: {sorted(own - fields)}"
    assert {"host", "port", "database_url", "kafka_bootstrap_servers"} <= own
    # The database password comes from the operator's Secret (libpq reads PGPASSWORD), never a literal.
    cluster = f"minsheng-{process.name}-pg"
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"{cluster}-app", "key": "password"}
    database_url = env[f"{process.env_prefix}DATABASE_URL"]["value"]
    database = find("Cluster", cluster)["spec"]["bootstrap"]["initdb"]["database"]
    assert database_url == f"postgresql+psycopg://{database}@{cluster}-rw:5432/{database}"
    assert ":" not in database_url.removeprefix("postgresql+psycopg://").split("@")[0]  # no password in it
    # The signing key only in the gateway; the services get the public key.
    key = "jwt_private_key" if process == GATEWAY else "jwt_public_key"
    assert env[f"{process.env_prefix}{key.upper()}"]["value"] == f"/run/secrets/jwt/{key}.pem"
    volumes = find("Deployment", process.name)["spec"]["template"]["spec"]["volumes"]
    secret = next(v["secret"] for v in volumes if v["name"] == "jwt")
    assert secret["secretName"] == f"minsheng-jwt-{'private' if process == GATEWAY else 'public'}"
    assert [item["key"] for item in secret["items"]] == [f"{key}.pem"]
    assert env[f"{process.env_prefix}KAFKA_BOOTSTRAP_SERVERS"]["value"] == "minsheng-kafka-kafka-bootstrap:9092"


def test_the_gateway_finds_each_service_by_its_kubernetes_service():
    _, container = _deployment(GATEWAY)
    env = _env(container)
    for campaign, process in CAMPAIGNS.items():
        assert env[f"GATEWAY_{campaign.upper()}_URL"]["value"] == f"http://{campaign}:{process.port}"


# ---- NetworkPolicies, evaluated as Kubernetes does (ingress; the selectors our policies use) -------------


def _matches(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, "the evaluator knows matchLabels only"
    return selector.get("matchLabels", {}).items() <= labels.items()


def allowed(source: dict, source_namespace: str, target: dict, port: int) -> bool:
    """Whether a pod with labels `source` in `source_namespace` may open `port` on a pod labelled `target`
    in the namespace minsheng."""
    policies = [
        p
        for p in objects()
        if p["kind"] == "NetworkPolicy"
        and "Ingress" in p["spec"]["policyTypes"]
        and _matches(p["spec"]["podSelector"], target)
    ]
    if not policies:
        return True
    namespace_labels = {"kubernetes.io/metadata.name": source_namespace}
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if "ports" in rule and not any(p["port"] == port for p in rule["ports"]):
                continue
            if "from" not in rule:
                return True
            for peer in rule["from"]:
                in_namespace = (
                    _matches(peer["namespaceSelector"], namespace_labels)
                    if "namespaceSelector" in peer
                    else source_namespace == "minsheng"
                )
                if in_namespace and ("podSelector" not in peer or _matches(peer["podSelector"], source)):
                    return True
    return False


def _pod_labels(process: Process) -> dict:
    return find("Deployment", process.name)["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("campaign", CAMPAIGNS.values(), ids=lambda p: p.name)
def test_only_the_gateway_reaches_a_service(campaign: Process):
    target = _pod_labels(campaign)
    assert allowed(_pod_labels(GATEWAY), "minsheng", target, campaign.port)
    assert allowed({}, "monitoring", target, campaign.port)  # Prometheus scrapes /metrics
    for other in CAMPAIGNS.values():
        if other != campaign:
            assert not allowed(_pod_labels(other), "minsheng", target, campaign.port)
    assert not allowed({"app": "anything"}, "minsheng", target, campaign.port)
    assert not allowed({}, "default", target, campaign.port)
    assert not allowed({"app.kubernetes.io/name": "gateway"}, "default", target, campaign.port)


def test_anyone_reaches_the_gateway_and_only_its_own_process_reaches_a_database():
    assert allowed({}, "ingress-nginx", _pod_labels(GATEWAY), GATEWAY.port)
    for process in ALL_PROCESSES:
        database = {"cnpg.io/cluster": f"minsheng-{process.name}-pg", "cnpg.io/instanceRole": "primary"}
        assert allowed(_pod_labels(process), "minsheng", database, 5432)
        for other in ALL_PROCESSES:
            if other != process:
                assert not allowed(_pod_labels(other), "minsheng", database, 5432)
        assert allowed({}, "cnpg-system", database, 8000)  # the operator asks its instances for status
    broker = {"strimzi.io/cluster": "minsheng-kafka", "strimzi.io/kind": "Kafka"}
    for process in ALL_PROCESSES:
        assert allowed(_pod_labels(process), "minsheng", broker, 9092)
    assert not allowed({"app": "anything"}, "minsheng", broker, 9092)


# ---- the operators' resources ---------------------------------------------------------------------------


def test_kafka_runs_three_kraft_brokers_replicating_every_write_to_two():
    kafka = find("Kafka", "minsheng-kafka")
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    spec = kafka["spec"]["kafka"]
    assert spec["version"] and spec["listeners"]
    assert {"name": "plain", "port": 9092, "type": "internal", "tls": False} in spec["listeners"]
    config = spec["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    pools = [o for o in objects() if o["kind"] == "KafkaNodePool"]
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == "minsheng-kafka" for p in pools)
    assert sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) == 3
    assert sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"]) == 3  # a KRaft quorum
    for pool in pools:
        assert pool["spec"]["storage"]["type"] in ("jbod", "persistent-claim")
    topics = {o["metadata"]["name"]: o["spec"] for o in objects() if o["kind"] == "KafkaTopic"}
    # the campaigns' topics, and the gateway's 督办单 (decision 0022)
    assert set(topics) == {f"minsheng.{campaign}.events" for campaign in CAMPAIGNS} | {SUPERVISION_TOPIC}
    for spec in topics.values():
        assert spec["replicas"] == 3 and spec["config"]["min.insync.replicas"] == 2 and spec["partitions"] >= 2


def test_each_process_has_its_own_postgresql_cluster():
    clusters = {o["metadata"]["name"]: o["spec"] for o in objects() if o["kind"] == "Cluster"}
    assert set(clusters) == {f"minsheng-{p.name}-pg" for p in ALL_PROCESSES}
    for name, spec in clusters.items():
        assert spec["instances"] >= 2, f"{name}: a standby to fail over to"
        assert spec["storage"]["size"]
        initdb = spec["bootstrap"]["initdb"]
        process = name.removeprefix("minsheng-").removesuffix("-pg")
        assert initdb["database"] == initdb["owner"] == f"minsheng_{process}"


# ---- the object store of 佐证材料 ----------------------------------------------------------------------


@pytest.mark.parametrize("campaign", CAMPAIGNS.values(), ids=lambda p: p.name)
def test_each_campaign_service_reaches_the_object_store_with_credentials_from_its_secret(campaign: Process):
    _, container = _deployment(campaign)
    env = _env(container)
    prefix = campaign.env_prefix
    assert env[f"{prefix}OBJECT_STORE_URL"]["value"] == "http://minsheng-objectstore:9000"
    for variable, key in (("ACCESS_KEY", "access-key"), ("SECRET_KEY", "secret-key")):
        assert env[f"{prefix}OBJECT_STORE_{variable}"]["valueFrom"]["secretKeyRef"] == {
            "name": "minsheng-objectstore",
            "key": key,
        }
    store = find("StatefulSet", "minsheng-objectstore")
    (minio,) = store["spec"]["template"]["spec"]["containers"]
    store_env = _env(minio)
    assert store_env["MINIO_ROOT_USER"]["valueFrom"]["secretKeyRef"]["name"] == "minsheng-objectstore"
    assert store_env["MINIO_ROOT_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "secret-key"
    assert not any(o["kind"] == "Secret" for o in objects()), "credentials are made in the cluster, never committed"


def test_only_the_campaign_services_and_the_gateway_reach_the_object_store():
    store = find("StatefulSet", "minsheng-objectstore")["spec"]["template"]["metadata"]["labels"]
    for campaign in CAMPAIGNS.values():
        assert allowed(_pod_labels(campaign), "minsheng", store, 9000)
    assert allowed({}, "monitoring", store, 9000)
    assert allowed(_pod_labels(GATEWAY), "minsheng", store, 9000)  # its own bucket: 督办单 answers' files
    assert not allowed({"app": "anything"}, "minsheng", store, 9000)
    assert not allowed({}, "default", store, 9000)

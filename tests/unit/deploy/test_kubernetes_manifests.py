"""deploy/k8s, checked without a cluster: the Kustomize tree renders (``kubectl kustomize`` when it
is on PATH, and a YAML-level check of every kustomization either way), every Deployment is probed,
bounded and unprivileged, and the Kafka and PostgreSQL resources match what the apps expect."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from chassis.kafka import client_options
from tests.support.certificates import Authority
from tests.unit.deploy.deploy_support import (
    APP_BY_NAME,
    DEPLOY,
    load_yaml_documents,
    require_settings,
    settings_class,
    topics_table,
)

K8S = DEPLOY / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
KUSTOMIZATIONS = sorted(p.parent for p in K8S.rglob("kustomization.yaml"))
APP_NAMES = list(APP_BY_NAME)


# --- rendering ----------------------------------------------------------------------------------


def kustomization(directory: Path) -> dict[str, Any]:
    data = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    assert data["kind"] == "Kustomization", directory
    return data  # type: ignore[no-any-return]


def yaml_level_render(directory: Path) -> list[dict[str, Any]]:
    """Every resource a kustomization lists, recursively, without applying patches or generators;
    fails when a listed file or directory is missing or does not parse."""
    docs: list[dict[str, Any]] = []
    data = kustomization(directory)
    for entry in data.get("resources", []):
        target = (directory / entry).resolve()
        assert target.exists(), f"{directory / 'kustomization.yaml'} lists missing {entry}"
        if target.is_dir():
            assert (target / "kustomization.yaml").exists(), f"{entry} is a directory without a kustomization"
            docs += yaml_level_render(target)
        else:
            parsed = load_yaml_documents(target)
            assert parsed, f"{entry} holds no resource"
            for doc in parsed:
                assert {"apiVersion", "kind", "metadata"} <= doc.keys(), f"{entry}: not a resource: {doc}"
            docs += parsed
    for generator in (*data.get("configMapGenerator", []), *data.get("secretGenerator", [])):
        for source in (*generator.get("envs", []), *generator.get("files", [])):
            assert (directory / source.split("=")[-1]).exists(), f"{generator['name']}: missing {source}"
        if generator.get("behavior") != "merge":
            docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}})
    return docs


@functools.cache
def render(directory: Path) -> list[dict[str, Any]]:
    """The rendered overlay: ``kubectl kustomize`` when available, else the YAML-level render."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return yaml_level_render(directory)
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed: {result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def require_patched_render() -> None:
    """Production's values come from its patches, which only a real render applies."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH: overlay patches are not applied by the YAML-level render")


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_every_resource_a_kustomization_lists_exists_and_parses(directory):
    assert yaml_level_render(directory)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_every_patch_targets_a_resource_of_the_tree(directory):
    data = kustomization(directory)
    docs = yaml_level_render(directory)
    present = {(d["kind"], d["metadata"]["name"]) for d in docs}
    kinds = {d["kind"] for d in docs}
    for patch in data.get("patches", []):
        target = patch.get("target")
        if target:
            assert target["kind"] in kinds, f"patch targets kind {target['kind']} that the tree does not have"
            if "name" in target:
                assert (target["kind"], target["name"]) in present
        if "path" in patch:
            patch_file = directory / patch["path"]
            assert patch_file.exists(), f"missing patch {patch['path']}"
            if not target:
                for doc in load_yaml_documents(patch_file):
                    key = (doc["kind"], doc["metadata"]["name"])
                    assert key in present, f"{patch['path']} patches {key}, which the tree does not have"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_the_tree_renders(directory):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH: the YAML-level checks above stand in for a render")
    docs = render(directory)
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"} <= {
        d["kind"] for d in docs
    }


# --- the apps -------------------------------------------------------------------------------------

RENDERED = [BASE, PRODUCTION]


@pytest.mark.parametrize("directory", RENDERED, ids=lambda p: p.name)
@pytest.mark.parametrize("app", APP_NAMES)
def test_each_app_has_a_deployment_service_autoscaler_and_disruption_budget(directory, app):
    docs = render(directory)
    spec = APP_BY_NAME[app]
    deployment = of_kind(docs, "Deployment")[app]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == [app], "the image runs the app named by its argument"
    assert [p["containerPort"] for p in container["ports"]] == [spec.default_port]
    service = of_kind(docs, "Service")[app]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["port"] == spec.default_port
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[app]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": app}
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    pdb = of_kind(docs, "PodDisruptionBudget")[app]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def all_deployments() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{d.name}/{name}", dep) for d in RENDERED for name, dep in of_kind(render(d), "Deployment").items()]


@pytest.mark.parametrize("name,deployment", all_deployments(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_deployment_is_probed_bounded_and_unprivileged(name, deployment):
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"]:
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= container["resources"][bound].keys(), f"{name}: {bound}"
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts, f"{name}: a read-only root still needs a writable /tmp"


def container_env_names(container: dict[str, Any], config_maps: dict[str, dict[str, Any]]) -> set[str]:
    names = set()
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(config_maps[source["configMapRef"]["name"]].get("data", {}))
    env = container.get("env", [])
    # A variable only used to compose another ($(DB_PASSWORD) inside the database URL) is no setting.
    referenced = {m for e in env for m in re.findall(r"\$\((\w+)\)", str(e.get("value", "")))}
    names |= {e["name"] for e in env if e["name"] not in referenced}
    return names


@pytest.mark.parametrize("directory", RENDERED, ids=lambda p: p.name)
@pytest.mark.parametrize("app", APP_NAMES)
def test_every_variable_a_pod_gets_is_one_its_settings_read(directory, app):
    if shutil.which("kubectl") is None:
        pytest.skip("needs the rendered ConfigMaps (kubectl kustomize)")
    reads = require_settings(app)
    docs = render(directory)
    config_maps = of_kind(docs, "ConfigMap")
    container = of_kind(docs, "Deployment")[app]["spec"]["template"]["spec"]["containers"][0]
    unknown = sorted(n for n in container_env_names(container, config_maps) if not reads(n))
    assert not unknown, f"{app} pods get variables its settings never read: {unknown}"
    job = of_kind(docs, "Job")[f"migrate-{app}"]["spec"]["template"]["spec"]["containers"][0]
    assert not sorted(n for n in container_env_names(job, config_maps) if not reads(n))


@pytest.mark.parametrize("app", APP_NAMES)
def test_config_files_set_only_variables_the_settings_read(app):
    reads = require_settings(app)
    lines = (BASE / "config" / f"{app}.env").read_text(encoding="utf-8").splitlines()
    names = [line.split("=", 1)[0] for line in lines if line.strip() and not line.startswith("#")]
    unknown = sorted(n for n in names if not reads(n))
    assert not unknown, f"config/{app}.env: {unknown}"
    prefix = APP_BY_NAME[app].env_prefix
    values = dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    assert values[f"{prefix}RUN_MIGRATIONS_ON_START"] == "false", "the migration Job migrates"
    assert values[f"{prefix}KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    assert values[f"{prefix}PORT"] == str(APP_BY_NAME[app].default_port)


def test_no_secret_value_is_kept_in_a_config_map():
    for directory in RENDERED:
        for name, cm in of_kind(render(directory), "ConfigMap").items():
            for key in cm.get("data", {}):
                assert not re.search(r"PASSWORD|PASSPHRASE|SECRET", key), f"{name}: {key} belongs in a Secret"


@pytest.mark.parametrize("app", APP_NAMES)
def test_each_app_reads_its_own_database_from_its_own_cloudnativepg_cluster(app):
    docs = render(BASE)
    cluster = of_kind(docs, "Cluster")[f"{app}-db"]
    assert cluster["apiVersion"].startswith("postgresql.cnpg.io/")
    assert cluster["spec"]["bootstrap"]["initdb"] == {"database": app, "owner": app, "encoding": "UTF8"}
    container = of_kind(docs, "Deployment")[app]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"{app}-db-app", "key": "password"}
    url = env[f"{APP_BY_NAME[app].env_prefix}DATABASE_URL"]["value"]
    assert url == f"postgresql+asyncpg://{app}:$(DB_PASSWORD)@{app}-db-rw:5432/{app}"


@pytest.mark.parametrize("app", APP_NAMES)
def test_migrations_run_as_a_job_before_the_rollout(app):
    job = of_kind(render(BASE), "Job")[f"migrate-{app}"]
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    assert int(annotations["argocd.argoproj.io/sync-wave"]) < 0, "before the apps (wave 0)"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][:2] == ["migrate", app]
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"
    assert int(of_kind(render(BASE), "Cluster")[f"{app}-db"]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < int(
        annotations["argocd.argoproj.io/sync-wave"]
    ), "databases before migrations"


def test_the_kubectl_apply_script_migrates_before_it_rolls_out():
    script = (K8S / "apply.sh").read_text(encoding="utf-8")
    migrate = script.index("app.kubernetes.io/component=migration\n")
    wait = script.index("wait --for=condition=complete job")
    rollout = script.index('kubectl apply -f "$rendered"\n')
    assert migrate < wait < rollout


# --- Kafka ------------------------------------------------------------------------------------------


def test_kafka_runs_in_kraft_mode_with_a_node_pool():
    for directory in RENDERED:
        docs = render(directory)
        kafka = of_kind(docs, "Kafka")["zone-kafka"]
        assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
        assert "zookeeper" not in kafka["spec"]
        pool = of_kind(docs, "KafkaNodePool")["dual-role"]
        assert set(pool["spec"]["roles"]) == {"controller", "broker"}
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "zone-kafka"
        assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    require_patched_render()
    production = render(PRODUCTION)
    assert of_kind(production, "KafkaNodePool")["dual-role"]["spec"]["replicas"] >= 3
    assert of_kind(production, "Kafka")["zone-kafka"]["spec"]["kafka"]["config"]["min.insync.replicas"] == 2


def test_kafka_topics_are_the_ones_compose_creates_with_the_same_partitions_and_retention():
    table = topics_table()
    for directory, replicas in ((BASE, 1), (PRODUCTION, 3)):
        if directory is PRODUCTION:
            require_patched_render()
        declared = {t["spec"]["topicName"]: t for t in of_kind(render(directory), "KafkaTopic").values()}
        assert set(declared) == set(table), "deploy/kafka/topics.txt and kafka/topics.yaml differ"
        for name, (partitions, retention, cleanup) in table.items():
            spec = declared[name]["spec"]
            assert (spec["partitions"], spec["config"]["retention.ms"], spec["config"]["cleanup.policy"]) == (
                partitions, retention, cleanup,
            ), name
            assert spec["replicas"] == replicas, f"{directory.name}: {name}"


def topic_acls(user: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in user["spec"]["authorization"]["acls"] if a["resource"]["type"] == "topic"]


def test_external_government_systems_only_read_the_topics_they_may_see():
    users = of_kind(render(BASE), "KafkaUser")
    external = {n: u for n, u in users.items() if u["metadata"]["labels"]["app.kubernetes.io/component"] == "external-subscriber"}
    assert {"credit-platform", "district-stats-bureau"} <= set(external)
    known = set(topics_table())
    for name, user in external.items():
        assert user["spec"]["authentication"]["type"] in {"tls", "scram-sha-512"}
        for acl in user["spec"]["authorization"]["acls"]:
            assert set(acl["operations"]) <= {"Read", "Describe"}, f"{name} may only read: {acl}"
            if acl["resource"]["type"] == "topic":
                assert acl["resource"]["patternType"] == "literal", f"{name}: no wildcard topic access"
                assert acl["resource"]["name"] in known
                assert not acl["resource"]["name"].startswith("zone.dlq."), f"{name} must not read dead letters"
            elif acl["resource"]["type"] == "group":
                assert acl["resource"]["name"].startswith(f"{name}."), f"{name}: its own consumer groups only"
    assert {a["resource"]["name"] for a in topic_acls(external["credit-platform"])} == {"zone.approvals", "zone.platform"}
    assert "zone.hr" not in {a["resource"]["name"] for a in topic_acls(external["district-stats-bureau"])}


@pytest.mark.parametrize("app", APP_NAMES)
def test_each_app_has_a_kafka_user_its_pods_log_in_with(app):
    docs = render(BASE)
    user = of_kind(docs, "KafkaUser")[f"svc-{app}"]
    writes = {a["resource"]["name"] for a in topic_acls(user) if "Write" in a["operations"]}
    own = "zone.platform" if app == "gateway" else f"zone.{app}"
    assert writes == {own, f"zone.dlq.{app}."}, "an app writes only its own topic and its dead letters"
    groups = [a for a in user["spec"]["authorization"]["acls"] if a["resource"]["type"] == "group"]
    assert [g["resource"]["name"] for g in groups] == [f"{app}."]
    container = of_kind(docs, "Deployment")[app]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    prefix = APP_BY_NAME[app].env_prefix
    assert env[f"{prefix}KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"svc-{app}"


def config_values(app: str) -> dict[str, str]:
    lines = (BASE / "config" / f"{app}.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


@pytest.mark.parametrize("directory", RENDERED, ids=lambda p: p.name)
@pytest.mark.parametrize("app", APP_NAMES)
def test_each_app_reaches_kafka_over_tls_verifying_the_brokers_against_the_cluster_ca(directory, app):
    prefix = APP_BY_NAME[app].env_prefix
    values = config_values(app)
    assert values[f"{prefix}KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", "passwords never cross the network in clear"
    assert values[f"{prefix}KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    docs = render(directory)

    # The listener the bootstrap address names speaks TLS and SCRAM.
    port = int(values[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    listeners = of_kind(docs, "Kafka")["zone-kafka"]["spec"]["kafka"]["listeners"]
    listener = next(item for item in listeners if item["port"] == port)
    assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512"

    # The CA file the settings name is Strimzi's cluster CA, mounted whole (no subPath) so renewals arrive.
    cafile = Path(values[f"{prefix}KAFKA_SSL_CAFILE"])
    pod = of_kind(docs, "Deployment")[app]["spec"]["template"]["spec"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == str(cafile.parent))
    assert mount.get("readOnly") is True and "subPath" not in mount
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "zone-kafka-cluster-ca-cert"
    assert {"key": "ca.crt", "path": cafile.name} in volume["secret"]["items"]


@pytest.mark.parametrize("app", APP_NAMES)
def test_the_kafka_settings_an_app_pod_gets_pass_the_apps_own_checks(app, tmp_path, monkeypatch):
    """The pod's ConfigMap values and its SASL password Secret, loaded by the app's settings class, with
    the mounted CA file stood in for by one made here: what a pod would refuse at start, this refuses."""
    cls = settings_class(app)
    if cls is None:
        pytest.skip(f"{app} is not in this checkout yet")
    prefix = APP_BY_NAME[app].env_prefix
    for name in [n for n in os.environ if n.startswith(prefix)]:
        monkeypatch.delenv(name)
    kafka = {k: v for k, v in config_values(app).items() if k.startswith(f"{prefix}KAFKA_")}
    kafka[f"{prefix}KAFKA_SSL_CAFILE"] = str(Authority.create("zone-kafka cluster CA").write(tmp_path / "ca.crt"))
    kafka[f"{prefix}KAFKA_SASL_PASSWORD"] = "from-the-svc-secret"
    for name, value in kafka.items():
        monkeypatch.setenv(name, value)
    options = client_options(cls(environment="test"))
    assert options["security_protocol"] == "SASL_SSL"
    assert options["ssl_context"].check_hostname is True
    assert options["sasl_plain_username"] == f"svc-{app}"


# --- production ------------------------------------------------------------------------------------


def test_production_databases_are_replicated_and_backed_up_daily():
    require_patched_render()
    docs = render(PRODUCTION)
    clusters = of_kind(docs, "Cluster")
    scheduled = {b["spec"]["cluster"]["name"] for b in of_kind(docs, "ScheduledBackup").values()}
    assert set(clusters) == {f"{app}-db" for app in APP_NAMES} == scheduled
    for name, cluster in clusters.items():
        assert cluster["spec"]["instances"] >= 3, name
        assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://"), name
        assert cluster["spec"]["bootstrap"]["initdb"]["database"] == name.removesuffix("-db"), "patches keep each database"


def test_production_runs_in_its_namespace_with_the_restricted_pod_security_standard():
    docs = render(PRODUCTION)
    namespace = of_kind(docs, "Namespace")["zone-platform"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    if shutil.which("kubectl") is not None:
        assert all(d["metadata"].get("namespace") == "zone-platform" for d in docs if d["kind"] != "Namespace")
        config = of_kind(docs, "ConfigMap")
        gateway = next(c for n, c in config.items() if n.startswith("gateway-config"))
        assert gateway["data"]["GATEWAY_ENVIRONMENT"] == "production"
        image = of_kind(docs, "Deployment")["gateway"]["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.endswith(":0.1.0") and "/" in image, "production pins a registry image and tag"

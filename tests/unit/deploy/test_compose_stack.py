"""deploy/compose.yaml, checked without a Docker engine: it parses, names only apps that exist, sets
only variables their settings read, on the ports the launcher uses, in a safe start order."""

from __future__ import annotations

import importlib
import importlib.util
import re
from typing import Any

import pytest

from tests.unit.deploy.deploy_support import (
    APP_BY_NAME,
    DEPLOY,
    definitions,
    load_compose,
    require_settings,
    topics_table,
)

IMAGE = "zone-platform"
APP_NAMES = list(APP_BY_NAME)
SERVICE_NAMES = [n for n in APP_NAMES if n != "gateway"]


def environment(container: dict[str, Any]) -> dict[str, str]:
    env = container.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def platform_containers() -> dict[str, dict[str, Any]]:
    """Containers running this project's image."""
    return {
        name: svc for name, svc in load_compose()["services"].items() if IMAGE in str(svc.get("image", ""))
    }


def app_containers() -> dict[str, dict[str, Any]]:
    """app name → the container serving it."""
    out = {}
    for name, svc in platform_containers().items():
        command = svc.get("command") or []
        if command and command[0] in APP_BY_NAME:
            assert command[0] not in out, f"{command[0]} is served by two containers"
            out[command[0]] = {**svc, "_name": name}
    return out


def migration_containers() -> dict[str, dict[str, Any]]:
    out = {}
    for name, svc in platform_containers().items():
        command = svc.get("command") or []
        if command[:1] == ["migrate"]:
            out[command[1]] = {**svc, "_name": name}
    return out


def port_of(value: str) -> int:
    return int(str(value).rsplit(":", 1)[-1].split("/")[0])


def test_the_compose_file_parses_and_every_platform_container_runs_a_known_app_or_command():
    containers = platform_containers()
    assert containers, "no container runs the zone-platform image"
    for name, svc in containers.items():
        command = svc.get("command") or []
        assert command, f"{name}: the image needs an argument saying what to run"
        if command[0] == "migrate":
            assert command[1] in APP_BY_NAME, f"{name}: migrates unknown app {command[1]!r}"
        else:
            assert command[0] in APP_BY_NAME or command[0] == "zonectl", f"{name}: unknown app {command[0]!r}"
        assert svc.get("build", {}).get("context") == "..", f"{name}: builds from the repository root"


def test_every_app_of_the_launcher_runs_in_the_stack_with_a_migration_job():
    assert set(app_containers()) == set(APP_NAMES)
    assert set(migration_containers()) == set(APP_NAMES)


@pytest.mark.parametrize("app", APP_NAMES)
def test_the_app_a_container_names_exists_in_the_checkout(app):
    module = APP_BY_NAME[app].module
    if importlib.util.find_spec(module) is None or importlib.util.find_spec(f"{module}.app") is None:
        pytest.skip(f"{module}.app is not in this checkout yet (being built in parallel)")
    factory = importlib.import_module(f"{module}.app").create_app
    assert callable(factory), f"{module}.app.create_app is what uvicorn --factory runs"


@pytest.mark.parametrize("app", APP_NAMES)
def test_every_variable_set_on_an_app_container_is_one_its_settings_read(app):
    reads = require_settings(app)
    for container in (app_containers()[app], migration_containers()[app]):
        unknown = sorted(k for k in environment(container) if not reads(k))
        assert not unknown, f"{container['_name']} sets variables {app}'s settings never read: {unknown}"


def test_the_settings_check_itself_rejects_a_misspelt_variable():
    reads = require_settings("gateway")
    assert reads("GATEWAY_DATABASE_URL") and reads("ZONE_ADMIN_PASSWORD") and reads("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert not reads("GATEWAY_DATABSE_URL") and not reads("INVESTMENT_DATABASE_URL")


@pytest.mark.parametrize("app", APP_NAMES)
def test_ports_host_and_health_check_match_the_launchers_port(app):
    spec = APP_BY_NAME[app]
    container = app_containers()[app]
    env = environment(container)
    assert env[f"{spec.env_prefix}PORT"] == str(spec.default_port)
    assert env[f"{spec.env_prefix}HOST"] == "0.0.0.0"
    assert [port_of(p) for p in container["ports"]] == [spec.default_port]
    test = " ".join(container["healthcheck"]["test"])
    assert f"127.0.0.1:{spec.default_port}/readyz" in test, "health is /readyz on the app's own port"


@pytest.mark.parametrize("app", APP_NAMES)
def test_an_app_starts_after_its_database_its_topics_and_its_migration(app):
    container = app_containers()[app]
    depends = container["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["kafka-topics"]["condition"] == "service_completed_successfully"
    assert depends[f"migrate-{app}"]["condition"] == "service_completed_successfully"
    migration = migration_containers()[app]
    assert migration["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migration.get("restart") == "no", "a migration job runs once"
    assert environment(container)[f"{APP_BY_NAME[app].env_prefix}RUN_MIGRATIONS_ON_START"] == "false"


def test_the_gateway_starts_after_every_service_is_healthy():
    depends = app_containers()["gateway"]["depends_on"]
    for service in SERVICE_NAMES:
        assert depends[service]["condition"] == "service_healthy"


def test_every_dependency_names_a_container_of_the_stack_with_a_condition():
    services = load_compose()["services"]
    for name, svc in services.items():
        for target, rule in (svc.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on missing {target}"
            assert rule["condition"] in {"service_healthy", "service_completed_successfully", "service_started"}
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no health check for {name} to wait on"


@pytest.mark.parametrize("app", APP_NAMES)
def test_apps_use_idempotent_producers_postgres_kafka_and_the_collector(app):
    prefix = APP_BY_NAME[app].env_prefix
    env = environment(app_containers()[app])
    assert env[f"{prefix}KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    assert env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env[f"{prefix}DATABASE_URL"].startswith(f"postgresql+asyncpg://{app}:")
    assert env[f"{prefix}DATABASE_URL"].endswith(f"@postgres:5432/{app}"), "one database per service"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert environment(migration_containers()[app])[f"{prefix}DATABASE_URL"] == env[f"{prefix}DATABASE_URL"]


def test_containers_run_unprivileged_with_a_read_only_root():
    for name, svc in platform_containers().items():
        assert svc["user"] == "10001:10001", name
        assert svc["read_only"] is True, name
        assert svc["cap_drop"] == ["ALL"], name


def test_no_secret_is_hard_coded_only_marked_development_defaults():
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    for name, default in re.findall(r"\$\{([A-Z0-9_]*(?:PASSWORD|PASSPHRASE|SECRET)[A-Z0-9_]*):-([^}]*)\}", text):
        assert default.startswith("dev-only-"), f"{name} has a default that is not marked dev-only: {default!r}"
    for svc_name, svc in load_compose()["services"].items():
        for key, value in environment(svc).items():
            if re.search(r"PASSWORD|PASSPHRASE|SECRET", key):
                assert value.startswith("${"), f"{svc_name}.{key} is hard-coded; read it from the environment"
            if key.endswith("DATABASE_URL"):
                assert "${" in value and "_DB_PASSWORD" in value, f"{svc_name}.{key} embeds a literal password"


def test_postgres_gets_one_database_and_one_login_per_app():
    postgres = load_compose()["services"]["postgres"]
    env = environment(postgres)
    assert env["ZONE_DATABASES"].split() == APP_NAMES
    for app in APP_NAMES:
        assert f"{app.upper()}_DB_PASSWORD" in env
        password_var = f"{app.upper()}_DB_PASSWORD"
        url = environment(app_containers()[app])[f"{APP_BY_NAME[app].env_prefix}DATABASE_URL"]
        assert "${" + password_var in url, f"{app} logs in with the password postgres created its role with"
    assert any("init-databases.sh:/docker-entrypoint-initdb.d/" in v for v in postgres["volumes"])
    assert (DEPLOY / "postgres" / "init-databases.sh").exists()


def test_kafka_runs_in_kraft_mode_and_topics_are_created_by_a_one_shot_job():
    services = load_compose()["services"]
    kafka = environment(services["kafka"])
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"] and "broker" in kafka["KAFKA_PROCESS_ROLES"]
    assert "KAFKA_ZOOKEEPER_CONNECT" not in kafka
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come with their partitions and retention"
    job = services["kafka-topics"]
    assert job["restart"] == "no" and "create-topics.sh" in " ".join(job["entrypoint"])
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert (DEPLOY / "kafka" / "create-topics.sh").exists()


def test_topics_cover_every_publisher_with_partitions_and_retention():
    table = topics_table()
    for topic in [*(f"zone.{s}" for s in SERVICE_NAMES), "zone.platform"]:
        assert topic in table, f"{topic} missing from deploy/kafka/topics.txt"
    for topic, (partitions, retention, cleanup) in table.items():
        assert partitions >= 1, topic
        assert retention == -1 or retention >= 24 * 3600 * 1000, f"{topic}: retention shorter than a day"
        assert cleanup in {"delete", "compact", "compact,delete"}, topic


@pytest.mark.parametrize("app", APP_NAMES)
def test_every_consumers_dead_letter_topic_is_created(app):
    definition = definitions().get(app)
    if definition is None:
        pytest.skip(f"{APP_BY_NAME[app].module}.definition is not in this checkout yet")
    table = topics_table()
    # The chassis names groups and dead-letter topics after the settings' service_name.
    service_name = definition.settings_class.model_fields["service_name"].default
    for consumer in definition.consumers:
        topic = f"zone.dlq.{service_name}.{consumer.name}"
        assert topic in table, f"add {topic} to deploy/kafka/topics.txt and deploy/k8s/base/kafka/topics.yaml"
        for source in consumer.services:
            assert f"zone.{source}" in table, f"{app}.{consumer.name} consumes zone.{source}, which is not created"


def test_traces_go_through_the_collector_to_jaeger_and_prometheus_scrapes_every_app():
    import yaml

    collector = yaml.safe_load((DEPLOY / "otel" / "collector.yaml").read_text(encoding="utf-8"))
    pipeline = collector["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    exporter = pipeline["exporters"][0]
    assert collector["exporters"][exporter]["endpoint"].startswith("jaeger:")
    assert "4318" in collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in prometheus["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{spec.default_port}" for name, spec in APP_BY_NAME.items()}
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    expressions = " ".join(r["expr"] for g in alerts["groups"] for r in g["rules"])
    assert "outbox_oldest_unsent_age_seconds" in expressions and "dead_lettered" in expressions

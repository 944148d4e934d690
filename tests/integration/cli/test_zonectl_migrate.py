"""``zonectl migrate`` on real databases: SQLite files, and PostgreSQL when TEST_DATABASE_URL names a
server (the integration tier runs once on each)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator

import pytest

from chassis.cli import APP_PORTS, load_definition
from tests.integration.cli.cli_support import EmptyDatabases, table_names, zonectl

SAMPLE = "tests.support.sample_service.definition"
CHASSIS_TABLES = {"outbox_event", "inbox_event", "dead_letter", "idempotency_key", "audit_log", "alembic_version"}


@pytest.fixture
def empty_databases(tmp_path) -> Iterator[EmptyDatabases]:
    dbs = EmptyDatabases(tmp_path)
    yield dbs
    dbs.drop_all()


def test_migrate_brings_an_empty_database_to_head_and_a_second_run_changes_nothing(empty_databases, capsys):
    url = empty_databases.new("sample")
    code, out, err = zonectl(capsys, "migrate", SAMPLE, "--url", url)
    assert code == 0, err
    assert "migrated to head" in out
    assert {"note", "note_projection"} | CHASSIS_TABLES <= asyncio.run(table_names(url))
    code, _out, err = zonectl(capsys, "migrate", SAMPLE, "--url", url)
    assert code == 0, err


def test_the_printed_url_hides_the_password(empty_databases, capsys):
    if empty_databases.kind != "postgresql":
        pytest.skip("SQLite URLs carry no password")
    url = empty_databases.new("sample")
    with_password = url.replace("://postgres@", "://postgres:not-shown@") if "@" in url else url
    code, out, err = zonectl(capsys, "migrate", SAMPLE, "--url", with_password)
    assert "not-shown" not in out + err
    assert code == 0 or "***" in err


def test_an_unreachable_database_is_one_line_and_exit_3(capsys):
    code, out, err = zonectl(
        capsys, "migrate", SAMPLE, "--url", "postgresql+asyncpg://zone:secret@127.0.0.1:1/zone", "--wait", "0.5"
    )
    assert code == 3
    assert "迁移失败" in err and "secret" not in err
    assert err.strip().splitlines()[-1].startswith("zonectl: sample: 迁移失败")


def test_migrate_all_brings_every_service_to_head_on_the_database_its_settings_name(empty_databases, capsys, monkeypatch):
    installed = [
        name for name, (module, _p, _x) in APP_PORTS.items()
        if importlib.util.find_spec(module) is not None and importlib.util.find_spec(f"{module}.definition") is not None
    ]
    if not installed:
        pytest.skip("no service is in this checkout yet")
    urls = {}
    for name in installed:
        urls[name] = empty_databases.new(name)
        monkeypatch.setenv(f"{APP_PORTS[name][2]}DATABASE_URL", urls[name])
    code, out, err = zonectl(capsys, "migrate", "all")
    assert code == 0, err
    assert [line.split(":")[0] for line in out.strip().splitlines()] == [load_definition(n).name for n in installed]
    for name, url in urls.items():
        assert CHASSIS_TABLES <= asyncio.run(table_names(url)), f"{name}: the chassis's tables come with every service"


def test_a_database_url_for_all_services_at_once_is_refused(capsys):
    code, _out, err = zonectl(capsys, "migrate", "all", "--url", "sqlite+aiosqlite:///x.db")
    assert code == 2 and "each has its own database" in err

"""The investment service's migrations go down and back up on a database that holds data (SQLite,
and PostgreSQL when the tier runs on it): the issue department code is added and removed without
losing the coordination issues."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import Connection, inspect, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from chassis.migrations import alembic_config, upgrade
from services.investment.definition import DEFINITION
from tests.integration.investment.conftest import Inv

BEFORE_DEPARTMENT_CODE = "88f72b138185"


async def _on(url: str, work: Any) -> Any:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _downgrade(url: str, revision: str) -> Any:
    def work(connection: Connection) -> None:
        cfg = alembic_config(DEFINITION.migrations_dir, url, DEFINITION.metadata)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    return work


def _issue_columns(connection: Connection) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns("coordination_issue")}


def _issue_indexes(connection: Connection) -> set[str]:
    return {i["name"] for i in inspect(connection).get_indexes("coordination_issue") if i["name"]}


def _issues(connection: Connection) -> list[tuple[str, str]]:
    return [tuple(r) for r in connection.execute(text("SELECT id, department FROM coordination_issue"))]  # type: ignore[misc]


async def test_the_department_code_migration_goes_down_and_up_keeping_the_issues(service_factory, databases, issuer):
    url = await databases.new_database(DEFINITION)
    svc = await service_factory(DEFINITION, database_url=url, relay_enabled=False, consumers_enabled=False)
    inv = Inv(svc, issuer)
    project = await inv.project()
    r = await inv.client.post(
        f"/projects/{project['id']}/issues",
        json={"title": "施工临时用电接入滞后", "department": "芯谷规划建设局", "department_code": "planning",
              "due_date": "2099-01-01"},
        headers=inv.staff(),
    )
    assert r.status_code == 201, r.text
    await svc.close()  # nothing may hold the table while it is rebuilt

    assert "department_code" in await _on(url, _issue_columns)
    await _on(url, _downgrade(url, BEFORE_DEPARTMENT_CODE))
    assert "department_code" not in await _on(url, _issue_columns)
    assert "ix_coordination_issue_zone_department" not in await _on(url, _issue_indexes)
    assert await _on(url, _issues) == [(r.json()["id"], "芯谷规划建设局")]

    await upgrade(DEFINITION.migrations_dir, url, DEFINITION.metadata)
    assert "department_code" in await _on(url, _issue_columns)
    assert "ix_coordination_issue_zone_department" in await _on(url, _issue_indexes)
    codes = await _on(url, lambda c: c.execute(text("SELECT department_code FROM coordination_issue")).scalars().all())
    assert codes == [None]  # a name is never guessed into a code

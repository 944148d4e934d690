"""Alembic, per service: each service has ``migrations/`` with versions over its own tables and
the chassis's tables. No alembic.ini: the configuration is built here so that the launcher, the
service's start-up (embedded mode), the operator CLI and the tests all run migrations the same way.

Making a new revision after changing a service's tables::

    .venv/bin/python -m chassis.migrations revision approvals -m "add evaluation follow-up"
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from chassis import tables


def alembic_config(migrations_dir: Path, url: str, metadata: MetaData) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["target_metadata"] = [tables.metadata, metadata]
    return cfg


async def upgrade(migrations_dir: Path, url: str, metadata: MetaData, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on the database at ``url``."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_sync, alembic_config(migrations_dir, url, metadata), revision)
    finally:
        await engine.dispose()


def _upgrade_sync(connection: Any, cfg: Config, revision: str) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def run_env() -> None:
    """The body of every service's ``migrations/env.py``."""
    cfg = context.config
    target_metadata = cfg.attributes["target_metadata"]
    connection = cfg.attributes.get("connection")
    opts = {"target_metadata": target_metadata, "render_as_batch": True, "compare_type": True}
    if connection is not None:
        context.configure(connection=connection, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return
    if context.is_offline_mode():
        context.configure(url=cfg.get_main_option("sqlalchemy.url"), literal_binds=True, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def _online() -> None:
        engine = create_async_engine(cfg.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(_configure_and_run, opts)
        await engine.dispose()

    asyncio.run(_online())


def _configure_and_run(connection: Connection, opts: dict[str, Any]) -> None:
    context.configure(connection=connection, **opts)
    with context.begin_transaction():
        context.run_migrations()


def _definition(service: str) -> Any:
    module = importlib.import_module("gateway.definition" if service == "gateway" else f"services.{service}.definition")
    return module.DEFINITION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chassis.migrations", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision against a scratch SQLite database")
    rev.add_argument("service")
    rev.add_argument("-m", "--message", required=True)
    up = sub.add_parser("upgrade", help="apply migrations")
    up.add_argument("service")
    up.add_argument("--url", required=True)
    args = parser.parse_args(argv)
    definition = _definition(args.service)
    if args.command == "upgrade":
        asyncio.run(upgrade(definition.migrations_dir, args.url, definition.metadata))
        return 0
    scratch = Path("var") / f"_revision_{args.service}.db"
    scratch.parent.mkdir(exist_ok=True)
    scratch.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{scratch.resolve()}"
    asyncio.run(upgrade(definition.migrations_dir, url, definition.metadata))
    cfg = alembic_config(definition.migrations_dir, url, definition.metadata)
    command.revision(cfg, message=args.message, autogenerate=True)
    scratch.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

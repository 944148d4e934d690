"""Where the tests find their infrastructure, in this order:

1. URLs in the environment: ``TEST_DATABASE_URL`` (a PostgreSQL server the tests may create
   databases on, e.g. ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``) and
   ``TEST_KAFKA_BOOTSTRAP`` (a Kafka cluster);
2. testcontainers (PostgreSQL, Kafka) when a Docker engine answers;
3. otherwise SQLite files and the embedded Tansu broker on a free loopback port.

Every test gets a fresh, migrated database of its own: a copy of a per-service template (a
``CREATE DATABASE … TEMPLATE`` on PostgreSQL, a file copy on SQLite), so tests never see each
other's rows and can run side by side.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chassis.broker import EmbeddedBroker, free_port
from chassis.migrations import upgrade

RUN_ID = uuid.uuid4().hex[:8]


def docker_available() -> bool:
    if os.environ.get("TEST_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class KafkaInfra:
    def __init__(self) -> None:
        self.bootstrap: str = ""
        self.broker: EmbeddedBroker | None = None
        self._container: Any = None
        self.kind = ""

    def start(self) -> KafkaInfra:
        if os.environ.get("TEST_KAFKA_BOOTSTRAP"):
            self.bootstrap, self.kind = os.environ["TEST_KAFKA_BOOTSTRAP"], "external"
        elif docker_available():
            from testcontainers.kafka import KafkaContainer

            self._container = KafkaContainer().with_kraft().start()
            self.bootstrap, self.kind = self._container.get_bootstrap_server(), "testcontainers"
        else:
            log = Path(tempfile.gettempdir()) / f"tansu-test-{RUN_ID}.log"
            self.broker = EmbeddedBroker(port=free_port(), log_path=log).start()
            self.bootstrap, self.kind = self.broker.bootstrap_servers, "embedded"
        return self

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        if self._container is not None:
            self._container.stop()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class DatabaseInfra:
    """Creates one fresh migrated database per request, from a per-service template."""

    def __init__(self, kind: str | None = None) -> None:
        self.kind = kind or ""
        self.server_url = ""
        self._container: Any = None
        self._templates: dict[str, str] = {}
        self._created: list[str] = []
        self._tmp = Path(tempfile.mkdtemp(prefix=f"zone-test-{RUN_ID}-"))

    def start(self) -> DatabaseInfra:
        if self.kind == "sqlite":
            return self
        if os.environ.get("TEST_DATABASE_URL"):
            self.server_url, self.kind = os.environ["TEST_DATABASE_URL"], "postgresql"
        elif self.kind != "sqlite" and docker_available():
            from testcontainers.postgres import PostgresContainer

            self._container = PostgresContainer("postgres:16-alpine", driver="asyncpg").start()
            self.server_url, self.kind = self._container.get_connection_url(), "postgresql"
        else:
            self.kind = "sqlite"
        return self

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgresql"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        parts = urlsplit(self.server_url.replace("+asyncpg", ""))
        conn = await asyncpg.connect(urlunsplit(parts))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def new_database(self, definition: Any) -> str:
        """A fresh database with the service's migrations applied; returns its async URL."""
        name = definition.name
        if self.is_postgres:
            if name not in self._templates:
                template = f"tmpl_{name}_{RUN_ID}"
                await self._admin(f'DROP DATABASE IF EXISTS "{template}"')
                await self._admin(f'CREATE DATABASE "{template}"')
                await upgrade(definition.migrations_dir, _with_database(self.server_url, template), definition.metadata)
                self._templates[name] = template
                self._created.append(template)
            db = f"t_{name}_{RUN_ID}_{uuid.uuid4().hex[:8]}"
            await self._admin(f'CREATE DATABASE "{db}" TEMPLATE "{self._templates[name]}" STRATEGY FILE_COPY')
            self._created.append(db)
            return _with_database(self.server_url, db)
        if name not in self._templates:
            template_path = self._tmp / f"template_{name}.db"
            await upgrade(definition.migrations_dir, f"sqlite+aiosqlite:///{template_path}", definition.metadata)
            self._templates[name] = str(template_path)
        path = self._tmp / f"{name}_{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self._templates[name], path)
        return f"sqlite+aiosqlite:///{path}"

    def stop(self) -> None:
        if self.is_postgres and self._created:
            async def _drop_all() -> None:
                for db in reversed(self._created):
                    try:
                        await self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                    except Exception:  # a leftover test database is harmless; keep tearing down
                        pass

            asyncio.run(_drop_all())
        if self._container is not None:
            self._container.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

"""Real apps as uvicorn processes on free loopback ports, fresh databases for zonectl to migrate,
and zonectl run the way an operator runs it (its exit code, what it printed)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from chassis import cli
from chassis.broker import free_port

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class AppProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        stop_all([self])


def stop_all(apps: list[AppProcess]) -> None:
    """SIGTERM every app at once, then wait for each (SIGKILL after 15 s)."""
    for app in apps:
        if app.process.poll() is None:
            try:
                os.killpg(app.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for app in apps:
        try:
            app.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(app.process.pid, signal.SIGKILL)
            app.process.wait(5)


def launch_app(factory: str, env: dict[str, str], log: Path) -> AppProcess:
    """``uvicorn <factory> --factory`` on a free port, not yet waited for (see :func:`wait_ready`)."""
    port = free_port()
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "3"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return AppProcess(f"http://127.0.0.1:{port}", process, log)


def wait_ready(apps: list[AppProcess], timeout_s: float = 90.0) -> None:
    """Until every app's /readyz answers 200 (bounded); a failure shows the app's log."""
    pending = list(apps)
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for app in list(pending):
                if app.process.poll() is not None:
                    raise AssertionError(f"{app.url} exited with {app.process.returncode}:\n{app.log.read_text(errors='replace')[-3000:]}")
                try:
                    if client.get(f"{app.url}/readyz").status_code == 200:
                        pending.remove(app)
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                stop_all(apps)
                raise AssertionError(f"not ready in {timeout_s}s:\n{pending[0].log.read_text(errors='replace')[-3000:]}")
            if pending:
                time.sleep(0.2)


def start_app(factory: str, env: dict[str, str], log: Path, timeout_s: float = 60.0) -> AppProcess:
    """``uvicorn <factory> --factory`` on a free port; returns once /readyz answers 200."""
    app = launch_app(factory, env, log)
    wait_ready([app], timeout_s)
    return app


def zonectl(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run zonectl in-process; (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class EmptyDatabases:
    """Empty databases (no migrations: zonectl applies them) on SQLite files or the PostgreSQL server
    named by TEST_DATABASE_URL, matching the integration tier's two runs."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.server = "" if os.environ.get("TEST_DATABASE") == "sqlite" else os.environ.get("TEST_DATABASE_URL", "")
        self.created: list[str] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.server else "sqlite"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(urlunsplit(urlsplit(self.server.replace("+asyncpg", ""))))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def new(self, name: str) -> str:
        if not self.server:
            return f"sqlite+aiosqlite:///{self.tmp / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
        db = f"zonectl_{name}_{uuid.uuid4().hex[:8]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{db}"'))
        self.created.append(db)
        return urlunsplit(urlsplit(self.server)._replace(path=f"/{db}"))

    def drop_all(self) -> None:
        async def _drop() -> None:
            for db in self.created:
                try:
                    await self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                except Exception:  # a leftover scratch database is harmless
                    pass

        if self.created:
            asyncio.run(_drop())


async def table_names(url: str) -> set[str]:
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def app_env(prefix: str, *, database_url: str, bootstrap: str, topic_prefix: str, jwks_json: str | None, **extra: Any) -> dict[str, str]:
    env = {
        f"{prefix}ENVIRONMENT": "test",
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}TOPIC_PREFIX": topic_prefix,
        f"{prefix}TOPIC_PARTITIONS": "1",
        f"{prefix}RUN_MIGRATIONS_ON_START": "false",
        f"{prefix}SEED_DEMO_DATA": "false",
        f"{prefix}RELAY_POLL_INTERVAL_S": "0.2",
        f"{prefix}CONSUMER_RETRY_BACKOFF_S": "0.05",
        f"{prefix}LOG_JSON": "false",
        f"{prefix}LOG_LEVEL": "WARNING",
    }
    if jwks_json is not None:
        env[f"{prefix}JWKS_JSON"] = jwks_json
    env.update({f"{prefix}{k.upper()}": str(v) for k, v in extra.items()})
    return env

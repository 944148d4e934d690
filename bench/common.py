"""What every benchmark shares: where the database and broker come from, and how figures are
reported (always next to a ceiling measured in the same run, since the machine is shared)."""

from __future__ import annotations

import json
import os
import platform
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR", "bench/results"))


def postgres_server_url() -> str | None:
    """``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL``: a PostgreSQL server benchmarks may create databases on."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")


async def fresh_postgres_database(prefix: str) -> str | None:
    server = postgres_server_url()
    if not server:
        return None
    name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(server)
    conn = await asyncpg.connect(urlunsplit(parts._replace(scheme="postgresql")))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


async def drop_postgres_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(scheme="postgresql", path="/postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def tear_down(platform: Any, profile: list[str], workdir: Path, databases: dict[str, str | None]) -> None:
    """Stop a benchmark's platform, say where its profiles are, drop its PostgreSQL databases."""
    import asyncio

    platform.stop()
    for name in profile:
        print(f"profile of {name}: {workdir / f'{name}.prof'}", flush=True)
    for url in databases.values():
        if url:
            asyncio.run(drop_postgres_database(url))


@dataclass
class Report:
    title: str
    figures: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, *, ceiling: float | None = None, target: str = "", note: str = "") -> None:
        row: dict[str, Any] = {"name": name, "value": round(value, 3), "unit": unit}
        if ceiling is not None:
            row["ceiling"] = round(ceiling, 3)
            row["ratio"] = round(value / ceiling, 3) if ceiling else None
        if target:
            row["target"] = target
        if note:
            row["note"] = note
        self.figures.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.title}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(
            json.dumps(
                {"title": self.title, "machine": machine(), "figures": self.figures}, ensure_ascii=False, indent=2
            ),
            encoding="utf-8",
        )
        return path


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

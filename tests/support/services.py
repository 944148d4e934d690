"""Running a service in-process for a test: its real app, lifespan, database and broker.

``await start_service(DEFINITION, db_infra, kafka_infra, issuer)`` gives a :class:`RunningService`
with an httpx client bound to the app (ASGI transport), the service context (database, relay,
consumers) and its settings. Relay and consumers run as tasks on the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from chassis.service import ServiceContext, create_service_app
from chassis.settings import ServiceSettings


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    settings: ServiceSettings
    stack: contextlib.AsyncExitStack

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.stack.aclose()


async def start_service(
    definition: Any,
    database_url: str,
    kafka_bootstrap: str,
    jwks_json: str,
    *,
    topic_prefix: str | None = None,
    **overrides: Any,
) -> RunningService:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
        "topic_prefix": topic_prefix if topic_prefix is not None else f"t{uuid.uuid4().hex[:8]}.",
        "topic_partitions": 1,
        "jwks_json": jwks_json,
        "run_migrations_on_start": False,
        "relay_poll_interval_s": 0.2,
        "consumer_retry_backoff_s": 0.05,
        "log_json": False,
    }
    settings = definition.settings_class(**{**values, **overrides})
    app = create_service_app(definition, settings)
    stack = contextlib.AsyncExitStack()
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    )
    return RunningService(app=app, client=client, settings=settings, stack=stack)


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout_s: float = 20.0, interval_s: float = 0.1, message: str = ""
) -> Any:
    """Retry ``check`` until it returns a truthy value or raises nothing falsy; bounded in time."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        await asyncio.sleep(interval_s)
    raise AssertionError(f"not true within {timeout_s}s: {message or last}")

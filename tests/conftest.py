"""Shared fixtures: infrastructure (see tests/support/infra.py), tokens, in-process services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.support.infra import DatabaseInfra, KafkaInfra
from tests.support.services import RunningService, start_service
from tests.support.tokens import TokenIssuer


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaInfra]:
    infra = KafkaInfra().start()
    yield infra
    infra.stop()


@pytest.fixture(scope="session")
def databases() -> Iterator[DatabaseInfra]:
    infra = DatabaseInfra("sqlite" if os.environ.get("TEST_DATABASE") == "sqlite" else None).start()
    yield infra
    infra.stop()


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
async def service_factory(
    databases: DatabaseInfra, kafka: KafkaInfra, issuer: TokenIssuer
) -> AsyncIterator[Any]:
    """``await service_factory(DEFINITION, **settings_overrides)`` starts a service for this test."""
    running: list[RunningService] = []

    async def _start(definition: Any, *, database_url: str | None = None, **overrides: Any) -> RunningService:
        url = database_url or await databases.new_database(definition)
        svc = await start_service(definition, url, kafka.bootstrap, issuer.jwks_json, **overrides)
        running.append(svc)
        return svc

    yield _start
    for svc in reversed(running):
        await svc.close()

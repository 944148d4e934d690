"""Shared fixtures: infrastructure (see tests/support/infra.py), tokens, in-process services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.support.infra import DatabaseInfra, KafkaInfra
from tests.support.services import RunningService, start_service
from tests.support.tokens import TokenIssuer

# Every tier: no unmasked national ID number in any response, event or log line the platform emits.
pytest_plugins = ["tests.support.pii_plugin"]

# Property tests judge answers, not speed: on a shared 2-core machine Hypothesis's timing checks
# (slow generation, per-example deadline) fail runs whose every example was right.
hypothesis_settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("shared-machine")


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

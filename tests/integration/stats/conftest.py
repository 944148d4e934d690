"""Fixtures of the statistics service's integration tests (helpers live in stats_support.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.stats.stats_support import People, start_stats


@pytest.fixture
async def stats(service_factory: Any) -> Any:
    """The service without relay or consumers (fast), with zones, indicators and rules."""
    return await start_stats(service_factory)


@pytest.fixture
def people(issuer: Any) -> People:
    return People(issuer)

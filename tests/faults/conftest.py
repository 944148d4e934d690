"""The fault tier runs the services as real processes (uvicorn) on loopback, with a real broker.

One platform per module (investment, approvals, stats) keeps the tier quick; each test restores
what it breaks. The services trust the tests' own signing key (``<SERVICE>_JWKS_JSON``), so no
gateway is needed to make tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from chassis.broker import free_port
from chassis.launcher import APPS, Platform
from tests.support.infra import DatabaseInfra
from tests.support.tokens import TokenIssuer

FAULT_APPS = ["investment", "approvals", "hr", "stats"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, issuer: TokenIssuer, databases: DatabaseInfra) -> Iterator[Platform]:
    from services.approvals.definition import DEFINITION as APPROVALS
    from services.hr.definition import DEFINITION as HR
    from services.investment.definition import DEFINITION as INVESTMENT
    from services.stats.definition import DEFINITION as STATS

    var_dir: Path = tmp_path_factory.mktemp("platform")
    database_urls: dict[str, str] = {}
    if databases.is_postgres:
        for definition in (INVESTMENT, APPROVALS, HR, STATS):
            database_urls[definition.name] = asyncio.run(databases.new_database(definition))
    apps = [a for a in APPS if a.name in FAULT_APPS]
    extra_env = {f"{a.env_prefix}JWKS_JSON": issuer.jwks_json for a in apps}
    extra_env |= {f"{a.env_prefix}RELAY_POLL_INTERVAL_S": "0.2" for a in apps}
    extra_env |= {f"{a.env_prefix}RELAY_SEND_TIMEOUT_S": "3" for a in apps}
    platform = Platform(
        var_dir=var_dir,
        ports={a.name: free_port() for a in apps},
        broker_port=free_port(),
        apps=apps,
        seed_demo_data=True,
        database_urls=database_urls,
        extra_env=extra_env,
    )
    platform.start(timeout_s=120)
    try:
        yield platform
    finally:
        platform.stop()


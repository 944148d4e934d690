"""The gateway as its own process in front of a fault-tier module's platform (:mod:`tests.faults.conftest`),
for tests that need the front door: accounts, tokens, webhook subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from chassis.broker import free_port
from chassis.launcher import APPS, Platform
from tests.support.infra import DatabaseInfra

GATEWAY_PASSWORD = "Fault@2026-gateway"


@dataclass
class Gateway:
    """A gateway process in front of the fault tier's services, with an administrator's token and a
    system client's (granted ``client_event_types``), for tests that need the front door."""

    url: str
    admin: str
    system: str
    process: Platform


@contextlib.contextmanager
def gateway_in_front_of(
    platform: Platform, databases: DatabaseInfra, var_dir: Path, extra_env: dict[str, str], *,
    client_event_types: list[str], client_id: str = "fault-subscriber",
) -> Iterator[Gateway]:
    """Start the gateway as its own process on the platform's broker (no second broker), log in as
    its administrator and register one system client."""
    from gateway.definition import DEFINITION

    spec = next(a for a in APPS if a.name == "gateway")
    database_urls = {"gateway": asyncio.run(databases.new_database(DEFINITION))} if databases.is_postgres else {}
    front = Platform(
        var_dir=var_dir,
        ports={**platform.ports, "gateway": free_port()},
        kafka_bootstrap=platform.bootstrap,
        apps=[spec],
        seed_demo_data=True,
        database_urls=database_urls,
        extra_env={
            "ZONE_ADMIN_USERNAME": "admin", "ZONE_ADMIN_PASSWORD": GATEWAY_PASSWORD,
            "GATEWAY_DEMO_PASSWORD": GATEWAY_PASSWORD, "GATEWAY_KEY_PASSPHRASE": "fault-tier",
            # Cheap password hashing: the tier measures faults, not argon2.
            "GATEWAY_ARGON2_TIME_COST": "1", "GATEWAY_ARGON2_MEMORY_KIB": "8192", "GATEWAY_ARGON2_PARALLELISM": "1",
            "GATEWAY_RELAY_POLL_INTERVAL_S": "0.2",
            **extra_env,
        },
    )
    try:
        front.start(timeout_s=120)
        url = front.url("gateway")
        with httpx.Client(base_url=url, timeout=30) as client:
            login = client.post(
                "/auth/token", data={"grant_type": "password", "username": "admin", "password": GATEWAY_PASSWORD}
            )
            assert login.status_code == 200, login.text
            admin = f"Bearer {login.json()['access_token']}"
            created = client.post("/admin/clients", headers={"Authorization": admin}, json={
                "client_id": client_id, "name": "故障演练订阅方", "event_types": client_event_types,
            })
            assert created.status_code == 201, created.text
            token = client.post("/auth/token", data={
                "grant_type": "client_credentials", "client_id": client_id,
                "client_secret": created.json()["client_secret"],
            })
            assert token.status_code == 200, token.text
        yield Gateway(url, admin, f"Bearer {token.json()['access_token']}", front)
    finally:
        front.stop()

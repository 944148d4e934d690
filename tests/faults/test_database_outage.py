"""A database outage: requests get 503 with Retry-After (never a 500 or a hang), and the service
recovers by itself once the database is back. The outage is a cut TCP proxy in front of the
machine's PostgreSQL, so the server other tests share keeps running."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.sample_service.definition import DEFINITION
from tests.support.tcpproxy import TcpProxy
from tests.support.validators import VALID_USCC

WRITER = {"roles": ("notes",)}


def via_proxy(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    creds = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{creds}127.0.0.1:{proxy.port}"))


async def test_requests_get_503_during_a_database_outage_and_the_service_recovers_within_10s(
    service_factory, databases, issuer
):
    if not databases.is_postgres:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    url = await databases.new_database(DEFINITION)
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    try:
        svc = await service_factory(DEFINITION, database_url=via_proxy(url, proxy), relay_enabled=False, consumers_enabled=False)
        body = {"zone_id": "zone-a", "title": "停电前", "owner_uscc": VALID_USCC}
        assert (await svc.client.post("/notes", json=body, headers=issuer.staff(**WRITER))).status_code == 201

        proxy.cut()
        for _ in range(5):
            started = time.monotonic()
            r = await asyncio.wait_for(svc.client.post("/notes", json=body, headers=issuer.staff(**WRITER)), 10)
            assert time.monotonic() - started < 6, "a request hung during the outage"
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert int(r.headers["Retry-After"]) > 0
        ready = await svc.client.get("/readyz")
        assert ready.status_code == 503

        proxy.restore()
        deadline = time.monotonic() + 10
        while True:
            r = await svc.client.post("/notes", json=body, headers=issuer.staff(**WRITER))
            if r.status_code == 201:
                break
            assert r.status_code == 503, r.text
            assert time.monotonic() < deadline, "not recovered within 10 s"
            await asyncio.sleep(0.2)
        assert (await svc.client.get("/readyz")).status_code == 200
    finally:
        proxy.stop()

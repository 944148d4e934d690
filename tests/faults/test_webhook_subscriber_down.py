"""A government system's webhook endpoint that is down, then failing, then back: every event still
reaches it, signed, after retries with backoff, dead letters and redelivery.

The events are real: funds in place filed through the investment service (one
``zone.investment.funds.recorded.v1`` per filing), relayed through the broker to the gateway process,
which delivers them to a receiver on loopback. The receiver is first not listening at all (connection
refused) for long enough that every delivery exhausts its attempts and is dead-lettered; then it
answers 503 while more events arrive, so those are retried; then it recovers. The subscriber
redelivers its dead letters through the API, and in the end each event has been accepted (2xx) by the
receiver: none lost, and each delivery id, which a receiver deduplicates on, accepted once per event.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from chassis.launcher import Platform
from tests.faults.funds import ZONE, Filings
from tests.faults.gateway_process import Gateway, gateway_in_front_of
from tests.support.infra import DatabaseInfra
from tests.support.tokens import TokenIssuer
from tests.support.webhooks import Receiver, signature_is_valid

FUNDS_RECORDED = "zone.investment.funds.recorded.v1"
MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 0.5  # then 1 s, 2 s: a dead letter after about 3.5 s


@pytest.fixture(scope="module")
def gateway(platform: Platform, databases: DatabaseInfra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    webhooks = {
        "GATEWAY_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "GATEWAY_WEBHOOK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "GATEWAY_WEBHOOK_BACKOFF_BASE_S": str(BACKOFF_BASE_S),
        "GATEWAY_WEBHOOK_POLL_INTERVAL_S": "0.2",
        "GATEWAY_WEBHOOK_TIMEOUT_S": "3",
    }
    with gateway_in_front_of(platform, databases, tmp_path_factory.mktemp("gateway"), webhooks,
                             client_event_types=[FUNDS_RECORDED]) as front:
        yield front


async def until(check: Callable[[], Awaitable[Any]], *, timeout_s: float, message: str | Callable[[], str]) -> Any:
    """``check()``'s first truthy answer within ``timeout_s``; the message may be computed at failure."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if answer := await check():
            return answer
        await asyncio.sleep(0.3)
    raise AssertionError(f"{message() if callable(message) else message} within {timeout_s:.0f}s")


class Subscriber:
    """The government system's view through the gateway: its subscription and delivery log."""

    def __init__(self, client: httpx.AsyncClient, gateway: Gateway) -> None:
        self.client, self.auth, self.id, self.secret = client, {"Authorization": gateway.system}, "", ""

    async def subscribe(self, callback_url: str, project_id: str) -> None:
        # One project's funds: the demo data's own funds events, which the gateway may still be reading
        # when the subscription is made, are not this test's to count.
        r = await self.client.post("/api/subscriptions", headers=self.auth, json={
            "callback_url": callback_url, "event_types": [FUNDS_RECORDED],
            "filters": {"zoneid": ZONE, "data": {"project_id": project_id}},
        })
        assert r.status_code == 201, r.text
        self.id, self.secret = r.json()["id"], r.json()["secret"]

    async def deliveries(self, status: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "size": 100} | ({"status": status} if status else {})
            r = await self.client.get(f"/api/subscriptions/{self.id}/deliveries", headers=self.auth, params=params)
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            if len(items) >= r.json()["total"] or not r.json()["items"]:
                return items
            page += 1

    async def redeliver(self, delivery_id: str) -> httpx.Response:
        return await self.client.post(
            f"/api/subscriptions/{self.id}/deliveries/{delivery_id}/redeliver", headers=self.auth
        )


async def test_a_subscriber_down_for_several_retry_rounds_receives_every_event_once_it_recovers(
    platform: Platform, issuer: TokenIssuer, gateway: Gateway
) -> None:
    receiver = Receiver()  # nothing listens on its port yet: the subscriber is down
    async with httpx.AsyncClient() as investment, httpx.AsyncClient(base_url=gateway.url, timeout=30) as front:
        filings = Filings(platform, issuer)
        await filings.create_project(investment)
        subscriber = Subscriber(front, gateway)
        await subscriber.subscribe(receiver.url, filings.project_id)

        # 1. Down: every delivery is tried MAX_ATTEMPTS times (connection refused), then dead-lettered.
        await filings.file(investment, rate=5, seconds=2)
        while_down = filings.ok
        assert while_down >= 5 and filings.failures == [], filings.failures[:5]

        statuses: Counter[str] = Counter()

        async def all_dead() -> list[dict[str, Any]] | None:
            listed = await subscriber.deliveries()
            statuses.clear()
            statuses.update(d["status"] for d in listed)
            return [d for d in listed if d["status"] == "dead"] if statuses["dead"] == while_down else None

        dead = await until(all_dead, timeout_s=60,
                           message=lambda: f"{while_down} deliveries were not all dead-lettered ({dict(statuses)})")
        for letter in dead:
            assert letter["attempts"] == MAX_ATTEMPTS and letter["last_status_code"] is None, letter
            assert "Connect" in (letter["last_error"] or ""), letter["last_error"]

        # 2. Up but failing: new events are attempted and answered 503, so they wait for a retry.
        receiver.status = 503
        await receiver.start()
        try:
            # A short burst: its deliveries must still be retrying (not yet dead, 3.5 s after their first
            # attempt) when the checks below look at them.
            await filings.file(investment, rate=10, seconds=0.5)
            while_failing = filings.ok - while_down
            assert while_failing >= 3 and filings.failures == [], filings.failures[:5]

            async def retried() -> bool:
                tries = Counter(d["headers"]["webhook-id"] for d in receiver.deliveries if d["status"] == 503)
                return len(tries) == while_failing and min(tries.values()) >= 2

            await until(retried, timeout_s=60, message="the failing subscriber's deliveries were not retried")
            retrying = await subscriber.deliveries("retrying")
            assert retrying, "no delivery was waiting for a retry while the subscriber answered 503"
            assert all(d["last_status_code"] == 503 for d in retrying)

            # Backoff: each delivery's attempts are spaced at least base, 2·base, … apart.
            by_id: dict[str, list[float]] = {}
            for d in receiver.deliveries:
                by_id.setdefault(d["headers"]["webhook-id"], []).append(d["at"])
            for times in by_id.values():
                gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
                for n, gap in enumerate(gaps):
                    assert gap >= BACKOFF_BASE_S * 2**n * 0.9, (n, gaps)

            # 3. Recovered: retries now succeed on their own; the subscriber redelivers its dead letters
            #    (a 503-phase delivery whose last attempt came just before the recovery may be one of them).
            receiver.status = 204
            redelivered: set[str] = set()

            async def all_delivered() -> list[dict[str, Any]] | None:
                listed = await subscriber.deliveries()
                for d in listed:
                    if d["status"] == "dead" and d["id"] not in redelivered:
                        r = await subscriber.redeliver(d["id"])
                        assert r.status_code == 200 and r.json()["status"] == "pending", r.text
                        redelivered.add(d["id"])
                return listed if all(d["status"] == "delivered" for d in listed) else None

            listed = await until(all_delivered, timeout_s=90, message="not every delivery was delivered")
        finally:
            await receiver.stop()

    # Nothing lost: one delivery per filing, each accepted by the receiver, properly signed.
    assert len(listed) == filings.ok == while_down + while_failing
    assert len({d["event_id"] for d in listed}) == filings.ok
    accepted = [d for d in receiver.deliveries if d["status"] == 204]
    assert {d["headers"]["webhook-id"] for d in accepted} == {d["id"] for d in listed}
    assert {d["json"]["id"] for d in accepted} == {d["event_id"] for d in listed}
    assert all(d["json"]["type"] == FUNDS_RECORDED and d["json"]["zoneid"] == ZONE for d in accepted)
    assert all(signature_is_valid(subscriber.secret, d["headers"], d["body"]) for d in receiver.deliveries)
    # Nothing doubled: a delivery accepted once is not sent again.
    assert max(Counter(d["headers"]["webhook-id"] for d in accepted).values()) == 1
    assert {d["id"] for d in dead} <= redelivered
    assert all(d["redeliveries"] == (1 if d["id"] in redelivered else 0) for d in listed)

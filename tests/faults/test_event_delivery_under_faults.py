"""Nothing is lost and nothing counts twice when the broker or a consumer fails.

The producer is the investment service (funds in place, 实际到位资金, recorded through its API);
the consumer is the statistics service, whose derived indicator 实际到位市外内资 for the zone and
month is the sum of every funds event it applied. Each filing is 1 万元, so the indicator counts
the events applied: exactly the number of successful filings means each applied once.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta

import httpx

from chassis.broker import EmbeddedBroker
from chassis.launcher import Platform
from tests.faults.funds import ZONE, Filings, period
from tests.support.tokens import TokenIssuer

INDICATOR = "funds_domestic_outside_city"


async def applied_funds(client: httpx.AsyncClient, platform: Platform, issuer: TokenIssuer) -> float:
    r = await client.get(
        f"{platform.url('stats')}/zones/{ZONE}/summary",
        params={"period": period()},
        headers=issuer.staff(None, roles=("leader",), subject="fault.leader"),
    )
    assert r.status_code == 200, r.text
    row = next(i for i in r.json()["indicators"] if i["code"] == INDICATOR)
    return float(row["value"] or 0)


async def wait_for_total(client, platform, issuer, expected: float, timeout_s: float = 90) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    value = await applied_funds(client, platform, issuer)
    while value != expected and time.monotonic() < deadline:
        assert value < expected, f"applied {value} > filed {expected}: an event counted twice"
        await asyncio.sleep(0.5)
        value = await applied_funds(client, platform, issuer)
    return value


async def outbox_backlog(client: httpx.AsyncClient, platform: Platform, issuer: TokenIssuer) -> int:
    r = await client.get(f"{platform.url('investment')}/admin/outbox", headers=issuer.admin())
    return int(r.json()["backlog"])


async def test_broker_down_for_30s_under_steady_filings_loses_nothing_and_counts_each_once(platform, issuer):
    async with httpx.AsyncClient() as client:
        filings = Filings(platform, issuer)
        await filings.create_project(client)
        baseline = await applied_funds(client, platform, issuer)

        await filings.file(client, rate=10, seconds=3)
        assert platform.broker is not None
        platform.broker.pause()
        try:
            await filings.file(client, rate=10, seconds=30)
            backlog_during = await outbox_backlog(client, platform, issuer)
        finally:
            platform.broker.resume()
        await filings.file(client, rate=10, seconds=3)

        assert filings.failures == [], filings.failures[:5]
        assert backlog_during > 0, "the outbox did not grow while the broker was down"
        total = await wait_for_total(client, platform, issuer, baseline + filings.ok)
        assert total == baseline + filings.ok
        deadline = time.monotonic() + 30
        while await outbox_backlog(client, platform, issuer) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        assert await outbox_backlog(client, platform, issuer) == 0


async def test_a_consumer_killed_mid_batch_and_restarted_loses_nothing_and_applies_nothing_twice(platform, issuer):
    async with httpx.AsyncClient() as client:
        filings = Filings(platform, issuer)
        await filings.create_project(client)
        baseline = await applied_funds(client, platform, issuer)

        load = asyncio.gather(*(filings.file(client, rate=10, seconds=8) for _ in range(4)))
        await asyncio.sleep(3)
        platform.stop_app("stats", sig=signal.SIGKILL)
        await asyncio.sleep(1)
        stats = next(a for a in platform.apps if a.name == "stats")
        platform.start_app(stats)
        await load
        await asyncio.to_thread(platform.wait_ready, 60, ["stats"])

        assert filings.failures == [], filings.failures[:5]
        assert filings.ok > 50, "too little load to catch the consumer mid-batch"
        assert await wait_for_total(client, platform, issuer, baseline + filings.ok) == baseline + filings.ok


async def test_a_restarted_embedded_broker_is_refilled_by_an_operator_replay_with_nothing_applied_twice(platform, issuer):
    async with httpx.AsyncClient() as client:
        filings = Filings(platform, issuer)
        await filings.create_project(client)
        since = datetime.now(UTC) - timedelta(seconds=5)
        before = await applied_funds(client, platform, issuer)
        await filings.file(client, rate=20, seconds=2)
        first_phase = filings.ok
        applied = await wait_for_total(client, platform, issuer, before + first_phase)
        assert applied == before + first_phase

        # The consumer is away while more events are published; then the broker loses its memory.
        platform.stop_app("stats")
        await filings.file(client, rate=20, seconds=2)
        second_phase = filings.ok - first_phase
        deadline = time.monotonic() + 30
        while await outbox_backlog(client, platform, issuer) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert platform.broker is not None
        port = platform.broker.port
        platform.broker.stop()
        platform.broker = EmbeddedBroker(port=port, log_path=platform.var_dir / "log" / "broker-2.log").start()
        stats = next(a for a in platform.apps if a.name == "stats")
        platform.start_app(stats)
        await asyncio.to_thread(platform.wait_ready, 60, ["stats"])
        await asyncio.sleep(3)
        assert await applied_funds(client, platform, issuer) == applied, "events arrived without a replay"

        replay = await client.post(
            f"{platform.url('investment')}/admin/outbox/replay", json={"since": since.isoformat()}, headers=issuer.admin()
        )
        assert replay.status_code == 200, replay.text
        assert replay.json()["replayed"] >= filings.ok + 1  # the project's own events too
        # The second phase is applied once; the first phase's redelivered events change nothing.
        total = await wait_for_total(client, platform, issuer, applied + second_phase)
        assert filings.failures == []
        assert total == applied + second_phase

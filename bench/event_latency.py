"""Event latency (commit → handled by a consumer) at a steady rate, and the relay's drain rate of
a large backlog, each against a ceiling measured in the same run.

Laid out as deployed: the producing side (transactions writing outbox rows, and the relay) runs in
this process; the consuming side runs in a process of its own with its own database, as another
service would. The latency ceiling is a bare aiokafka producer → bare aiokafka consumer pair at the
same rate over the same broker, with the same fetch wait: what the broker and the client allow
before any of the platform's own work. The drain ceiling is one aiokafka producer pushing the same
messages.

Targets (issue 9): p99 ≤ 250 ms at 200 events/s; drain ≥ 5,000 events/s.

``python -m bench.event_latency`` runs it; ``consume`` is the consuming side's entry point.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import insert

from bench.common import Report, drop_postgres_database, fresh_postgres_database
from chassis.broker import EmbeddedBroker, free_port
from chassis.consumer import ConsumerSpec, EventConsumer
from chassis.db import Database
from chassis.events import CloudEvent
from chassis.kafka import Publisher, ensure_topics
from chassis.migrations import upgrade
from chassis.outbox import OutboxRelay, record_event
from chassis.settings import ServiceSettings
from chassis.tables import outbox_event
from tests.support.sample_service.definition import DEFINITION, NOTE_CREATED, NoteCreated

WAIT_FOR_CONSUMER_S = 60


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def _settings(url: str, bootstrap: str, prefix: str) -> ServiceSettings:
    return DEFINITION.settings_class(
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=prefix,
        topic_partitions=3,
        relay_poll_interval_s=0.05,
        relay_batch_size=2000,
    )


# ---- the consuming side (its own process) -------------------------------------------------------


async def consume(mode: str, bootstrap: str, prefix: str, url: str, expect: int, deadline_s: float) -> None:
    """Print ``ready`` once a warm-up message arrived, then one JSON list of latencies (s)."""
    latencies: list[float] = []
    ready = False

    def seen(sent_at: float, warm: bool) -> None:
        nonlocal ready
        if warm:
            if not ready:
                ready = True
                print("ready", flush=True)
            return
        latencies.append(time.time() - sent_at)

    settings = _settings(url, bootstrap, prefix)
    deadline = time.monotonic() + deadline_s
    if mode == "bare":
        consumer = AIOKafkaConsumer(
            settings.topic("bare"),  # a topic of its own: the chassis consumer would dead-letter these
            bootstrap_servers=bootstrap,
            group_id=f"{prefix}bare",
            auto_offset_reset="latest",
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            while len(latencies) < expect and time.monotonic() < deadline:
                for messages in (await consumer.getmany(timeout_ms=500, max_records=200)).values():
                    for m in messages:
                        body = json.loads(m.value)
                        seen(body["t"], body.get("warm", False))
        finally:
            await consumer.stop()
    else:
        db = Database(url)
        publisher = Publisher(settings)

        async def on_created(_session: Any, event: CloudEvent) -> None:
            seen(event.time.timestamp(), event.subject == "warm")

        consumer_ = EventConsumer(
            ConsumerSpec(name="bench", services=["sample"], handlers={NOTE_CREATED.name: on_created}),
            db=db, settings=settings, publisher=publisher,
        )
        task = asyncio.create_task(consumer_.run())
        try:
            while len(latencies) < expect and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            consumer_.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await publisher.close()
            await db.dispose()
    print(json.dumps(latencies), flush=True)


# ---- the producing side (this process) ----------------------------------------------------------


class ConsumerProcess:
    def __init__(self, mode: str, bootstrap: str, prefix: str, url: str, expect: int) -> None:
        self.args = [
            sys.executable, "-m", "bench.event_latency", "consume", "--mode", mode, "--bootstrap", bootstrap,
            "--prefix", prefix, "--database-url", url, "--expect", str(expect), "--deadline", "120",
        ]
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(*self.args, stdout=asyncio.subprocess.PIPE)

    async def wait_ready(self, send_warm: Any) -> None:
        assert self.proc and self.proc.stdout
        line_task = asyncio.ensure_future(self.proc.stdout.readline())
        deadline = time.monotonic() + WAIT_FOR_CONSUMER_S
        while not line_task.done():
            if time.monotonic() > deadline:
                line_task.cancel()
                raise RuntimeError("the consumer process did not join its group in time")
            await send_warm()
            await asyncio.wait([line_task], timeout=0.2)
        if line_task.result().strip() != b"ready":
            raise RuntimeError(f"unexpected consumer output: {line_task.result()!r}")
        await asyncio.sleep(1.0)  # let the last warm-ups drain before measuring

    async def latencies(self) -> list[float]:
        assert self.proc and self.proc.stdout
        line = await asyncio.wait_for(self.proc.stdout.readline(), 150)
        await self.proc.wait()
        return [float(v) for v in json.loads(line)]

    def kill(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.kill()


async def at_rate(rate: int, total: int, send: Any) -> float:
    """Call ``send(i)`` ``total`` times on a fixed schedule; return the rate achieved."""
    interval = 1.0 / rate
    start = time.perf_counter()
    for i in range(total):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(i)
    return total / (time.perf_counter() - start)


def add_latency(report: Report, label: str, offered: float, latencies: list[float], total: int, ceiling: list[float] | None) -> None:
    report.add(f"{label}: events offered", offered, "events/s", target="200/s")
    report.add(f"{label}: events handled", len(latencies), "events", ceiling=total)
    if not latencies:
        return
    p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
    if ceiling:
        report.add(f"{label}: latency p50", p50, "ms", ceiling=statistics.median(ceiling) * 1000, note="ceiling = bare client pair")
        report.add(
            f"{label}: latency p99", p99, "ms", ceiling=percentile(ceiling, 0.99) * 1000, target="≤ 250 ms",
            note="ceiling = bare client pair, same rate, same fetch wait",
        )
    else:
        report.add(f"{label}: latency p50", p50, "ms")
        report.add(f"{label}: latency p99", p99, "ms", target="≤ 250 ms")


async def main(rate: int = 200, seconds: float = 10.0, backlog: int = 50_000) -> Report:
    report = Report("event-latency")
    tmp = Path(tempfile.mkdtemp(prefix="bench-events-"))
    broker = EmbeddedBroker(port=free_port(), log_path=tmp / "broker.log").start()
    pg_url = await fresh_postgres_database("events")
    pg_consumer_url = await fresh_postgres_database("events_consumer")
    url = pg_url or f"sqlite+aiosqlite:///{tmp / 'events.db'}"
    consumer_url = pg_consumer_url or f"sqlite+aiosqlite:///{tmp / 'consumer.db'}"
    report.add("database", 0, "postgresql" if pg_url else "sqlite")
    for u in (url, consumer_url):
        await upgrade(DEFINITION.migrations_dir, u, DEFINITION.metadata)
    prefix = f"b{uuid.uuid4().hex[:6]}."
    settings = _settings(url, broker.bootstrap_servers, prefix)
    await ensure_topics(settings, [settings.topic("sample"), settings.topic("bare")])
    db = Database(url)
    publisher = Publisher(settings)
    relay = OutboxRelay(db, publisher, settings)
    db.session_info.update(topic_prefix=settings.topic_prefix, on_outbox_commit=relay.notify)
    total = int(rate * seconds)
    processes: list[ConsumerProcess] = []
    try:
        # 1. The ceiling: a bare producer → a bare consumer in another process.
        bare = ConsumerProcess("bare", broker.bootstrap_servers, prefix, consumer_url, total)
        processes.append(bare)
        await bare.start()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=2)
        await producer.start()

        async def bare_send(i: int, warm: bool = False) -> None:
            body = json.dumps({"t": time.time(), "warm": warm}).encode()
            await producer.send(settings.topic("bare"), body, key=f"k{i % 97}".encode())

        await bare.wait_ready(lambda: bare_send(0, warm=True))
        offered = await at_rate(rate, total, bare_send)
        ceiling = await bare.latencies()
        await producer.stop()
        add_latency(report, "bare clients", offered, ceiling, total, None)

        # 2. The platform: commit (outbox row) → relay → broker → chassis consumer (inbox) in another process.
        relay_task = asyncio.create_task(relay.run())
        platform = ConsumerProcess("chassis", broker.bootstrap_servers, prefix, consumer_url, total)
        processes.append(platform)
        await platform.start()

        async def commit_event(i: int, subject: str | None = None) -> None:
            async with db.session() as s:
                await record_event(
                    s, NOTE_CREATED, NoteCreated(note_id=f"n{i}", zone_id="z", title="t"),
                    subject=subject or f"n{i}", zone_id="z",
                )
                await s.commit()

        await platform.wait_ready(lambda: commit_event(0, subject="warm"))
        offered = await at_rate(rate, total, commit_event)
        latencies = await platform.latencies()
        add_latency(report, "platform", offered, latencies, total, ceiling)
        relay.stop()
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)

        # 3. Drain: write a backlog in bulk, then time the relay emptying it.
        now = datetime.now(UTC)
        payload = json.dumps({"note_id": "x", "zone_id": "z", "title": "t"})
        async with db.session() as s:
            for chunk in range(0, backlog, 5000):
                await s.execute(
                    insert(outbox_event),
                    [
                        {
                            "event_id": str(uuid.uuid4()), "topic": settings.topic("sample"), "key": f"k{i % 97}",
                            "type": NOTE_CREATED.name, "source": "/zone-platform/sample", "subject": f"k{i % 97}",
                            "zone_id": "z", "time": now, "data": payload, "created_at": now,
                        }
                        for i in range(chunk, min(backlog, chunk + 5000))
                    ],
                )
            await s.commit()
        relay2 = OutboxRelay(db, Publisher(settings), settings)
        start = time.perf_counter()
        drained = 0
        while drained < backlog:
            n = await relay2.publish_batch()
            if n <= 0:  # drained (0), or another relay holds the lock (BUSY: none here)
                break
            drained += n
        drain_s = time.perf_counter() - start
        await relay2.publisher.close()

        # Ceiling: one producer pushing the same number of messages of the same shape, no database.
        event = CloudEvent(type=NOTE_CREATED.name, source="/zone-platform/sample", subject="k", data={"note_id": "x"})
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=2, max_batch_size=256 * 1024)
        await producer.start()
        start = time.perf_counter()
        futures = [
            await producer.send(settings.topic("sample"), event.kafka_value(), key=f"k{i % 97}".encode(), headers=event.kafka_headers())
            for i in range(backlog)
        ]
        await asyncio.gather(*futures)
        ceiling_s = time.perf_counter() - start
        await producer.stop()
        report.add(
            "relay drain", drained / drain_s, "events/s", ceiling=backlog / ceiling_s, target="≥ 5,000 events/s",
            note=f"{drained} events in {drain_s:.1f}s; ceiling = bare producer, same messages",
        )
    finally:
        for p in processes:
            p.kill()
        await publisher.close()
        await db.dispose()
        broker.stop()
        for u in (pg_url, pg_consumer_url):
            if u:
                await drop_postgres_database(u)
    return report


def cli() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.event_latency")
    sub = parser.add_subparsers(dest="command")
    c = sub.add_parser("consume", help="the consuming side (started by the benchmark itself)")
    c.add_argument("--mode", choices=["bare", "chassis"], required=True)
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--prefix", required=True)
    c.add_argument("--database-url", required=True)
    c.add_argument("--expect", type=int, required=True)
    c.add_argument("--deadline", type=float, default=120)
    run = sub.add_parser("run", help="the benchmark (the default)")
    run.add_argument("--rate", type=int, default=200)
    run.add_argument("--seconds", type=float, default=10.0)
    run.add_argument("--backlog", type=int, default=50_000)
    args = parser.parse_args()
    if args.command == "consume":
        asyncio.run(consume(args.mode, args.bootstrap, args.prefix, args.database_url, args.expect, args.deadline))
        return 0
    rate, seconds, backlog = (args.rate, args.seconds, args.backlog) if args.command == "run" else (200, 10.0, 50_000)
    print(asyncio.run(main(rate, seconds, backlog)).write(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli())

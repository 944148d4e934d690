"""Transactional outbox: events are rows written with the state change, published by a relay.

Domain code calls :func:`record_event` on the session it is already using; nothing is sent until
that session commits, and nothing is lost if the process dies right after. :class:`OutboxRelay`
claims unsent rows in order, enqueues them all on the producer, awaits the acknowledgements
together and marks only the acknowledged ones sent. On PostgreSQL, where several replicas each run a
relay, a batch is sent under a transaction-scoped advisory lock: one replica's batch at a time, so
events leave in outbox order (per aggregate, as consumers apply them) however many replicas there
are, and a replica that dies mid-batch releases the lock with its connection. On SQLite (one process)
the rows are read, sent and marked in separate short transactions so the broker never holds the
database's write lock. When the broker is down, requests keep committing, the rows wait, and the
relay retries with backoff. Sent rows are kept: :meth:`OutboxRelay.replay` republishes a time range
for a new subscriber or after the embedded broker lost its memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.db import Database
from chassis.events import CloudEvent, EventType
from chassis.kafka import Publisher
from chassis.settings import ServiceSettings
from chassis.tables import outbox_event
from chassis.telemetry import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
    current_trace_headers,
    tracer,
)

log = logging.getLogger("chassis.outbox")

_INSERT = insert(outbox_event)
#: The advisory lock a relay holds while it sends a batch (advisory locks are per database, and each
#: service has its own). The number is arbitrary; it only has to be the same on every replica.
RELAY_LOCK_KEY = 0x7A6F6E65  # "zone"
#: How soon a relay tries again when another replica holds the lock (that one may be mid-batch
#: with events this replica committed, so waiting a whole poll interval would add latency).
BUSY_RETRY_S = 0.05
#: ``publish_batch``'s answer when another replica is sending.
BUSY = -1


async def record_event(
    session: AsyncSession,
    event_type: EventType,
    data: BaseModel | dict[str, Any],
    *,
    subject: str,
    zone_id: str | None,
    key: str | None = None,
    topic_prefix: str | None = None,
) -> CloudEvent:
    """Write an event into the outbox inside the caller's transaction and return it.

    ``data`` is validated against the event type's model, so nothing that breaks the published
    schema can be written. ``key`` defaults to ``subject`` (the aggregate id): events of one
    aggregate stay in order on one partition.
    """
    model = data if isinstance(data, BaseModel) else event_type.model.model_validate(data)
    if not isinstance(model, event_type.model):
        model = event_type.model.model_validate(model.model_dump())
    payload = model.model_dump(mode="json")
    trace_headers = current_trace_headers()
    prefix = topic_prefix if topic_prefix is not None else session.info.get("topic_prefix", "")
    event = CloudEvent(
        type=event_type.name,
        source=f"/zone-platform/{event_type.service}",
        subject=subject,
        data=payload,
        zoneid=zone_id,
        traceparent=trace_headers.get("traceparent"),
        tracestate=trace_headers.get("tracestate"),
    )
    # A statement built once, values bound per call: ``.values(...)`` would coerce each value into the
    # statement and key the compiled cache on it, per request.
    await session.execute(
        _INSERT,
        {
            "event_id": event.id,
            "topic": f"{prefix}zone.{event_type.service}",
            "key": key or subject,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "zone_id": zone_id,
            "time": event.time,
            "data": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            "traceparent": event.traceparent,
            "tracestate": event.tracestate,
            "created_at": event.time,
        },
    )
    session.info["outbox_pending"] = True
    return event


def _kafka_headers(row: Any, span: trace.Span) -> list[tuple[str, bytes]]:
    """Binary-mode headers for a stored row, with the producer span as the trace parent."""
    ctx = span.get_span_context()
    if ctx.is_valid:
        traceparent = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"
    else:
        traceparent = row.traceparent
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", row.event_id.encode()),
        ("ce_source", row.source.encode()),
        ("ce_type", row.type.encode()),
        ("ce_time", _aware(row.time).isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    if row.subject is not None:
        headers.append(("ce_subject", row.subject.encode()))
    if row.zone_id is not None:
        headers.append(("ce_zoneid", row.zone_id.encode()))
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    if row.tracestate:
        headers.append(("tracestate", row.tracestate.encode()))
    return headers


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class OutboxRelay:
    """Publishes outbox rows to Kafka, at least once, in order per key."""

    def __init__(self, db: Database, publisher: Publisher, settings: ServiceSettings) -> None:
        self.db = db
        self.publisher = publisher
        self.settings = settings
        self.service = settings.service_name
        self._wake = asyncio.Event()
        self._stopping = False
        self.published_total = 0
        #: Why the last publish attempt failed, until one succeeds. ``/readyz`` reports it: the broker's
        #: port may answer while every send fails (a TLS or SASL refusal, a missing ACL).
        self.last_failure: str | None = None

    def notify(self) -> None:
        """Called after a commit that wrote events: publish now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                sent = await self.publish_batch()
                backoff = 0.2
                self.last_failure = None
                if sent == BUSY:
                    await self._sleep(BUSY_RETRY_S)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_failure = f"{type(exc).__name__}: {exc}"[:300]
                OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                log.warning("outbox relay: publish failed (%s); retrying in %.1fs", exc, backoff)
                await self.publisher.reset()
                # A plain sleep: commits keep ringing the wake-up bell while the broker is away,
                # and answering each ring would turn the backoff into a busy loop.
                await asyncio.sleep(backoff)
                self._wake.clear()
                backoff = min(backoff * 2, 5.0)
                continue
            if sent >= self.settings.relay_batch_size:
                continue  # more is waiting
            if sent == 0:
                await self._refresh_backlog_metrics()
            await self._sleep(self.settings.relay_poll_interval_s)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def publish_batch(self) -> int:
        """Publish one batch of unsent rows; returns how many were acknowledged, or :data:`BUSY` when
        another replica's relay is sending (PostgreSQL)."""
        limit = self.settings.relay_batch_size
        query = (
            select(outbox_event).where(outbox_event.c.sent_at.is_(None)).order_by(outbox_event.c.seq).limit(limit)
        )
        if self.db.is_postgres:
            async with self.db.session() as session, session.begin():
                # Held until this transaction ends, i.e. until the batch is marked sent: the next batch,
                # on whichever replica, starts after this one is acknowledged, never beside it.
                if not (await session.execute(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY)))).scalar():
                    return BUSY
                # SKIP LOCKED still, for relays of an older version during a rolling upgrade (no advisory lock).
                rows = (await session.execute(query.with_for_update(skip_locked=True))).all()
                if not rows:
                    return 0
                acked = await self._send(rows)
                await self._mark_sent(session, acked)
            return len(acked)
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
            await session.commit()
        if not rows:
            return 0
        acked = await self._send(rows)
        async with self.db.session() as session:
            await self._mark_sent(session, acked)
            await session.commit()
        return len(acked)

    async def _mark_sent(self, session: AsyncSession, seqs: list[int]) -> None:
        if not seqs:
            return
        now = datetime.now(UTC)
        for i in range(0, len(seqs), 1000):
            chunk = seqs[i : i + 1000]
            await session.execute(update(outbox_event).where(outbox_event.c.seq.in_(chunk)).values(sent_at=now))
        OUTBOX_PUBLISHED.labels(self.service).inc(len(seqs))
        self.published_total += len(seqs)

    async def _send(self, rows: Sequence[Any], topic_override: str | None = None) -> list[int]:
        """Enqueue every row, then await the acknowledgements together; return acked seqs."""
        pending: list[tuple[int, asyncio.Future[Any]]] = []
        spans = []
        t = tracer("chassis.outbox")
        for row in rows:
            parent = propagate.extract({"traceparent": row.traceparent} if row.traceparent else {})
            span = t.start_span(
                f"{row.topic} publish",
                context=parent,
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": topic_override or row.topic,
                    "messaging.message.id": row.event_id,
                    "cloudevents.event_type": row.type,
                },
            )
            spans.append(span)
            # The stored JSON is sent as it is: parsing and re-encoding it per row halves the drain rate.
            fut = await self.publisher.send(
                topic_override or row.topic, row.data.encode(), key=row.key, headers=_kafka_headers(row, span)
            )
            pending.append((row.seq, fut))
        results = await asyncio.wait_for(
            asyncio.gather(*(f for _, f in pending), return_exceptions=True),
            self.settings.relay_send_timeout_s,
        )
        acked = []
        failed = 0
        for (seq, _), result, span in zip(pending, results, spans, strict=True):
            if isinstance(result, BaseException):
                failed += 1
                span.record_exception(result)
            else:
                acked.append(seq)
            span.end()
        if failed:
            OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
            log.warning("outbox relay: %d of %d events not acknowledged; they stay queued", failed, len(rows))
        return acked

    async def _refresh_backlog_metrics(self) -> None:
        try:
            async with self.db.session() as session:
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(outbox_event.c.created_at)).where(
                            outbox_event.c.sent_at.is_(None)
                        )
                    )
                ).one()
                await session.commit()
        except Exception as exc:  # metrics must never stop the relay
            log.debug("backlog metrics unavailable: %s", exc)
            return
        OUTBOX_BACKLOG.labels(self.service).set(count)
        OUTBOX_OLDEST_AGE.labels(self.service).set(
            (datetime.now(UTC) - _aware(oldest)).total_seconds() if oldest else 0
        )

    async def backlog(self) -> int:
        async with self.db.session() as session:
            return int(
                (await session.execute(select(func.count()).where(outbox_event.c.sent_at.is_(None)))).scalar_one()
            )

    async def replay(
        self,
        *,
        since: datetime,
        until: datetime | None = None,
        types: list[str] | None = None,
        topic: str | None = None,
    ) -> int:
        """Republish stored events with ``since <= time < until`` (all, sent or not), in order.

        Consumers deduplicate by event id, so a replay applies nothing twice. ``topic`` sends
        them to another topic than the original (e.g. a new subscriber's own).
        """
        total = 0
        last_seq = 0
        while True:
            query = (
                select(outbox_event)
                .where(outbox_event.c.time >= since, outbox_event.c.seq > last_seq)
                .order_by(outbox_event.c.seq)
                .limit(self.settings.relay_batch_size)
            )
            if until is not None:
                query = query.where(outbox_event.c.time < until)
            if types:
                query = query.where(outbox_event.c.type.in_(types))
            async with self.db.session() as session:
                rows = (await session.execute(query)).all()
                await session.commit()
            if not rows:
                return total
            acked = await self._send(rows, topic_override=topic)
            if len(acked) != len(rows):
                raise RuntimeError(f"replay interrupted: {len(rows) - len(acked)} events not acknowledged")
            total += len(rows)
            last_seq = rows[-1].seq

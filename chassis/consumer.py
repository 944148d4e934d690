"""Consumer runner: at-least-once delivery made effectively-once by an inbox.

For each message the runner opens a session, skips the event if its id is already in the
``inbox_event`` table for this consumer group, otherwise calls the handler and writes the inbox row
in the same transaction as the handler's effects, then commits. Offsets are committed to the broker
only after the messages before them were handled, so a crash redelivers and the inbox absorbs it.
A handler that keeps failing is retried with backoff a bounded number of times; then the message
goes to the group's dead-letter topic with the error in its headers (and into ``dead_letter``,
where operators list and redrive it) and the consumer moves on.

Handlers are plain async functions ``handler(session, event)`` that never commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.db import Database
from chassis.events import CloudEvent
from chassis.kafka import Publisher, client_options, ensure_topics
from chassis.settings import ServiceSettings
from chassis.tables import dead_letter, inbox_event
from chassis.telemetry import EVENTS_CONSUMED, tracer

log = logging.getLogger("chassis.consumer")

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


@dataclass
class ConsumerSpec:
    """What a service consumes: the producing services' topics and a handler per event type.

    ``name`` becomes the consumer group ``<service>.<name>``; events of types without a handler
    are acknowledged and skipped.
    """

    name: str
    services: list[str]
    handlers: dict[str, Handler] = field(default_factory=dict)


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        db: Database,
        settings: ServiceSettings,
        publisher: Publisher,
    ) -> None:
        self.spec = spec
        self.db = db
        self.settings = settings
        self.publisher = publisher
        self.group = f"{settings.topic_prefix}{settings.service_name}.{spec.name}"
        self.topics = [settings.topic(s) for s in spec.services]
        self.dead_letter_topic = settings.dead_letter_topic(f"{settings.service_name}.{spec.name}")
        self._stopping = False
        self._consumer: AIOKafkaConsumer | None = None
        self.handled = 0

    def stop(self) -> None:
        self._stopping = True

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                await self._consume()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s: %s; reconnecting in %.1fs", self.group, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                await self._close()

    async def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                await asyncio.wait_for(consumer.stop(), 10)
            except Exception as exc:
                log.debug("consumer stop failed: %s", exc)

    async def _consume(self) -> None:
        await ensure_topics(self.settings, [*self.topics, self.dead_letter_topic])
        consumer = AIOKafkaConsumer(
            *self.topics,
            **client_options(self.settings),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
        )
        self._consumer = consumer
        await asyncio.wait_for(consumer.start(), 30)
        while not self._stopping:
            batches = await consumer.getmany(timeout_ms=500, max_records=200)
            for tp, messages in batches.items():
                await self.handle_batch(messages)
                # Offsets move only after the batch's effects committed: a crash redelivers it,
                # and the inbox makes the redelivery change nothing.
                await consumer.commit({tp: messages[-1].offset + 1})

    async def handle_batch(self, messages: list[Any]) -> None:
        """Handle a batch in one transaction; if anything in it fails, handle it message by message.

        One commit per batch instead of one per event is what lets a consumer keep up with a busy
        topic; the one-by-one path keeps the per-event retries and dead-lettering exact.
        """
        if len(messages) > 1:
            try:
                if await self._handle_together(messages):
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("consumer %s: batch of %d failed (%s); handling one by one", self.group, len(messages), exc)
        for message in messages:
            await self.handle_message(message)

    async def _handle_together(self, messages: list[Any]) -> bool:
        """Returns False (nothing written) when the batch needs the one-by-one path."""
        events: list[CloudEvent] = []
        for message in messages:
            try:
                events.append(CloudEvent.from_kafka(message.headers, message.value))
            except (ValueError, json.JSONDecodeError):
                return False  # an unreadable message is dead-lettered by the one-by-one path
        async with self.db.session() as session:
            ids = list({e.id for e in events})
            seen = set(
                (
                    await session.execute(
                        select(inbox_event.c.event_id).where(
                            inbox_event.c.consumer == self.group, inbox_event.c.event_id.in_(ids)
                        )
                    )
                ).scalars()
            )
            handled: list[CloudEvent] = []
            outcomes: list[tuple[str, str]] = []
            t = tracer("chassis.consumer")
            for message, event in zip(messages, events, strict=True):
                handler = self.spec.handlers.get(event.type)
                if handler is None:
                    outcomes.append((event.type, "ignored"))
                    continue
                if event.id in seen:
                    outcomes.append((event.type, "duplicate"))
                    continue
                seen.add(event.id)
                parent = propagate.extract({"traceparent": event.traceparent} if event.traceparent else {})
                with t.start_as_current_span(
                    f"{message.topic} process",
                    context=parent,
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": message.topic,
                        "messaging.consumer.group.name": self.group,
                        "messaging.message.id": event.id,
                        "cloudevents.event_type": event.type,
                        "messaging.batch.message_count": len(messages),
                    },
                ):
                    await handler(session, event)
                handled.append(event)
                outcomes.append((event.type, "handled"))
            if handled:
                now = datetime.now(UTC)
                await session.execute(
                    insert(inbox_event),
                    [{"consumer": self.group, "event_id": e.id, "type": e.type, "handled_at": now} for e in handled],
                )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False  # another replica handled some of these meanwhile
        for event_type, outcome in outcomes:
            EVENTS_CONSUMED.labels(self.group, event_type, outcome).inc()
        self.handled += len(handled)
        return True

    async def handle_message(self, message: Any) -> None:
        try:
            event = CloudEvent.from_kafka(message.headers, message.value)
        except (ValueError, json.JSONDecodeError) as exc:
            await self._dead_letter(message, None, f"unreadable message: {exc}", attempts=0)
            return
        handler = self.spec.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(self.group, event.type, "ignored").inc()
            return
        parent = propagate.extract({"traceparent": event.traceparent} if event.traceparent else {})
        with tracer("chassis.consumer").start_as_current_span(
            f"{message.topic} process",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": message.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": event.id,
                "cloudevents.event_type": event.type,
            },
        ) as span:
            attempt = 0
            while True:
                try:
                    outcome = await self._handle_once(handler, event)
                    EVENTS_CONSUMED.labels(self.group, event.type, outcome).inc()
                    self.handled += outcome == "handled"
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    attempt += 1
                    if attempt > self.settings.consumer_max_retries:
                        span.set_status(Status(StatusCode.ERROR, str(exc)))
                        log.error("consumer %s: event %s (%s) dead-lettered: %s", self.group, event.id, event.type, exc)
                        await self._dead_letter(message, event, f"{type(exc).__name__}: {exc}", attempts=attempt)
                        EVENTS_CONSUMED.labels(self.group, event.type, "dead_lettered").inc()
                        return
                    log.warning("consumer %s: event %s failed (attempt %d): %s", self.group, event.id, attempt, exc)
                    await asyncio.sleep(self.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))

    async def _handle_once(self, handler: Handler, event: CloudEvent) -> str:
        async with self.db.session() as session:
            seen = await session.execute(
                select(inbox_event.c.event_id).where(
                    inbox_event.c.consumer == self.group, inbox_event.c.event_id == event.id
                )
            )
            if seen.first() is not None:
                await session.rollback()
                return "duplicate"
            await handler(session, event)
            await session.execute(
                insert(inbox_event).values(
                    consumer=self.group, event_id=event.id, type=event.type, handled_at=datetime.now(UTC)
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                # Another replica handled the same event between our check and our commit.
                await session.rollback()
                return "duplicate"
        return "handled"

    async def _dead_letter(self, message: Any, event: CloudEvent | None, error: str, *, attempts: int) -> None:
        headers = list(message.headers or ()) + [
            ("dlq_error", error[:2000].encode()),
            ("dlq_original_topic", message.topic.encode()),
            ("dlq_original_partition", str(message.partition).encode()),
            ("dlq_original_offset", str(message.offset).encode()),
            ("dlq_consumer_group", self.group.encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        async with self.db.session() as session:
            await session.execute(
                insert(dead_letter).values(
                    consumer=self.group,
                    event_id=event.id if event else f"{message.topic}:{message.partition}:{message.offset}",
                    type=event.type if event else "unknown",
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    headers={k: v.decode(errors="replace") for k, v in message.headers or ()},
                    value=(message.value or b"").decode(errors="replace"),
                    error=error[:4000],
                    attempts=attempts,
                    failed_at=datetime.now(UTC),
                )
            )
            await session.commit()
        try:
            fut = await self.publisher.send(
                self.dead_letter_topic, message.value or b"", key=(message.key or b"").decode() or None, headers=headers
            )
            await asyncio.wait_for(fut, self.settings.relay_send_timeout_s)
        except Exception as exc:  # the row above is the durable record; the topic copy is best effort
            log.warning("consumer %s: dead-letter topic publish failed: %s", self.group, exc)
            await self.publisher.reset()

    async def redrive(self, dead_letter_id: int) -> bool:
        """Run the handler again for one dead letter; True when it was handled this time."""
        async with self.db.session() as session:
            row = (await session.execute(select(dead_letter).where(dead_letter.c.id == dead_letter_id))).first()
            await session.commit()
        if row is None or row.redriven_at is not None:
            return False
        headers = [(k, v.encode()) for k, v in row.headers.items() if not k.startswith("dlq_")]
        event = CloudEvent.from_kafka(headers, row.value.encode())
        handler = self.spec.handlers.get(event.type)
        if handler is not None:
            await self._handle_once(handler, event)
        async with self.db.session() as session:
            await session.execute(
                dead_letter.update().where(dead_letter.c.id == dead_letter_id).values(redriven_at=datetime.now(UTC))
            )
            await session.commit()
        return True

"""Event subscriptions for other government systems (信息共享): the dispatcher and the delivery worker.

Two ways to receive the platform's events:

1. **Read Kafka directly.** Topics are ``zone.investment``, ``zone.approvals``, ``zone.hr``,
   ``zone.stats`` and ``zone.platform`` (behind the deployment's topic prefix); messages are
   CloudEvents in binary mode (``ce_*`` headers, JSON value, key = aggregate id), described by the
   AsyncAPI document at ``/asyncapi.json``. A system uses its own consumer group named
   ``ext.<system>`` (e.g. ``ext.credit-platform``), commits offsets after handling, and
   deduplicates on ``ce_id`` — delivery is at least once. In production each system gets a Kafka
   user with read ACLs on the topics it may see (deploy/).
2. **Webhooks through the gateway.** A system client registers ``POST /api/subscriptions``; the
   gateway's own consumer group ``gateway.webhooks`` reads every topic from the beginning, and the
   handler below records each event (table ``seen_event``, kept ``GATEWAY_EVENT_LOG_RETENTION_DAYS``
   for replays) and inserts one delivery per matching subscription — in the same transaction as
   the inbox row, so a redelivered event creates nothing twice. :class:`Dispatcher` sends due
   deliveries (Standard Webhooks signatures, see :mod:`gateway.webhooks`), at least once, with
   exponential backoff; after ``GATEWAY_WEBHOOK_MAX_ATTEMPTS`` failures a delivery is dead-lettered
   (status ``dead``), listed at ``GET /api/subscriptions/{id}/deliveries`` and can be redelivered.

Replay: a new subscription may give ``replay_from``; the matching events the gateway has seen
since then are queued for it at once. Events older than the retention window can be replayed by
an operator from the producing service's outbox (``POST /admin/outbox/replay``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy import delete, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.consumer import ConsumerSpec, Handler
from chassis.db import Database
from chassis.events import CloudEvent
from gateway import domain
from gateway.keys import SecretBox, aware, utcnow
from gateway.models import Account, Delivery, SeenEvent, Subscription
from gateway.settings import GatewaySettings
from gateway.webhooks import CallbackPolicy, address_refusal, signature_headers, url_refusal

log = logging.getLogger("gateway.dispatcher")

PUBLISHING_SERVICES = ["investment", "approvals", "hr", "stats", "platform"]
DUE_STATUSES = ("pending", "retrying")
WAKE_KEY = "gateway_webhook_wake"


def signing_secrets(subscription: Subscription, box: SecretBox, now: datetime | None = None) -> list[str]:
    """The current secret, and during a rotation's overlap the previous one too."""
    keys = [box.open(subscription.secret)]
    expires = aware(subscription.previous_secret_expires_at)
    if subscription.previous_secret and expires is not None and expires > (now or utcnow()):
        keys.append(box.open(subscription.previous_secret))
    return keys


def new_delivery_id() -> str:
    return "msg_" + uuid.uuid4().hex


def structured_body(event: CloudEvent) -> str:
    return json.dumps(event.to_structured(), ensure_ascii=False, separators=(",", ":"), default=str)


# --- matching (consumer side) -------------------------------------------------------------------


async def _allowed_owners(session: AsyncSession, owners: Iterable[str]) -> dict[str, Account]:
    names = set(owners)
    if not names:
        return {}
    rows = (await session.execute(select(Account).where(col(Account.username).in_(names)))).scalars().all()
    return {a.username: a for a in rows if a.active}


def owner_may_receive(owner: Account, event_type: str) -> bool:
    return owner.kind == "admin" or event_type in owner.event_types


async def queue_deliveries(
    session: AsyncSession, subscriptions: Sequence[Subscription], events: Sequence[dict[str, Any]]
) -> int:
    """Insert a delivery for every (subscription, event) pair that matches and is not queued yet."""
    owners = await _allowed_owners(session, (s.owner for s in subscriptions))
    now = utcnow()
    queued = 0
    for subscription in subscriptions:
        owner = owners.get(subscription.owner)
        if owner is None or not subscription.active:
            continue
        candidates = [
            e for e in events
            if e["type"] in subscription.event_types
            and owner_may_receive(owner, e["type"])
            and domain.event_matches(subscription.filters, e)
        ]
        if not candidates:
            continue
        existing = set(
            (
                await session.execute(
                    select(col(Delivery.event_id)).where(
                        col(Delivery.subscription_id) == subscription.id,
                        col(Delivery.event_id).in_([e["id"] for e in candidates]),
                    )
                )
            ).scalars().all()
        )
        for e in candidates:
            if e["id"] in existing:
                continue
            existing.add(e["id"])
            session.add(
                Delivery(
                    id=new_delivery_id(),
                    subscription_id=subscription.id,
                    event_id=e["id"],
                    event_type=e["type"],
                    event_time=datetime.fromisoformat(e["time"]),
                    payload=e["_body"],
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            queued += 1
    if queued:
        await session.flush()
        wake = session.info.get(WAKE_KEY)
        if wake is not None:
            sa_event.listen(session.sync_session, "after_commit", lambda _s: wake(), once=True)
    return queued


async def on_event(session: AsyncSession, event: CloudEvent) -> None:
    """The dispatcher's handler for every event type on every topic (inbox-deduplicated by the chassis)."""
    body = structured_body(event)
    if await session.get(SeenEvent, event.id) is None:
        session.add(SeenEvent(id=event.id, type=event.type, time=event.time, body=body, received_at=utcnow()))
    subscriptions = [
        s for s in (await session.execute(select(Subscription).where(col(Subscription.active).is_(True)))).scalars().all()
        if event.type in s.event_types
    ]
    if subscriptions:
        structured = json.loads(body)
        structured["_body"] = body
        await queue_deliveries(session, subscriptions, [structured])


class EveryEventType(dict[str, Handler]):
    """A handler table that answers every event type with one handler (the chassis looks handlers up by type)."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self._handler = handler

    def get(self, key: str, default: Any = None) -> Handler:  # type: ignore[override]
        return self._handler

    def __contains__(self, key: object) -> bool:
        return True


WEBHOOK_CONSUMER = ConsumerSpec(name="webhooks", services=PUBLISHING_SERVICES, handlers=EveryEventType(on_event))


async def replay_into(
    session: AsyncSession, subscription: Subscription, since: datetime, limit: int
) -> int:
    """Queue the events seen since ``since`` that match a (new) subscription; returns how many."""
    rows = (
        await session.execute(
            select(col(SeenEvent.body))
            .where(col(SeenEvent.type).in_(subscription.event_types), col(SeenEvent.time) >= since)
            .order_by(col(SeenEvent.time))
            .limit(limit)
        )
    ).scalars().all()
    events = []
    for body in rows:
        structured = json.loads(body)
        structured["_body"] = body
        events.append(structured)
    return await queue_deliveries(session, [subscription], events)


# --- sending (the delivery worker) --------------------------------------------------------------


class CallbackRefused(Exception):
    pass


class AllowListResolver(AbstractResolver):
    """Resolves callback hosts and drops every address the allow-list refuses, at connection time."""

    def __init__(self, policy: CallbackPolicy) -> None:
        self.policy = policy
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if address_refusal(r["host"], self.policy) is None]
        if not allowed:
            raise OSError(f"callback host {host} resolves only to addresses the allow-list refuses")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def check_callback(url: str, policy: CallbackPolicy, timeout_s: float = 5.0) -> str | None:
    """Why a callback URL is refused (None when acceptable): its shape, and every address its host resolves to."""
    reason, host, port = url_refusal(url, policy)
    if reason is not None or host is None:
        return reason
    literal = _literal_ip(host)
    if literal is not None:
        refusal = address_refusal(literal, policy)
        return f"不允许的地址（{refusal}）" if refusal else None
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout_s
        )
    except (OSError, TimeoutError):
        return "无法解析回调地址的主机名"
    for info in infos:
        refusal = address_refusal(str(info[4][0]), policy)
        if refusal:
            return f"主机名解析到不允许的地址（{refusal}）"
    return None if infos else "无法解析回调地址的主机名"


class Dispatcher:
    """Sends due deliveries: claims a batch, posts them concurrently, records each outcome."""

    def __init__(self, db: Database, settings: GatewaySettings, secrets: SecretBox, policy: CallbackPolicy) -> None:
        self.db = db
        self.settings = settings
        self.secrets = secrets
        self.policy = policy
        self._wake = asyncio.Event()
        self._stopping = False
        self._session: aiohttp.ClientSession | None = None
        self.sent_total = 0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    resolver=AllowListResolver(self.policy), limit=self.settings.webhook_concurrency, ttl_dns_cache=10
                ),
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_s),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery round failed")
                sent = 0
            if sent:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()

    async def _claim(self) -> list[tuple[Delivery, Subscription]]:
        now = utcnow()
        batch = self.settings.webhook_concurrency * 2
        query = (
            select(col(Delivery.id))
            .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
            .where(
                col(Delivery.status).in_(DUE_STATUSES),
                col(Delivery.next_attempt_at) <= now,
                col(Subscription.active).is_(True),
                or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
            )
            .order_by(col(Delivery.next_attempt_at))
            .limit(batch)
        )
        async with self.db.session() as session:
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True, of=Delivery)  # type: ignore[arg-type]
            ids = list((await session.execute(query)).scalars().all())
            if not ids:
                await session.commit()
                return []
            await session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(ids))
                .values(claimed_until=now + timedelta(seconds=self.settings.webhook_timeout_s + 30))
            )
            rows = (
                await session.execute(
                    select(Delivery, Subscription)
                    .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
                    .where(col(Delivery.id).in_(ids))
                )
            ).all()
            await session.commit()
        return [(row[0], row[1]) for row in rows]

    async def deliver_due(self) -> int:
        claimed = await self._claim()
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._attempt(d, s) for d, s in claimed))
        now = utcnow()
        async with self.db.session() as session:
            for (delivery, _), (status_code, error) in zip(claimed, outcomes, strict=True):
                attempts = delivery.attempts + 1
                values: dict[str, Any] = {
                    "attempts": attempts, "last_attempt_at": now, "last_status_code": status_code,
                    "last_error": error, "claimed_until": None,
                }
                if error is None:
                    values.update(status="delivered", delivered_at=now, next_attempt_at=None)
                    self.sent_total += 1
                elif attempts >= self.settings.webhook_max_attempts:
                    values.update(status="dead", next_attempt_at=None)
                    log.warning("webhook delivery %s dead-lettered after %d attempts: %s", delivery.id, attempts, error)
                else:
                    delay = domain.retry_delay_s(
                        attempts, base_s=self.settings.webhook_backoff_base_s, max_s=self.settings.webhook_backoff_max_s
                    )
                    values.update(status="retrying", next_attempt_at=now + timedelta(seconds=delay))
                await session.execute(update(Delivery).where(col(Delivery.id) == delivery.id).values(**values))
            await session.commit()
        return len(claimed)

    async def _attempt(self, delivery: Delivery, subscription: Subscription) -> tuple[int | None, str | None]:
        """One POST; returns (status code, error or None on success)."""
        url = subscription.callback_url
        host = urlsplit(url).hostname or ""
        literal = _literal_ip(host)
        refusal = url_refusal(url, self.policy)[0] or (address_refusal(literal, self.policy) if literal else None)
        if refusal:
            return None, f"回调地址不被允许：{refusal}"
        body = delivery.payload.encode()
        headers = {
            "content-type": "application/cloudevents+json; charset=utf-8",
            "user-agent": "zone-platform-webhooks/1.0",
            "ce-id": delivery.event_id,
            "ce-type": delivery.event_type,
            **signature_headers(signing_secrets(subscription, self.secrets), delivery.id, body),
        }
        try:
            async with self.session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.content.read(64 * 1024)
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"


async def redeliver(session: AsyncSession, delivery: Delivery) -> Delivery:
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_until = None
    delivery.redeliveries += 1
    session.add(delivery)
    await session.flush()
    wake = session.info.get(WAKE_KEY)
    if wake is not None:
        sa_event.listen(session.sync_session, "after_commit", lambda _s: wake(), once=True)
    return delivery


async def prune(db: Database, retention_days: int) -> None:
    """Forget seen events and delivered deliveries older than the retention window (dead ones stay)."""
    cutoff = utcnow() - timedelta(days=retention_days)
    async with db.session() as session:
        await session.execute(delete(SeenEvent).where(col(SeenEvent.received_at) < cutoff))
        await session.execute(
            delete(Delivery).where(col(Delivery.status) == "delivered", col(Delivery.delivered_at) < cutoff)
        )
        await session.commit()


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "event_time": aware(delivery.event_time),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": aware(delivery.next_attempt_at),
        "last_attempt_at": aware(delivery.last_attempt_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "delivered_at": aware(delivery.delivered_at),
        "redeliveries": delivery.redeliveries,
        "created_at": aware(delivery.created_at),
    }

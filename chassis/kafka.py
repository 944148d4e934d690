"""Kafka-protocol plumbing: the producer the relay and dead-lettering use, topic creation, reachability.

Works against Apache Kafka and against the embedded Tansu broker. Tansu has no idempotent
producer or transactions, so idempotence is a setting (on for Apache Kafka in ``deploy/``) and
consumers deduplicate by event id either way.

Every Kafka client the platform creates — the relay's producer, the consumers, the admin client
that creates topics — takes its connection from :func:`client_options`, so TLS and SASL are set in
one place. The TLS context is built anew for each client: a CA or client certificate rotated on
disk (a re-mounted Kubernetes secret) is used from the next reconnect on, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from chassis.settings import KAFKA_SASL_PROTOCOLS, ServiceSettings

log = logging.getLogger("chassis.kafka")


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """The connection keywords every aiokafka client of the platform is built with.

    The settings were checked when they loaded (``chassis.settings``), so here they only map:
    SASL credentials for ``SASL_*``, a TLS context for ``SSL``/``SASL_SSL``.
    """
    opts: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in KAFKA_SASL_PROTOCOLS:
        password = settings.kafka_sasl_password
        opts.update(
            # aiokafka reads the SCRAM credentials from the same two keywords as PLAIN's.
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=password.get_secret_value() if password is not None else None,
        )
    if settings.kafka_uses_tls:
        opts["ssl_context"] = kafka_ssl_context(settings)
    return opts


def kafka_ssl_context(settings: ServiceSettings) -> ssl.SSLContext:
    """A client TLS context: the brokers' certificates verified against ``kafka_ssl_cafile`` (else
    the system's trust store), the client certificate presented when one is configured."""
    key_password = settings.kafka_ssl_key_password
    context = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
        # Never None: OpenSSL would otherwise prompt on the terminal for an encrypted key's
        # passphrase, hanging a service; an empty one makes a missing passphrase an error instead.
        password=key_password.get_secret_value() if key_password is not None else "",
    )
    # create_ssl_context always checks host names; the chain is verified (CERT_REQUIRED) either way.
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


class Publisher:
    """A lazily started producer that survives the broker being away.

    ``send`` enqueues and returns a future, so a caller can enqueue a whole batch and then await
    the acknowledgements together. If the broker cannot be reached the producer is torn down and
    started again on the next call.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    **client_options(self.settings),
                    acks="all",
                    enable_idempotence=self.settings.kafka_idempotent_producer,
                    linger_ms=2,
                    max_batch_size=256 * 1024,
                    request_timeout_ms=int(self.settings.relay_send_timeout_s * 1000),
                    retry_backoff_ms=200,
                )
                try:
                    await asyncio.wait_for(producer.start(), self.settings.relay_send_timeout_s)
                except BaseException:
                    await _quietly_stop(producer)
                    raise
                self._producer = producer
        assert self._producer is not None
        return self._producer

    async def send(
        self, topic: str, value: bytes, *, key: str | None, headers: Sequence[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        producer = await self._ensure()
        return await producer.send(topic, value=value, key=key.encode() if key else None, headers=list(headers))

    async def reset(self) -> None:
        """Drop the producer after a failure; the next send starts a fresh one."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await _quietly_stop(producer)

    async def close(self) -> None:
        await self.reset()


async def _quietly_stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), 5)
    except Exception as exc:  # a producer that cannot even stop cleanly is simply dropped
        log.debug("producer stop failed: %s", exc)


async def ensure_topics(settings: ServiceSettings, topics: Sequence[str], *, timeout_s: float = 10.0) -> None:
    """Create topics that do not exist yet (partitions and replication from the settings)."""
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await asyncio.wait_for(admin.list_topics(), timeout_s))
        wanted = [t for t in dict.fromkeys(topics) if t not in existing]
        if wanted:
            try:
                await asyncio.wait_for(
                    admin.create_topics(
                        [
                            NewTopic(t, settings.topic_partitions, settings.topic_replication_factor)
                            for t in wanted
                        ]
                    ),
                    timeout_s,
                )
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, timeout_s: float = 1.0) -> bool:
    """True when at least one bootstrap server accepts a TCP connection and answers promptly."""
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout_s)
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout_s)
        except (OSError, TimeoutError):
            pass
        return True
    return False

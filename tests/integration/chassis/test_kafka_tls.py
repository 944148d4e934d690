"""Kafka over TLS, end to end, as a city data bureau's cluster would require it.

The embedded broker speaks plaintext only, so each broker here sits behind a TLS-terminating proxy
on loopback and advertises the proxy's address: after bootstrapping, every connection a client
makes goes through TLS. The certificates come from a throwaway CA made for the test module. The
clients are built the way the platform builds them, from settings through
:func:`chassis.kafka.client_options` — the producer, the consumer and the admin client that
creates topics — and a whole service (relay and consumer) runs over TLS with a client certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from cryptography import x509

from chassis.broker import EmbeddedBroker, free_port
from chassis.kafka import client_options, ensure_topics
from chassis.settings import ServiceSettings
from tests.support.certificates import CLIENT_AUTH, LOOPBACK_NAMES, SERVER_AUTH, Authority, issue_files
from tests.support.sample_service.definition import DEFINITION, NoteProjection
from tests.support.services import eventually
from tests.support.tcpproxy import pipe
from tests.support.validators import VALID_USCC

#: Every attempt that is expected to fail is bounded by this, so a client that hangs fails the test.
REFUSAL_TIMEOUT_S = 15.0
CLIENT_KEY_PASSWORD = "client-key-passphrase"


# --- a throwaway certificate authority -------------------------------------------------------------


@dataclass
class Certificates:
    ca: Path  # the CA that signed the brokers' and the client's certificates
    other_ca: Path  # a CA that signed nothing here: trusting it alone must fail
    broker: tuple[Path, Path]  # names 127.0.0.1 and localhost
    misnamed_broker: tuple[Path, Path]  # names only kafka.bureau.example, reached here by address
    client: tuple[Path, Path]  # CN zone-sample, key encrypted with CLIENT_KEY_PASSWORD


def make_certificates(directory: Path) -> Certificates:
    ca = Authority.create("Zone test CA")
    return Certificates(
        ca=ca.write(directory / "ca.pem"),
        other_ca=Authority.create("Some other CA").write(directory / "other-ca.pem"),
        broker=issue_files(ca, directory, "kafka", usage=SERVER_AUTH, names=LOOPBACK_NAMES),
        misnamed_broker=issue_files(
            ca, directory, "kafka.bureau.example", usage=SERVER_AUTH, names=[x509.DNSName("kafka.bureau.example")]
        ),
        client=issue_files(ca, directory, "zone-sample", usage=CLIENT_AUTH, password=CLIENT_KEY_PASSWORD),
    )


# --- a broker behind a TLS-terminating proxy -------------------------------------------------------


class TlsTerminatingProxy:
    """TLS on the outside, the plaintext Kafka protocol to the broker on the inside.

    Runs its own event loop in a daemon thread, so clients on the test's loop cannot starve it.
    ``client_names`` collects the common name of every verified client certificate it was shown.
    """

    def __init__(self, context: ssl.SSLContext, target_port: int, listen_port: int) -> None:
        self.context = context
        self.target_port = target_port
        self.port = listen_port
        self.client_names: list[str] = []
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=f"tls-proxy-{listen_port}")

    def start(self) -> TlsTerminatingProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, ssl=self.context, ssl_handshake_timeout=5, reuse_address=True
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            self.connections += 1
            peer = writer.get_extra_info("peercert")
            if peer:
                self.client_names += [value for rdn in peer["subject"] for key, value in rdn if key == "commonName"]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._tasks.discard(task)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@dataclass
class TlsBroker:
    broker: EmbeddedBroker
    proxy: TlsTerminatingProxy

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.proxy.port}"

    def stop(self) -> None:
        self.proxy.stop()
        self.broker.stop()


def start_tls_broker(
    directory: Path, server: tuple[Path, Path], *, client_ca: Path | None = None
) -> TlsBroker:
    """A Tansu broker that advertises a TLS proxy in front of it; ``client_ca`` makes it mutual TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*server)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    proxy_port = free_port()
    broker = EmbeddedBroker(
        port=free_port(), log_path=directory / f"broker-{proxy_port}.log", advertised=f"127.0.0.1:{proxy_port}"
    ).start()
    try:
        proxy = TlsTerminatingProxy(context, broker.port, proxy_port).start()
    except BaseException:
        broker.stop()
        raise
    return TlsBroker(broker, proxy)


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kafka-tls")


@pytest.fixture(scope="module")
def certificates(tls_dir: Path) -> Certificates:
    return make_certificates(tls_dir)


@pytest.fixture(scope="module")
def tls_broker(tls_dir: Path, certificates: Certificates) -> Iterator[TlsBroker]:
    """Server authentication only, the way most managed clusters are set up."""
    broker = start_tls_broker(tls_dir, certificates.broker)
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def mutual_tls_broker(tls_dir: Path, certificates: Certificates) -> Iterator[TlsBroker]:
    """Refuses any client that does not show a certificate from the test CA."""
    broker = start_tls_broker(tls_dir, certificates.broker, client_ca=certificates.ca)
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def misnamed_tls_broker(tls_dir: Path, certificates: Certificates) -> Iterator[TlsBroker]:
    """A trusted certificate that names the broker by a DNS name, while clients reach it by address."""
    broker = start_tls_broker(tls_dir, certificates.misnamed_broker)
    yield broker
    broker.stop()


def tls_settings(bootstrap: str, **overrides: Any) -> ServiceSettings:
    return ServiceSettings(
        environment="test",
        kafka_bootstrap_servers=bootstrap,
        kafka_security_protocol="SSL",
        **overrides,
    )


async def round_trip(settings: ServiceSettings) -> list[tuple[bytes | None, bytes | None]]:
    """Create a topic, publish two events and read them back, every client from ``client_options``."""
    topic = f"tls.{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [topic])
    producer = AIOKafkaProducer(**client_options(settings), acks="all", request_timeout_ms=10_000)
    await asyncio.wait_for(producer.start(), 20)
    try:
        for key, value in ((b"zone-a", b"\xe6\x8b\x9b\xe5\x95\x86"), (b"zone-b", b"approval")):
            await asyncio.wait_for(producer.send_and_wait(topic, value, key=key), 20)
    finally:
        await asyncio.wait_for(producer.stop(), 10)
    consumer = AIOKafkaConsumer(
        topic, **client_options(settings), group_id=None, auto_offset_reset="earliest", fetch_max_wait_ms=100
    )
    await asyncio.wait_for(consumer.start(), 20)
    try:
        received: list[tuple[bytes | None, bytes | None]] = []
        for _ in range(2):
            message = await asyncio.wait_for(consumer.getone(), 20)
            received.append((message.key, message.value))
        return sorted(received, key=repr)  # three partitions: no order across keys
    finally:
        await asyncio.wait_for(consumer.stop(), 10)


async def refused(settings: ServiceSettings) -> None:
    """A producer built from ``settings`` does not get through: raises if it does, bounded in time."""
    producer = AIOKafkaProducer(**client_options(settings), request_timeout_ms=5_000)
    try:
        with pytest.raises(KafkaConnectionError):
            await asyncio.wait_for(producer.start(), REFUSAL_TIMEOUT_S)
    finally:
        await asyncio.wait_for(producer.stop(), 10)


# --- the clients ---------------------------------------------------------------------------------


async def test_a_producer_and_a_consumer_built_from_the_settings_exchange_events_over_tls(tls_broker, certificates):
    settings = tls_settings(tls_broker.bootstrap, kafka_ssl_cafile=str(certificates.ca))
    before = tls_broker.proxy.connections

    received = await round_trip(settings)

    assert received == [(b"zone-a", "招商".encode()), (b"zone-b", b"approval")]
    assert tls_broker.proxy.connections > before, "the clients went through the TLS proxy"


async def test_a_plaintext_client_cannot_talk_to_the_tls_listener(tls_broker):
    plaintext = ServiceSettings(environment="test", kafka_bootstrap_servers=tls_broker.bootstrap)
    assert "ssl_context" not in client_options(plaintext)

    await refused(plaintext)


async def test_a_broker_certificate_signed_by_another_ca_is_refused(tls_broker, certificates, caplog):
    caplog.set_level(logging.ERROR, logger="aiokafka")

    await refused(tls_settings(tls_broker.bootstrap, kafka_ssl_cafile=str(certificates.other_ca)))

    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text, "refused for the certificate, not for anything else"


async def test_without_a_ca_file_the_system_trust_store_does_not_know_a_private_ca(tls_broker, caplog):
    caplog.set_level(logging.ERROR, logger="aiokafka")

    await refused(tls_settings(tls_broker.bootstrap))

    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


async def test_a_certificate_that_does_not_name_the_broker_is_refused_unless_host_names_go_unchecked(
    misnamed_tls_broker, certificates, caplog
):
    caplog.set_level(logging.ERROR, logger="aiokafka")
    await refused(tls_settings(misnamed_tls_broker.bootstrap, kafka_ssl_cafile=str(certificates.ca)))
    assert "Hostname mismatch" in caplog.text or "IP address mismatch" in caplog.text, caplog.text

    # Turning the name check off still verifies the chain: the same certificate is now accepted.
    unchecked = tls_settings(
        misnamed_tls_broker.bootstrap, kafka_ssl_cafile=str(certificates.ca), kafka_ssl_check_hostname=False
    )
    assert len(await round_trip(unchecked)) == 2


async def test_mutual_tls_presents_the_client_certificate_and_a_client_without_one_is_refused(
    mutual_tls_broker, certificates
):
    cert, key = certificates.client
    with_certificate = tls_settings(
        mutual_tls_broker.bootstrap,
        kafka_ssl_cafile=str(certificates.ca),
        kafka_ssl_certfile=str(cert),
        kafka_ssl_keyfile=str(key),
        kafka_ssl_key_password=CLIENT_KEY_PASSWORD,
    )
    assert len(await round_trip(with_certificate)) == 2
    assert "zone-sample" in mutual_tls_broker.proxy.client_names

    await refused(tls_settings(mutual_tls_broker.bootstrap, kafka_ssl_cafile=str(certificates.ca)))


# --- a whole service --------------------------------------------------------------------------------


async def test_a_service_relays_its_outbox_and_consumes_its_events_through_mutual_tls(
    service_factory, issuer, mutual_tls_broker, certificates
):
    cert, key = certificates.client
    seen_before = len(mutual_tls_broker.proxy.client_names)
    svc = await service_factory(
        DEFINITION,
        kafka_bootstrap_servers=mutual_tls_broker.bootstrap,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=str(certificates.ca),
        kafka_ssl_certfile=str(cert),
        kafka_ssl_keyfile=str(key),
        kafka_ssl_key_password=CLIENT_KEY_PASSWORD,
    )
    created = await svc.client.post(
        "/notes",
        json={"zone_id": "zone-a", "title": "经 TLS 送达", "owner_uscc": VALID_USCC},
        headers=issuer.staff(roles=("notes",)),
    )
    assert created.status_code == 201, created.text
    note_id = created.json()["id"]

    async def projected() -> NoteProjection | None:
        async with svc.ctx.db.session() as session:
            return await session.get(NoteProjection, note_id)

    # Relay → broker → the service's own consumer → projection: only possible through the proxy.
    row = await eventually(projected, timeout_s=60, message="the event never came back through TLS")
    assert row.times_applied == 1
    assert await svc.ctx.relay.backlog() == 0
    assert mutual_tls_broker.proxy.client_names[seen_before:].count("zone-sample") >= 2, (
        "the relay's producer and the consumer each showed the service's certificate"
    )


async def test_readiness_reports_a_broker_whose_port_answers_but_refuses_the_service(
    service_factory, issuer, tls_broker, certificates
):
    # The port accepts TCP, so a bare reachability check would say "ok" while every event piles up.
    svc = await service_factory(
        DEFINITION,
        kafka_bootstrap_servers=tls_broker.bootstrap,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=str(certificates.other_ca),  # the wrong CA: the handshake is refused
        relay_send_timeout_s=3,
        consumers_enabled=False,
    )
    created = await svc.client.post(
        "/notes",
        json={"zone_id": "zone-a", "title": "等待发布", "owner_uscc": VALID_USCC},
        headers=issuer.staff(roles=("notes",)),
    )
    assert created.status_code == 201, created.text

    async def degraded() -> dict[str, Any] | None:
        body = (await svc.client.get("/readyz")).json()
        return body if body["status"] == "degraded" else None

    body = await eventually(degraded, timeout_s=60, message="/readyz never reported the failing broker")
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("publishing fails: ")
    assert await svc.ctx.relay.backlog() >= 1  # kept, not lost

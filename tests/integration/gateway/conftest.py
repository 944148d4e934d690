"""Fixtures for the gateway's integration tests.

- ``gateway_factory``: the real gateway app (``gateway.app.create_app``: middleware, proxy, docs)
  with its lifespan, on a fresh migrated database and the real broker, reached through an ASGI client.
- ``http_server``: runs any ASGI app under uvicorn on a free loopback port in a background thread
  (real TCP, so the gateway's aiohttp clients and breakers are exercised for real).
- ``contract_backend``: a small service that answers the endpoints the gateway's aggregation calls
  (the shapes of the common brief), checks the caller's token against the gateway's JWKS, and can
  echo what it received or answer slowly.
- ``webhook_receiver``: an HTTP receiver that records every delivery and answers with a chosen status.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chassis.auth import JwksVerifier, SigningKey
from chassis.broker import free_port
from chassis.db import Database
from chassis.errors import DomainError, Forbidden, NotFound
from gateway.app import create_app
from gateway.definition import DEFINITION
from gateway.models import SigningKeyRecord
from gateway.runtime import GatewayState
from gateway.settings import BACKENDS, GatewaySettings
from tests.support.webhooks import Receiver

ADMIN = "root"
ADMIN_PASSWORD = "Root-Pass-2026"
PASSWORD = "Xingu-2026-pass"


@dataclass
class RunningGateway:
    app: FastAPI
    client: httpx.AsyncClient
    settings: GatewaySettings
    stack: contextlib.AsyncExitStack

    @property
    def state(self) -> GatewayState:
        return self.app.state.gateway  # type: ignore[no-any-return]

    async def token(self, username: str, password: str = PASSWORD) -> str:
        r = await self.client.post("/auth/token", data={"grant_type": "password", "username": username, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    async def headers(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(username, password)}"}

    async def admin(self) -> dict[str, str]:
        return await self.headers(ADMIN, ADMIN_PASSWORD)

    async def create_account(self, **body: Any) -> dict[str, Any]:
        body.setdefault("password", PASSWORD)
        body.setdefault("name", body["username"])
        r = await self.client.post("/admin/accounts", json=body, headers=await self.admin())
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def create_zone(self, zone_id: str, **body: Any) -> dict[str, Any]:
        body = {"zone_id": zone_id, "name": f"{zone_id} 功能区", "type": "产业新城", "district": "双流区", **body}
        r = await self.client.post("/admin/zones", json=body, headers=await self.admin())
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def client_token(self, client_id: str, event_types: list[str]) -> str:
        r = await self.client.post(
            "/admin/clients", json={"client_id": client_id, "name": client_id, "event_types": event_types},
            headers=await self.admin(),
        )
        assert r.status_code == 201, r.text
        secret = r.json()["client_secret"]
        r = await self.client.post(
            "/auth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    async def close(self) -> None:
        await self.stack.aclose()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (a backend that is down)."""
    return f"http://127.0.0.1:{free_port()}"


PASSPHRASE = "integration-test-passphrase"


@pytest.fixture(scope="session")
def signing_key() -> SigningKeyRecord:
    """One RSA key for the session (generating one per test costs more than the test), stored as the gateway stores it."""
    key = SigningKey.generate(f"it-{uuid.uuid4().hex[:8]}")
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()
    return SigningKeyRecord(kid=key.kid, private_pem=pem, public_jwk=key.public_jwk(), created_at=datetime.now(UTC))


async def _install_key(url: str, record: SigningKeyRecord) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            session.add(SigningKeyRecord(**record.model_dump()))
            await session.commit()
    finally:
        await db.dispose()


@pytest.fixture
async def gateway_factory(databases: Any, kafka: Any, signing_key: SigningKeyRecord) -> AsyncIterator[Callable[..., Any]]:
    running: list[RunningGateway] = []

    async def _start(**overrides: Any) -> RunningGateway:
        url = overrides.pop("database_url", None) or await databases.new_database(DEFINITION)
        await _install_key(url, signing_key)
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": url,
            "kafka_bootstrap_servers": kafka.bootstrap,
            "topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
            "topic_partitions": 1,
            "run_migrations_on_start": False,
            "relay_enabled": False,
            "consumers_enabled": False,
            "relay_poll_interval_s": 0.2,
            "consumer_retry_backoff_s": 0.05,
            "log_json": False,
            "key_passphrase": PASSPHRASE,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 8192,
            "argon2_parallelism": 1,
            "admin_username": ADMIN,
            "admin_password": ADMIN_PASSWORD,
            "webhook_allow_private": True,
            "webhook_backoff_base_s": 0.1,
            "webhook_backoff_max_s": 0.4,
            "webhook_max_attempts": 3,
            "webhook_poll_interval_s": 0.1,
            "breaker_failure_threshold": 3,
            "breaker_reset_s": 30.0,
            "backend_timeout_s": 5.0,
            **{f"{name}_url": closed_port_url() for name in BACKENDS},
        }
        settings = GatewaySettings(**{**values, **overrides})
        app = create_app(settings)
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=30)
        )
        gw = RunningGateway(app=app, client=client, settings=settings, stack=stack)
        running.append(gw)
        return gw

    yield _start
    for gw in reversed(running):
        await gw.close()


# --- real HTTP servers in background threads ---------------------------------------------------


class ThreadedServer:
    """An ASGI app under uvicorn on a loopback port, in its own thread and event loop."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.app = app
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                lifespan="on", timeout_keep_alive=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(15)
            self.server = None


@pytest.fixture
def http_server() -> Any:
    servers: list[ThreadedServer] = []

    def _start(app: Any, port: int | None = None) -> ThreadedServer:
        server = ThreadedServer(app, port).start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


# --- the contract backend -------------------------------------------------------------------------


@dataclass
class ContractControls:
    delay_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    #: Hold every call until this many are in flight at once (or ``hold_timeout_s`` passes): a caller
    #: that makes its calls one after another never gets there, whatever the machine's speed.
    hold_until_in_flight: int = 0
    hold_timeout_s: float = 10.0
    stats_unknown_zones: set[str] = field(default_factory=set)  # zones the statistics service has no record of
    in_flight: int = 0
    max_in_flight: int = 0
    _all_in: asyncio.Event | None = None


def contract_app(jwks: dict[str, Any], controls: ContractControls) -> FastAPI:
    """The endpoints of the common brief that the gateway aggregates, answering from the caller's token."""
    verifier = JwksVerifier(issuer="zone-platform", audience="zone-platform", jwks=jwks)
    app = FastAPI()

    async def caller(request: Request) -> dict[str, Any]:
        token = request.headers.get("authorization", "").partition(" ")[2]
        principal = await verifier.verify(token)
        controls.calls.append({"path": request.url.path, "query": dict(request.query_params), "sub": principal.subject})
        if controls.delay_s:
            await asyncio.sleep(controls.delay_s)
        if controls.hold_until_in_flight:
            controls.in_flight += 1
            controls.max_in_flight = max(controls.max_in_flight, controls.in_flight)
            if controls._all_in is None:
                controls._all_in = asyncio.Event()
            if controls.in_flight >= controls.hold_until_in_flight:
                controls._all_in.set()
            try:
                await asyncio.wait_for(controls._all_in.wait(), controls.hold_timeout_s)
            except TimeoutError:
                pass
            finally:
                controls.in_flight -= 1
        return {"sub": principal.subject, "kind": principal.kind, "zone": principal.zone_id, "uscc": principal.uscc,
                "roles": principal.roles}

    @app.exception_handler(DomainError)
    async def _refused(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.zh}, status_code=exc.status)

    @app.get("/projects")
    async def projects(request: Request) -> dict[str, Any]:
        who = await caller(request)
        uscc = request.query_params.get("uscc")
        return {"items": [{"id": "p-1", "name": "芯片设计中心", "uscc": uscc, "seen_by": who["sub"]}], "total": 1, "page": 1, "size": 20}

    @app.get("/applications")
    async def applications(request: Request) -> dict[str, Any]:
        await caller(request)
        uscc = request.query_params.get("uscc")
        items = [
            {"id": "a-1", "zone_id": "cd-xingu", "uscc": uscc, "item_codes": ["XK-001"], "status": "accepted",
             "due_date": "2026-03-20", "alert_level": "yellow", "working_days_remaining": 2},
            {"id": "a-2", "zone_id": "cd-xingu", "uscc": uscc, "item_codes": ["XK-002"], "status": "accepted",
             "due_date": "2026-03-02", "alert_level": "red", "working_days_remaining": -1},
            {"id": "a-3", "zone_id": "cd-xingu", "uscc": uscc, "item_codes": ["XK-003"], "status": "completed",
             "due_date": "2026-02-20", "alert_level": "none", "working_days_remaining": 0},
        ]
        return {"items": items, "total": 3, "page": 1, "size": 20}

    @app.get("/reports/due")
    async def reports_due(request: Request) -> dict[str, Any]:
        await caller(request)
        return {"uscc": request.query_params.get("uscc"), "due": [{"period": "2026-02", "form": "B204"}], "returned": []}

    @app.get("/reports")
    async def reports(request: Request) -> dict[str, Any]:
        await caller(request)
        return {"items": [{"id": "r-1", "period": "2026-01", "status": request.query_params.get("status")}], "total": 1,
                "page": 1, "size": 20}

    # The four per-zone figures of the dashboard, each also as a batch over repeated zone_id values
    # ({"items": [...], "missing": [...]}), as the services answer them.
    def pipeline_for(who: dict[str, Any], zone_id: str | None) -> dict[str, Any]:
        if who["zone"] and zone_id != who["zone"]:
            raise Forbidden("other zone", "other zone")
        return {"zone_id": zone_id, "stages": [{"stage": "signed", "label": "签约", "count": 3, "agreed_investment_wan": 12000.0}]}

    def summary_for(_who: dict[str, Any], zone_id: str | None) -> dict[str, Any]:
        return {"zone_id": zone_id, "by_status": {"accepted": 4}, "alerts": {"yellow": 1, "red": 1},
                "on_time_rate": 0.95, "average_working_days": 6.5, "backlog": 4}

    def headcount_for(who: dict[str, Any], zone_id: str | None) -> dict[str, Any]:
        if who["kind"] == "staff" and not who["roles"] & {"leader", "hr-admin"}:  # leaders and HR staff only
            raise Forbidden("no", "no")
        return {"zone_id": zone_id, "total_quota": 120, "total_filled": 101, "total_vacancies": 19, "departments": []}

    def statistics_for(_who: dict[str, Any], zone_id: str, period: str | None) -> dict[str, Any]:
        if zone_id in controls.stats_unknown_zones:
            raise NotFound("功能区不存在", "Zone not found")
        return {"zone_id": zone_id, "period": period, "indicators": []}

    def batch(answer: Callable[[str], dict[str, Any]], request: Request) -> dict[str, Any]:
        items, missing = [], []
        for zone_id in request.query_params.getlist("zone_id"):
            try:
                items.append(answer(zone_id))
            except NotFound:
                missing.append(zone_id)
        return {"items": items, "missing": missing}

    @app.get("/pipeline/summary")
    async def pipeline(request: Request) -> dict[str, Any]:
        return pipeline_for(await caller(request), request.query_params.get("zone_id"))

    @app.get("/pipeline/summary/zones")
    async def pipeline_zones(request: Request) -> dict[str, Any]:
        who = await caller(request)
        return batch(lambda z: pipeline_for(who, z), request)

    @app.get("/summary")
    async def summary(request: Request) -> dict[str, Any]:
        return summary_for(await caller(request), request.query_params.get("zone_id"))

    @app.get("/summary/zones")
    async def summary_zones(request: Request) -> dict[str, Any]:
        who = await caller(request)
        return batch(lambda z: summary_for(who, z), request)

    @app.get("/headcount")
    async def headcount(request: Request) -> dict[str, Any]:
        return headcount_for(await caller(request), request.query_params.get("zone_id"))

    @app.get("/headcount/zones")
    async def headcount_zones(request: Request) -> dict[str, Any]:
        who = await caller(request)
        return batch(lambda z: headcount_for(who, z), request)

    @app.get("/zones/summaries")
    async def zone_summaries(request: Request) -> dict[str, Any]:
        who = await caller(request)
        return batch(lambda z: statistics_for(who, z, request.query_params.get("period")), request)

    @app.get("/zones/{zone_id}/summary")
    async def zone_summary(zone_id: str, request: Request) -> dict[str, Any]:
        return statistics_for(await caller(request), zone_id, request.query_params.get("period"))

    @app.get("/assessments/{year}")
    async def assessments(year: int, request: Request) -> Any:
        await caller(request)
        if year >= 2026:  # 2025 is the latest published
            return JSONResponse({"detail": "not published"}, status_code=404)
        return {"year": year, "zones": [{"zone_id": "cd-xingu", "rank": 1, "score": 91.5}]}

    @app.api_route("/echo/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(path: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"method": request.method, "path": request.url.path, "raw_path": request.scope.get("raw_path", b"").decode(),
                "query": request.url.query, "headers": dict(request.headers), "body": body.decode(errors="replace")}

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(3)
        return {"ok": True}

    @app.get("/openapi-probe")
    async def probe() -> dict[str, bool]:
        return {"ok": True}

    return app


# --- the webhook receiver (tests.support.webhooks) ----------------------------------------------


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[Callable[..., Any]]:
    receivers: list[Receiver] = []

    def _make(port: int | None = None) -> Receiver:
        receiver = Receiver(port or free_port())
        receivers.append(receiver)
        return receiver

    yield _make
    for receiver in receivers:
        await receiver.stop()

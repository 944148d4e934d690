"""Routing /api/<service>/... to real services over TCP: pass-through, limits, timeouts, a dead backend, the breaker."""

from __future__ import annotations

import asyncio
import json
import time

from chassis.broker import free_port
from chassis.service import create_service_app
from tests.integration.gateway.conftest import ContractControls, contract_app
from tests.support.sample_service.definition import DEFINITION as SAMPLE
from tests.support.validators import OTHER_USCC, VALID_USCC


async def start_sample(databases, kafka, gw, http_server, port):  # type: ignore[no-untyped-def]
    """The chassis's sample service as the 'investment' backend, trusting the gateway's keys."""
    settings = SAMPLE.settings_class(
        environment="test", database_url=await databases.new_database(SAMPLE), kafka_bootstrap_servers=kafka.bootstrap,
        relay_enabled=False, consumers_enabled=False, run_migrations_on_start=False, log_json=False,
        jwks_json=json.dumps(gw.state.keyring.jwks),
    )
    return http_server(create_service_app(SAMPLE, settings), port)


async def test_requests_reach_a_real_service_with_the_callers_token_and_come_back_unchanged(
    gateway_factory, databases, kafka, http_server
):
    port = free_port()
    gw = await gateway_factory(investment_url=f"http://127.0.0.1:{port}")
    await gw.create_zone("zone-a")
    await gw.create_account(username="staff.a", kind="staff", zone_id="zone-a", roles=["investment"])
    await gw.create_account(username="ent.a", kind="enterprise", uscc=VALID_USCC)
    await gw.create_account(username="ent.b", kind="enterprise", uscc=OTHER_USCC)
    backend = await start_sample(databases, kafka, gw, http_server, port)
    staff = await gw.headers("staff.a")
    note = {"zone_id": "zone-a", "title": "项目洽谈纪要", "owner_uscc": VALID_USCC}
    created = await gw.client.post("/api/investment/notes", json=note, headers={**staff, "Idempotency-Key": "n-1"})
    assert created.status_code == 201, created.text
    replayed = await gw.client.post("/api/investment/notes", json=note, headers={**staff, "Idempotency-Key": "n-1"})
    assert replayed.json() == created.json() and replayed.headers["idempotent-replayed"] == "true"
    note_id = created.json()["id"]
    via_gateway = await gw.client.get(f"/api/investment/notes/{note_id}", headers=await gw.headers("ent.a"))
    import httpx

    async with httpx.AsyncClient() as direct_client:
        direct = await direct_client.get(f"{backend.url}/notes/{note_id}", headers=await gw.headers("ent.a"))
    assert via_gateway.status_code == direct.status_code == 200
    assert via_gateway.content == direct.content
    other = await gw.client.get(f"/api/investment/notes/{note_id}", headers=await gw.headers("ent.b"))
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    anonymous = await gw.client.post("/api/investment/notes", json=note)
    assert anonymous.status_code == 401
    invalid = await gw.client.post("/api/investment/notes", json={**note, "owner_uscc": "bad"}, headers=staff)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "owner_uscc"


async def test_method_path_query_body_and_headers_are_forwarded_with_trace_context(gateway_factory, http_server):
    gw = await gateway_factory()
    backend = http_server(contract_app(gw.state.keyring.jwks, ContractControls()))
    gw.state.backends["approvals"].base_url = backend.url
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    r = await gw.client.put(
        "/api/approvals/echo/a%20b/c?uscc=91510100MA6DGXQ125&x=%E4%B8%AD",
        content="申请材料".encode(),
        headers={"Authorization": "Bearer abc.def", "traceparent": traceparent, "Content-Type": "text/plain",
                 "Accept-Language": "en", "Connection": "keep-alive"},
    )
    assert r.status_code == 200, r.text
    echoed = r.json()
    assert echoed["method"] == "PUT"
    assert echoed["raw_path"] == "/echo/a%20b/c"
    assert echoed["query"] == "uscc=91510100MA6DGXQ125&x=%E4%B8%AD"
    assert echoed["body"] == "申请材料"
    headers = echoed["headers"]
    assert headers["authorization"] == "Bearer abc.def"
    assert headers["accept-language"] == "en" and headers["content-type"] == "text/plain"
    assert headers["traceparent"].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"  # same trace
    assert headers["x-forwarded-prefix"] == "/api/approvals"
    assert "x-forwarded-for" in headers


async def test_a_body_over_the_limit_is_413_before_it_reaches_the_service(gateway_factory, http_server):
    gw = await gateway_factory(max_body_bytes=1024)
    controls = ContractControls()
    backend = http_server(contract_app(gw.state.keyring.jwks, controls))
    gw.state.backends["stats"].base_url = backend.url
    r = await gw.client.post("/api/stats/echo/upload", content=b"x" * 2048)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(4):
            yield b"y" * 512

    streamed = await gw.client.post("/api/stats/echo/upload", content=chunks())
    assert streamed.status_code == 413
    small = await gw.client.post("/api/stats/echo/upload", content=b"z" * 1000)
    assert small.status_code == 200 and len(small.json()["body"]) == 1000
    own = await gw.client.post("/admin/zones", content=b"{" + b" " * 2048 + b"}",
                               headers={"content-type": "application/json"})
    assert own.status_code == 413


async def test_dot_segments_cannot_escape_the_service_prefix(gateway_factory, http_server):
    gw = await gateway_factory()
    backend = http_server(contract_app(gw.state.keyring.jwks, ContractControls()))
    gw.state.backends["hr"].base_url = backend.url
    r = await gw.client.get("/api/hr/echo/%2e%2e/admin")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


async def test_a_slow_service_is_a_504_within_the_timeout(gateway_factory, http_server):
    gw = await gateway_factory(backend_timeout_s=0.5)
    backend = http_server(contract_app(gw.state.keyring.jwks, ContractControls()))
    gw.state.backends["hr"].base_url = backend.url
    started = time.monotonic()
    r = await gw.client.get("/api/hr/slow")
    assert r.status_code == 504 and r.json()["backend"] == "hr"
    assert time.monotonic() - started < 2.0


async def test_a_stopped_service_gives_503_with_retry_after_at_once_and_its_circuit_opens(
    gateway_factory, databases, kafka, http_server
):
    port = free_port()
    gw = await gateway_factory(investment_url=f"http://127.0.0.1:{port}", breaker_failure_threshold=3, breaker_reset_s=0.5)
    backend = await start_sample(databases, kafka, gw, http_server, port)
    assert (await gw.client.get("/api/investment/healthz")).status_code == 200
    backend.stop()
    breaker = gw.state.backends["investment"].breaker
    for _ in range(3):
        started = time.monotonic()
        r = await gw.client.get("/api/investment/healthz")
        assert r.status_code == 503, r.text
        assert time.monotonic() - started < 1.0, "a dead backend must not hang the caller"
        assert r.headers["content-type"] == "application/problem+json" and int(r.headers["retry-after"]) >= 1
        assert r.json()["backend"] == "investment"
    assert breaker.state == "open"
    refused = await gw.client.post("/api/investment/notes", json={})
    assert refused.status_code == 503 and refused.json()["reason"] == "circuit open"
    # The other services are not affected, and the service comes back through a trial request.
    assert (await gw.client.get("/api/zones")).status_code == 200
    await start_sample(databases, kafka, gw, http_server, port)
    await asyncio.sleep(0.6)
    assert (await gw.client.get("/api/investment/healthz")).status_code == 200
    assert breaker.state == "closed"


async def test_the_aggregated_openapi_lists_every_reachable_service_under_its_prefix(gateway_factory, databases, kafka, http_server):
    port = free_port()
    gw = await gateway_factory(investment_url=f"http://127.0.0.1:{port}")
    await start_sample(databases, kafka, gw, http_server, port)
    document = (await gw.client.get("/openapi.json")).json()
    assert "/auth/token" in document["paths"] and "/api/dashboard" in document["paths"]
    assert "/api/investment/notes" in document["paths"] and "/api/investment/notes/{note_id}" in document["paths"]
    operation = document["paths"]["/api/investment/notes"]["post"]
    assert operation["operationId"].startswith("investment__")
    refs = json.dumps(document["paths"]["/api/investment/notes"])
    assert "#/components/schemas/investment__NoteIn" in refs
    assert "investment__NoteIn" in document["components"]["schemas"]
    assert document["x-missing-services"] == ["approvals", "hr", "stats"]
    assert "OAuth2Password" in document["components"]["securitySchemes"]
    docs = await gw.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    asyncapi = (await gw.client.get("/asyncapi.json")).json()
    assert "zone.platform" in asyncapi["channels"]

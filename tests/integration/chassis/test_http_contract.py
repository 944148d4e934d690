"""Idempotency keys, problem details and trace propagation, through a real app and database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import func, select, update

from chassis.tables import audit_log, idempotency_key, outbox_event
from chassis.telemetry import setup_tracing
from tests.support.sample_service.definition import DEFINITION, Note
from tests.support.services import eventually
from tests.support.validators import OTHER_USCC, VALID_USCC

WRITER = {"roles": ("notes",)}


def note(title: str = "项目洽谈纪要", **extra: object) -> dict[str, object]:
    return {"zone_id": "zone-a", "title": title, "owner_uscc": VALID_USCC, **extra}


async def count(svc, table) -> int:  # type: ignore[no-untyped-def]
    async with svc.ctx.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_retried_post_with_the_same_key_returns_the_first_response(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Idempotency-Key": "k-1"}
    first = await svc.client.post("/notes", json=note(), headers=headers)
    again = await svc.client.post("/notes", json=note(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await count(svc, Note.__table__) == 1


async def test_the_same_key_with_a_different_body_is_422(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Idempotency-Key": "k-2"}
    await svc.client.post("/notes", json=note("一"), headers=headers)
    other = await svc.client.post("/notes", json=note("二"), headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_keys_are_scoped_per_client(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    a = await svc.client.post("/notes", json=note(), headers={**issuer.staff(subject="a", **WRITER), "Idempotency-Key": "same"})
    b = await svc.client.post("/notes", json=note(), headers={**issuer.staff(subject="b", **WRITER), "Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_a_retry_while_the_first_is_in_flight_is_409_and_50_concurrent_posts_create_one_record(
    service_factory, issuer
):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Idempotency-Key": "burst"}
    responses = await asyncio.gather(*(svc.client.post("/notes", json=note(), headers=headers) for _ in range(50)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    created_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["Retry-After"] == "1"
    assert await count(svc, Note.__table__) == 1
    assert await count(svc, outbox_event) == 1


async def test_a_failed_request_releases_its_key_so_the_client_can_retry(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Idempotency-Key": "k-3"}
    refused = await svc.client.post("/notes", json=note(zone_id="zone-b"), headers=headers)
    assert refused.status_code == 403
    retried = await svc.client.post("/notes", json=note(zone_id="zone-b"), headers=headers)
    assert retried.status_code == 403  # evaluated again, not replayed as in flight


async def test_an_expired_key_is_claimed_afresh_by_the_next_request(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Idempotency-Key": "k-old"}
    first = await svc.client.post("/notes", json=note("一"), headers=headers)
    async with svc.ctx.db.session() as s:  # a day later: the stored response is past its 24 h
        await s.execute(update(idempotency_key).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await s.commit()
    second = await svc.client.post("/notes", json=note("二"), headers=headers)  # not 422: the old body is forgotten
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    replayed = await svc.client.post("/notes", json=note("二"), headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == second.json()
    assert await count(svc, idempotency_key) == 1


async def test_invalid_input_names_the_field_in_chinese_and_writes_nothing(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    r = await svc.client.post(
        "/notes", json=note(owner_uscc="91510100MA61R8XE5X", title=""), headers=issuer.staff(**WRITER)
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["content-language"] == "zh-CN"
    body = r.json()
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert "统一社会信用代码无效" in fields["owner_uscc"]
    assert "长度不能少于 1 个字符" == fields["title"]
    assert body["status"] == 422 and body["type"].endswith("/validation-error")
    for table in (Note.__table__, outbox_event, audit_log):
        assert await count(svc, table) == 0


async def test_problem_details_follow_accept_language(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Accept-Language": "en-US,en;q=0.9,zh;q=0.5"}
    r = await svc.client.post("/notes", json={"zone_id": "zone-a"}, headers=headers)
    assert r.status_code == 422
    assert r.headers["content-language"] == "en"
    assert {e["field"] for e in r.json()["errors"]} == {"title", "owner_uscc"}
    assert r.json()["errors"][0]["message"] == "Field required"


async def test_malformed_json_and_missing_token_are_problem_details(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    r = await svc.client.post(
        "/notes", content=b"{not json", headers={**issuer.staff(**WRITER), "content-type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = await svc.client.post("/notes", json=note())
    assert r.status_code == 401 and r.json()["title"] == "未登录或令牌无效"


async def test_an_enterprise_reading_anothers_record_gets_404(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    created = await svc.client.post("/notes", json=note(), headers=issuer.staff(**WRITER))
    note_id = created.json()["id"]
    assert (await svc.client.get(f"/notes/{note_id}", headers=issuer.enterprise(VALID_USCC))).status_code == 200
    assert (await svc.client.get(f"/notes/{note_id}", headers=issuer.enterprise(OTHER_USCC))).status_code == 404
    assert (await svc.client.get(f"/notes/{note_id}", headers=issuer.staff("zone-b"))).status_code == 404


async def test_a_trace_started_by_an_http_request_continues_in_the_consumers_span(service_factory, issuer):
    exporter = InMemorySpanExporter()
    setup_tracing("sample", None, exporter=exporter)
    svc = await service_factory(DEFINITION)
    r = await svc.client.post("/notes", json=note(), headers=issuer.staff(**WRITER))
    note_id = r.json()["id"]

    def consumer_span():  # type: ignore[no-untyped-def]
        return next(
            (
                s for s in exporter.get_finished_spans()
                if s.kind == SpanKind.CONSUMER and s.attributes.get("messaging.destination.name", "").endswith("zone.sample")
                and s.attributes.get("messaging.message.id") is not None
            ),
            None,
        )

    async def found():  # type: ignore[no-untyped-def]
        return consumer_span()

    span = await eventually(found, message="no consumer span")
    server = [
        s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER and s.attributes.get("http.route") == "/notes"
    ]
    assert server, "no server span for POST /notes"
    assert span.context.trace_id == server[-1].context.trace_id
    producer = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.PRODUCER]
    assert any(p.context.trace_id == span.context.trace_id for p in producer)
    assert note_id


async def test_idempotency_keys_work_for_multipart_uploads_too(service_factory, issuer):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False)
    headers = {**issuer.staff(**WRITER), "Idempotency-Key": "upload-1"}
    first = await svc.client.post("/attachments", files={"file": ("a.pdf", b"%PDF-1.7 one")}, headers=headers)
    again = await svc.client.post("/attachments", files={"file": ("a.pdf", b"%PDF-1.7 one")}, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await svc.client.post("/attachments", files={"file": ("a.pdf", b"%PDF-1.7 two")}, headers=headers)
    assert other.status_code == 422

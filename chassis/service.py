"""The service application factory: one call turns a :class:`ServiceDefinition` into a FastAPI app
with every piece of plumbing wired in.

A service's package provides a ``definition.py`` with its routers, table metadata, migrations,
event catalog, consumers, background jobs and demo seed; ``create_service_app`` adds the lifespan
(engine, migrations in embedded mode, topics, relay, consumers, jobs), error handlers, telemetry,
``/healthz`` ``/readyz`` ``/metrics``, and the operator endpoints under ``/admin`` (outbox replay,
dead letters, audit trail).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.auth import ROLE_ADMIN, ROLE_AUDITOR, JwksVerifier, Principal, require
from chassis.consumer import ConsumerSpec, EventConsumer
from chassis.db import Database
from chassis.errors import Conflict, NotFound, document_problems, install_error_handlers
from chassis.events import EventCatalog
from chassis.idempotency import purge_expired
from chassis.kafka import Publisher, broker_reachable, ensure_topics
from chassis.migrations import upgrade
from chassis.outbox import OutboxRelay
from chassis.pagination import Page, Pagination
from chassis.settings import ServiceSettings
from chassis.tables import audit_log, dead_letter
from chassis.telemetry import (
    MetricsMiddleware,
    instrument_app,
    instrument_engine,
    metrics_endpoint,
    setup_logging,
    setup_tracing,
)

log = logging.getLogger("chassis.service")

Job = Callable[["ServiceContext"], Awaitable[None]]
Seeder = Callable[[AsyncSession, "ServiceContext"], Awaitable[None]]


@dataclass
class ServiceDefinition:
    """Everything that makes one service what it is (its package fills this in)."""

    name: str
    title: str
    description: str
    routers: list[APIRouter]
    metadata: MetaData
    migrations_dir: Path
    events: EventCatalog
    settings_class: type[ServiceSettings]
    consumers: list[ConsumerSpec] = field(default_factory=list)
    #: Periodic jobs: (name, interval seconds, coroutine function taking the context).
    jobs: list[tuple[str, float, Job]] = field(default_factory=list)
    seed: Seeder | None = None
    version: str = "1.0.0"


@dataclass
class ServiceContext:
    """What routes, jobs and handlers reach through ``request.app.state.ctx``."""

    definition: ServiceDefinition
    settings: ServiceSettings
    db: Database
    publisher: Publisher
    relay: OutboxRelay
    verifier: JwksVerifier
    consumers: list[EventConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def get_ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Ctx = Annotated[ServiceContext, Depends(get_ctx)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the route returns, rolled back if it raises."""
    ctx: ServiceContext = request.app.state.ctx
    session = ctx.db.new_session()
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


# scope="function": commit before the response is sent, so a failed commit is the response.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


def build_verifier(settings: ServiceSettings) -> JwksVerifier:
    return JwksVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_url=None if settings.jwks_json else settings.jwks_url,
        jwks=json.loads(settings.jwks_json) if settings.jwks_json else None,
    )


def create_service_app(definition: ServiceDefinition, settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or definition.settings_class()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow)
        publisher = Publisher(settings)
        relay = OutboxRelay(db, publisher, settings)
        db.session_info.update(topic_prefix=settings.topic_prefix, on_outbox_commit=relay.notify)
        ctx = ServiceContext(
            definition=definition,
            settings=settings,
            db=db,
            publisher=publisher,
            relay=relay,
            verifier=build_verifier(settings),
        )
        app.state.ctx = ctx
        app.state.verifier = ctx.verifier
        instrument_engine(db.engine)
        if settings.run_migrations_on_start:
            await upgrade(definition.migrations_dir, settings.database_url, definition.metadata)
        if settings.seed_demo_data and definition.seed is not None:
            async with db.session() as session:
                await definition.seed(session, ctx)
                await session.commit()
        ctx.consumers = [EventConsumer(spec, db=db, settings=settings, publisher=publisher) for spec in definition.consumers]
        if settings.relay_enabled:
            ctx.tasks.append(asyncio.create_task(_start_relay(ctx), name=f"{settings.service_name}-relay"))
        if settings.consumers_enabled:
            for consumer in ctx.consumers:
                ctx.tasks.append(asyncio.create_task(consumer.run(), name=consumer.group))
        for name, interval, job in [*definition.jobs, ("idempotency-purge", 3600.0, _purge_job)]:
            ctx.tasks.append(asyncio.create_task(_every(ctx, name, interval, job), name=name))
        log.info("%s ready on %s", settings.service_name, settings.database_url.split("@")[-1])
        try:
            yield
        finally:
            relay.stop()
            for consumer in ctx.consumers:
                consumer.stop()
            for task in ctx.tasks:
                task.cancel()
            await asyncio.gather(*ctx.tasks, return_exceptions=True)
            for consumer in ctx.consumers:
                await consumer._close()
            await publisher.close()
            await db.dispose()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        responses={
            401: {"description": "未登录或令牌无效 (problem details)"},
            403: {"description": "无权执行此操作 (problem details)"},
            422: {"description": "提交的内容未通过校验 (problem details, 字段级错误)"},
        },
    )
    install_error_handlers(app)
    document_problems(app)  # every operation's OpenAPI names the problem details it may answer with
    instrument_app(app)
    app.add_middleware(MetricsMiddleware, service=settings.service_name)
    app.state.settings = settings
    app.state.definition = definition
    app.include_router(platform_router(definition))
    for router in definition.routers:
        app.include_router(router)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    return app


async def _start_relay(ctx: ServiceContext) -> None:
    # Topics first, so consumers of a brand-new deployment find them; retried until the broker answers.
    backoff = 0.5
    while True:
        try:
            await ensure_topics(ctx.settings, [ctx.settings.topic(ctx.definition.name)])
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            ctx.relay.last_failure = f"{type(exc).__name__}: {exc}"[:300]  # for /readyz
            log.warning("topic creation failed (%s); retrying in %.1fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)
    await ctx.relay.run()


async def _every(ctx: ServiceContext, name: str, interval: float, job: Job) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await job(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", name)


async def _purge_job(ctx: ServiceContext) -> None:
    await purge_expired(ctx.db)


# --- health and operator endpoints --------------------------------------------------------------

# Replaying events and redriving dead letters are platform operations: administrators only.
Operator = Annotated[Principal, Depends(require(ROLE_ADMIN))]
Auditor = Annotated[Principal, Depends(require(ROLE_AUDITOR))]


class ReplayRequest(BaseModel):
    since: AwareDatetime = Field(description="重放起始时间（含）")
    until: AwareDatetime | None = Field(None, description="重放截止时间（不含）")
    types: list[str] | None = Field(None, description="只重放这些事件类型")
    topic: str | None = Field(None, max_length=200, description="改发到此主题（默认原主题）")


class Readiness(BaseModel):
    status: str = Field(description="ok / degraded（消息代理不可达或发布失败）/ unavailable（数据库不可达）")
    service: str
    checks: dict[str, str]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_kind: str
    zone_id: str | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    trace_id: str | None


class DeadLetter(BaseModel):
    id: int
    consumer: str
    event_id: str
    type: str
    topic: str
    error: str
    attempts: int
    failed_at: datetime
    redriven_at: datetime | None


def platform_router(definition: ServiceDefinition) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["运维 operations"], summary="存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @router.get(
        "/readyz", tags=["运维 operations"], summary="就绪检查（数据库与消息代理）", response_model=Readiness,
        responses={503: {"model": Readiness, "description": "数据库不可达，暂不接收流量"}},
    )
    async def readyz(ctx: Ctx) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ctx.db.ping(), 2.0)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if not await broker_reachable(ctx.settings.kafka_bootstrap_servers):
            checks["broker"] = "unreachable"
        elif ctx.relay.last_failure is not None:
            # The port answers but publishing fails (TLS, SASL, ACLs): the outbox is growing.
            checks["broker"] = f"publishing fails: {ctx.relay.last_failure}"
        else:
            checks["broker"] = "ok"
        # The database decides readiness. A broker outage is reported but keeps the service in
        # rotation: requests still succeed and their events wait in the outbox.
        ready = checks["database"] == "ok"
        status = "ok" if ready and checks["broker"] == "ok" else ("degraded" if ready else "unavailable")
        return JSONResponse(
            {"status": status, "service": definition.name, "checks": checks},
            status_code=200 if ready else 503,
            headers=None if ready else {"Retry-After": "5"},
        )

    @router.get("/admin/outbox", tags=["运维 operations"], summary="发件箱积压")
    async def outbox_status(ctx: Ctx, _: Operator) -> dict[str, int]:
        return {"backlog": await ctx.relay.backlog(), "published_by_this_process": ctx.relay.published_total}

    @router.post("/admin/outbox/replay", tags=["运维 operations"], summary="从发件箱重放事件")
    async def replay(body: ReplayRequest, ctx: Ctx, _: Operator) -> dict[str, int]:
        count = await ctx.relay.replay(since=body.since, until=body.until, types=body.types, topic=body.topic)
        return {"replayed": count}

    @router.get("/admin/dead-letters", tags=["运维 operations"], summary="死信列表", response_model=Page[DeadLetter])
    async def dead_letters(
        ctx: Ctx, _: Operator, page: Pagination, open_only: Annotated[bool, Query()] = True
    ) -> dict[str, Any]:
        query = select(dead_letter).order_by(dead_letter.c.id)
        if open_only:
            query = query.where(dead_letter.c.redriven_at.is_(None))
        async with ctx.db.session() as session:
            total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
            rows = (await session.execute(query.offset(page.offset).limit(page.size))).all()
        return {"items": [dict(r._mapping) for r in rows], "total": total, "page": page.page, "size": page.size}

    @router.post("/admin/dead-letters/{dead_letter_id}/redrive", tags=["运维 operations"], summary="重新投递死信")
    async def redrive(dead_letter_id: int, ctx: Ctx, _: Operator) -> dict[str, Any]:
        async with ctx.db.session() as session:
            row = (await session.execute(select(dead_letter).where(dead_letter.c.id == dead_letter_id))).first()
        if row is None:
            raise NotFound("死信不存在", "Dead letter not found")
        consumer = next((c for c in ctx.consumers if c.group == row.consumer), None)
        if consumer is None:
            raise NotFound("该死信的消费者不在本服务中", "No such consumer in this service")
        try:
            done = await consumer.redrive(dead_letter_id)
        except Exception as exc:
            raise Conflict(
                f"重新投递仍然失败：{type(exc).__name__}: {exc}", f"Redrive failed again: {type(exc).__name__}: {exc}"
            ) from exc
        return {"id": dead_letter_id, "redriven": done}

    @router.get("/audit", tags=["审计 audit"], summary="审计日志", response_model=Page[AuditEntry])
    async def audit(
        session: Session,
        principal: Auditor,
        page: Pagination,
        entity_type: str | None = None,
        entity_id: str | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        query = select(audit_log).order_by(audit_log.c.id.desc())
        if principal.zone_id is not None and not principal.is_admin:
            query = query.where(audit_log.c.zone_id == principal.zone_id)
        if entity_type:
            query = query.where(audit_log.c.entity_type == entity_type)
        if entity_id:
            query = query.where(audit_log.c.entity_id == entity_id)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await session.execute(query.offset(page.offset).limit(page.size))).all()
        return {"items": [dict(r._mapping) for r in rows], "total": total, "page": page.page, "size": page.size}

    return router

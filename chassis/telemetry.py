"""OpenTelemetry traces, Prometheus metrics and JSON logs carrying trace ids.

Traces: FastAPI, httpx, SQLAlchemy and aiohttp are instrumented; Kafka produce and consume spans
are made by the outbox relay and the consumer runner, with the context carried in the
``traceparent`` header. Spans are exported over OTLP/HTTP only when ``OTEL_EXPORTER_OTLP_ENDPOINT``
is set; without it the context is still created and propagated, so logs and events carry trace ids.
SQL statement spans are made only when spans are exported (see :func:`instrument_engine`).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_provider: TracerProvider | None = None
#: Whether finished spans go anywhere (an OTLP endpoint or an exporter given to :func:`setup_tracing`).
_exporting = False

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge("outbox_backlog_events", "Events written but not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge("outbox_oldest_unsent_age_seconds", "Age of the oldest unsent event", ["service"])
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Events published by the relay", ["service"])
OUTBOX_PUBLISH_FAILURES = Counter("outbox_publish_failures_total", "Relay batches that failed", ["service"])
EVENTS_CONSUMED = Counter("events_consumed_total", "Events handled by consumers", ["consumer", "type", "outcome"])


def setup_tracing(service_name: str, otlp_endpoint: str | None, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the tracer provider once per process (a second call adds only an exporter)."""
    global _provider, _exporting
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        trace.set_tracer_provider(_provider)
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _exporting = True
    if exporter is not None:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        _provider.add_span_processor(SimpleSpanProcessor(exporter))
        _exporting = True
    return _provider


def instrument_app(app: Any) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No internal span per ASGI ``receive``/``send`` message (three or four per request, made on every
    # request, exported or not): the server span already carries the status and the timing.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])


def instrument_engine(engine: Any) -> None:
    """A span per SQL statement, when spans are exported. Without an exporter each would be built and
    thrown away: about a sixth of the CPU of a filing (25 statements) in the approval service, by cProfile
    under ``bench/submission.py``. The request's own span, which events and logs carry, is unaffected."""
    if not _exporting:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)


def instrument_http_clients() -> None:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()
    if not AioHttpClientInstrumentor().is_instrumented_by_opentelemetry:
        AioHttpClientInstrumentor().instrument()


def tracer(name: str = "zone-platform") -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the current span, as headers (empty when there is none)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the trace and span ids of the current span."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            out["trace_id"] = format(ctx.trace_id, "032x")
            out["span_id"] = format(ctx.span_id, "016x")
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(service: str, level: str = "INFO", as_json: bool = True) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(service) if as_json else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka logs every refused connection as an error; the chassis reports outages itself.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG, personal data included.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


class MetricsMiddleware:
    """Counts requests and their latency by route template (pure ASGI: cheap on the hot path)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(time.perf_counter() - start)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""Routing ``/api/<service>/...`` to the services: the hot path of every request.

Design (measured on this machine, see ``gateway.benchmark``): one ``aiohttp.ClientSession`` per
backend with a pooled keep-alive connector sized for hundreds of concurrent requests — httpx's
default client costs an order of magnitude more per request. Proxied paths are handed to a raw
ASGI app in front of the gateway's FastAPI stack (see :class:`gateway.middleware.ProxySplit`: no
routing table, no request parsing, no per-request JSON handling): the request body is read once as
bytes (bounded by ``GATEWAY_MAX_BODY_BYTES`` → 413), the response bytes are passed through
untouched (small bodies in one message, large ones streamed), headers are copied except the
hop-by-hop ones, and the caller's ``Authorization`` and the W3C trace context travel along.

Failure handling: a connect failure is retried a bounded number of times for idempotent methods
only (and for a POST that carries an ``Idempotency-Key``, which the services deduplicate); a
backend that does not answer within ``GATEWAY_BACKEND_TIMEOUT_S`` is a 504; a backend that is down
is a 503 problem with ``Retry-After`` — at once, never a hang — and after
``GATEWAY_BREAKER_FAILURE_THRESHOLD`` consecutive failures its circuit opens so further requests
are refused without even trying until a trial request succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import aiohttp
from opentelemetry import propagate
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from yarl import URL

from chassis.errors import problem_response
from gateway.resilience import CircuitBreaker
from gateway.settings import GatewaySettings

log = logging.getLogger("gateway.proxy")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
REQUEST_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"traceparent",
        b"tracestate",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-prefix",
    }
)
RESPONSE_HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)
#: Responses up to this size are read whole and sent in one ASGI message; larger ones are streamed.
WHOLE_BODY_LIMIT = 1024 * 1024
STREAM_CHUNK = 64 * 1024


class BackendUnavailable(Exception):
    def __init__(self, backend: str, retry_after_s: int, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.retry_after_s = retry_after_s
        self.reason = reason


class BackendTimeout(Exception):
    def __init__(self, backend: str) -> None:
        super().__init__(f"{backend}: timed out")
        self.backend = backend


class Backend:
    """One service behind the gateway: its base URL, pooled client session and circuit breaker."""

    def __init__(self, name: str, base_url: str, settings: GatewaySettings) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.prefix = f"/api/{name}"
        self.breaker = CircuitBreaker(settings.breaker_failure_threshold, settings.breaker_reset_s)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.settings.backend_pool_size,
                limit_per_host=self.settings.backend_pool_size,
                keepalive_timeout=self.settings.backend_keepalive_s,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.backend_timeout_s, sock_connect=self.settings.backend_connect_timeout_s
                ),
                auto_decompress=False,  # bytes pass through with their Content-Encoding
                cookie_jar=aiohttp.DummyCookieJar(),  # never carry one caller's cookies to another
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def url(self, path_and_query: str) -> URL:
        return URL(self.base_url + path_and_query, encoded=True)

    async def request(
        self,
        method: str,
        path_and_query: str,
        *,
        headers: Any,
        body: bytes | None = None,
        retryable: bool,
        timeout_s: float | None = None,
    ) -> aiohttp.ClientResponse:
        """Send one request through the breaker; the caller must release the response."""
        if not self.breaker.allow():
            raise BackendUnavailable(self.name, self.breaker.retry_after_s(), "circuit open")
        url = self.url(path_and_query)
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s is not None else None
        attempt = 0
        while True:
            try:
                if timeout is None:
                    response = await self.session.request(
                        method, url, headers=headers, data=body, allow_redirects=False
                    )
                else:
                    response = await self.session.request(
                        method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout
                    )
            except aiohttp.ConnectionTimeoutError as exc:
                failure: Exception = exc
            except TimeoutError as exc:
                self.breaker.record_failure()
                raise BackendTimeout(self.name) from exc
            except aiohttp.ClientConnectionError as exc:
                failure = exc
            else:
                if response.status in (502, 503, 504):
                    self.breaker.record_failure()
                else:
                    self.breaker.record_success()
                return response
            attempt += 1
            if retryable and attempt <= self.settings.backend_retries:
                await asyncio.sleep(0.02 * attempt)
                continue
            self.breaker.record_failure()
            raise BackendUnavailable(
                self.name, self.breaker.retry_after_s() if self.breaker.state == "open" else 2, type(failure).__name__
            ) from failure


def forwarded_headers(scope: Scope, prefix: str) -> list[tuple[str, str]]:
    """The caller's headers minus hop-by-hop ones, plus X-Forwarded-* and the current trace context."""
    out: list[tuple[str, str]] = []
    forwarded_for = ""
    host = ""
    for name, value in scope["headers"]:
        if name in REQUEST_HOP_BY_HOP:
            if name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
            elif name in (b"traceparent", b"tracestate"):
                out.append((name.decode("latin-1"), value.decode("latin-1")))
            continue
        out.append((name.decode("latin-1"), value.decode("latin-1")))
    client = scope.get("client")
    if client:
        forwarded_for = f"{forwarded_for}, {client[0]}" if forwarded_for else str(client[0])
    if forwarded_for:
        out.append(("X-Forwarded-For", forwarded_for))
    if host:
        out.append(("X-Forwarded-Host", host))
    out.append(("X-Forwarded-Proto", scope.get("scheme", "http")))
    out.append(("X-Forwarded-Prefix", prefix))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if carrier:  # our server span continues the caller's trace; pass ours on instead of theirs
        out = [(k, v) for k, v in out if k not in ("traceparent", "tracestate")]
        out.extend(carrier.items())
    return out


@dataclass
class _Refusal:
    status: int
    slug: str
    title: tuple[str, str]
    detail: tuple[str, str]
    headers: dict[str, str] | None = None
    reason: str | None = None


async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: _Refusal, backend: str | None = None) -> None:
    extra = {"backend": backend} if backend else {}
    if refusal.reason:
        extra["reason"] = refusal.reason
    response = problem_response(
        Request(scope),
        status=refusal.status,
        slug=refusal.slug,
        title=refusal.title,
        detail=refusal.detail,
        headers=refusal.headers,
        extra=extra or None,
    )
    await response(scope, receive, send)


def _unsafe_path(path: str) -> bool:
    return any(segment in (".", "..") for segment in unquote(path).split("/"))


class ProxyApp:
    """The ASGI app mounted at ``/api/<service>``: forwards everything under it to that service."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.prefix = f"/api/{name}".encode()
        self.route = f"/api/{name}/{{path}}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        state = scope["app"].state.gateway
        backend: Backend = state.backends[self.name]
        settings: GatewaySettings = state.settings
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw_path.split(b"?", 1)[0]  # some ASGI servers include the query here
        rest = raw_path[len(self.prefix) :] if raw_path.startswith(self.prefix) else b"/"
        path = rest.decode("latin-1") or "/"
        if _unsafe_path(path):
            await _refuse(
                scope, receive, send,
                _Refusal(400, "bad-request", ("请求有误", "Bad request"), ("路径不合法", "Path segments '.' and '..' are not allowed")),
            )
            return
        query = scope.get("query_string", b"")
        path_and_query = path + ("?" + query.decode("latin-1") if query else "")

        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > settings.max_body_bytes:
                    await _refuse(scope, receive, send, _too_large(settings))
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > settings.max_body_bytes:
                    await _refuse(scope, receive, send, _too_large(settings))
                    return
                chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks) if chunks else None

        method: str = scope["method"]
        headers = forwarded_headers(scope, backend.prefix)
        retryable = method in IDEMPOTENT_METHODS or (
            method == "POST" and any(n == b"idempotency-key" for n, _ in scope["headers"])
        )
        try:
            response = await backend.request(method, path_and_query, headers=headers, body=body, retryable=retryable)
        except BackendUnavailable as exc:
            await _refuse(scope, receive, send, _unavailable(exc), backend=self.name)
            return
        except BackendTimeout:
            await _refuse(
                scope, receive, send,
                _Refusal(
                    504, "gateway-timeout", ("后端服务响应超时", "Gateway timeout"),
                    (f"{self.name} 服务未能及时响应，请稍后重试", f"The {self.name} service did not answer in time"),
                    {"Retry-After": "5"},
                ),
                backend=self.name,
            )
            return
        try:
            await _relay_response(response, method, send)
        finally:
            response.release()


async def _relay_response(response: aiohttp.ClientResponse, method: str, send: Send) -> None:
    headers = [(k.lower(), v) for k, v in response.raw_headers if k.lower() not in RESPONSE_HOP_BY_HOP]
    length = response.content_length
    if method == "HEAD" or response.status in (204, 304):
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    if length is not None and length <= WHOLE_BODY_LIMIT:
        data = await response.read()
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    try:
        async for chunk in response.content.iter_chunked(STREAM_CHUNK):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except (aiohttp.ClientError, TimeoutError) as exc:  # headers are gone: all we can do is cut it short
        log.warning("backend stream broke off: %s", exc)
        raise
    await send({"type": "http.response.body", "body": b""})


def _too_large(settings: GatewaySettings) -> _Refusal:
    limit_mb = settings.max_body_bytes / (1024 * 1024)
    return _Refusal(
        413, "payload-too-large", ("提交的内容过大", "Payload too large"),
        (f"请求体不能超过 {limit_mb:.0f} MB", f"The request body may not exceed {settings.max_body_bytes} bytes"),
    )


def _unavailable(exc: BackendUnavailable) -> _Refusal:
    return _Refusal(
        503, "service-unavailable", ("服务暂不可用", "Service unavailable"),
        (f"{exc.backend} 服务暂时无法访问，请稍后重试", f"The {exc.backend} service is unavailable ({exc.reason}); retry later"),
        {"Retry-After": str(exc.retry_after_s)},
        exc.reason,
    )

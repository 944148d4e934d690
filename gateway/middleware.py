"""The front of the gateway: security headers, CORS, rate limits, the body size limit, and the split
between proxied paths and the gateway's own routes.

All pure ASGI (no ``BaseHTTPMiddleware``, which would buffer every proxied response), wrapped
around the whole app so that proxied requests pay for nothing they do not need. Rate limits
are token buckets per client: the token's subject when the request carries a valid token, else the
caller's IP; ``/auth/token`` has its own stricter bucket per IP (password guessing is also stopped
by the account lockout). Health and metrics endpoints are not limited.
"""

from __future__ import annotations

import math
import time

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chassis.errors import DomainError, PayloadTooLarge, problem_response
from chassis.telemetry import HTTP_LATENCY, HTTP_REQUESTS
from gateway.proxy import ProxyApp
from gateway.runtime import GatewayState
from gateway.settings import BACKENDS, GatewaySettings

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TOKEN_PATH = "/auth/token"
PROXIED = "gateway.proxy"
DOCS_PATHS = ("/docs", "/redoc")

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    b"frame-ancestors 'none'"
)


class GuardMiddleware:
    """Rate limits (429 + Retry-After) and the request body limit (413) as problem details."""

    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        state: GatewayState | None = getattr(scope["app"].state, "gateway", None)
        if state is not None:
            wait = await self._acquire(scope, state)
            if wait > 0:
                await _problem(
                    scope, receive, send, 429, "rate-limited", ("请求过于频繁", "Too many requests"),
                    ("请求过于频繁，请稍后再试", "Rate limit exceeded; slow down"),
                    {"Retry-After": str(max(1, math.ceil(wait)))},
                )
                return
        if scope.get(PROXIED) is not None:
            await self.app(scope, receive, send)  # the proxy enforces the body limit while it reads
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await _problem(
                    scope, receive, send, 413, "payload-too-large", ("提交的内容过大", "Payload too large"),
                    ("请求体过大", f"The request body may not exceed {self.max_body} bytes"),
                )
                return
        await self.app(scope, _limited(receive, self.max_body), send)

    async def _acquire(self, scope: Scope, state: GatewayState) -> float:
        client = scope.get("client")
        ip = str(client[0]) if client else "unknown"
        if scope["path"] == TOKEN_PATH:
            return state.token_limiter.acquire(f"ip:{ip}")
        key = f"ip:{ip}"
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token:
                    try:
                        principal = await state.keyring.verifier.verify(token.strip())
                        key = f"{principal.kind}:{principal.subject}"
                    except DomainError:
                        pass
                break
        return state.limiter.acquire(key)


class ProxySplit:
    """Sends ``/api/<service>/...`` straight to that service's proxy, everything else to the app.

    Proxied requests skip the gateway's own FastAPI stack (routing, dependency injection,
    exception middleware, its server span): the service behind makes the span and the metrics,
    continuing the caller's trace context, which passes through untouched.
    """

    def __init__(self, app: ASGIApp, proxies: dict[str, ProxyApp]) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        proxy = scope.get(PROXIED)
        if proxy is not None:
            start = time.perf_counter()
            status = 500

            async def _send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await proxy(scope, receive, _send)
            finally:
                route = proxy.route
                HTTP_REQUESTS.labels("gateway", scope["method"], route, str(status)).inc()
                HTTP_LATENCY.labels("gateway", scope["method"], route).observe(time.perf_counter() - start)
            return
        await self.app(scope, receive, send)


def is_proxied(scope: Scope) -> bool:
    """Is this a request for ``/api/<service>/...`` (one of the routed services)?"""
    path: str = scope["path"]
    return path.startswith("/api/") and path[5:].split("/", 1)[0] in BACKENDS


def _mark_proxied(scope: Scope, proxies: dict[str, ProxyApp]) -> None:
    path: str = scope["path"]
    if path.startswith("/api/"):
        proxy = proxies.get(path[5:].split("/", 1)[0])
        if proxy is not None:
            scope[PROXIED] = proxy


def _limited(receive: Receive, limit: int) -> Receive:
    received = 0

    async def _receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge("请求体过大", f"The request body may not exceed {limit} bytes")
        return message

    return _receive


async def _problem(
    scope: Scope, receive: Receive, send: Send, status: int, slug: str, title: tuple[str, str],
    detail: tuple[str, str], headers: dict[str, str] | None = None,
) -> None:
    response = problem_response(Request(scope), status=status, slug=slug, title=title, detail=detail, headers=headers)
    await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """Headers every response carries unless the service already set them."""

    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.common: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if settings.hsts:
            self.common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else API_CSP

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.common if h[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, _send)


class _Front:
    """The outermost layer: marks proxied requests, then runs the protection chain."""

    def __init__(self, chain: ASGIApp, proxies: dict[str, ProxyApp]) -> None:
        self.chain = chain
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _mark_proxied(scope, self.proxies)
        await self.chain(scope, receive, send)


def install_front(app: FastAPI, settings: GatewaySettings) -> None:
    """Wrap the app's whole middleware stack (built lazily by Starlette) with, outermost first:
    security headers, CORS for the configured origins (so 429s are readable cross-origin), the
    guard (rate limits, body limit), and the split that hands proxied paths to the proxy."""
    proxies = {name: ProxyApp(name) for name in BACKENDS}
    build_inner = app.build_middleware_stack

    def build() -> ASGIApp:
        chain: ASGIApp = ProxySplit(build_inner(), proxies)
        chain = GuardMiddleware(chain, settings)
        origins = settings.cors_origin_list
        if origins:
            chain = CORSMiddleware(
                chain,
                allow_origins=origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Accept-Language", "traceparent"],
                expose_headers=["Retry-After", "Idempotent-Replayed", "Content-Language"],
                max_age=600,
            )
        chain = SecurityHeadersMiddleware(chain, settings)
        return _Front(chain, proxies)

    app.build_middleware_stack = build  # type: ignore[method-assign]

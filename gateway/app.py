"""``uvicorn gateway.app:create_app --factory``: the chassis app plus the gateway's front (protection,
proxy split) and the aggregated documentation."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from chassis.service import create_service_app
from gateway.definition import DEFINITION
from gateway.docs import install_aggregated_openapi
from gateway.middleware import install_front, is_proxied
from gateway.settings import GatewaySettings


class GatewayApp(FastAPI):
    """FastAPI, except that a proxied request skips FastAPI's own per-request telemetry wrapper.

    That wrapper makes a server span with its attributes for every request, about a fifth of the
    gateway's CPU per proxied call on this machine. A proxied request carries the caller's
    ``traceparent`` unchanged to the service, whose server span continues the caller's trace;
    only the gateway's own routes get a gateway span.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_proxied(scope):
            if self.middleware_stack is None:
                self.middleware_stack = self.build_middleware_stack()
            scope["app"] = self
            await self.middleware_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    app = create_service_app(DEFINITION, settings)
    app.__class__ = GatewayApp
    install_aggregated_openapi(app)
    install_front(app, settings)
    return app

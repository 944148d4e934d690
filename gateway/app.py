"""``uvicorn gateway.app:create_app --factory``: the chassis app plus the gateway's protection and docs."""

from __future__ import annotations

from fastapi import FastAPI

from chassis.service import create_service_app
from gateway.definition import DEFINITION
from gateway.docs import install_aggregated_openapi
from gateway.middleware import install_front
from gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    app = create_service_app(DEFINITION, settings)
    install_aggregated_openapi(app)
    install_front(app, settings)
    return app

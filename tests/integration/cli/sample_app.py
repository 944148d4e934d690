"""``uvicorn tests.integration.cli.sample_app:create_app --factory``: the chassis's sample service as a
real process, for zonectl to talk to over HTTP."""

from __future__ import annotations

from fastapi import FastAPI

from chassis.service import create_service_app
from tests.support.sample_service.definition import DEFINITION


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)

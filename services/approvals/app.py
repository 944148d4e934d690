"""``uvicorn services.approvals.app:create_app --factory``"""

from __future__ import annotations

from fastapi import FastAPI

from chassis.service import create_service_app
from services.approvals.definition import DEFINITION


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)

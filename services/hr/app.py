"""The HR service's ASGI app: ``uvicorn services.hr.app:create_app --factory``."""

from fastapi import FastAPI

from chassis.service import create_service_app
from services.hr.definition import DEFINITION


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)

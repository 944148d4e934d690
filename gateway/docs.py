"""One OpenAPI document for the whole platform, and the AsyncAPI document of its events.

``/openapi.json`` is the gateway's own routes plus every backend's paths under ``/api/<service>``
(fetched from each service's ``/openapi.json`` and cached for ``GATEWAY_OPENAPI_CACHE_S``). Component
names are prefixed with the service (``approvals__ApplicationOut``) so that equal names from two
services cannot collide, and every ``$ref`` is rewritten to match. A backend that cannot be reached
is left out, and the document says so (``x-missing-services`` and the description).
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import aiohttp
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.requests import Request

from gateway.proxy import Backend, BackendTimeout, BackendUnavailable

SECURITY_SCHEME = {
    "OAuth2Password": {
        "type": "oauth2",
        "description": "用户名密码或客户端凭据换取令牌 / password or client-credentials grant",
        "flows": {
            "password": {"tokenUrl": "/auth/token", "scopes": {}},
            "clientCredentials": {"tokenUrl": "/auth/token", "scopes": {}},
        },
    }
}
REF_PREFIX = "#/components/"


def _rewrite_refs(node: Any, service: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                kind, _, name = value[len(REF_PREFIX) :].partition("/")
                out[key] = f"{REF_PREFIX}{kind}/{service}__{name}"
            else:
                out[key] = _rewrite_refs(value, service)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, service) for item in node]
    return node


def merge_service(document: dict[str, Any], service: str, spec: dict[str, Any]) -> None:
    """Add one service's paths under ``/api/<service>`` and its components, renamed, to ``document``."""
    prefix = f"/api/{service}"
    paths = document.setdefault("paths", {})
    for path, item in (spec.get("paths") or {}).items():
        item = _rewrite_refs(item, service)
        for operation in item.values():
            if isinstance(operation, dict):
                if "operationId" in operation:
                    operation["operationId"] = f"{service}__{operation['operationId']}"
                operation["tags"] = [f"{service} · {tag}" for tag in operation.get("tags") or ["other"]]
        paths[prefix + path] = item
    components = document.setdefault("components", {})
    for kind, entries in (spec.get("components") or {}).items():
        if kind == "securitySchemes" or not isinstance(entries, dict):
            continue
        target = components.setdefault(kind, {})
        for name, value in entries.items():
            target[f"{service}__{name}"] = _rewrite_refs(value, service)


class ApiDocs:
    def __init__(self, backends: dict[str, Backend], cache_s: float) -> None:
        self.backends = backends
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._rendered: tuple[float, bytes] | None = None
        self._rendering = asyncio.Lock()

    async def rendered(self, app: FastAPI) -> bytes:
        """The aggregated document as JSON bytes, built once per cache period and shared.

        Building it per request (a deep copy of the gateway's document, four merges, one large
        serialisation) held a copy per concurrent reader in memory: a burst of ten readers lifted
        the gateway's resident memory by ~35 MB. A document with a service missing is not kept.
        """
        async with self._rendering:
            now = time.monotonic()
            if self._rendered is not None and now - self._rendered[0] < self.cache_s:
                return self._rendered[1]
            document = await self.document(app)
            body = bytes(JSONResponse(document).body)
            self._rendered = None if "x-missing-services" in document else (now, body)
            return body

    async def _spec(self, backend: Backend) -> dict[str, Any] | None:
        cached = self._cache.get(backend.name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.cache_s:
            return cached[1]
        try:
            response = await backend.request("GET", "/openapi.json", headers={"accept": "application/json"},
                                              retryable=True, timeout_s=3.0)
        except (BackendUnavailable, BackendTimeout):
            return None
        try:
            if response.status != 200:
                return None
            spec = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        finally:
            response.release()
        if not isinstance(spec, dict):
            return None
        self._cache[backend.name] = (now, spec)
        return spec

    async def document(self, app: FastAPI) -> dict[str, Any]:
        document = copy.deepcopy(app.openapi())
        specs = await asyncio.gather(*(self._spec(b) for b in self.backends.values()))
        missing = []
        for backend, spec in zip(self.backends.values(), specs, strict=True):
            if spec is None:
                missing.append(backend.name)
            else:
                merge_service(document, backend.name, spec)
        components = document.setdefault("components", {})
        components.setdefault("securitySchemes", {}).update(SECURITY_SCHEME)
        document["security"] = [{"OAuth2Password": []}]
        if missing:
            document["x-missing-services"] = missing
            note = (
                f"\n\n注意：以下服务当前无法访问，其接口未列入本文档：{'、'.join(missing)}。"
                f"\nNote: these services are unreachable and left out: {', '.join(missing)}."
            )
            document["info"]["description"] = document["info"].get("description", "") + note
        return document


def install_aggregated_openapi(app: FastAPI) -> None:
    """Replace FastAPI's ``/openapi.json`` with the aggregated document (``/docs`` reads it)."""
    url = app.openapi_url or "/openapi.json"
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != url]

    async def openapi(request: Request) -> Response:
        return Response(await request.app.state.gateway.docs.rendered(request.app), media_type="application/json")

    app.add_route(url, openapi, include_in_schema=False)

"""A government system's side of the gateway's webhooks, for every tier: an HTTP receiver on loopback that
records each delivery and answers with a chosen status, and the signature check a receiver runs.

The check is written from the Standard Webhooks text, not from the gateway's code, so a test that uses
it proves what a subscriber would see.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from chassis.broker import free_port


def signature_is_valid(secret: str, headers: dict[str, str], body: bytes, *, max_age_s: float | None = 300) -> bool:
    """True when one of the space-separated ``webhook-signature`` values is ``secret``'s HMAC of
    ``id.timestamp.body`` (and, unless ``max_age_s`` is None, the timestamp is fresh)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = max_age_s is None or abs(time.time() - int(headers["webhook-timestamp"])) < max_age_s
    return fresh and any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


@dataclass
class Receiver:
    """Records every POST to :attr:`url` (headers, raw body, parsed JSON, arrival time) and answers
    :attr:`status`; changing ``status`` while it runs simulates a subscriber that is failing. Until
    :meth:`start` nothing listens on the port: the subscriber is down."""

    port: int = field(default_factory=free_port)
    status: int = 204
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/zone"

    async def start(self) -> Receiver:
        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            self.deliveries.append({
                "headers": dict(request.headers), "body": body, "json": json.loads(body),
                "status": self.status, "at": time.monotonic(),
            })
            return web.Response(status=self.status)

        app = web.Application()
        app.router.add_post("/hooks/zone", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

"""What the gateway holds while it runs: its keys, backend clients, rate limiters and the webhook
dispatcher — built after the chassis has opened the database and applied migrations, torn down
before it closes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from chassis.service import ServiceContext
from gateway.accounts import bootstrap_admin
from gateway.dispatcher import WAKE_KEY, Dispatcher, prune
from gateway.docs import ApiDocs
from gateway.keys import KeyRing, SecretBox, load_passphrase
from gateway.passwords import Passwords
from gateway.proxy import Backend
from gateway.resilience import RateLimiter
from gateway.settings import GatewaySettings
from gateway.webhooks import CallbackPolicy

log = logging.getLogger("gateway")


@dataclass
class GatewayState:
    settings: GatewaySettings
    ctx: ServiceContext
    keyring: KeyRing
    secrets: SecretBox
    passwords: Passwords
    backends: dict[str, Backend]
    limiter: RateLimiter
    token_limiter: RateLimiter
    policy: CallbackPolicy
    dispatcher: Dispatcher
    docs: ApiDocs
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def build_state(ctx: ServiceContext) -> GatewayState:
    settings = ctx.settings
    if not isinstance(settings, GatewaySettings):
        raise TypeError("the gateway needs GatewaySettings")
    passphrase = load_passphrase(settings)
    secrets = SecretBox(passphrase)
    policy = CallbackPolicy.build(
        allow_private=settings.webhook_allow_private,
        require_https=settings.webhook_require_https,
        allowed_networks=settings.webhook_allowed_network_list,
    )
    backends = {name: Backend(name, url, settings) for name, url in settings.backend_urls.items()}
    return GatewayState(
        settings=settings,
        ctx=ctx,
        keyring=KeyRing(settings, ctx.db, passphrase),
        secrets=secrets,
        passwords=Passwords(settings),
        backends=backends,
        limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        token_limiter=RateLimiter(settings.token_rate_limit_per_s, settings.token_rate_limit_burst),
        policy=policy,
        dispatcher=Dispatcher(ctx.db, settings, secrets, policy),
        docs=ApiDocs(backends, settings.openapi_cache_s),
    )


@contextlib.asynccontextmanager
async def gateway_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the chassis lifespan (the database is open and migrated, demo data seeded)."""
    ctx: ServiceContext = app.state.ctx
    state = build_state(ctx)
    await state.keyring.load()
    # The gateway verifies its own tokens with the chassis verifier, fed its own JWKS.
    ctx.verifier = state.keyring.verifier
    app.state.verifier = state.keyring.verifier
    async with ctx.db.session() as session:
        await bootstrap_admin(session, state.settings, state.passwords)
        await session.commit()
    ctx.db.session_info[WAKE_KEY] = state.dispatcher.wake
    ctx.extras["gateway"] = state
    app.state.gateway = state
    state.tasks.append(asyncio.create_task(state.dispatcher.run(), name="gateway-webhooks"))
    try:
        yield
    finally:
        state.dispatcher.stop()
        for task in state.tasks:
            task.cancel()
        await asyncio.gather(*state.tasks, return_exceptions=True)
        await state.dispatcher.close()
        for backend in state.backends.values():
            await backend.close()


def get_state(request: Request) -> GatewayState:
    return request.app.state.gateway  # type: ignore[no-any-return]


State = Annotated[GatewayState, Depends(get_state)]


# --- periodic jobs (run by the chassis) ---------------------------------------------------------


async def refresh_keys(ctx: ServiceContext) -> None:
    """Pick up keys rotated by another replica, and drop retired keys whose tokens have all expired."""
    state: GatewayState | None = ctx.extras.get("gateway")
    if state is not None:
        await state.keyring.load()


async def prune_event_log(ctx: ServiceContext) -> None:
    state: GatewayState | None = ctx.extras.get("gateway")
    if state is not None:
        await prune(ctx.db, state.settings.event_log_retention_days)

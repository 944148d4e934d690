"""The gateway's own routes (thin: parse, call the use case, answer). Proxied routes are in :mod:`gateway.proxy`."""

from __future__ import annotations

import base64
import binascii
import functools
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse

from chassis.asyncapi import build_asyncapi
from chassis.audit import record_audit
from chassis.auth import Caller, Principal, require, scoped_zone
from chassis.errors import BadRequest, FieldError, Forbidden, NotFound
from chassis.idempotency import Idempotency
from chassis.pagination import Page, Pagination
from chassis.service import Session
from gateway import accounts, aggregation, subscriptions, zones
from gateway.dispatcher import delivery_view
from gateway.models import Zone
from gateway.runtime import State, gateway_lifespan
from gateway.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    ClientCreated,
    ClientIn,
    ClientOut,
    ClientPatch,
    Dashboard,
    DeliveryOut,
    Me,
    Overview,
    RotationOut,
    SecretRotation,
    SigningKeyOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionRotated,
    TokenResponse,
    ZoneIn,
    ZoneOut,
    ZoneUpdate,
)

Admin = Annotated[Principal, Depends(require(kinds=("admin",)))]
Staff = Annotated[Principal, Depends(require())]
SystemClient = Annotated[Principal, Depends(require(kinds=("system",)))]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# --- tokens -------------------------------------------------------------------------------------

auth_router = APIRouter(tags=["认证 auth"])


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("客户端凭据格式不正确", "Malformed Basic credentials", error="invalid_client") from exc
    return client_id, secret


def _missing(*fields: str) -> BadRequest:
    return BadRequest(
        f"缺少参数：{'、'.join(fields)}", f"Missing: {', '.join(fields)}", error="invalid_request",
        errors=[FieldError(f, "必填项缺失", "Field required", code="missing") for f in fields],
    )


@auth_router.post(
    "/auth/token",
    summary="登录换取访问令牌（OAuth2 password / client_credentials）",
    response_model=TokenResponse,
    responses={400: {"description": "invalid_grant / invalid_request (problem details)"}},
)
async def token(
    request: Request,
    state: State,
    grant_type: Annotated[str | None, Form(max_length=40)] = None,
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=128)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=128)] = None,
    scope: Annotated[str | None, Form(max_length=200)] = None,
) -> JSONResponse:
    db, settings, keyring = state.ctx.db, state.settings, state.keyring
    if grant_type == "password":
        if not username or not password:
            raise _missing(*[f for f, v in (("username", username), ("password", password)) if not v])
        issued = await accounts.login(db, settings, state.passwords, keyring, username.strip().lower(), password)
    elif grant_type == "client_credentials":
        basic = _basic_credentials(request)
        cid, secret = basic if basic is not None else (client_id, client_secret)
        if not cid or not secret:
            raise _missing(*[f for f, v in (("client_id", cid), ("client_secret", secret)) if not v])
        issued = await accounts.client_login(db, settings, state.passwords, keyring, cid, secret)
    elif grant_type is None:
        raise _missing("grant_type")
    else:
        raise BadRequest(
            "不支持的授权类型，应为 password 或 client_credentials",
            "Unsupported grant_type: use password or client_credentials",
            error="unsupported_grant_type",
            errors=[FieldError("grant_type", "应为 password 或 client_credentials", "unsupported", code="unsupported")],
        )
    return JSONResponse(issued.model_dump(), headers=NO_STORE)


@auth_router.get("/auth/me", summary="当前令牌代表的账户", response_model=Me)
async def me(caller: Caller) -> dict[str, Any]:
    return {
        "sub": caller.subject,
        "kind": caller.kind,
        "name": caller.name,
        "roles": sorted(caller.roles),
        "zone": caller.zone_id,
        "dept": caller.department,
        "uscc": caller.uscc,
        "event_types": list(caller.event_types),
        "expires_at": datetime.fromtimestamp(int(caller.claims["exp"]), UTC),
    }


@auth_router.get("/.well-known/jwks.json", summary="令牌验证公钥（JWKS）")
async def jwks(state: State) -> JSONResponse:
    return JSONResponse(state.keyring.jwks, headers={"Cache-Control": "public, max-age=60"})


# --- administration: accounts, clients, keys ---------------------------------------------------

admin_router = APIRouter(prefix="/admin", tags=["平台管理 administration"])


@admin_router.post("/accounts", status_code=201, summary="创建账户（管理员、人员、企业）", response_model=AccountOut)
async def create_account(body: AccountIn, session: Session, caller: Admin, idem: Idempotency, state: State) -> Any:
    async def create() -> dict[str, Any]:
        return accounts.account_view(await accounts.create_account(session, caller, body, state.passwords))

    return await idem.run(session, create, status_code=201)


@admin_router.get("/accounts", summary="账户列表", response_model=Page[AccountOut])
async def list_accounts(
    session: Session,
    _: Admin,
    page: Pagination,
    kind: Annotated[Literal["admin", "staff", "enterprise"] | None, Query(description="账户类型")] = None,
    zone_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    rows, total = await accounts.list_accounts(session, kind=kind, zone_id=zone_id, offset=page.offset, limit=page.size)
    return {"items": [accounts.account_view(a) for a in rows], "total": total, "page": page.page, "size": page.size}


@admin_router.get("/accounts/{username}", summary="账户详情", response_model=AccountOut)
async def get_account(username: str, session: Session, _: Admin) -> dict[str, Any]:
    return accounts.account_view(await accounts.get_account(session, username))


@admin_router.patch("/accounts/{username}", summary="修改账户（角色、部门、启停、重置密码）", response_model=AccountOut)
async def update_account(username: str, body: AccountPatch, session: Session, caller: Admin, state: State) -> dict[str, Any]:
    return accounts.account_view(await accounts.update_account(session, caller, username, body, state.passwords))


@admin_router.post("/accounts/{username}/unlock", summary="解除登录锁定", response_model=AccountOut)
async def unlock_account(username: str, session: Session, caller: Admin) -> dict[str, Any]:
    return accounts.account_view(await accounts.unlock_account(session, caller, username))


@admin_router.post("/clients", status_code=201, summary="登记外部系统客户端（返回一次性密钥）", response_model=ClientCreated)
async def create_client(body: ClientIn, session: Session, caller: Admin, idem: Idempotency, state: State) -> Any:
    async def create() -> dict[str, Any]:
        client, secret = await accounts.create_client(session, caller, body, state.passwords)
        return {**accounts.client_view(client), "client_secret": secret}

    return await idem.run(session, create, status_code=201)


@admin_router.get("/clients", summary="外部系统客户端列表", response_model=Page[ClientOut])
async def list_clients(session: Session, _: Admin, page: Pagination) -> dict[str, Any]:
    rows, total = await accounts.list_accounts(
        session, kind=None, zone_id=None, offset=page.offset, limit=page.size, system=True
    )
    return {"items": [accounts.client_view(a) for a in rows], "total": total, "page": page.page, "size": page.size}


@admin_router.patch("/clients/{client_id}", summary="修改客户端（事件类型、启停）", response_model=ClientOut)
async def update_client(client_id: str, body: ClientPatch, session: Session, caller: Admin) -> dict[str, Any]:
    return accounts.client_view(await accounts.update_client(session, caller, client_id, body))


@admin_router.get("/keys", summary="签名密钥列表", response_model=list[SigningKeyOut])
async def list_keys(_: Admin, state: State) -> list[dict[str, Any]]:
    return await state.keyring.listing()


@admin_router.post("/keys/rotate", summary="轮换签名密钥（旧密钥保留至其令牌过期）", response_model=RotationOut)
async def rotate_keys(caller: Admin, state: State) -> dict[str, Any]:
    async with state.ctx.db.session() as session:
        kid, retired = await state.keyring.rotate(session)
        await record_audit(session, caller, "keys.rotate", entity_type="signing_key", entity_id=kid,
                           after={"kid": kid, "retired": retired})
        await session.commit()
    await state.keyring.load()
    return {"kid": kid, "retired": retired}


# --- the directory of zones ---------------------------------------------------------------------

zones_router = APIRouter(tags=["功能区目录 zones"])


@zones_router.post("/admin/zones", status_code=201, summary="登记功能区", response_model=ZoneOut)
async def create_zone(body: ZoneIn, session: Session, caller: Admin, idem: Idempotency) -> Any:
    async def create() -> dict[str, Any]:
        return zones.zone_view(await zones.create_zone(session, caller, body))

    return await idem.run(session, create, status_code=201)


@zones_router.put("/admin/zones/{zone_id}", summary="修改功能区（含合作共建分成、启停）", response_model=ZoneOut)
async def update_zone(zone_id: str, body: ZoneUpdate, session: Session, caller: Admin) -> dict[str, Any]:
    return zones.zone_view(await zones.update_zone(session, caller, zone_id, body))


@zones_router.get("/api/zones", summary="功能区目录（公开）", response_model=Page[ZoneOut])
async def list_zones(
    session: Session,
    page: Pagination,
    type: Annotated[Literal["产业新城", "特色街区", "特色小镇"] | None, Query(description="功能区类型")] = None,
    district: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> dict[str, Any]:
    rows, total = await zones.list_zones(
        session, type_=type, district=district, active=active, offset=page.offset, limit=page.size
    )
    return {"items": [zones.zone_view(z) for z in rows], "total": total, "page": page.page, "size": page.size}


@zones_router.get("/api/zones/{zone_id}", summary="功能区详情（公开）", response_model=ZoneOut)
async def get_zone(zone_id: str, session: Session) -> dict[str, Any]:
    return zones.zone_view(await zones.get_zone(session, zone_id))


# --- aggregation --------------------------------------------------------------------------------

views_router = APIRouter(tags=["聚合视图 views"])


@views_router.get("/api/me/overview", summary="一企一档：本企业的项目、办件、报表", response_model=Overview)
async def overview(request: Request, caller: Caller, state: State) -> dict[str, Any]:
    if not caller.is_enterprise:
        raise Forbidden("一企一档仅供企业账户查看", "The enterprise overview is for enterprise accounts")
    return await aggregation.enterprise_overview(
        state.backends, caller, aggregation.call_headers(request), state.settings.aggregate_timeout_s
    )


@views_router.get("/api/dashboard", summary="工作台：本功能区或全市各功能区的综合情况", response_model=Dashboard)
async def dashboard(
    request: Request,
    session: Session,
    caller: Staff,
    state: State,
    zone_id: Annotated[str | None, Query(max_length=64, description="市级人员可指定一个功能区")] = None,
    period: Annotated[
        str | None, Query(pattern=r"^\d{4}(-(Q[1-4]|0[1-9]|1[0-2]))?$", description="统计期，如 2026、2026-Q3、2026-10")
    ] = None,
) -> dict[str, Any]:
    wanted = scoped_zone(caller, zone_id)
    if wanted is not None:
        zone = await session.get(Zone, wanted)
        if zone is None:
            raise NotFound("功能区不存在", "Zone not found")
        chosen = [zones.zone_view(zone)]
    else:
        rows, _ = await zones.list_zones(session, type_=None, district=None, active=True, offset=0, limit=200)
        chosen = [zones.zone_view(z) for z in rows]
    await session.commit()  # release the connection (and SQLite's lock) while the backends answer
    return await aggregation.dashboard(
        state.backends,
        chosen,
        city_wide=wanted is None,
        period=period or aggregation.current_period(),
        headers=aggregation.call_headers(request),
        timeout_s=state.settings.aggregate_timeout_s,
    )


# --- event subscriptions (webhooks) -------------------------------------------------------------

subscriptions_router = APIRouter(prefix="/api/subscriptions", tags=["事件订阅 subscriptions"])


@subscriptions_router.post("", status_code=201, summary="订阅事件（Webhook；返回一次性签名密钥）",
                           response_model=SubscriptionCreated)
async def create_subscription(
    body: SubscriptionIn, session: Session, caller: SystemClient, idem: Idempotency, state: State
) -> Any:
    async def create() -> dict[str, Any]:
        subscription, secret, replayed = await subscriptions.create_subscription(
            session, caller, body, secrets=state.secrets, policy=state.policy,
            replay_limit=state.settings.webhook_replay_max_events,
        )
        return {**subscriptions.subscription_view(subscription), "secret": secret, "replayed": replayed}

    return await idem.run(session, create, status_code=201)


@subscriptions_router.get("", summary="本客户端的订阅", response_model=Page[SubscriptionOut])
async def list_subscriptions(session: Session, caller: SystemClient, page: Pagination) -> dict[str, Any]:
    rows, total = await subscriptions.list_subscriptions(session, caller, offset=page.offset, limit=page.size)
    return {"items": [subscriptions.subscription_view(s) for s in rows], "total": total, "page": page.page, "size": page.size}


@subscriptions_router.get("/{subscription_id}", summary="订阅详情", response_model=SubscriptionOut)
async def get_subscription(subscription_id: str, session: Session, caller: SystemClient) -> dict[str, Any]:
    return subscriptions.subscription_view(await subscriptions.get_subscription(session, caller, subscription_id))


@subscriptions_router.patch("/{subscription_id}", summary="修改订阅", response_model=SubscriptionOut)
async def update_subscription(
    subscription_id: str, body: SubscriptionPatch, session: Session, caller: SystemClient, state: State
) -> dict[str, Any]:
    subscription = await subscriptions.update_subscription(session, caller, subscription_id, body, policy=state.policy)
    return subscriptions.subscription_view(subscription)


@subscriptions_router.post(
    "/{subscription_id}/rotate-secret", summary="轮换签名密钥（新旧密钥在过渡期内同时签名）",
    response_model=SubscriptionRotated,
)
async def rotate_secret(
    subscription_id: str, session: Session, caller: SystemClient, state: State, body: SecretRotation | None = None
) -> dict[str, Any]:
    subscription, secret = await subscriptions.rotate_secret(
        session, caller, subscription_id, secrets=state.secrets, overlap_hours=(body or SecretRotation()).overlap_hours
    )
    return {**subscriptions.subscription_view(subscription), "secret": secret}


@subscriptions_router.delete("/{subscription_id}", status_code=204, summary="删除订阅")
async def delete_subscription(subscription_id: str, session: Session, caller: SystemClient) -> None:
    await subscriptions.delete_subscription(session, caller, subscription_id)


@subscriptions_router.get("/{subscription_id}/deliveries", summary="投递记录（含死信）", response_model=Page[DeliveryOut])
async def list_deliveries(
    subscription_id: str,
    session: Session,
    caller: SystemClient,
    page: Pagination,
    status: Annotated[Literal["pending", "retrying", "delivered", "dead"] | None, Query(description="投递状态")] = None,
) -> dict[str, Any]:
    rows, total = await subscriptions.list_deliveries(
        session, caller, subscription_id, status=status, offset=page.offset, limit=page.size
    )
    return {"items": [delivery_view(d) for d in rows], "total": total, "page": page.page, "size": page.size}


@subscriptions_router.post("/{subscription_id}/deliveries/{delivery_id}/redeliver", summary="重新投递",
                           response_model=DeliveryOut)
async def redeliver(subscription_id: str, delivery_id: str, session: Session, caller: SystemClient) -> dict[str, Any]:
    return delivery_view(await subscriptions.redeliver_one(session, caller, subscription_id, delivery_id))


# --- documentation and routing ------------------------------------------------------------------

docs_router = APIRouter(tags=["文档 documentation"])


@functools.lru_cache(maxsize=1)
def _asyncapi_document() -> dict[str, Any]:
    return build_asyncapi()


@docs_router.get("/asyncapi.json", summary="全部事件的 AsyncAPI 文档（Kafka 主题与 CloudEvents 消息）")
async def asyncapi() -> JSONResponse:
    return JSONResponse(_asyncapi_document())


#: The gateway's runtime (keys, backend clients, dispatcher) starts and stops with this router.
#: ``/api/<service>/...`` is routed in front of the app (see gateway.app and gateway.middleware).
runtime_router = APIRouter(lifespan=gateway_lifespan)

ROUTERS = [auth_router, admin_router, zones_router, views_router, subscriptions_router, docs_router, runtime_router]

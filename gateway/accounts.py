"""Accounts and tokens: administrators, staff, enterprises and system clients; logins with lockout.

Use cases take the session and the caller and never commit, except :func:`login` and
:func:`client_login`, which must keep a failed attempt (and its audit entry) even though the
request itself fails: they commit on their own session.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.audit import record_audit
from chassis.auth import Principal, build_claims
from chassis.crypto import generate_secret
from chassis.db import Database
from chassis.errors import BadRequest, Conflict, FieldError, NotFound, Unauthorized, Unprocessable
from gateway import domain
from gateway.catalog import check_types
from gateway.keys import KeyRing, aware, utcnow
from gateway.models import Account, Zone
from gateway.passwords import Passwords
from gateway.schemas import AccountIn, AccountPatch, ClientIn, ClientPatch, TokenResponse
from gateway.settings import GatewaySettings

log = logging.getLogger("gateway.accounts")


def account_view(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "kind": account.kind,
        "name": account.name,
        "roles": list(account.roles),
        "zone_id": account.zone_id,
        "department": account.department,
        "uscc": account.uscc,
        "active": account.active,
        "locked_until": aware(account.locked_until),
        "last_login_at": aware(account.last_login_at),
        "created_at": aware(account.created_at),
    }


def client_view(account: Account) -> dict[str, Any]:
    return {
        "client_id": account.username,
        "name": account.name,
        "event_types": list(account.event_types),
        "active": account.active,
        "created_at": aware(account.created_at),
    }


def _audit_view(account: Account) -> dict[str, Any]:
    view = account_view(account)
    view.pop("locked_until")
    view.pop("last_login_at")
    return view


async def _ensure_zone_exists(session: AsyncSession, zone_id: str | None) -> None:
    if zone_id is not None and await session.get(Zone, zone_id) is None:
        raise Unprocessable(
            "功能区不存在", "Unknown zone", errors=[FieldError("zone_id", f"功能区 {zone_id} 不存在", "unknown zone", code="unknown")]
        )


async def _ensure_username_free(session: AsyncSession, username: str, field: str) -> None:
    if await session.get(Account, username) is not None:
        raise Conflict(
            "该账户名已被使用", "Username taken", errors=[FieldError(field, "该账户名已被使用", "already taken", code="taken")]
        )


async def create_account(
    session: AsyncSession, caller: Principal | str, body: AccountIn, passwords: Passwords
) -> Account:
    roles = sorted(set(body.roles) | ({"admin"} if body.kind == "admin" else set()))
    domain.check_account_shape(
        body.kind, roles=roles, zone_id=body.zone_id, department=body.department, uscc=body.uscc
    )
    domain.check_password_strength(body.password)
    await _ensure_username_free(session, body.username, "username")
    await _ensure_zone_exists(session, body.zone_id)
    now = utcnow()
    account = Account(
        username=body.username,
        kind=body.kind,
        name=body.name,
        password_hash=await passwords.hash(body.password),
        roles=roles,
        zone_id=body.zone_id,
        department=body.department,
        uscc=body.uscc,
        event_types=[],
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    await session.flush()
    await record_audit(
        session, caller, "account.create", entity_type="account", entity_id=account.username,
        zone_id=account.zone_id, after=_audit_view(account),
    )
    return account


async def get_account(session: AsyncSession, username: str, *, kinds: tuple[str, ...] = domain.ACCOUNT_KINDS) -> Account:
    account = await session.get(Account, username)
    if account is None or account.kind not in kinds:
        raise NotFound("账户不存在", "Account not found")
    return account


async def update_account(
    session: AsyncSession, caller: Principal, username: str, patch: AccountPatch, passwords: Passwords
) -> Account:
    account = await get_account(session, username)
    before = _audit_view(account)
    given = patch.model_fields_set
    roles = account.roles if patch.roles is None else sorted(set(patch.roles) | ({"admin"} if account.kind == "admin" else set()))
    zone_id = patch.zone_id if "zone_id" in given else account.zone_id
    department = patch.department if "department" in given else account.department
    domain.check_account_shape(account.kind, roles=roles, zone_id=zone_id, department=department, uscc=account.uscc)
    if "zone_id" in given:
        await _ensure_zone_exists(session, zone_id)
    if patch.active is False and account.username == caller.subject:
        raise Conflict("不能停用自己的账户", "You cannot deactivate your own account",
                       errors=[FieldError("active", "不能停用自己的账户", "own account")])
    if patch.password is not None:
        domain.check_password_strength(patch.password)
        account.password_hash = await passwords.hash(patch.password)
        account.failed_logins = 0
        account.locked_until = None
    account.roles = list(roles)
    account.zone_id = zone_id
    account.department = department
    if patch.name is not None:
        account.name = patch.name
    if patch.active is not None:
        account.active = patch.active
    account.updated_at = utcnow()
    session.add(account)
    await session.flush()
    after = _audit_view(account)
    if patch.password is not None:
        after["password"] = "已重置"
    await record_audit(
        session, caller, "account.update", entity_type="account", entity_id=account.username,
        zone_id=account.zone_id, before=before, after=after,
    )
    return account


async def unlock_account(session: AsyncSession, caller: Principal, username: str) -> Account:
    account = await get_account(session, username, kinds=(*domain.ACCOUNT_KINDS, "system"))
    before = {"failed_logins": account.failed_logins, "locked_until": aware(account.locked_until)}
    account.failed_logins = 0
    account.locked_until = None
    account.updated_at = utcnow()
    session.add(account)
    await record_audit(
        session, caller, "account.unlock", entity_type="account", entity_id=username, zone_id=account.zone_id,
        before=before, after={"failed_logins": 0, "locked_until": None},
    )
    return account


async def list_accounts(
    session: AsyncSession, *, kind: str | None, zone_id: str | None, offset: int, limit: int, system: bool = False
) -> tuple[list[Account], int]:
    query = select(Account)
    if system:
        query = query.where(col(Account.kind) == "system")
    else:
        query = query.where(col(Account.kind) != "system")
        if kind:
            query = query.where(col(Account.kind) == kind)
    if zone_id:
        query = query.where(col(Account.zone_id) == zone_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await session.execute(query.order_by(col(Account.username)).offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


# --- system clients ----------------------------------------------------------------------------


async def create_client(
    session: AsyncSession, caller: Principal | str, body: ClientIn, passwords: Passwords, secret: str | None = None
) -> tuple[Account, str]:
    check_types(body.event_types, None)
    await _ensure_username_free(session, body.client_id, "client_id")
    client_secret = secret or generate_secret(32)
    now = utcnow()
    account = Account(
        username=body.client_id,
        kind="system",
        name=body.name,
        password_hash=await passwords.hash(client_secret),
        roles=["system"],
        event_types=sorted(set(body.event_types)),
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    await session.flush()
    await record_audit(
        session, caller, "client.create", entity_type="client", entity_id=account.username, after=client_view(account)
    )
    return account, client_secret


async def update_client(session: AsyncSession, caller: Principal, client_id: str, patch: ClientPatch) -> Account:
    account = await get_account(session, client_id, kinds=("system",))
    before = client_view(account)
    if patch.event_types is not None:
        check_types(patch.event_types, None)
        account.event_types = sorted(set(patch.event_types))
    if patch.name is not None:
        account.name = patch.name
    if patch.active is not None:
        account.active = patch.active
    account.updated_at = utcnow()
    session.add(account)
    await session.flush()
    await record_audit(
        session, caller, "client.update", entity_type="client", entity_id=client_id, before=before, after=client_view(account)
    )
    return account


# --- logins and tokens --------------------------------------------------------------------------


def _invalid_grant(zh: str, en: str, headers: dict[str, str] | None = None, **extra: Any) -> BadRequest:
    return BadRequest(zh, en, headers=headers, error="invalid_grant", **extra)


async def login(
    db: Database, settings: GatewaySettings, passwords: Passwords, keyring: KeyRing, username: str, password: str
) -> TokenResponse:
    """``grant_type=password``: check the password, count failures, lock after too many, issue a token.

    A wrong password and an unknown user get the same answer (and cost the same time).
    """
    now = utcnow()
    async with db.session() as session:
        account = await session.get(Account, username)
        if account is None or account.kind == "system":
            await passwords.verify(None, password)
            await record_audit(session, username or "-", "auth.login_failed", entity_type="account", entity_id=username or "-",
                               after={"reason": "unknown_user"})
            await session.commit()
            raise _invalid_grant("用户名或密码错误", "Wrong username or password")
        state = domain.LoginState(account.failed_logins, aware(account.locked_until))
        if domain.is_locked(state, now):
            await record_audit(session, account.username, "auth.login_refused", entity_type="account",
                               entity_id=account.username, zone_id=account.zone_id, after={"reason": "locked"})
            await session.commit()
            raise _locked(state.locked_until or now, now)
        if not await passwords.verify(account.password_hash, password):
            state = domain.after_failed_login(
                state, now, max_failures=settings.login_max_failures, lockout=timedelta(seconds=settings.login_lockout_s)
            )
            account.failed_logins = state.failed_logins
            account.locked_until = state.locked_until
            session.add(account)
            locked_now = domain.is_locked(state, now)
            await record_audit(
                session, account.username, "auth.account_locked" if locked_now else "auth.login_failed",
                entity_type="account", entity_id=account.username, zone_id=account.zone_id,
                after={"reason": "wrong_password", "locked_until": state.locked_until},
            )
            await session.commit()
            if locked_now:
                raise _locked(state.locked_until or now, now)
            raise _invalid_grant("用户名或密码错误", "Wrong username or password")
        if not account.active:
            await record_audit(session, account.username, "auth.login_refused", entity_type="account",
                               entity_id=account.username, zone_id=account.zone_id, after={"reason": "inactive"})
            await session.commit()
            raise _invalid_grant("账户已停用", "Account disabled")
        if passwords.needs_rehash(account.password_hash):
            account.password_hash = await passwords.hash(password)
        state = domain.after_successful_login()
        account.failed_logins = state.failed_logins
        account.locked_until = state.locked_until
        account.last_login_at = now
        session.add(account)
        token = issue_token(keyring, settings, account)
        await record_audit(session, account.username, "auth.token_issued", entity_type="account",
                           entity_id=account.username, zone_id=account.zone_id,
                           after={"grant_type": "password", "kid": keyring.current.kid if keyring.current else None})
        await session.commit()
    return token


def _locked(until: datetime, now: datetime) -> BadRequest:
    seconds = max(1, int((until - now).total_seconds()))
    minutes = max(1, (seconds + 59) // 60)
    return _invalid_grant(
        f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试",
        f"Too many failed logins: the account is locked for {minutes} more minute(s)",
        headers={"Retry-After": str(seconds)},
        locked_until=until.astimezone(UTC).isoformat(),
    )


async def client_login(
    db: Database, settings: GatewaySettings, passwords: Passwords, keyring: KeyRing, client_id: str, client_secret: str
) -> TokenResponse:
    """``grant_type=client_credentials`` for other government systems (same lockout rules)."""
    now = utcnow()
    async with db.session() as session:
        account = await session.get(Account, client_id)
        if account is None or account.kind != "system":
            await passwords.verify(None, client_secret)
            await record_audit(session, client_id or "-", "auth.client_failed", entity_type="client",
                               entity_id=client_id or "-", after={"reason": "unknown_client"})
            await session.commit()
            raise Unauthorized("客户端认证失败", "Client authentication failed", error="invalid_client")
        state = domain.LoginState(account.failed_logins, aware(account.locked_until))
        if domain.is_locked(state, now):
            await session.rollback()
            raise _locked(state.locked_until or now, now)
        if not await passwords.verify(account.password_hash, client_secret) or not account.active:
            state = domain.after_failed_login(
                state, now, max_failures=settings.login_max_failures, lockout=timedelta(seconds=settings.login_lockout_s)
            ) if account.active else state
            account.failed_logins = state.failed_logins
            account.locked_until = state.locked_until
            session.add(account)
            await record_audit(session, client_id, "auth.client_failed", entity_type="client", entity_id=client_id,
                               after={"reason": "wrong_secret" if account.active else "inactive"})
            await session.commit()
            raise Unauthorized("客户端认证失败", "Client authentication failed", error="invalid_client")
        account.failed_logins = 0
        account.locked_until = None
        account.last_login_at = now
        session.add(account)
        token = issue_token(keyring, settings, account)
        await record_audit(session, client_id, "auth.token_issued", entity_type="client", entity_id=client_id,
                           after={"grant_type": "client_credentials", "event_types": account.event_types})
        await session.commit()
    return token


def issue_token(keyring: KeyRing, settings: GatewaySettings, account: Account) -> TokenResponse:
    ttl = settings.client_token_ttl_s if account.kind == "system" else settings.access_token_ttl_s
    claims = build_claims(
        subject=account.username,
        kind=account.kind,
        roles=account.roles,
        zone_id=account.zone_id if account.kind == "staff" else None,
        department=account.department if account.kind == "staff" else None,
        uscc=account.uscc if account.kind == "enterprise" else None,
        name=account.name,
        event_types=account.event_types if account.kind == "system" else (),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_s=ttl,
    )
    return TokenResponse(access_token=keyring.sign(claims), expires_in=ttl, kind=account.kind)


async def bootstrap_admin(session: AsyncSession, settings: GatewaySettings, passwords: Passwords) -> str | None:
    """The first administrator, from ``ZONE_ADMIN_USERNAME`` / ``ZONE_ADMIN_PASSWORD``, when no admin exists yet."""
    if settings.admin_username is None or settings.admin_password is None:
        return None
    exists = (await session.execute(select(col(Account.username)).where(col(Account.kind) == "admin").limit(1))).first()
    if exists is not None:
        return None
    body = AccountIn(
        username=settings.admin_username.strip().lower(),
        password=settings.admin_password.get_secret_value(),
        kind="admin",
        name="平台管理员",
    )
    await create_account(session, "bootstrap", body, passwords)
    log.info("created the first administrator %s", body.username)
    return body.username

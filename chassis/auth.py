"""Who is calling: JWT verification against the gateway's JWKS, roles, and zone scoping.

The gateway signs tokens with an asymmetric key (RS256) and publishes the public keys at
``/.well-known/jwks.json``; every service verifies tokens itself and never holds the signing key.

Claims: ``sub`` (account), ``kind`` (admin | staff | enterprise | system), ``roles``, ``zone`` and
``dept`` for zone staff (absent for city-level staff, who read across zones), ``uscc`` for an
enterprise, ``event_types`` for a system client. Services enforce object-level access with
:class:`Principal` and :func:`scoped_zone` — never by trusting the caller's parameters.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Query, Request
from jwt.algorithms import RSAAlgorithm
from pydantic import AfterValidator

from chassis.errors import Forbidden, NotFound, ServiceUnavailable, Unauthorized

ALGORITHM = "RS256"

# Role names used across the platform (the gateway's accounts carry them).
ROLE_ADMIN = "admin"
ROLE_AUDITOR = "auditor"
ROLE_LEADER = "leader"


@dataclass(frozen=True)
class Principal:
    subject: str
    kind: str
    roles: frozenset[str] = frozenset()
    zone_id: str | None = None
    department: str | None = None
    uscc: str | None = None
    name: str | None = None
    event_types: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin" or ROLE_ADMIN in self.roles

    @property
    def is_enterprise(self) -> bool:
        return self.kind == "enterprise"

    @property
    def is_staff(self) -> bool:
        return self.kind in {"staff", "admin"}

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def is_city_level(self) -> bool:
        """City-level staff and administrators carry no zone and read across zones."""
        return self.is_staff and self.zone_id is None

    def has_any_role(self, *roles: str) -> bool:
        return self.is_admin or bool(self.roles.intersection(roles))

    def audit_identity(self) -> dict[str, Any]:
        return {"sub": self.subject, "kind": self.kind, "zone": self.zone_id, "dept": self.department}


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    kind = claims.get("kind")
    if kind not in {"admin", "staff", "enterprise", "system"}:
        raise Unauthorized("令牌缺少有效的账户类型", "Token has no valid account kind")
    if kind == "enterprise" and not claims.get("uscc"):
        raise Unauthorized("企业令牌未绑定统一社会信用代码", "Enterprise token is not bound to a USCC")
    return Principal(
        subject=str(claims["sub"]),
        kind=kind,
        roles=frozenset(claims.get("roles") or ()),
        zone_id=claims.get("zone"),
        department=claims.get("dept"),
        uscc=claims.get("uscc"),
        name=claims.get("name"),
        event_types=tuple(claims.get("event_types") or ()),
        claims=claims,
    )


class JwksVerifier:
    """Verifies RS256 tokens against a JWKS fetched from a URL (cached) or given inline."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        jwks: dict[str, Any] | None = None,
        refresh_interval_s: float = 300.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.refresh_interval_s = refresh_interval_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._cache: dict[str, tuple[float, Principal]] = {}
        if jwks is not None:
            self._load(jwks)
            self._fetched_at = float("inf")

    def _load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("kid"):
                keys[jwk["kid"]] = RSAAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys

    async def _refresh(self, force: bool = False) -> None:
        if self.jwks_url is None:
            return
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._fetched_at < self.refresh_interval_s:
                return
            if force and now - self._fetched_at < 1.0:
                return  # someone just refreshed; don't hammer the gateway with unknown kids
            try:
                async with httpx.AsyncClient(timeout=3.0) as client:
                    response = await client.get(self.jwks_url)
                    response.raise_for_status()
                    self._load(response.json())
                    self._fetched_at = now
            except (httpx.HTTPError, ValueError) as exc:
                if not self._keys:
                    raise ServiceUnavailable(
                        "暂时无法获取令牌验证公钥", "Token verification keys are unavailable", headers={"Retry-After": "5"}
                    ) from exc

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("令牌格式无效", "Malformed token") from exc
        kid = str(header.get("kid") or "")
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("令牌签名算法不被接受", "Token algorithm not accepted")
        await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            await self._refresh(force=True)
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("令牌签名密钥未知", "Unknown signing key")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("令牌已过期，请重新登录", "Token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("令牌无效", f"Invalid token: {exc}") from exc
        principal = principal_from_claims(claims)
        # A verified token is cached until it expires: verification is on every request's path.
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (float(claims["exp"]), principal)
        return principal


@dataclass
class SigningKey:
    """An RSA signing key with its key id (the gateway holds these; tests make their own)."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or uuid.uuid4().hex[:16], rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, kid: str, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("signing key must be RSA")
        return cls(kid, key)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg=ALGORITHM)
        return jwk

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def build_claims(
    *,
    subject: str,
    kind: str,
    roles: Iterable[str] = (),
    zone_id: str | None = None,
    department: str | None = None,
    uscc: str | None = None,
    name: str | None = None,
    event_types: Iterable[str] = (),
    issuer: str = "zone-platform",
    audience: str = "zone-platform",
    ttl_s: int = 3600,
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "kind": kind,
        "roles": sorted(set(roles)),
        "iat": now,
        "nbf": now - 5,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    for name_, value in (("zone", zone_id), ("dept", department), ("uscc", uscc), ("name", name)):
        if value is not None:
            claims[name_] = value
    if event_types:
        claims["event_types"] = sorted(set(event_types))
    return claims


def jwks_document(keys: Iterable[SigningKey]) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in keys]}


# --- FastAPI dependencies ----------------------------------------------------------------------


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "缺少访问令牌，请先登录", "Missing bearer token", headers={"WWW-Authenticate": 'Bearer realm="zone-platform"'}
        )
    verifier: JwksVerifier = request.app.state.verifier
    principal = await verifier.verify(token.strip())
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(authenticate)]


def require(
    *roles: str,
    kinds: Iterable[str] = ("staff", "admin"),
) -> Callable[..., Any]:
    """A dependency admitting the given account kinds, and among staff only the given roles.

    ``require("approvals")`` admits approval staff and administrators; ``require(kinds=("enterprise",))``
    admits enterprises only. An empty role list admits every account of the allowed kinds.
    """
    allowed_kinds = frozenset(kinds)

    async def _dependency(principal: Caller) -> Principal:
        if principal.is_admin:
            return principal
        if principal.kind not in allowed_kinds:
            raise Forbidden("当前账户类型无权执行此操作", f"Account kind {principal.kind!r} may not do this")
        if roles and principal.kind in {"staff", "system"} and not principal.has_any_role(*roles):
            raise Forbidden(
                f"需要以下角色之一：{'、'.join(roles)}", f"Requires one of the roles: {', '.join(roles)}"
            )
        return principal

    return _dependency


def scoped_zone(principal: Principal, requested: str | None) -> str | None:
    """The zone a query is limited to: a zone's staff get their own zone whatever they ask for.

    Returns ``None`` (all zones) only for city-level staff who asked for no zone. A zone's staff
    asking for another zone is refused.
    """
    if principal.is_city_level or principal.is_system:
        return requested
    if principal.zone_id is None:
        return requested
    if requested is not None and requested != principal.zone_id:
        raise Forbidden("只能查看或办理本功能区的事务", "Staff may act only in their own zone")
    return principal.zone_id


def scoped_zones(principal: Principal, zone_ids: Iterable[str]) -> list[str]:
    """:func:`scoped_zone` for every zone a batch read names, all before anything is read: a zone's staff
    naming any other zone is refused for the whole request."""
    return [str(scoped_zone(principal, zone_id)) for zone_id in zone_ids]


#: Zones one batch read may name: the city dashboard asks each service for all its zones in calls of this many.
ZONES_PER_REQUEST = 50
ZONE_ID_MAX_LENGTH = 64


def distinct_zone_ids(values: list[str]) -> list[str]:
    """The zones a batch read names, each once in first-seen order; an empty or over-long one is refused.

    Checked on the list as a whole, so that every refusal is a 422 naming the field ``zone_id`` itself
    (not ``zone_id.3``).
    """
    for value in values:
        if not value:
            raise ValueError("功能区编号不能为空 / a zone_id is empty")
        if len(value) > ZONE_ID_MAX_LENGTH:
            raise ValueError(
                f"功能区编号不能超过 {ZONE_ID_MAX_LENGTH} 个字符 / a zone_id is longer than {ZONE_ID_MAX_LENGTH} characters"
            )
    return list(dict.fromkeys(values))


#: ``?zone_id=a&zone_id=b``: the zones of a batch read (1–50; a repeated one is answered once, in first-seen order).
ZoneIds = Annotated[
    list[str],
    AfterValidator(distinct_zone_ids),
    Query(
        min_length=1,
        max_length=ZONES_PER_REQUEST,
        description=(
            f"功能区编号，可重复（?zone_id=a&zone_id=b），1–{ZONES_PER_REQUEST} 个，每个不超过 {ZONE_ID_MAX_LENGTH} 个字符；"
            "重复的只取一次，按首次出现的顺序作答"
        ),
        json_schema_extra={"items": {"type": "string", "minLength": 1, "maxLength": ZONE_ID_MAX_LENGTH}},
    ),
]


def ensure_zone(principal: Principal, zone_id: str | None, *, not_found: bool = True) -> None:
    """Refuse a staff member acting on a record of another zone (404 hides that it exists)."""
    if principal.is_city_level or principal.is_system or principal.zone_id is None:
        return
    if zone_id != principal.zone_id:
        if not_found:
            raise NotFound("记录不存在或不属于本功能区", "Not found in your zone")
        raise Forbidden("只能办理本功能区的事务", "Staff may act only in their own zone")


def ensure_owner(principal: Principal, uscc: str | None) -> None:
    """An enterprise sees only its own records; another's look exactly like missing ones."""
    if principal.is_enterprise and principal.uscc != uscc:
        raise NotFound("记录不存在", "Not found")

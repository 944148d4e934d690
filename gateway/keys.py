"""The gateway's signing keys and the secrets it must be able to read back.

Private keys live in the gateway's database as PKCS#8 PEM encrypted with a passphrase
(``GATEWAY_KEY_PASSPHRASE``; required outside development). In development and tests, when no
passphrase is configured, one is generated once into ``$ZONE_VAR_DIR/gateway-key-passphrase`` with
mode 0600. Webhook secrets (which the gateway needs in clear to sign deliveries) are encrypted
with a Fernet key derived from the same passphrase. A database dump alone therefore reveals no
signing key and no webhook secret.

Rotation (``POST /admin/keys/rotate``): a new key becomes current; the previous one is retired and
stays in the JWKS until every token it signed has expired (retirement + the longest token
lifetime + a minute of clock skew), then drops out. Replicas reload keys from the database
periodically, and a service that meets an unknown ``kid`` refetches the JWKS at once.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.auth import JwksVerifier, SigningKey, jwks_document
from chassis.crypto import development_key
from chassis.db import Database
from gateway.models import SigningKeyRecord
from gateway.settings import GatewaySettings

log = logging.getLogger("gateway.keys")

CLOCK_SKEW = timedelta(seconds=60)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_passphrase(settings: GatewaySettings) -> bytes:
    """``GATEWAY_KEY_PASSPHRASE``; in development (settings refuse its absence elsewhere) a generated one."""
    if settings.key_passphrase is not None:
        return settings.key_passphrase.get_secret_value().encode()
    return development_key(setting="GATEWAY_KEY_PASSPHRASE", file_name="gateway-key-passphrase").encode()


class SecretBox:
    """Symmetric encryption of secrets the gateway must read back (webhook secrets)."""

    def __init__(self, passphrase: bytes) -> None:
        key = hashlib.pbkdf2_hmac("sha256", passphrase, b"zone-platform/gateway/secret-box", 100_000)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("cannot decrypt a stored secret: wrong GATEWAY_KEY_PASSPHRASE?") from exc


class LocalJwksVerifier(JwksVerifier):
    """The chassis verifier, fed the gateway's own JWKS (no HTTP round trip to itself)."""

    def __init__(self, *, issuer: str, audience: str, jwks: dict[str, Any]) -> None:
        super().__init__(issuer=issuer, audience=audience, jwks=jwks)

    def reload(self, jwks: dict[str, Any]) -> None:
        self._load(jwks)


class KeyRing:
    """The current signing key, the keys still published, and the verifier that trusts them."""

    def __init__(self, settings: GatewaySettings, db: Database, passphrase: bytes) -> None:
        self.settings = settings
        self.db = db
        self._passphrase = passphrase
        self.current: SigningKey | None = None
        self.published: list[SigningKey] = []
        self.jwks: dict[str, Any] = {"keys": []}
        self.verifier = LocalJwksVerifier(issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks=self.jwks)

    @property
    def max_token_ttl(self) -> timedelta:
        return timedelta(seconds=max(self.settings.access_token_ttl_s, self.settings.client_token_ttl_s))

    def _encrypt(self, key: SigningKey) -> str:
        return key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        ).decode()

    def _decrypt(self, record: SigningKeyRecord) -> SigningKey:
        private = serialization.load_pem_private_key(record.private_pem.encode(), password=self._passphrase)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError(f"signing key {record.kid} is not RSA")
        return SigningKey(record.kid, private)

    def _new_record(self, now: datetime) -> tuple[SigningKey, SigningKeyRecord]:
        kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
        key = SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=self.settings.signing_key_bits))
        record = SigningKeyRecord(
            kid=kid, private_pem=self._encrypt(key), public_jwk=key.public_jwk(), created_at=now
        )
        return key, record

    async def load(self) -> None:
        """Read the keys in force; generate the first one if there is none yet."""
        now = utcnow()
        async with self.db.session() as session:
            records = await self._records_in_force(session, now)
            if not any(r.retired_at is None for r in records):
                _, record = self._new_record(now)
                session.add(record)
                try:
                    await session.commit()
                except IntegrityError:  # another replica made one at the same time
                    await session.rollback()
                records = await self._records_in_force(session, now)
            await session.commit()
        self._install(records)

    async def _records_in_force(self, session: AsyncSession, now: datetime) -> list[SigningKeyRecord]:
        query = (
            select(SigningKeyRecord)
            .where(or_(col(SigningKeyRecord.expires_at).is_(None), col(SigningKeyRecord.expires_at) > now))
            .order_by(col(SigningKeyRecord.created_at).desc())
        )
        return list((await session.execute(query)).scalars().all())

    def _install(self, records: list[SigningKeyRecord]) -> None:
        known = {k.kid: k for k in self.published}
        keys = [known.get(r.kid) or self._decrypt(r) for r in records]
        current = next((k for k, r in zip(keys, records, strict=True) if r.retired_at is None), None)
        self.published = keys
        self.current = current or (keys[0] if keys else None)
        self.jwks = jwks_document(keys)
        self.verifier.reload(self.jwks)

    async def rotate(self, session: AsyncSession) -> tuple[str, list[str]]:
        """Make a new current key on ``session`` (the caller commits, then calls :meth:`load`).

        Returns the new kid and the kids retired by this rotation.
        """
        now = utcnow()
        retired = []
        current = (
            await session.execute(select(SigningKeyRecord).where(col(SigningKeyRecord.retired_at).is_(None)))
        ).scalars().all()
        for record in current:
            record.retired_at = now
            record.expires_at = now + self.max_token_ttl + CLOCK_SKEW
            session.add(record)
            retired.append(record.kid)
        _, new_record = self._new_record(now)
        session.add(new_record)
        await session.flush()
        return new_record.kid, retired

    async def listing(self) -> list[dict[str, Any]]:
        async with self.db.session() as session:
            rows = (
                await session.execute(select(SigningKeyRecord).order_by(col(SigningKeyRecord.created_at).desc()))
            ).scalars().all()
            await session.commit()
        now = utcnow()
        return [
            {
                "kid": r.kid,
                "created_at": aware(r.created_at),
                "retired_at": aware(r.retired_at),
                "expires_at": aware(r.expires_at),
                "current": self.current is not None and r.kid == self.current.kid,
                "published": r.expires_at is None or (aware(r.expires_at) or now) > now,
            }
            for r in rows
        ]

    def sign(self, claims: dict[str, Any]) -> str:
        if self.current is None:
            raise RuntimeError("no signing key loaded")
        return self.current.sign(claims)

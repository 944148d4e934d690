"""The gateway's tables: accounts, signing keys, the zone directory, webhook subscriptions and deliveries,
and the log of events the dispatcher has seen (kept for replay to new subscribers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from chassis.tables import NAMING_CONVENTION


class GatewayTable(SQLModel, registry=registry()):
    pass


GatewayTable.metadata.naming_convention = NAMING_CONVENTION


def _utc(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


class Account(GatewayTable, table=True):
    """A person (admin, staff, enterprise) or another government system (system client).

    For a system client ``username`` is the client id and ``password_hash`` the hash of its secret.
    """

    __tablename__ = "account"

    username: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    zone_id: str | None = Field(default=None, max_length=64, index=True)
    department: str | None = Field(default=None, max_length=64)
    uscc: str | None = Field(default=None, max_length=18, index=True)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _utc(nullable=True)
    last_login_at: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class SigningKeyRecord(GatewayTable, table=True):
    """An RS256 signing key. The private key is stored as encrypted PKCS#8 PEM.

    ``retired_at`` is set when a newer key takes over; the key stays in the JWKS until
    ``expires_at`` (retirement plus the longest token lifetime), so tokens it signed stay valid.
    """

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    private_pem: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc(nullable=False)
    retired_at: datetime | None = _utc(nullable=True)
    expires_at: datetime | None = _utc(nullable=True)


class Zone(GatewayTable, table=True):
    """An industrial functional zone (产业功能区), the platform's tenant."""

    __tablename__ = "zone"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    type: str = Field(max_length=16)
    district: str = Field(max_length=64)
    partners: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class Subscription(GatewayTable, table=True):
    """A webhook registered by a system client: where to send which events."""

    __tablename__ = "subscription"

    id: str = Field(primary_key=True, max_length=40)
    owner: str = Field(max_length=64, index=True)
    description: str | None = Field(default=None, max_length=200)
    callback_url: str = Field(sa_column=Column(Text, nullable=False))
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secret: str = Field(sa_column=Column(Text, nullable=False))  # encrypted (see gateway.keys.SecretBox)
    #: After a rotation the old secret keeps signing (a second signature) until this moment, so the
    #: receiver can switch keys without rejecting a delivery in between.
    previous_secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # encrypted
    previous_secret_expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    active: bool = True
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class Delivery(GatewayTable, table=True):
    """One event to send to one subscription; the id is the ``webhook-id`` the receiver deduplicates on."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_delivery_subscription_event"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(max_length=40, index=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=255)
    event_time: datetime = _utc(nullable=False)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # pending | retrying | delivered | dead
    attempts: int = 0
    next_attempt_at: datetime | None = _utc(nullable=True)
    claimed_until: datetime | None = _utc(nullable=True)
    last_attempt_at: datetime | None = _utc(nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = _utc(nullable=True)
    redeliveries: int = 0
    created_at: datetime = _utc(nullable=False)


class SeenEvent(GatewayTable, table=True):
    """Every event the dispatcher consumed, in CloudEvents structured form, for replays."""

    __tablename__ = "seen_event"
    __table_args__ = (Index("ix_seen_event_type_time", "type", "time"),)

    id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=255)
    time: datetime = _utc(nullable=False)
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = _utc(nullable=False, index=True)

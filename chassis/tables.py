"""The chassis's own tables, present in every service's database.

They are SQLAlchemy Core tables in their own :data:`metadata`, which each service's Alembic
environment migrates next to its domain tables (see :mod:`chassis.migrations`).

- ``outbox_event``: events written in the same transaction as the state change; the relay
  publishes them and marks them sent, and keeps them for replay.
- ``inbox_event``: ids of events a consumer group has handled, written with the handler's effects.
- ``dead_letter``: events a consumer gave up on, with the error, for operators to redrive.
- ``idempotency_key``: the first response to a creating POST, per client and key.
- ``audit_log``: who changed what, when, before and after.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL wants a BIGINT for a long-lived log.
BigId = BigInteger().with_variant(Integer(), "sqlite")

outbox_event = Table(
    "outbox_event",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("topic", String(255), nullable=False),
    Column("key", String(255), nullable=True),
    Column("type", String(255), nullable=False),
    Column("source", String(255), nullable=False),
    Column("subject", String(255), nullable=True),
    Column("zone_id", String(64), nullable=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("data", Text, nullable=False),
    Column("traceparent", String(128), nullable=True),
    Column("tracestate", String(512), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_event_unsent", "sent_at", "seq"),
    Index("ix_outbox_event_time", "time"),
)

inbox_event = Table(
    "inbox_event",
    metadata,
    Column("consumer", String(128), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("type", String(255), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)

dead_letter = Table(
    "dead_letter",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("consumer", String(128), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("type", String(255), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("value", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Column("redriven_at", DateTime(timezone=True), nullable=True),
    Index("ix_dead_letter_open", "consumer", "redriven_at"),
)

idempotency_key = Table(
    "idempotency_key",
    metadata,
    Column("client", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("endpoint", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # in_flight | done
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_idempotency_key_expires", "expires_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("actor_kind", String(32), nullable=False),
    Column("zone_id", String(64), nullable=True),
    Column("action", String(128), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("trace_id", String(32), nullable=True),
    Index("ix_audit_log_entity", "entity_type", "entity_id"),
    Index("ix_audit_log_at", "at"),
)

"""The approval service's tables (its own SQLModel registry; migrations in ``migrations/``).

City-wide: the item catalog (``approval_item_version``, one row per version) and the calendar overrides.
Per zone (every row carries ``zone_id``): delegations, applications and everything hanging off them, the
evaluations and follow-ups. The investment projection (``investment_project``) mirrors what the investment
service's events said about each project.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, MetaData, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from chassis.tables import NAMING_CONVENTION


class AwareDateTime(TypeDecorator[datetime]):
    """Timezone-aware instants on both databases: stored in UTC; SQLite's naive values read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class ApprovalsTable(SQLModel, registry=_registry):
    pass


def _json(**kw: Any) -> Any:
    return Field(sa_type=JSON, **kw)


def _instant(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_type=AwareDateTime, nullable=nullable, **kw)


# --- catalog ---------------------------------------------------------------------------------------


class ApprovalItemVersion(ApprovalsTable, table=True):
    """One version of an approval item (事项). The version in force on a day is the highest-numbered one
    whose ``effective_from`` is on or before it; an application keeps the version it was filed under."""

    __tablename__ = "approval_item_version"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_approval_item_version_code_version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, index=True)
    version: int
    effective_from: date
    status: str = Field(default="active", max_length=16)  # active | abolished
    name: str = Field(max_length=200)
    type_code: str = Field(max_length=4)
    category: str = Field(max_length=20)
    handling_kind: str = Field(max_length=16)  # immediate | promised
    competent_department: str = Field(max_length=100)
    implementing_body: str = Field(max_length=100)
    delegating_authority: str = Field(max_length=100)
    legal_basis: str = Field(sa_type=Text)
    conditions: str | None = Field(default=None, sa_type=Text)
    statutory_days: int
    promised_days: int
    on_site_visits: int = 0
    fee_fen: int = 0  # fee in fen (分): exact; the API shows yuan with 2 decimals
    fee_note: str | None = Field(default=None, max_length=200)
    commitment_allowed: bool = False
    verification_window_days: int | None = None
    materials: list[dict[str, Any]] = _json(default_factory=list)  # [{code, name, mandatory}]
    change_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = _instant()
    created_by: str = Field(max_length=100)


class Delegation(ApprovalsTable, table=True):
    """One line of a zone's delegation list (赋权清单)."""

    __tablename__ = "delegation"
    __table_args__ = (Index("ix_delegation_zone_item", "zone_id", "item_code"),)

    id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(max_length=64)
    item_code: str = Field(max_length=40)
    authority: str = Field(max_length=100)
    document_no: str | None = Field(default=None, max_length=100)
    valid_from: date
    valid_until: date | None = None
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = _instant()
    created_by: str = Field(max_length=100)


class CalendarOverrideRow(ApprovalsTable, table=True):
    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=16)  # workday | holiday
    note: str | None = Field(default=None, max_length=200)
    updated_at: datetime = _instant()
    updated_by: str = Field(max_length=100)


# --- applications ------------------------------------------------------------------------------------


class Application(ApprovalsTable, table=True):
    """An application (办件): one or more items filed together (一件事)."""

    __tablename__ = "application"
    __table_args__ = (
        Index("ix_application_zone_status", "zone_id", "status"),
        Index("ix_application_zone_submitted", "zone_id", "submitted_on"),
    )

    id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(max_length=64)
    uscc: str = Field(max_length=18, index=True)
    applicant_name: str = Field(max_length=200)
    contact_person: str = Field(max_length=50)
    contact_phone: str = Field(max_length=30)
    project_id: str | None = Field(default=None, max_length=64, index=True)
    commitment: bool = False
    status: str = Field(max_length=32)
    correction_phase: str | None = Field(default=None, max_length=16)
    submitted_at: datetime = _instant()
    submitted_on: date
    submitted_by: str = Field(max_length=100)
    accepted_at: datetime | None = _instant(nullable=True, default=None)
    accepted_on: date | None = None
    decided_at: datetime | None = _instant(nullable=True, default=None)
    concluded_at: datetime | None = _instant(nullable=True, default=None)
    concluded_on: date | None = None
    certificate_no: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, sa_type=Text)  # refusal or denial reason
    referrals: list[dict[str, Any]] = _json(default_factory=list)
    promised_days: int
    statutory_days: int
    # The clock, kept current on every change and by the alerts job (see deadlines.py).
    clock_state: str = Field(default="not_started", max_length=16)
    due_date: date | None = None
    yellow_on: date | None = None
    due_provisional: bool = False
    paused_alert: str | None = Field(default=None, max_length=8)
    alert_level: str = Field(default="none", max_length=8)  # the last level notified (alert_raised)
    working_days_used: int | None = None
    on_time: bool | None = None
    # Agent service (帮办代办) and first-inquiry responsibility (首问负责制).
    agent: str | None = Field(default=None, max_length=100, index=True)
    agent_name: str | None = Field(default=None, max_length=50)
    first_inquiry: str | None = Field(default=None, max_length=100)
    first_inquiry_name: str | None = Field(default=None, max_length=50)
    # Notify-and-commit verification (事中事后核查).
    verification_status: str | None = Field(default=None, max_length=16)  # pending | confirmed | revoked
    verification_due: date | None = None
    verified_at: datetime | None = _instant(nullable=True, default=None)
    verification_note: str | None = Field(default=None, sa_type=Text)
    evaluated: bool = False
    updated_at: datetime = _instant()


class ApplicationItem(ApprovalsTable, table=True):
    """An item of an application, pinned to the catalog version it was filed under."""

    __tablename__ = "application_item"
    __table_args__ = (Index("ix_application_item_code", "item_code"),)

    application_id: str = Field(primary_key=True, max_length=36)
    position: int = Field(primary_key=True)
    item_code: str = Field(max_length=40)
    item_version: int
    item_name: str = Field(max_length=200)
    promised_days: int
    statutory_days: int


class ApplicationMaterial(ApprovalsTable, table=True):
    """A material the application's items require, and when it was last provided."""

    __tablename__ = "application_material"

    application_id: str = Field(primary_key=True, max_length=36)
    material_code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    mandatory: bool
    provided_at: datetime | None = _instant(nullable=True, default=None)
    provided_by: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=16)  # declared | uploaded


class Document(ApprovalsTable, table=True):
    __tablename__ = "document"

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(max_length=36, index=True)
    zone_id: str = Field(max_length=64)
    material_code: str | None = Field(default=None, max_length=64)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=50)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=200)
    uploaded_at: datetime = _instant()
    uploaded_by: str = Field(max_length=100)


class CorrectionNotice(ApprovalsTable, table=True):
    """A consolidated correction notice (一次性告知)."""

    __tablename__ = "correction_notice"

    application_id: str = Field(primary_key=True, max_length=36)
    notice_no: int = Field(primary_key=True)
    zone_id: str = Field(max_length=64)
    phase: str = Field(max_length=16)  # intake | review (review stops the clock)
    requested_at: datetime = _instant()
    requested_on: date
    requested_by: str = Field(max_length=100)
    items: list[dict[str, Any]] = _json(default_factory=list)  # [{material_code, material_name, reason}]
    resubmitted_at: datetime | None = _instant(nullable=True, default=None)
    resubmitted_on: date | None = None


class TimelineEntry(ApprovalsTable, table=True):
    """Who did what, when: the application's full history as users see it."""

    __tablename__ = "timeline_entry"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(max_length=36, index=True)
    at: datetime = _instant()
    actor: str = Field(max_length=100)
    actor_kind: str = Field(max_length=16)
    actor_name: str | None = Field(default=None, max_length=100)
    action: str = Field(max_length=40)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, sa_type=Text)
    details: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class Evaluation(ApprovalsTable, table=True):
    __tablename__ = "evaluation"

    application_id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(max_length=64, index=True)
    uscc: str = Field(max_length=18)
    score: int
    level: str = Field(max_length=32)
    comment: str | None = Field(default=None, sa_type=Text)
    dimensions: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    evaluated_at: datetime = _instant()
    evaluated_by: str = Field(max_length=100)


class FollowUp(ApprovalsTable, table=True):
    """Rectification and call-back after a poor rating (差评整改回访)."""

    __tablename__ = "follow_up"

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(max_length=36, index=True)
    zone_id: str = Field(max_length=64, index=True)
    uscc: str = Field(max_length=18)
    score: int
    comment: str | None = Field(default=None, sa_type=Text)
    opened_at: datetime = _instant()
    due_date: date
    status: str = Field(default="open", max_length=16)  # open | closed
    closed_at: datetime | None = _instant(nullable=True, default=None)
    closed_by: str | None = Field(default=None, max_length=100)
    callback_note: str | None = Field(default=None, sa_type=Text)
    rectification: str | None = Field(default=None, sa_type=Text)


class InvestmentProject(ApprovalsTable, table=True):
    """The investment service's projects as its events described them (identity and admission check)."""

    __tablename__ = "investment_project"

    project_id: str = Field(primary_key=True, max_length=64)
    zone_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    uscc: str | None = Field(default=None, max_length=18)
    stage: str | None = Field(default=None, max_length=32)
    admission_passed: bool | None = None
    admission_checked_at: datetime | None = _instant(nullable=True, default=None)
    admission_criteria: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    sector_code: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _instant()

"""Tables of the statistics service.

Raw data and the pre-aggregates it feeds:

- ``report`` / ``report_value``: what enterprises filed (one row per indicator value; the value
  currently filed and the value last accepted, which is what the aggregates hold);
- ``indicator_fact``: values that do not come from reports — derived from platform events (keyed by
  a natural contributor such as the project or application, so the same fact never counts twice)
  and values zone staff enter (contributor ``zone``);
- ``indicator_aggregate``: per zone × indicator × period (of the indicator's own type) the sum and
  count of contributions, updated in the same transaction as a report's acceptance or revision or
  an event's handling. Summaries, series, exports and assessments read only these rows.

Values are integer units of 1/10,000 (see ``domain.py``). Every zone-owned row carries ``zone_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, MetaData, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from chassis.tables import NAMING_CONVENTION

_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class StatsTable(SQLModel, registry=_registry):
    pass


def _ts(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable)


class Zone(StatsTable, table=True):
    """Projection of the platform's zone directory (topic ``zone.platform``)."""

    __tablename__ = "zone"
    zone_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    type: str = Field(max_length=16)
    district: str = Field(default="", max_length=100)
    partners: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    source: str = Field(default="event", max_length=16)  # event | seed
    updated_at: datetime = _ts()


class Indicator(StatsTable, table=True):
    __tablename__ = "indicator"
    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    unit: str = Field(max_length=20)
    period_type: str = Field(max_length=8)
    aggregation: str = Field(max_length=8)
    source: str = Field(max_length=16)
    cumulative: bool = False
    decimals: int = 2
    higher_is_better: bool = True
    dimension: str | None = Field(default=None, max_length=32)
    description: str | None = Field(default=None, max_length=500)
    #: Display order in summaries and exports (the catalog's order; new indicators go last).
    position: int = 0
    created_at: datetime = _ts()
    created_by: str = Field(default="system", max_length=255)


class ValidationRule(StatsTable, table=True):
    __tablename__ = "validation_rule"
    id: int | None = Field(default=None, primary_key=True)
    indicator_code: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    name: str | None = Field(default=None, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = _ts()
    created_by: str = Field(default="system", max_length=255)


class Report(StatsTable, table=True):
    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("zone_id", "uscc", "period", name="uq_report_zone_uscc_period"),
        Index("ix_report_zone_status", "zone_id", "status"),
        Index("ix_report_uscc_period", "uscc", "period"),
    )
    id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(max_length=64)
    uscc: str = Field(max_length=18)
    period: str = Field(max_length=7)
    period_type: str = Field(max_length=8)
    status: str = Field(max_length=16)
    version: int = 1
    #: Bumped on every state change; transitions compare-and-set on it (no double acceptance).
    lock_version: int = 1
    #: The indicator codes the current version carries (what the enterprise's form holds).
    form_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    explanations: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    return_reasons: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    revision_count: int = 0
    submitted_at: datetime = _ts()
    submitted_by: str = Field(max_length=255)
    reviewed_at: datetime | None = _ts(nullable=True)
    reviewed_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = _ts()


class ReportValue(StatsTable, table=True):
    __tablename__ = "report_value"
    __table_args__ = (Index("ix_report_value_lookup", "uscc", "indicator_code", "period", "zone_id"),)
    report_id: str = Field(primary_key=True, foreign_key="report.id", max_length=36)
    indicator_code: str = Field(primary_key=True, max_length=64)
    zone_id: str = Field(max_length=64)
    uscc: str = Field(max_length=18)
    period: str = Field(max_length=7)
    value_units: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    accepted_units: int | None = Field(default=None, sa_type=BigInteger, nullable=True)


class ReportTrail(StatsTable, table=True):
    """Every step of a report's life: submitted, resubmitted, accepted, returned, revised."""

    __tablename__ = "report_trail"
    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=36, index=True)
    zone_id: str = Field(max_length=64)
    action: str = Field(max_length=16)
    version: int
    actor: str = Field(max_length=255)
    actor_kind: str = Field(max_length=16)
    at: datetime = _ts()
    reasons: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    note: str | None = Field(default=None, max_length=500)


class ReportRevision(StatsTable, table=True):
    __tablename__ = "report_revision"
    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=36, index=True)
    zone_id: str = Field(max_length=64)
    revision_no: int
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=500)
    period_closed: bool = False
    revised_by: str = Field(max_length=255)
    revised_at: datetime = _ts()


class PeriodClosure(StatsTable, table=True):
    __tablename__ = "period_closure"
    zone_id: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=7)
    period_type: str = Field(max_length=8)
    reports_accepted: int = 0
    reports_returned: int = 0
    closed_at: datetime = _ts()
    closed_by: str = Field(max_length=255)


class IndicatorFact(StatsTable, table=True):
    """A value that is not a report's: derived from an event, or entered by zone staff."""

    __tablename__ = "indicator_fact"
    zone_id: str = Field(primary_key=True, max_length=64)
    indicator_code: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=7)
    contributor: str = Field(primary_key=True, max_length=128)
    value_units: int = Field(sa_type=BigInteger)
    as_of: datetime = _ts()
    origin: str = Field(max_length=16)  # event | zone
    event_id: str | None = Field(default=None, max_length=64)
    event_type: str | None = Field(default=None, max_length=255)
    recorded_by: str | None = Field(default=None, max_length=255)


class IndicatorAggregate(StatsTable, table=True):
    """The pre-aggregate: Σ contributions and how many, per zone × indicator × period."""

    __tablename__ = "indicator_aggregate"
    __table_args__ = (Index("ix_indicator_aggregate_zone_year", "zone_id", "year"),)
    zone_id: str = Field(primary_key=True, max_length=64)
    indicator_code: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=7)
    year: int
    period_type: str = Field(max_length=8)
    sum_units: int = Field(default=0, sa_type=BigInteger)
    count: int = 0
    updated_at: datetime = _ts()


class Target(StatsTable, table=True):
    """目标分解表: a zone's target for an indicator in a year (seed 004)."""

    __tablename__ = "target"
    zone_id: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    indicator_code: str = Field(primary_key=True, max_length=64)
    target_units: int = Field(sa_type=BigInteger)
    note: str | None = Field(default=None, max_length=500)
    updated_at: datetime = _ts()
    updated_by: str = Field(max_length=255)


class Obligation(StatsTable, table=True):
    """报送义务: which enterprise owes which indicators' forms in which zone, from which month."""

    __tablename__ = "obligation"
    __table_args__ = (UniqueConstraint("zone_id", "uscc", name="uq_obligation_zone_uscc"),)
    id: int | None = Field(default=None, primary_key=True)
    zone_id: str = Field(max_length=64)
    uscc: str = Field(max_length=18, index=True)
    enterprise_name: str | None = Field(default=None, max_length=200)
    indicator_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    from_period: str = Field(max_length=7)
    active: bool = True
    updated_at: datetime = _ts()
    updated_by: str = Field(max_length=255)


class Assessment(StatsTable, table=True):
    __tablename__ = "assessment"
    year: int = Field(primary_key=True)
    zone_id: str = Field(primary_key=True, max_length=64)
    zone_type: str = Field(max_length=16)
    score: float
    rank: int
    zones_ranked: int
    coefficient: float
    dimensions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    weights: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    details: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = _ts()
    computed_by: str = Field(max_length=255)

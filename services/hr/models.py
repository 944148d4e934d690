"""The HR service's tables (its own registry and database). Every zone-owned row carries ``zone_id``.

Money columns are 万元 with 2 decimals; weights, scores and coefficients are decimals too. Score
and weight maps (competition components, KPI scores) are JSON objects of decimal strings. A
national ID number is stored once, on ``staff``, encrypted (``v1:…``, see ``personal_data.py``);
uniqueness per zone is enforced on its keyed blind index (HMAC-SHA256), so neither a dump nor a
constraint violation in a log line reveals the number.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, MetaData, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from chassis.tables import NAMING_CONVENTION


def new_id() -> str:
    return str(uuid.uuid4())


class HrTable(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))):
    pass


def _tz() -> Any:
    return DateTime(timezone=True)


class Department(HrTable, table=True):
    """内设机构 with its share of the headcount quota and its performance coefficient (部门考核系数)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("zone_id", "code", name="uq_department_zone_code"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    allocation: int = 0
    coefficient: Decimal = Field(default=Decimal("1.000"), max_digits=6, decimal_places=3)
    created_at: datetime = Field(sa_type=_tz())


class ZoneQuota(HrTable, table=True):
    """员额总控: the agency's total headcount."""

    __tablename__ = "zone_quota"

    zone_id: str = Field(primary_key=True, max_length=64)
    total: int = 0
    updated_at: datetime = Field(sa_type=_tz())
    updated_by: str = Field(max_length=255)


class PayBand(HrTable, table=True):
    """职级薪酬带: monthly post pay range and annual performance-pay base of one grade (职级)."""

    __tablename__ = "pay_band"
    __table_args__ = (UniqueConstraint("zone_id", "grade", name="uq_pay_band_zone_grade"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    grade: str = Field(max_length=16)
    label: str = Field(max_length=50)
    monthly_min_wan: Decimal = Field(max_digits=10, decimal_places=2)
    monthly_max_wan: Decimal = Field(max_digits=10, decimal_places=2)
    annual_performance_base_wan: Decimal = Field(max_digits=10, decimal_places=2)
    updated_at: datetime = Field(sa_type=_tz())


class Position(HrTable, table=True):
    """岗位: 因事设岗、以岗定级 (seed 001)."""

    __tablename__ = "position"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    department_id: str = Field(foreign_key="department.id", index=True, max_length=36)
    title: str = Field(max_length=100)
    category: str = Field(max_length=16)
    grade: str = Field(max_length=16)
    posts: int
    created_at: datetime = Field(sa_type=_tz())
    updated_at: datetime = Field(sa_type=_tz())


class Staff(HrTable, table=True):
    """A person in the agency's HR file, whatever their identity; ``account`` links a gateway login."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("zone_id", "national_id_digest", name="uq_staff_zone_national_id"),
        UniqueConstraint("zone_id", "account", name="uq_staff_zone_account"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=50)
    national_id: str = Field(max_length=255)  # v1:… ciphertext (65 characters for 18 digits)
    national_id_digest: str = Field(max_length=64)  # keyed blind index, hex
    identity: str = Field(max_length=16)
    original_establishment: str | None = Field(default=None, max_length=200)
    contract_start: date | None = None
    contract_end: date | None = None
    sending_unit: str | None = Field(default=None, max_length=200)
    secondment_end: date | None = None
    account: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_type=_tz())
    updated_at: datetime = Field(sa_type=_tz())


class Opening(HrTable, table=True):
    """竞聘公告 for one position: term, component weights (%), how many posts it fills."""

    __tablename__ = "opening"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    position_id: str = Field(foreign_key="position.id", index=True, max_length=36)
    title: str = Field(max_length=200)
    term_months: int
    weights: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    posts_to_fill: int = 1
    status: str = Field(default="open", max_length=16)  # open | filled | exhausted
    created_at: datetime = Field(sa_type=_tz())


class Candidate(HrTable, table=True):
    """A person applying to an opening (from inside or outside the agency) and their scores."""

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("opening_id", "staff_id", name="uq_candidate_opening_staff"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    opening_id: str = Field(foreign_key="opening.id", index=True, max_length=36)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    source: str = Field(max_length=16)  # internal | external
    applied_at: datetime = Field(sa_type=_tz())
    scores: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="applied", max_length=16)  # applied | offered | declined | appointed
    offered_at: datetime | None = Field(default=None, sa_type=_tz())
    responded_at: datetime | None = Field(default=None, sa_type=_tz())
    decline_reason: str | None = Field(default=None, max_length=500)
    appointment_id: str | None = Field(default=None, max_length=36)


class Appointment(HrTable, table=True):
    """聘任: one person in one position for a term; at most one active appointment per person."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index(
            "uq_appointment_active_staff",
            "staff_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    position_id: str = Field(foreign_key="position.id", index=True, max_length=36)
    department_id: str = Field(foreign_key="department.id", index=True, max_length=36)
    opening_id: str | None = Field(default=None, max_length=36)
    identity: str = Field(max_length=16)
    original_establishment: str | None = Field(default=None, max_length=200)
    term_start: date
    term_end: date
    status: str = Field(default="active", max_length=16)  # active | ended
    ended_on: date | None = None
    end_reason: str | None = Field(default=None, max_length=32)
    end_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=_tz())
    ended_at: datetime | None = Field(default=None, sa_type=_tz())


class EvaluationCycle(HrTable, table=True):
    """考核周期 (quarter or year) with its thresholds and, once finalized, the zone coefficient used."""

    __tablename__ = "evaluation_cycle"
    __table_args__ = (UniqueConstraint("zone_id", "period", name="uq_evaluation_cycle_zone_period"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=8)
    year: int
    quarter: int | None = None
    period: str = Field(max_length=8)
    start_date: date
    end_date: date
    pay_period: str = Field(max_length=7)
    thresholds: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    bottom_share: Decimal = Field(max_digits=5, decimal_places=4)
    individual_coefficients: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=16)  # open | finalized
    zone_coefficient: Decimal | None = Field(default=None, max_digits=8, decimal_places=4)
    zone_coefficient_source: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=_tz())
    finalized_at: datetime | None = Field(default=None, sa_type=_tz())


class KpiItem(HrTable, table=True):
    """A KPI item of a cycle for one position category, with its weight (%)."""

    __tablename__ = "kpi_item"
    __table_args__ = (UniqueConstraint("cycle_id", "category", "code", name="uq_kpi_item_cycle_category_code"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cycle_id: str = Field(foreign_key="evaluation_cycle.id", index=True, max_length=36)
    category: str = Field(max_length=16)
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    weight: Decimal = Field(max_digits=5, decimal_places=2)


class EvaluationEntry(HrTable, table=True):
    """One person's evaluation in a cycle: where they served, their KPI scores and, once finalized, the result."""

    __tablename__ = "evaluation_entry"
    __table_args__ = (UniqueConstraint("cycle_id", "staff_id", name="uq_evaluation_entry_cycle_staff"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    cycle_id: str = Field(foreign_key="evaluation_cycle.id", index=True, max_length=36)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    position_id: str = Field(foreign_key="position.id", max_length=36)
    department_id: str = Field(foreign_key="department.id", index=True, max_length=36)
    category: str = Field(max_length=16)
    job_grade: str = Field(max_length=16)
    scores: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    score: Decimal | None = Field(default=None, max_digits=5, decimal_places=2)
    grade: str | None = Field(default=None, max_length=16)
    bottom_flag: bool = False
    base_pay_wan: Decimal | None = Field(default=None, max_digits=10, decimal_places=2)
    department_coefficient: Decimal | None = Field(default=None, max_digits=6, decimal_places=3)
    individual_coefficient: Decimal | None = Field(default=None, max_digits=6, decimal_places=3)
    performance_pay_wan: Decimal | None = Field(default=None, max_digits=10, decimal_places=2)
    updated_at: datetime = Field(sa_type=_tz())


class Exemption(HrTable, table=True):
    """容错: an approved exemption of one KPI item for one person, with the recorded reason."""

    __tablename__ = "exemption"
    __table_args__ = (UniqueConstraint("cycle_id", "staff_id", "kpi_code", name="uq_exemption_cycle_staff_kpi"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    cycle_id: str = Field(foreign_key="evaluation_cycle.id", index=True, max_length=36)
    staff_id: str = Field(foreign_key="staff.id", max_length=36)
    kpi_code: str = Field(max_length=32)
    reason: str = Field(max_length=1000)
    approved_by: str = Field(max_length=255)
    approved_at: datetime = Field(sa_type=_tz())


class ZoneAssessment(HrTable, table=True):
    """Projection of ``zone.stats.assessment.published.v1``: the zone coefficient of a year."""

    __tablename__ = "zone_assessment"

    zone_id: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    coefficient: Decimal = Field(max_digits=8, decimal_places=4)
    score: float | None = None
    rank: int | None = None
    zones_ranked: int | None = None
    event_id: str = Field(max_length=64)
    published_at: datetime = Field(sa_type=_tz())
    received_at: datetime = Field(sa_type=_tz())


class PayrollPolicy(HrTable, table=True):
    """工资总控 of one zone and year: multiple × reference average annual pay × headcount quota."""

    __tablename__ = "payroll_policy"

    zone_id: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    reference_average_wan: Decimal = Field(max_digits=10, decimal_places=2)
    multiple: Decimal = Field(max_digits=5, decimal_places=2)
    basis: str | None = Field(default=None, max_length=300)
    updated_at: datetime = Field(sa_type=_tz())
    updated_by: str = Field(max_length=255)


class PayrollRun(HrTable, table=True):
    """One month's payroll (id ``<zone_id>:<YYYY-MM>``); recomputing the month replaces it."""

    __tablename__ = "payroll_run"

    id: str = Field(primary_key=True, max_length=80)
    zone_id: str = Field(index=True, max_length=64)
    period: str = Field(max_length=7)
    year: int = Field(index=True)
    headcount_paid: int
    total_wan: Decimal = Field(max_digits=12, decimal_places=2)
    year_to_date_wan: Decimal = Field(max_digits=14, decimal_places=2)
    annual_cap_wan: Decimal = Field(max_digits=14, decimal_places=2)
    cap_multiple: Decimal = Field(max_digits=5, decimal_places=2)
    reference_average_wan: Decimal = Field(max_digits=10, decimal_places=2)
    cap_headcount: int
    policy_source: str = Field(max_length=32)
    computed_at: datetime = Field(sa_type=_tz())
    computed_by: str = Field(max_length=255)


class PayrollLine(HrTable, table=True):
    """One person's pay in a month: post pay from the grade's band, performance pay from evaluations."""

    __tablename__ = "payroll_line"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    run_id: str = Field(foreign_key="payroll_run.id", index=True, max_length=80)
    zone_id: str = Field(index=True, max_length=64)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=36)
    department_id: str | None = Field(default=None, max_length=36)
    position_id: str | None = Field(default=None, max_length=36)
    job_grade: str | None = Field(default=None, max_length=16)
    evaluation_grade: str | None = Field(default=None, max_length=16)
    band_position: Decimal = Field(max_digits=5, decimal_places=4)
    days_served: int
    post_pay_wan: Decimal = Field(max_digits=10, decimal_places=2)
    performance_pay_wan: Decimal = Field(max_digits=10, decimal_places=2)
    total_wan: Decimal = Field(max_digits=10, decimal_places=2)

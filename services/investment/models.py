"""The investment service's tables (its own database; no other service reads them).

Chains and their nodes are city-wide reference data; everything else belongs to a zone and carries
``zone_id``: a zone's status on a node, its target companies, its admission catalog, its projects,
their stage history, admission checks, funds in place and coordination issues.

Money (万元) and areas (亩) are exact decimals and timestamps are timezone-aware on both databases
(see :mod:`services.investment.dbtypes`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, MetaData, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from chassis.tables import NAMING_CONVENTION
from services.investment.dbtypes import AwareDateTime, FixedDecimal


def utcnow() -> datetime:
    return datetime.now(UTC)


class InvestmentTable(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))):
    pass


Money = FixedDecimal(2)


# --- industry chains (产业链), city-wide -----------------------------------------------------------


class Chain(InvestmentTable, table=True):
    __tablename__ = "chain"

    id: str = Field(primary_key=True, max_length=36)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(max_length=255)


class ChainNode(InvestmentTable, table=True):
    __tablename__ = "chain_node"
    __table_args__ = (UniqueConstraint("chain_id", "code", name="uq_chain_node_chain_code"),)

    id: str = Field(primary_key=True, max_length=36)
    chain_id: str = Field(foreign_key="chain.id", index=True, max_length=36)
    code: str = Field(max_length=64)
    name: str = Field(max_length=100)
    position: str = Field(max_length=16)  # upstream | midstream | downstream
    description: str | None = Field(default=None, max_length=1000)
    sort_order: int = 0


class NodeZoneStatus(InvestmentTable, table=True):
    """A zone's status on a chain node (the chain panorama of 三图一表, seed 000)."""

    __tablename__ = "node_zone_status"
    __table_args__ = (UniqueConstraint("node_id", "zone_id", name="uq_node_zone_status_node_zone"),)

    id: str = Field(primary_key=True, max_length=36)
    node_id: str = Field(foreign_key="chain_node.id", index=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    status: str = Field(max_length=16)  # present | weak | missing
    note: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    updated_by: str = Field(max_length=255)


class TargetCompany(InvestmentTable, table=True):
    """A company on a zone's target list (重点企业和配套企业名录) for a chain node."""

    __tablename__ = "target_company"
    __table_args__ = (
        UniqueConstraint("zone_id", "node_id", "company_name", name="uq_target_company_zone_node_name"),
    )

    id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    node_id: str = Field(foreign_key="chain_node.id", index=True, max_length=36)
    company_name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # key (重点企业) | supporting (配套企业)
    uscc: str | None = Field(default=None, max_length=18)
    headquarters: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(max_length=255)


# --- admission catalog (项目准入目录), per zone ------------------------------------------------------


class CatalogEntry(InvestmentTable, table=True):
    __tablename__ = "catalog_entry"
    __table_args__ = (UniqueConstraint("zone_id", "sector_code", name="uq_catalog_entry_zone_sector"),)

    id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    sector_code: str = Field(max_length=64)
    sector_name: str = Field(max_length=100)
    chain_code: str | None = Field(default=None, max_length=64)
    min_total_investment_wan: Decimal | None = Field(default=None, sa_type=Money)
    min_investment_intensity_wan_per_mu: Decimal | None = Field(default=None, sa_type=Money)
    min_output_per_mu_wan: Decimal | None = Field(default=None, sa_type=Money)
    min_tax_per_mu_wan: Decimal | None = Field(default=None, sa_type=Money)
    max_energy_per_output_tce_per_wan: Decimal | None = Field(default=None, sa_type=FixedDecimal(4))
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=AwareDateTime)
    updated_at: datetime = Field(sa_type=AwareDateTime)
    updated_by: str = Field(max_length=255)


# --- projects -------------------------------------------------------------------------------------


class Project(InvestmentTable, table=True):
    __tablename__ = "project"
    __table_args__ = (
        Index("ix_project_zone_stage", "zone_id", "stage"),
        Index("ix_project_uscc", "uscc"),
    )

    id: str = Field(primary_key=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    investor: str = Field(max_length=200)
    uscc: str | None = Field(default=None, max_length=18)
    chain_code: str | None = Field(default=None, max_length=64)
    node_id: str | None = Field(default=None, foreign_key="chain_node.id", max_length=36)
    chain_role: str | None = Field(default=None, max_length=8)
    chain_role_derived: bool = False
    sector_code: str | None = Field(default=None, max_length=64)
    agreed_investment_wan: Decimal | None = Field(default=None, sa_type=Money)
    funding_source: str | None = Field(default=None, max_length=32)
    land_area_mu: Decimal | None = Field(default=None, sa_type=Money)
    expected_annual_output_wan: Decimal | None = Field(default=None, sa_type=Money)
    expected_annual_tax_wan: Decimal | None = Field(default=None, sa_type=Money)
    expected_annual_energy_tce: Decimal | None = Field(default=None, sa_type=Money)
    key_project: bool = False
    leader: str | None = Field(default=None, max_length=100)
    task_team: list[str] = Field(default_factory=list, sa_type=JSON)
    policy_measures: list[str] = Field(default_factory=list, sa_type=JSON)
    agency: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    stage: str = Field(max_length=32)
    stage_entered_at: datetime = Field(sa_type=AwareDateTime)
    signed_on: date | None = None
    dropped_from_stage: str | None = Field(default=None, max_length=32)
    drop_reason: str | None = Field(default=None, max_length=1000)
    admission_passed: bool | None = None
    admission_checked_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    created_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(max_length=255)
    updated_at: datetime = Field(sa_type=AwareDateTime)


class StageChange(InvestmentTable, table=True):
    """One move of a project between stages; the first row of a project is its entry as a lead."""

    __tablename__ = "stage_change"

    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    from_stage: str | None = Field(default=None, max_length=32)
    to_stage: str = Field(max_length=32)
    changed_at: datetime = Field(sa_type=AwareDateTime)
    previous_entered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    days_in_previous_stage: int | None = None
    reason: str | None = Field(default=None, max_length=1000)
    actor: str = Field(max_length=255)
    recorded_at: datetime = Field(sa_type=AwareDateTime)


class AdmissionCheck(InvestmentTable, table=True):
    __tablename__ = "admission_check"

    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=36)
    zone_id: str = Field(index=True, max_length=64)
    catalog_entry_id: str | None = Field(default=None, max_length=36)
    sector_code: str = Field(max_length=64)
    passed: bool
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    checked_at: datetime = Field(sa_type=AwareDateTime)
    checked_by: str = Field(max_length=255)


class FundsRecord(InvestmentTable, table=True):
    """Funds in place (实际到位资金) for one period, from outside the city or abroad (seed 001)."""

    __tablename__ = "funds_record"
    __table_args__ = (Index("ix_funds_record_zone_period", "zone_id", "period"),)

    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=36)
    zone_id: str = Field(max_length=64)
    period: str = Field(max_length=7)
    amount_wan: Decimal = Field(sa_type=Money)
    source: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=500)
    recorded_at: datetime = Field(sa_type=AwareDateTime)
    recorded_by: str = Field(max_length=255)


class CoordinationIssue(InvestmentTable, table=True):
    """A blocker raised to a department (开发区吹哨、部门报到, seed 003)."""

    __tablename__ = "coordination_issue"
    __table_args__ = (
        Index("ix_coordination_issue_zone_status_due", "zone_id", "status", "due_date"),
        Index("ix_coordination_issue_zone_department", "zone_id", "department_code"),
    )

    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=36)
    zone_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    department: str = Field(max_length=100)  # the name shown (芯谷规划建设局)
    # The department's code in the zone (HR's code, the ``dept`` claim of its staff): who may act.
    department_code: str | None = Field(default=None, max_length=32)
    due_date: date
    status: str = Field(max_length=16)
    escalation_level: int = 0
    escalated_to: str | None = Field(default=None, max_length=100)
    escalation_reason: str | None = Field(default=None, max_length=1000)
    resolution: str | None = Field(default=None, max_length=2000)
    raised_by: str = Field(max_length=255)
    raised_at: datetime = Field(sa_type=AwareDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=255)
    acknowledged_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    resolved_by: str | None = Field(default=None, max_length=255)
    resolved_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    updated_at: datetime = Field(sa_type=AwareDateTime)

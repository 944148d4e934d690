"""Handlers of the events the statistics service consumes.

- ``zone.platform``: the zone directory → the ``zone`` projection (name, type, partners and shares).
- ``zone.investment``: signed projects → 新签约项目数, 新签约引进重大项目, 协议投资额; funds recorded →
  实际到位市外内资 / 实际利用外资 by source.
- ``zone.approvals``: completed applications → 办结件数, 按时办结率, 平均办理时长.
- ``zone.hr``: headcount changes → 员额在岗人数, 员额空缺数 (the latest reading of the month).

Each derived value is a fact keyed by its natural contributor (the project, the application, the
funds recording's event, the zone's HR) and moves the pre-aggregate in the handler's transaction,
the one the consumer commits together with the inbox row: a redelivered event is skipped by the
inbox, and a republished one (new id, same contributor) replaces rather than adds.
Handlers read only the contract fields named in the common brief.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.consumer import ConsumerSpec
from chassis.events import CloudEvent
from services.stats import repository as repo
from services.stats.catalog import BUILT_IN
from services.stats.domain import IndicatorDef, check_partner_shares, to_units
from services.stats.models import Indicator, Zone
from services.stats.periods import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")

ZONE_CREATED = "zone.platform.zone.created.v1"
ZONE_CHANGED = "zone.platform.zone.changed.v1"
PROJECT_SIGNED = "zone.investment.project.signed.v1"
FUNDS_RECORDED = "zone.investment.funds.recorded.v1"
APPLICATION_COMPLETED = "zone.approvals.application.completed.v1"
HEADCOUNT_CHANGED = "zone.hr.headcount.changed.v1"


# --- the contract fields we read ---------------------------------------------------------------------


class Partner(BaseModel):
    district: str = Field(min_length=1)
    share_percent: Decimal = Field(ge=0, le=100)


class ZoneDirectoryEntry(BaseModel):
    zone_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    type: Literal["产业新城", "特色街区", "特色小镇"]
    district: str = ""
    partners: list[Partner] = Field(default_factory=list)
    active: bool = True


class ProjectSigned(BaseModel):
    project_id: str
    zone_id: str
    agreed_investment_wan: float | None = None
    signed_on: date
    key_project: bool = False


class FundsRecorded(BaseModel):
    project_id: str
    zone_id: str
    period: str
    amount_wan: float
    source: str

    @field_validator("period")
    @classmethod
    def _month(cls, value: str) -> str:
        if Period.parse(value).type.value != "month":
            raise ValueError("funds period must be YYYY-MM")
        return value


class ApplicationCompleted(BaseModel):
    application_id: str
    zone_id: str
    completed_at: datetime
    working_days_used: float | None = None
    on_time: bool


class HeadcountChanged(BaseModel):
    zone_id: str
    as_of: datetime | date
    total_filled: int
    total_vacancies: int


# --- helpers ------------------------------------------------------------------------------------------


def _units(value: float | int | Decimal) -> int:
    return to_units(Decimal(str(value)).quantize(Decimal("0.0001")))


def _local_month(moment: datetime) -> Period:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    local = aware.astimezone(SHANGHAI)
    return Period.month(local.year, local.month)


async def _definition(session: AsyncSession, code: str) -> IndicatorDef:
    row = await session.get(Indicator, code)
    return repo.to_def(row) if row is not None else BUILT_IN[code]


async def _fact(
    session: AsyncSession, event: CloudEvent, code: str, *, zone_id: str, period: Period, contributor: str, value: float | int | Decimal, as_of: datetime
) -> None:
    await repo.record_fact(
        session,
        await _definition(session, code),
        zone_id=zone_id,
        period=period,
        contributor=contributor,
        units=_units(value),
        as_of=as_of,
        origin="event",
        event_id=event.id,
        event_type=event.type,
    )


# --- handlers -----------------------------------------------------------------------------------------


async def on_zone_directory(session: AsyncSession, event: CloudEvent) -> None:
    entry = ZoneDirectoryEntry.model_validate(event.data)
    partners = [{"district": p.district, "share_percent": float(p.share_percent)} for p in entry.partners]
    check_partner_shares(partners)
    zone = await session.get(Zone, entry.zone_id) or Zone(zone_id=entry.zone_id, name=entry.name, type=entry.type)
    zone.name, zone.type, zone.district = entry.name, entry.type, entry.district
    zone.partners, zone.active, zone.source = partners, entry.active, "event"
    zone.updated_at = repo.now()
    session.add(zone)


async def on_project_signed(session: AsyncSession, event: CloudEvent) -> None:
    data = ProjectSigned.model_validate(event.data)
    period = Period.month(data.signed_on.year, data.signed_on.month)
    common: dict[str, Any] = {"zone_id": data.zone_id, "period": period, "contributor": f"project:{data.project_id}", "as_of": event.time}
    await _fact(session, event, "signed_projects", value=1, **common)
    if data.key_project:
        await _fact(session, event, "major_projects_signed", value=1, **common)
    if data.agreed_investment_wan is not None:
        await _fact(session, event, "agreed_investment", value=data.agreed_investment_wan, **common)


FUNDS_INDICATORS = {"domestic_outside_city": "funds_domestic_outside_city", "foreign": "foreign_capital_utilized"}


async def on_funds_recorded(session: AsyncSession, event: CloudEvent) -> None:
    data = FundsRecorded.model_validate(event.data)
    code = FUNDS_INDICATORS.get(data.source)
    if code is None:
        return  # local funds are not an indicator of their own
    await _fact(
        session,
        event,
        code,
        zone_id=data.zone_id,
        period=Period.parse(data.period),
        contributor=f"funds:{event.id}",
        value=data.amount_wan,
        as_of=event.time,
    )


async def on_application_completed(session: AsyncSession, event: CloudEvent) -> None:
    data = ApplicationCompleted.model_validate(event.data)
    common: dict[str, Any] = {
        "zone_id": data.zone_id,
        "period": _local_month(data.completed_at),
        "contributor": f"application:{data.application_id}",
        "as_of": event.time,
    }
    await _fact(session, event, "approvals_completed", value=1, **common)
    await _fact(session, event, "approvals_on_time_rate", value=100 if data.on_time else 0, **common)
    if data.working_days_used is not None:
        await _fact(session, event, "approvals_avg_working_days", value=data.working_days_used, **common)


async def on_headcount_changed(session: AsyncSession, event: CloudEvent) -> None:
    data = HeadcountChanged.model_validate(event.data)
    moment = data.as_of if isinstance(data.as_of, datetime) else datetime.combine(data.as_of, time(), SHANGHAI)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    common: dict[str, Any] = {"zone_id": data.zone_id, "period": _local_month(moment), "contributor": "hr", "as_of": moment}
    await _fact(session, event, "headcount_filled", value=data.total_filled, **common)
    await _fact(session, event, "headcount_vacancies", value=data.total_vacancies, **common)


CONSUMERS = [
    ConsumerSpec(
        name="projections",
        services=["platform", "investment", "approvals", "hr"],
        handlers={
            ZONE_CREATED: on_zone_directory,
            ZONE_CHANGED: on_zone_directory,
            PROJECT_SIGNED: on_project_signed,
            FUNDS_RECORDED: on_funds_recorded,
            APPLICATION_COMPLETED: on_application_completed,
            HEADCOUNT_CHANGED: on_headcount_changed,
        },
    )
]

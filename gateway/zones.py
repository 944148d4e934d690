"""The directory of zones (功能区): the platform's tenants, published on topic ``zone.platform``.

Every change is written with its event in the same transaction (outbox), so each service's
projection of the directory converges on what is stored here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.audit import record_audit
from chassis.auth import Principal
from chassis.errors import Conflict, FieldError, NotFound
from chassis.outbox import record_event
from gateway import domain
from gateway.events import ZONE_CHANGED, ZONE_CREATED, ZoneData
from gateway.keys import aware, utcnow
from gateway.models import Zone
from gateway.schemas import ZoneIn, ZoneUpdate


def zone_view(zone: Zone) -> dict[str, Any]:
    return {
        "zone_id": zone.id,
        "name": zone.name,
        "type": zone.type,
        "district": zone.district,
        "partners": [dict(p) for p in zone.partners],
        "co_built": bool(zone.partners),
        "active": zone.active,
        "created_at": aware(zone.created_at),
        "updated_at": aware(zone.updated_at),
    }


def _event_data(zone: Zone) -> ZoneData:
    return ZoneData.model_validate(
        {"zone_id": zone.id, "name": zone.name, "type": zone.type, "district": zone.district,
         "partners": zone.partners, "active": zone.active}
    )


def _partners(body: ZoneUpdate) -> list[dict[str, Any]]:
    domain.check_partner_shares(
        [domain.Partner(p.district, p.share_percent) for p in body.partners], body.district
    )
    return [{"district": p.district, "share_percent": float(p.share_percent)} for p in body.partners]


async def create_zone(session: AsyncSession, caller: Principal | str, body: ZoneIn) -> Zone:
    partners = _partners(body)
    if await session.get(Zone, body.zone_id) is not None:
        raise Conflict("功能区标识已存在", "Zone id taken",
                       errors=[FieldError("zone_id", "功能区标识已存在", "already exists", code="taken")])
    now = utcnow()
    zone = Zone(
        id=body.zone_id, name=body.name, type=body.type, district=body.district, partners=partners,
        active=body.active, created_at=now, updated_at=now,
    )
    session.add(zone)
    await session.flush()
    await record_event(session, ZONE_CREATED, _event_data(zone), subject=zone.id, zone_id=zone.id)
    await record_audit(session, caller, "zone.create", entity_type="zone", entity_id=zone.id, zone_id=zone.id,
                       after=zone_view(zone))
    return zone


async def update_zone(session: AsyncSession, caller: Principal, zone_id: str, body: ZoneUpdate) -> Zone:
    zone = await get_zone(session, zone_id)
    before = zone_view(zone)
    partners = _partners(body)
    zone.name, zone.type, zone.district, zone.partners, zone.active = (
        body.name, body.type, body.district, partners, body.active,
    )
    after = zone_view(zone)
    if {k: v for k, v in after.items() if k != "updated_at"} == {k: v for k, v in before.items() if k != "updated_at"}:
        return zone  # nothing changed: no event, no audit entry
    zone.updated_at = utcnow()
    session.add(zone)
    await session.flush()
    await record_event(session, ZONE_CHANGED, _event_data(zone), subject=zone.id, zone_id=zone.id)
    await record_audit(session, caller, "zone.update", entity_type="zone", entity_id=zone.id, zone_id=zone.id,
                       before=before, after=zone_view(zone))
    return zone


async def get_zone(session: AsyncSession, zone_id: str) -> Zone:
    zone = await session.get(Zone, zone_id)
    if zone is None:
        raise NotFound("功能区不存在", "Zone not found")
    return zone


async def list_zones(
    session: AsyncSession, *, type_: str | None, district: str | None, active: bool | None, offset: int, limit: int
) -> tuple[list[Zone], int]:
    query = select(Zone)
    if type_:
        query = query.where(col(Zone.type) == type_)
    if district:
        query = query.where(col(Zone.district) == district)
    if active is not None:
        query = query.where(col(Zone.active) == active)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await session.execute(query.order_by(col(Zone.id)).offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


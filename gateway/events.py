"""The gateway's published event contract: the directory of zones on topic ``zone.platform``.

Every service keeps its own projection of zones from these events (name, type, district and,
for a co-built zone, the partner districts' shares). Key and subject are the zone id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chassis.events import EventCatalog

ZoneType = Literal["产业新城", "特色街区", "特色小镇"]


class PartnerShare(BaseModel):
    district: str = Field(description="合作共建的区（县）/ partner district")
    share_percent: float = Field(description="分成比例（%），各方合计 100 / share in percent; partners add up to 100")


class ZoneData(BaseModel):
    zone_id: str = Field(description="功能区标识 / zone id")
    name: str = Field(description="功能区名称 / zone name")
    type: ZoneType = Field(description="功能区类型：产业新城、特色街区或特色小镇 / zone type")
    district: str = Field(description="所在（牵头）区县 / district the zone belongs to (the lead one if co-built)")
    partners: list[PartnerShare] = Field(
        description="合作共建的各方及分成；非合作共建时为空 / partner districts and shares; empty unless co-built"
    )
    active: bool = Field(description="是否启用 / whether the zone is active")


EVENTS = EventCatalog("platform")

ZONE_CREATED = EVENTS.define(
    "zone.platform.zone.created.v1",
    ZoneData,
    aggregate="zone",
    description="功能区已登记 / A zone was added to the directory.",
)
ZONE_CHANGED = EVENTS.define(
    "zone.platform.zone.changed.v1",
    ZoneData,
    aggregate="zone",
    description="功能区信息已变更（名称、类型、区县、共建分成或启用状态）/ A zone's entry in the directory changed.",
)

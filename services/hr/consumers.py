"""Events the HR service consumes: the statistics service's zone assessments (差异化考核, seed 000).

``zone.stats.assessment.published.v1`` (one per zone and year) carries the zone's coefficient; it is
projected into ``zone_assessment`` and becomes the zone coefficient of performance pay for cycles of
that year (and later years until a newer one arrives). A republished assessment of the same zone
and year replaces the earlier one unless it is older. The handler reads only the contract's fields.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chassis.consumer import ConsumerSpec
from chassis.events import CloudEvent
from services.hr.models import ZoneAssessment

log = logging.getLogger("services.hr.consumers")

ASSESSMENT_PUBLISHED = "zone.stats.assessment.published.v1"


class UnusableAssessment(ValueError):
    """The event breaks the contract; retrying will not help (it ends in the dead-letter topic)."""


def _coefficient(data: dict[str, Any]) -> Decimal:
    try:
        value = Decimal(str(data["coefficient"]))
    except (KeyError, InvalidOperation) as exc:
        raise UnusableAssessment("assessment without a numeric coefficient") from exc
    if not value.is_finite() or value <= 0 or value > 10:
        raise UnusableAssessment(f"assessment coefficient out of range: {value}")
    return value.quantize(Decimal("0.0001"))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def on_assessment_published(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    try:
        zone_id = str(data["zone_id"])
        year = int(data["year"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnusableAssessment("assessment without zone_id and year") from exc
    coefficient = _coefficient(data)
    row = await session.get(ZoneAssessment, (zone_id, year))
    if row is not None and _aware(row.published_at) > event.time:
        log.info("assessment %s:%s from event %s is older than the one on record; kept the newer", zone_id, year, event.id)
        return
    if row is None:
        row = ZoneAssessment(
            zone_id=zone_id, year=year, coefficient=coefficient, event_id=event.id, published_at=event.time,
            received_at=datetime.now(UTC),
        )
    row.coefficient = coefficient
    row.score = float(data["score"]) if isinstance(data.get("score"), int | float) else None
    row.rank = int(data["rank"]) if isinstance(data.get("rank"), int) else None
    row.zones_ranked = int(data["zones_ranked"]) if isinstance(data.get("zones_ranked"), int) else None
    row.event_id = event.id
    row.published_at = event.time
    row.received_at = datetime.now(UTC)
    session.add(row)
    log.info("zone coefficient of %s for %s is now %s (event %s)", zone_id, year, coefficient, event.id)


CONSUMERS = [
    ConsumerSpec(name="assessments", services=["stats"], handlers={ASSESSMENT_PUBLISHED: on_assessment_published}),
]

"""What the approval service learns from the investment service's events (topic ``zone.investment``).

The projection ``investment_project`` keeps each project's identity (zone, name, USCC, stage) and its
latest admission check (项目准入审查): notify-and-commit for a project needs a passed check. Handlers read
only the fields of the platform-wide contract, never commit (the consumer loop does, with its inbox), and
ignore an admission result older than the one already kept (events may be redelivered or replayed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chassis.consumer import ConsumerSpec
from chassis.events import CloudEvent
from services.approvals.models import InvestmentProject

PROJECT_CREATED = "zone.investment.project.created.v1"
PROJECT_UPDATED = "zone.investment.project.updated.v1"
ADMISSION_CHECKED = "zone.investment.project.admission_checked.v1"


def _instant(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


async def _project(session: AsyncSession, project_id: str, now: datetime) -> InvestmentProject:
    row = await session.get(InvestmentProject, project_id)
    return row if row is not None else InvestmentProject(project_id=project_id, updated_at=now)


async def on_project_changed(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    now = datetime.now(UTC)
    row = await _project(session, str(data["project_id"]), now)
    row.zone_id = data.get("zone_id") or row.zone_id
    row.name = (data.get("name") or row.name or "")[:200] or None
    if "uscc" in data:
        row.uscc = data.get("uscc")
    row.stage = data.get("stage") or row.stage
    row.updated_at = now
    session.add(row)


async def on_admission_checked(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    now = datetime.now(UTC)
    checked_at = _instant(data.get("checked_at"), event.time)
    row = await _project(session, str(data["project_id"]), now)
    if row.admission_checked_at is not None and checked_at < row.admission_checked_at:
        return  # an older result arriving late: the latest check decides
    row.zone_id = data.get("zone_id") or row.zone_id
    if data.get("uscc"):
        row.uscc = data["uscc"]
    row.admission_passed = bool(data["passed"])
    row.admission_checked_at = checked_at
    row.admission_criteria = [c for c in data.get("criteria") or [] if isinstance(c, dict)]
    row.sector_code = data.get("sector_code")
    row.updated_at = now
    session.add(row)


CONSUMERS = [
    ConsumerSpec(
        name="investment-projects",
        services=["investment"],
        handlers={
            PROJECT_CREATED: on_project_changed,
            PROJECT_UPDATED: on_project_changed,
            ADMISSION_CHECKED: on_admission_checked,
        },
    )
]

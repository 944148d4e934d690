"""The audit trail: who did what, when, to which record, with the before and after.

Domain code calls :func:`record_audit` on the session that makes the change, so the trail and the
change commit together. Personal data must be masked by the caller before it reaches the trail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.auth import Principal
from chassis.tables import audit_log
from chassis.telemetry import current_trace_id

_INSERT = insert(audit_log)


async def record_audit(
    session: AsyncSession,
    actor: Principal | str,
    action: str,
    *,
    entity_type: str,
    entity_id: str,
    zone_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    if isinstance(actor, Principal):
        who, kind = actor.subject, actor.kind
    else:
        who, kind = actor, "system"
    # A statement built once, values bound per call: ``.values(...)`` would coerce each value into the
    # statement and key the compiled cache on it, per request.
    await session.execute(
        _INSERT,
        {
            "at": datetime.now(UTC),
            "actor": who,
            "actor_kind": kind,
            "zone_id": zone_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": jsonable_encoder(before) if before is not None else None,
            "after": jsonable_encoder(after) if after is not None else None,
            "trace_id": current_trace_id(),
        },
    )

"""The term-end job (聘期届满自动解聘): ends every active appointment whose term has run out.

An appointment's ``term_end`` is its last day served; from the next day in Asia/Shanghai the term has
run out. The job ends each such appointment exactly as HR
ending it by hand would — :func:`services.hr.people.end` with reason ``term_end`` and ``ended_on`` =
``term_end`` (the day the term ran out, not the day the job noticed) — so it writes the same
``zone.hr.appointment.ended.v1`` event into the outbox and the same ``appointment.end`` audit row (actor
:data:`TERM_END_ACTOR`, a system actor), in the same transaction; the post is vacant again and the
zone's ``zone.hr.headcount.changed.v1`` follows.

Several replicas run the job. Zone by zone, each transaction takes the zone's quota row lock (as every
appointment change does), re-reads the appointments still due and ends them with a compare-and-set on
``status = 'active'``: a second replica, or HR ending one by hand meanwhile, finds nothing left to end
and emits nothing. Running the job again is a no-op. Work is bounded: ``HR_TERM_END_SCAN_BATCH``
appointments per transaction, ``HR_TERM_END_SCAN_MAX`` per run.

The chassis runs jobs at an interval fixed in the service definition, so the job ticks every
:data:`TICK_S` seconds and scans when ``HR_TERM_END_SCAN_INTERVAL_S`` has passed since this replica's
last scan (:func:`scan_due`); 0 turns it off.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.clock import clock_of, local_date
from chassis.service import ServiceContext
from services.hr import domain
from services.hr.domain import EndReason
from services.hr.models import Appointment
from services.hr.org import lock_zone, publish_headcount
from services.hr.people import AppointmentAlreadyEnded, end
from services.hr.settings import HrSettings

log = logging.getLogger("hr.term_expiry")

#: The job's name in the service definition and the system actor of its audit rows.
TERM_END_ACTOR = "term-end-job"
#: How often the chassis wakes the job to see whether a scan is due (seconds).
TICK_S = 60.0
#: Where a replica keeps the monotonic time its last scan started (``ctx.extras``).
LAST_SCAN_KEY = "hr_term_end_last_scan"


def scan_due(last_scan: float | None, now: float, interval_s: float) -> bool:
    """Whether a replica should scan now: never when the interval is 0, at once the first time."""
    if interval_s <= 0:
        return False
    return last_scan is None or now - last_scan >= interval_s


async def term_end_job(ctx: ServiceContext) -> None:
    """The scheduled job (``ServiceDefinition.jobs``): scan when the configured interval has passed."""
    settings = cast(HrSettings, ctx.settings)
    started = time.monotonic()
    if not scan_due(ctx.extras.get(LAST_SCAN_KEY), started, settings.term_end_scan_interval_s):
        return
    await run_term_end_scan(ctx)
    # Only a finished scan counts: a failed one (database down) is tried again at the next tick.
    ctx.extras[LAST_SCAN_KEY] = started


async def zones_with_runout_terms(session: AsyncSession, today: date) -> list[str]:
    rows = await session.execute(
        select(Appointment.zone_id)
        .where(col(Appointment.status) == "active", col(Appointment.term_end) < today)
        .distinct()
        .order_by(col(Appointment.zone_id))
    )
    return list(rows.scalars())


async def end_runout_terms_in_zone(
    session: AsyncSession, zone_id: str, *, today: date, at: datetime, limit: int
) -> tuple[int, int]:
    """End up to ``limit`` of the zone's appointments whose term ran out before ``today``.

    Returns (appointments due, appointments this call ended); the caller commits.
    """
    await lock_zone(session, zone_id, TERM_END_ACTOR)
    # term_end is the last day served, so a term has run out once it is before today.
    # Read after the lock: what another replica ended while this one waited is no longer listed.
    due = list(
        (
            await session.execute(
                select(Appointment)
                .where(
                    col(Appointment.zone_id) == zone_id,
                    col(Appointment.status) == "active",
                    col(Appointment.term_end) < today,
                )
                .order_by(col(Appointment.term_end), col(Appointment.id))
                .limit(limit)
            )
        ).scalars()
    )
    ended = 0
    for appointment in due:
        try:
            await end(
                session, TERM_END_ACTOR, appointment, EndReason.TERM_END, appointment.term_end, domain.TERM_END_NOTE, at=at
            )
        except AppointmentAlreadyEnded:
            continue  # ended by HR (or another replica) since it was read: nothing more to do
        ended += 1
    if ended:
        await publish_headcount(session, zone_id)
    return len(due), ended


async def run_term_end_scan(ctx: ServiceContext) -> int:
    """End every appointment whose term has run out, zone by zone, batch by batch; returns how many it ended."""
    settings = cast(HrSettings, ctx.settings)
    at = clock_of(ctx.extras).now()
    today = local_date(at)
    async with ctx.db.session() as session:
        zones = await zones_with_runout_terms(session, today)
        await session.rollback()
    budget = settings.term_end_scan_max
    ended_total = 0
    for zone_id in zones:
        # Each pass ends (or finds already ended) every row it read, so the next pass reads new rows.
        while budget > 0:
            batch = min(settings.term_end_scan_batch, budget)
            async with ctx.db.session() as session:
                due, ended = await end_runout_terms_in_zone(session, zone_id, today=today, at=at, limit=batch)
                await session.commit()
            budget -= due
            ended_total += ended
            if due < batch:
                break
        else:
            log.warning(
                "term-end job: stopped at HR_TERM_END_SCAN_MAX=%d; any others wait for the next run", settings.term_end_scan_max
            )
            break
    if ended_total:
        log.info("term-end job: %d appointments ended (terms that ran out before %s)", ended_total, today)
    return ended_total

"""The time-limit alert job (超期预警): raises each application's alert level when it changes.

Runs every minute (``ServiceDefinition.jobs``). For every application whose clock runs or is paused it
reads the clock on today's calendar, stores the clock facts, and compares the live level with the last
level notified: a higher level is stored and announced with one ``alert_raised`` event; a lower one (the
calendar gained holidays, a correction was answered, the application concluded) is stored quietly. The
store is a compare-and-set on the previous level, so two replicas running the job at once announce a
change once.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.clock import clock_of, local_date
from chassis.outbox import record_event
from chassis.service import ServiceContext
from services.approvals import events as ev
from services.approvals.calendar import WorkingCalendar
from services.approvals.clocks import load_calendar, notices_of, reading_of, store_reading
from services.approvals.deadlines import AlertLevel
from services.approvals.domain import CLOCK_STATUSES
from services.approvals.models import Application, TimelineEntry
from services.approvals.queries import item_codes_of
from services.approvals.settings import ApprovalsSettings

log = logging.getLogger("approvals.alerts")


async def scan_batch(
    session: AsyncSession, calendar: WorkingCalendar, *, now: dt.datetime, after_id: str, limit: int, yellow_percent: int
) -> tuple[int, int, str | None]:
    """One batch of applications with a clock, ordered by id after ``after_id``.

    Returns (applications seen, alerts raised, last id or None when done)."""
    today = local_date(now)
    apps = list(
        (
            await session.execute(
                select(Application)
                .where(
                    col(Application.status).in_([s.value for s in CLOCK_STATUSES]),
                    col(Application.id) > after_id,
                )
                .order_by(col(Application.id))
                .limit(limit)
            )
        ).scalars()
    )
    if not apps:
        return 0, 0, None
    notices = await notices_of(session, [a.id for a in apps])
    codes = await item_codes_of(session, [a.id for a in apps])
    raised = 0
    for app in apps:
        reading = reading_of(app, notices.get(app.id, []), calendar, today, yellow_percent)
        store_reading(app, reading)
        session.add(app)
        previous = AlertLevel(app.alert_level)
        if reading.alert == previous:
            continue
        await session.flush()
        changed = await session.execute(
            update(Application)
            .where(col(Application.id) == app.id, col(Application.alert_level) == previous.value)
            .values(alert_level=reading.alert.value)
            .execution_options(synchronize_session=False)
        )
        if getattr(changed, "rowcount", 0) != 1:
            continue  # another replica got there first
        app.alert_level = reading.alert.value
        if reading.alert.rank > previous.rank:
            raised += 1
            await record_event(
                session, ev.ALERT_RAISED,
                ev.ApplicationAlertRaised(
                    application_id=app.id, zone_id=app.zone_id, uscc=app.uscc, item_codes=codes.get(app.id, []),
                    level=reading.alert.value,
                    previous_level=previous.value,
                    raised_at=now, due_date=reading.due_date, working_days_remaining=reading.remaining, status=app.status,
                ),
                subject=app.id, zone_id=app.zone_id, key=app.id,
            )
            session.add(
                TimelineEntry(
                    application_id=app.id, at=now, actor="system", actor_kind="system", actor_name="系统",
                    action="alert", from_status=app.status, to_status=app.status, note=reading.alert.label,
                    details={"level": reading.alert.value, "previous_level": previous.value},
                )
            )
        await record_audit(
            session, "alerts-job", "application.alert_level", entity_type="application", entity_id=app.id,
            zone_id=app.zone_id, before={"alert_level": previous.value}, after={"alert_level": reading.alert.value},
        )
    return len(apps), raised, apps[-1].id


async def alert_job(ctx: ServiceContext) -> None:
    """The scheduled job (``ServiceDefinition.jobs``)."""
    await run_alert_scan(ctx)


async def run_alert_scan(ctx: ServiceContext) -> int:
    """Scan every application with a clock, batch by batch (each its own transaction); returns alerts raised."""
    settings = ctx.settings
    assert isinstance(settings, ApprovalsSettings)
    now = clock_of(ctx.extras).now()
    after_id = ""
    seen_total = raised_total = 0
    async with ctx.db.session() as session:
        calendar = await load_calendar(session)
        await session.commit()
    while seen_total < settings.alert_scan_max:
        async with ctx.db.session() as session:
            seen, raised, last = await scan_batch(
                session, calendar, now=now, after_id=after_id, limit=settings.alert_scan_batch,
                yellow_percent=settings.alert_yellow_percent,
            )
            await session.commit()
        seen_total += seen
        raised_total += raised
        if last is None or seen < settings.alert_scan_batch:
            break
        after_id = last
    if raised_total:
        log.info("alerts job: %d applications scanned, %d alerts raised", seen_total, raised_total)
    return raised_total

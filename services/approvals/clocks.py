"""Reading and storing applications' clocks: the persistence side of :mod:`services.approvals.deadlines`.

An application row keeps its clock's current facts (state, due date, the day the yellow alert starts,
whether the due date is provisional, the frozen level while paused) so that lists can filter by alert
level in SQL. They are refreshed on every change to the application, when the calendar changes, and by
the alerts job.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.approvals.calendar import CalendarOverride, DayKind, WorkingCalendar
from services.approvals.deadlines import ClockReading, ClockState, Pause, read_clock
from services.approvals.domain import CLOCK_STATUSES, Status
from services.approvals.models import Application, CalendarOverrideRow, CorrectionNotice


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    rows = (await session.execute(select(CalendarOverrideRow))).scalars().all()
    return WorkingCalendar.with_overrides(CalendarOverride(r.day, DayKind(r.kind), r.note) for r in rows)


def pauses_from(notices: list[CorrectionNotice]) -> list[Pause]:
    """Only corrections issued after acceptance stop the clock."""
    return [Pause(n.requested_on, n.resubmitted_on) for n in notices if n.phase == "review"]


async def notices_of(session: AsyncSession, application_ids: list[str]) -> dict[str, list[CorrectionNotice]]:
    out: dict[str, list[CorrectionNotice]] = defaultdict(list)
    if not application_ids:
        return out
    rows = (
        await session.execute(
            select(CorrectionNotice)
            .where(col(CorrectionNotice.application_id).in_(application_ids))
            .order_by(col(CorrectionNotice.application_id), col(CorrectionNotice.notice_no))
        )
    ).scalars()
    for row in rows:
        out[row.application_id].append(row)
    return out


def reading_of(
    app: Application, notices: list[CorrectionNotice], calendar: WorkingCalendar, today: dt.date, yellow_percent: int
) -> ClockReading:
    started = app.accepted_on is not None and Status(app.status) is not Status.REFERRED
    stopped_on = None if Status(app.status) in CLOCK_STATUSES else app.concluded_on
    return read_clock(
        calendar,
        accepted_on=app.accepted_on if started else None,
        promised_days=app.promised_days,
        pauses=pauses_from(notices),
        stopped_on=stopped_on,
        today=today,
        yellow_percent=yellow_percent,
    )


def store_reading(app: Application, reading: ClockReading) -> None:
    app.clock_state = reading.state.value
    if reading.state is not ClockState.NOT_STARTED:
        app.due_date = reading.due_date
        app.yellow_on = reading.yellow_on
        app.due_provisional = reading.provisional
    app.paused_alert = reading.alert.value if reading.state is ClockState.PAUSED else None
    if reading.state is ClockState.STOPPED:
        app.working_days_used = reading.elapsed
        app.on_time = reading.on_time


async def refresh_clock(
    session: AsyncSession, app: Application, calendar: WorkingCalendar, today: dt.date, yellow_percent: int,
    notices: list[CorrectionNotice] | None = None,
) -> ClockReading:
    """``notices``: the application's correction notices when the caller knows them (none, for a new one)."""
    if notices is None:
        notices = (await notices_of(session, [app.id]))[app.id]
    reading = reading_of(app, notices, calendar, today, yellow_percent)
    store_reading(app, reading)
    session.add(app)
    return reading


async def refresh_open_clocks(
    session: AsyncSession, calendar: WorkingCalendar, today: dt.date, yellow_percent: int, *, limit: int = 50_000
) -> int:
    """Recompute every running or paused clock (after a calendar change); returns how many changed."""
    apps = list(
        (
            await session.execute(
                select(Application)
                .where(col(Application.status).in_([s.value for s in CLOCK_STATUSES]))
                .order_by(col(Application.id))
                .limit(limit)
            )
        ).scalars()
    )
    notices = await notices_of(session, [a.id for a in apps])
    changed = 0
    for app in apps:
        before = (app.due_date, app.yellow_on, app.due_provisional, app.paused_alert)
        store_reading(app, reading_of(app, notices.get(app.id, []), calendar, today, yellow_percent))
        if (app.due_date, app.yellow_on, app.due_provisional, app.paused_alert) != before:
            changed += 1
            session.add(app)
    return changed

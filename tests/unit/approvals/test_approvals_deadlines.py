"""The promised-time clock: due dates from the day after acceptance, a correction stopping the clock,
deadlines running into an unpublished year, and the alert levels."""

from __future__ import annotations

import datetime as dt

from services.approvals.calendar import CalendarOverride, DayKind, WorkingCalendar
from services.approvals.deadlines import AlertLevel, ClockState, Pause, read_clock, yellow_threshold

D = dt.date
CAL = WorkingCalendar()


def clock(accepted: dt.date, promised: int, today: dt.date, **kw):  # type: ignore[no-untyped-def]
    return read_clock(CAL, accepted_on=accepted, promised_days=promised, today=today, **kw)


def test_the_clock_starts_the_working_day_after_acceptance():
    r = clock(D(2026, 11, 2), 5, today=D(2026, 11, 2))
    assert r.state is ClockState.RUNNING
    assert r.due_date == D(2026, 11, 9)  # Tue 3 … Mon 9
    assert (r.elapsed, r.remaining, r.paused) == (0, 5, 0)
    assert r.alert is AlertLevel.NONE and not r.provisional


def test_a_promise_across_national_day_skips_the_holiday_week():
    r = clock(D(2026, 9, 29), 5, today=D(2026, 10, 8))
    # Wed 30 Sep, Thu 8 Oct, Fri 9, Sat 10 (调休), Mon 12 Oct.
    assert r.due_date == D(2026, 10, 12)
    assert r.elapsed == 2 and r.remaining == 3


def test_a_correction_stops_the_clock_until_the_resubmission_day():
    accepted = D(2026, 11, 2)
    # Correction requested Wed 4 Nov (counts), resubmitted Tue 10 Nov (does not): Thu 5–Tue 10 paused.
    waiting = clock(accepted, 5, today=D(2026, 11, 9), pauses=[Pause(D(2026, 11, 4))])
    assert waiting.state is ClockState.PAUSED
    assert waiting.elapsed == 2 and waiting.paused == 3  # Thu 5, Fri 6, Mon 9 … and counting
    assert waiting.due_date is None
    assert waiting.remaining == 3
    resumed = clock(accepted, 5, today=D(2026, 11, 11), pauses=[Pause(D(2026, 11, 4), D(2026, 11, 10))])
    assert resumed.state is ClockState.RUNNING
    assert resumed.paused == 4  # Thu 5, Fri 6, Mon 9, Tue 10
    assert resumed.elapsed == 3  # Tue 3, Wed 4, Wed 11
    assert resumed.due_date == D(2026, 11, 13)  # Wed 11, Thu 12, Fri 13 are working days 3–5
    without_pause = clock(accepted, 5, today=D(2026, 11, 11))
    assert without_pause.due_date == D(2026, 11, 9) and without_pause.alert is AlertLevel.RED


def test_a_deadline_running_into_2027_is_provisional_until_the_calendar_is_maintained():
    r = clock(D(2026, 12, 24), 10, today=D(2026, 12, 24))
    # Fri 25, Mon 28, Tue 29, Wed 30, Thu 31 Dec, then 2027 on Monday–Friday: Fri 1, Mon 4 … Thu 7 Jan.
    assert r.due_date == D(2027, 1, 7)
    assert r.provisional
    maintained = WorkingCalendar.with_overrides(
        [CalendarOverride(D(2027, 1, 1), DayKind.HOLIDAY, "元旦"), CalendarOverride(D(2027, 1, 2), DayKind.HOLIDAY, "元旦")]
    )
    r2 = read_clock(maintained, accepted_on=D(2026, 12, 24), promised_days=10, today=D(2026, 12, 24))
    assert r2.due_date == D(2027, 1, 8) and not r2.provisional
    within_2026 = clock(D(2026, 12, 1), 5, today=D(2026, 12, 1))
    assert not within_2026.provisional


def test_yellow_from_eighty_percent_and_red_once_the_due_date_has_passed():
    assert yellow_threshold(10, 80) == 8 and yellow_threshold(3, 80) == 3 and yellow_threshold(0, 80) == 0
    accepted = D(2026, 11, 2)  # promise 10 → due Mon 16 Nov; 8th working day is Thu 12 Nov
    assert clock(accepted, 10, today=D(2026, 11, 11)).alert is AlertLevel.NONE
    assert clock(accepted, 10, today=D(2026, 11, 12)).alert is AlertLevel.YELLOW
    on_due = clock(accepted, 10, today=D(2026, 11, 16))
    assert on_due.alert is AlertLevel.YELLOW and on_due.remaining == 0
    late = clock(accepted, 10, today=D(2026, 11, 17))
    assert late.alert is AlertLevel.RED and late.remaining == -1 and late.overdue
    weekend_after_due = clock(D(2026, 11, 2), 5, today=D(2026, 11, 14))  # due Mon 9; Saturday 14 is past it
    assert weekend_after_due.alert is AlertLevel.RED


def test_while_paused_the_alert_level_stays_where_it_was():
    accepted = D(2026, 11, 2)
    paused_when_yellow = clock(accepted, 5, today=D(2026, 11, 30), pauses=[Pause(D(2026, 11, 6))])
    assert paused_when_yellow.alert is AlertLevel.YELLOW  # 4 of 5 days used when the notice went out
    paused_early = clock(accepted, 5, today=D(2026, 11, 30), pauses=[Pause(D(2026, 11, 3))])
    assert paused_early.alert is AlertLevel.NONE
    paused_late = clock(accepted, 5, today=D(2026, 11, 30), pauses=[Pause(D(2026, 11, 11))])
    assert paused_late.alert is AlertLevel.RED and paused_late.due_date == D(2026, 11, 9)


def test_a_concluded_application_has_no_alert_and_knows_whether_it_was_on_time():
    on_time = clock(D(2026, 11, 2), 5, today=D(2026, 12, 1), stopped_on=D(2026, 11, 9))
    assert on_time.state is ClockState.STOPPED and on_time.on_time and on_time.alert is AlertLevel.NONE
    assert on_time.elapsed == 5
    late = clock(D(2026, 11, 2), 5, today=D(2026, 12, 1), stopped_on=D(2026, 11, 10))
    assert late.on_time is False and late.elapsed == 6
    # Concluded while a correction was pending: the pause ends that day.
    denied = clock(D(2026, 11, 2), 5, today=D(2026, 12, 1), stopped_on=D(2026, 11, 20), pauses=[Pause(D(2026, 11, 4))])
    assert denied.elapsed == 2 and denied.on_time


def test_an_immediate_item_is_due_on_the_acceptance_day():
    r = clock(D(2026, 11, 2), 0, today=D(2026, 11, 2))
    assert r.due_date == D(2026, 11, 2) and r.alert is AlertLevel.YELLOW
    assert clock(D(2026, 11, 2), 0, today=D(2026, 11, 3)).alert is AlertLevel.RED
    assert clock(D(2026, 11, 2), 0, today=D(2026, 11, 9), stopped_on=D(2026, 11, 2)).on_time


def test_not_accepted_means_no_clock():
    r = read_clock(CAL, accepted_on=None, promised_days=5, today=D(2026, 11, 2))
    assert r.state is ClockState.NOT_STARTED and r.due_date is None and r.alert is AlertLevel.NONE

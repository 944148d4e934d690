"""The promised-time clock of an application (承诺时限计时), as plain functions over dates.

Rules (the service's reading of the handling guides and seed 003's "一次性告知"):

- The clock starts on the working day *after* acceptance (受理): promised days are counted from there, on the
  working calendar (:mod:`services.approvals.calendar`). The due date is the ``promised``-th such day; an
  application concluded on or before it is on time. A promise of 0 days (即办件) is due on the acceptance day.
- A correction notice (补正告知) issued after acceptance stops the clock: the day the notice is issued still
  counts, the days after it up to and including the day the applicant resubmits do not; counting resumes on
  the next working day. While the clock is stopped the due date is unknown unless it had already passed.
- Alert levels (超期预警): *yellow* once the working days used reach ``yellow_percent`` (80 %) of the promise,
  *red* once the due date has passed; while paused the level stays where it was when the clock stopped;
  a concluded application has no alert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.approvals.calendar import WorkingCalendar


class ClockState(StrEnum):
    NOT_STARTED = "not_started"  # not yet accepted, or never will be (referred, refused)
    RUNNING = "running"
    PAUSED = "paused"  # waiting for the applicant's correction
    STOPPED = "stopped"  # concluded


CLOCK_STATE_LABELS = {
    ClockState.NOT_STARTED: "未计时",
    ClockState.RUNNING: "计时中",
    ClockState.PAUSED: "补正暂停计时",
    ClockState.STOPPED: "已停止计时",
}


class AlertLevel(StrEnum):
    NONE = "none"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        return {"none": 0, "yellow": 1, "red": 2}[self.value]

    @property
    def label(self) -> str:
        return {"none": "正常", "yellow": "黄色预警（临近时限）", "red": "红色预警（已超期）"}[self.value]


@dataclass(frozen=True)
class Pause:
    """A correction period: the clock does not run on days ``start < d <= end`` (``end`` None: still waiting)."""

    start: dt.date
    end: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return day > self.start and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class ClockReading:
    state: ClockState
    promised_days: int
    due_date: dt.date | None
    yellow_on: dt.date | None
    provisional: bool
    elapsed: int
    paused: int
    remaining: int | None
    alert: AlertLevel
    on_time: bool | None

    @property
    def overdue(self) -> bool:
        return self.alert is AlertLevel.RED


def yellow_threshold(promised_days: int, yellow_percent: int) -> int:
    """Working days used at which the yellow alert starts: ceil(promised × percent / 100)."""
    return -(-promised_days * yellow_percent // 100)


def read_clock(
    calendar: WorkingCalendar,
    *,
    accepted_on: dt.date | None,
    promised_days: int,
    pauses: Sequence[Pause] = (),
    stopped_on: dt.date | None = None,
    today: dt.date,
    yellow_percent: int = 80,
) -> ClockReading:
    """Where an application's clock stands on ``today`` (or on ``stopped_on`` when concluded)."""
    if accepted_on is None:
        return ClockReading(ClockState.NOT_STARTED, promised_days, None, None, False, 0, 0, None, AlertLevel.NONE, None)
    open_pause = next((p for p in pauses if p.end is None), None)
    if stopped_on is not None and open_pause is not None:
        # Concluded while waiting for a correction: the pause ends on that day.
        pauses = [p if p.end is not None else Pause(p.start, max(p.start, stopped_on)) for p in pauses]
        open_pause = None
    closed = [p for p in pauses if p.end is not None]

    def in_closed_pause(day: dt.date) -> bool:
        return any(p.covers(day) for p in closed)

    def in_any_pause(day: dt.date) -> bool:
        return any(p.covers(day) for p in pauses)

    due_if_resumed = calendar.nth_working_day_after(accepted_on, promised_days, excluded=in_closed_pause)
    yellow_if_resumed = calendar.nth_working_day_after(
        accepted_on, yellow_threshold(promised_days, yellow_percent), excluded=in_closed_pause
    )
    as_of = max(stopped_on or today, accepted_on)
    elapsed = calendar.working_days_between(accepted_on, as_of, excluded=in_any_pause)
    paused = calendar.working_days_between(accepted_on, as_of, excluded=lambda d: not in_any_pause(d))

    due: dt.date | None = due_if_resumed
    yellow_on: dt.date | None = yellow_if_resumed
    if stopped_on is not None:
        state = ClockState.STOPPED
        alert = AlertLevel.NONE
        on_time: bool | None = stopped_on <= due_if_resumed
    elif open_pause is not None:
        state = ClockState.PAUSED
        # The level is frozen where it stood on the day the notice was issued.
        alert = _level(open_pause.start, due_if_resumed, yellow_if_resumed)
        on_time = None
        if due_if_resumed > open_pause.start:
            due = None  # depends on when the applicant resubmits
        if yellow_if_resumed > open_pause.start:
            yellow_on = None
    else:
        state = ClockState.RUNNING
        alert = _level(as_of, due_if_resumed, yellow_if_resumed)
        on_time = None

    horizon = due or as_of
    return ClockReading(
        state=state,
        promised_days=promised_days,
        due_date=due,
        yellow_on=yellow_on,
        provisional=calendar.any_provisional(accepted_on, horizon),
        elapsed=elapsed,
        paused=paused,
        remaining=promised_days - elapsed,
        alert=alert,
        on_time=on_time,
    )


def _level(on: dt.date, due: dt.date, yellow_on: dt.date) -> AlertLevel:
    if on > due:
        return AlertLevel.RED
    if on >= yellow_on:
        return AlertLevel.YELLOW
    return AlertLevel.NONE

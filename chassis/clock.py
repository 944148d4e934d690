"""Where a service reads the time: the system clock, or one set in ``ctx.extras["clock"]``.

The platform's rules are about dates in the users' calendar, Asia/Shanghai (working-day clocks, terms
of appointment, reporting periods): a day there is not the server's UTC day. Instants stay
timezone-aware (UTC). Routes and jobs take the clock from ``ctx.extras["clock"]`` when one is set: a
test or the demo seed sets a :class:`FixedClock` and moves it instead of waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK_KEY = "clock"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved (``advance``/``set``)."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant

    def advance(self, **delta: float) -> None:
        self.instant = self.instant + timedelta(**delta)

    @classmethod
    def on(cls, day: date, hour: int = 10) -> FixedClock:
        """``hour`` o'clock (Shanghai) on ``day``."""
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC))


SYSTEM_CLOCK = SystemClock()


def clock_of(extras: dict[str, Any]) -> Clock:
    clock = extras.get(CLOCK_KEY)
    return clock if clock is not None else SYSTEM_CLOCK


def _aware(instant: datetime) -> datetime:
    # SQLite returns naive datetimes for what was stored as UTC.
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def local_date(instant: datetime) -> date:
    """The Shanghai calendar date of an instant (a naive one is taken as UTC)."""
    return _aware(instant).astimezone(SHANGHAI).date()


def local_time(instant: datetime | None) -> datetime | None:
    """An instant as users see it (Asia/Shanghai)."""
    return None if instant is None else _aware(instant).astimezone(SHANGHAI)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where a Shanghai day starts and the next one starts."""
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)

"""Where the service reads the time: the system clock, or a fixed one (tests, demo seeding).

Working-day rules are about dates in Asia/Shanghai; instants are kept timezone-aware (UTC).
Routes and jobs get the clock from ``ctx.extras["clock"]`` when one is set there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


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
        """Ten o'clock (Shanghai) on ``day``."""
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC))


SYSTEM_CLOCK = SystemClock()


def clock_of(extras: dict[str, Any]) -> Clock:
    clock = extras.get("clock")
    return clock if clock is not None else SYSTEM_CLOCK


def local_date(instant: datetime) -> date:
    """The Shanghai calendar date of an instant."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(SHANGHAI).date()


def local_time(instant: datetime | None) -> datetime | None:
    """An instant as users see it (Asia/Shanghai)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(SHANGHAI)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where a Shanghai day starts and the next one starts."""
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)

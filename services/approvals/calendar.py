"""The working-day calendar (工作日历) that promised time limits are counted on.

Three layers decide whether a day is a working day, the first that has an answer wins:

1. an administrator's override (``PUT /calendar/{date}``): the coming year's holidays and swapped working
   days (调休) are only published by the State Council each November, and zones must be able to enter
   them (or a local adjustment) themselves;
2. the official calendar shipped in the ``chinesecalendar`` package (holidays and 调休 working weekends);
3. for a year with neither official data nor any override, Monday to Friday — and every deadline that
   touches such a year is *provisional* until the calendar is maintained.

Pure Python over dates: no I/O, so it is unit-tested directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import chinese_calendar

#: No count or search walks further than this many calendar days (about ten years): every loop is bounded.
MAX_SPAN_DAYS = 3660

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class DayKind(StrEnum):
    WORKDAY = "workday"
    HOLIDAY = "holiday"


class DaySource(StrEnum):
    OFFICIAL = "official"  # the published national calendar (chinesecalendar)
    OVERRIDE = "override"  # an administrator's entry
    WEEKDAY_RULE = "weekday_rule"  # Monday–Friday, in a year without official data


@dataclass(frozen=True)
class CalendarOverride:
    day: dt.date
    kind: DayKind
    note: str | None = None


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    kind: DayKind
    source: DaySource
    name: str | None = None

    @property
    def is_workday(self) -> bool:
        return self.kind is DayKind.WORKDAY


class CalendarSpanError(ValueError):
    """A count or search would walk further than :data:`MAX_SPAN_DAYS`."""


@dataclass(frozen=True)
class OfficialCalendar:
    """The State Council's published holidays and swapped working days, by year."""

    holidays: dict[dt.date, str]
    workdays: dict[dt.date, str]
    years: frozenset[int]

    @classmethod
    def from_package(cls) -> OfficialCalendar:
        holidays = dict(chinese_calendar.holidays)
        workdays = dict(chinese_calendar.workdays)
        first, last = min(holidays).year, max(holidays).year
        return cls(holidays=holidays, workdays=workdays, years=frozenset(range(first, last + 1)))

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def day(self, day: dt.date) -> DayInfo | None:
        """The official answer for ``day``, or None when its year has no published data."""
        if not self.covers(day):
            return None
        if day in self.workdays:
            return DayInfo(day, DayKind.WORKDAY, DaySource.OFFICIAL, _zh(self.workdays[day], swapped=True))
        if day in self.holidays:
            return DayInfo(day, DayKind.HOLIDAY, DaySource.OFFICIAL, _zh(self.holidays[day]))
        kind = DayKind.WORKDAY if day.weekday() < 5 else DayKind.HOLIDAY
        return DayInfo(day, kind, DaySource.OFFICIAL, None)


def _zh(name: str, *, swapped: bool = False) -> str:
    zh = HOLIDAY_NAMES_ZH.get(name, name)
    return f"{zh}调休上班" if swapped else zh


OFFICIAL = OfficialCalendar.from_package()


@dataclass(frozen=True)
class YearView:
    """One year as ``GET /calendar/{year}`` shows it."""

    year: int
    provisional: bool
    has_official_data: bool
    working_days: int
    exceptions: list[DayInfo]  # days that differ from Monday–Friday, or carry a holiday name, or are overridden
    overrides: list[CalendarOverride]


@dataclass
class WorkingCalendar:
    """Official calendar + administrator overrides + the Monday–Friday fallback."""

    overrides: dict[dt.date, CalendarOverride] = field(default_factory=dict)
    official: OfficialCalendar = OFFICIAL

    @classmethod
    def with_overrides(cls, overrides: Iterable[CalendarOverride], official: OfficialCalendar = OFFICIAL) -> WorkingCalendar:
        return cls({o.day: o for o in overrides}, official)

    def __post_init__(self) -> None:
        self._override_years = frozenset(d.year for d in self.overrides)

    # --- single days ------------------------------------------------------------------------

    def day(self, day: dt.date) -> DayInfo:
        override = self.overrides.get(day)
        official = self.official.day(day)
        if override is not None:
            return DayInfo(day, override.kind, DaySource.OVERRIDE, override.note or (official.name if official else None))
        if official is not None:
            return official
        kind = DayKind.WORKDAY if day.weekday() < 5 else DayKind.HOLIDAY
        return DayInfo(day, kind, DaySource.WEEKDAY_RULE, None)

    def is_workday(self, day: dt.date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override.kind is DayKind.WORKDAY
        official = self.official.day(day)
        if official is not None:
            return official.is_workday
        return day.weekday() < 5

    def year_is_provisional(self, year: int) -> bool:
        """A year with neither published data nor any administrator entry: Monday–Friday is a guess."""
        return year not in self.official.years and year not in self._override_years

    def any_provisional(self, after: dt.date, upto: dt.date) -> bool:
        """Whether any day in ``(after, upto]`` lies in a provisional year."""
        if upto <= after:
            return False
        return any(self.year_is_provisional(y) for y in range((after + dt.timedelta(days=1)).year, upto.year + 1))

    # --- counting -----------------------------------------------------------------------------

    def working_days_between(
        self, after: dt.date, upto: dt.date, *, excluded: Callable[[dt.date], bool] | None = None
    ) -> int:
        """Working days ``d`` with ``after < d <= upto`` (and not ``excluded(d)``)."""
        if upto <= after:
            return 0
        if (upto - after).days > MAX_SPAN_DAYS:
            raise CalendarSpanError(f"span {after}..{upto} is longer than {MAX_SPAN_DAYS} days")
        count = 0
        day = after
        for _ in range((upto - after).days):
            day += dt.timedelta(days=1)
            if self.is_workday(day) and not (excluded and excluded(day)):
                count += 1
        return count

    def nth_working_day_after(
        self, start: dt.date, n: int, *, excluded: Callable[[dt.date], bool] | None = None
    ) -> dt.date:
        """The ``n``-th working day after ``start``, counting from the next day (``n == 0`` is ``start``)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start
        day = start
        found = 0
        for _ in range(MAX_SPAN_DAYS):
            day += dt.timedelta(days=1)
            if self.is_workday(day) and not (excluded and excluded(day)):
                found += 1
                if found == n:
                    return day
        raise CalendarSpanError(f"{n} working days after {start} lie beyond {MAX_SPAN_DAYS} days")

    def next_working_day(self, day: dt.date) -> dt.date:
        return self.nth_working_day_after(day, 1)

    # --- a year ----------------------------------------------------------------------------------

    def year(self, year: int) -> YearView:
        first = dt.date(year, 1, 1)
        days = [first + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - first).days)]
        infos = [self.day(d) for d in days]
        exceptions = [
            info
            for info in infos
            if info.source is DaySource.OVERRIDE
            or info.name is not None
            or info.is_workday != (info.day.weekday() < 5)
        ]
        return YearView(
            year=year,
            provisional=self.year_is_provisional(year),
            has_official_data=year in self.official.years,
            working_days=sum(1 for info in infos if info.is_workday),
            exceptions=exceptions,
            overrides=sorted((o for o in self.overrides.values() if o.day.year == year), key=lambda o: o.day),
        )

"""Reporting periods (报告期): a month ``2026-10``, a quarter ``2026-Q3`` or a year ``2026``.

Plain value objects with the arithmetic the statistics officer needs: the previous period (环比),
the same period of the previous year (同比), the months or quarters a period covers, the enclosing
quarter or year, and bounded ranges for charts. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache


class PeriodType(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def rank(self) -> int:
        """Finer periods rank lower: month 0, quarter 1, year 2."""
        return {"month": 0, "quarter": 1, "year": 2}[self.value]

    @property
    def label(self) -> str:
        return PERIOD_TYPE_LABELS[self]

    @property
    def per_year(self) -> int:
        return {"month": 12, "quarter": 4, "year": 1}[self.value]


PERIOD_TYPE_LABELS = {PeriodType.MONTH: "月度", PeriodType.QUARTER: "季度", PeriodType.YEAR: "年度"}
#: The report form an enterprise files for each period type (月报 / 季报 / 年报).
FORM_LABELS = {PeriodType.MONTH: "月报", PeriodType.QUARTER: "季报", PeriodType.YEAR: "年报"}

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")
MIN_YEAR, MAX_YEAR = 2000, 2100


class PeriodError(ValueError):
    """A period string that is not ``YYYY``, ``YYYY-MM`` or ``YYYY-Qn``."""


@dataclass(frozen=True)
class Period:
    year: int
    type: PeriodType
    index: int  # month 1–12, quarter 1–4, or 1 for a year

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Period:
        if not isinstance(text, str):
            raise PeriodError("报告期格式应为 2026-10（月）、2026-Q3（季）或 2026（年） / period must be YYYY-MM, YYYY-Qn or YYYY")
        return _parse(text.strip())

    @classmethod
    def _parse_uncached(cls, text: str) -> Period:
        match = _PATTERN.match(text)
        if match is None:
            raise PeriodError(
                "报告期格式应为 2026-10（月）、2026-Q3（季）或 2026（年） / "
                "period must be YYYY-MM, YYYY-Qn or YYYY"
            )
        year = int(match["year"])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间 / year must be {MIN_YEAR}–{MAX_YEAR}")
        if match["month"] is not None:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise PeriodError("月份应为 01 至 12 / month must be 01–12")
            return cls(year, PeriodType.MONTH, month)
        if match["quarter"] is not None:
            return cls(year, PeriodType.QUARTER, int(match["quarter"]))
        return cls(year, PeriodType.YEAR, 1)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, PeriodType.MONTH, month)

    @classmethod
    def of_date(cls, day: date, period_type: PeriodType = PeriodType.MONTH) -> Period:
        return cls.month(day.year, day.month).enclosing(period_type)

    @classmethod
    def from_ordinal(cls, period_type: PeriodType, ordinal: int) -> Period:
        year, index0 = divmod(ordinal, period_type.per_year)
        return cls(year, period_type, index0 + 1)

    # --- representation -----------------------------------------------------------------------
    def __str__(self) -> str:
        if self.type is PeriodType.MONTH:
            return f"{self.year:04d}-{self.index:02d}"
        if self.type is PeriodType.QUARTER:
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    @property
    def label(self) -> str:
        """How a Chinese report names it: 2026年10月, 2026年第3季度, 2026年."""
        if self.type is PeriodType.MONTH:
            return f"{self.year}年{self.index}月"
        if self.type is PeriodType.QUARTER:
            return f"{self.year}年第{self.index}季度"
        return f"{self.year}年"

    # --- arithmetic ---------------------------------------------------------------------------
    @cached_property
    def ordinal(self) -> int:
        return self.year * self.type.per_year + self.index - 1

    def shift(self, n: int) -> Period:
        return Period.from_ordinal(self.type, self.ordinal + n)

    def previous(self) -> Period:
        """The period before (环比 compares with it)."""
        return self.shift(-1)

    def same_period_last_year(self) -> Period:
        """The same period one year earlier (同比 compares with it)."""
        return Period(self.year - 1, self.type, self.index)

    @cached_property
    def first_month(self) -> int:
        return {PeriodType.MONTH: self.index, PeriodType.QUARTER: 3 * self.index - 2, PeriodType.YEAR: 1}[self.type]

    @cached_property
    def last_month(self) -> int:
        return {PeriodType.MONTH: self.index, PeriodType.QUARTER: 3 * self.index, PeriodType.YEAR: 12}[self.type]

    @cached_property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @cached_property
    def end(self) -> date:
        """The last day of the period."""
        if self.last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, self.last_month + 1, 1) - timedelta(days=1)

    def enclosing(self, period_type: PeriodType) -> Period:
        """The period of a coarser (or the same) type that contains this one."""
        if period_type.rank < self.type.rank:
            raise PeriodError(f"{self} 不能归入更细的{period_type.label}报告期 / cannot coarsen to a finer type")
        if period_type is PeriodType.MONTH:
            return self
        if period_type is PeriodType.QUARTER:
            return Period(self.year, PeriodType.QUARTER, (self.first_month - 1) // 3 + 1)
        return Period(self.year, PeriodType.YEAR, 1)

    def sub_periods(self, period_type: PeriodType) -> tuple[Period, ...]:
        """The periods of a finer (or the same) type that make up this one, in order."""
        return _sub_periods(self, period_type)

    def _sub_periods(self, period_type: PeriodType) -> tuple[Period, ...]:
        if period_type.rank > self.type.rank:
            raise PeriodError(f"{self} 不包含{period_type.label}报告期 / cannot split into a coarser type")
        if period_type is PeriodType.MONTH:
            return tuple(Period.month(self.year, m) for m in range(self.first_month, self.last_month + 1))
        if period_type is PeriodType.QUARTER:
            first_q = (self.first_month - 1) // 3 + 1
            last_q = (self.last_month - 1) // 3 + 1
            return tuple(Period(self.year, PeriodType.QUARTER, q) for q in range(first_q, last_q + 1))
        return (self,)

    def year_to_date(self, period_type: PeriodType) -> tuple[Period, ...]:
        """Periods of ``period_type`` from the start of the year through the end of this period.

        A quarterly indicator counts in a month's year-to-date only once its quarter is over.
        """
        return _year_to_date(self, period_type)

    def _year_to_date(self, period_type: PeriodType) -> tuple[Period, ...]:
        year = Period(self.year, PeriodType.YEAR, 1)
        return tuple(p for p in year.sub_periods(period_type) if p.end <= self.end)

    def contains(self, other: Period) -> bool:
        return other.type.rank <= self.type.rank and other.enclosing(self.type) == self


# Periods are few and immutable: parsing and splitting them is memoised (summaries do it a lot).
@lru_cache(maxsize=8192)
def _parse(text: str) -> Period:
    return Period._parse_uncached(text)


@lru_cache(maxsize=8192)
def _sub_periods(period: Period, period_type: PeriodType) -> tuple[Period, ...]:
    return period._sub_periods(period_type)


@lru_cache(maxsize=8192)
def _year_to_date(period: Period, period_type: PeriodType) -> tuple[Period, ...]:
    return period._year_to_date(period_type)


def period_range(start: Period, end: Period, *, limit: int) -> Iterator[Period]:
    """Every period from ``start`` to ``end`` inclusive (same type), at most ``limit`` of them."""
    if start.type is not end.type:
        raise PeriodError("起止报告期的类型必须相同 / from and to must be of the same period type")
    if end.ordinal < start.ordinal:
        raise PeriodError("截止报告期不能早于起始报告期 / to must not be before from")
    count = end.ordinal - start.ordinal + 1
    if count > limit:
        raise PeriodError(f"一次最多查询 {limit} 个报告期 / at most {limit} periods at once")
    for i in range(count):
        yield start.shift(i)

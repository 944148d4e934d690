"""Reporting periods: 2026-10 (month), 2026-Q3 (quarter), 2026 (year) and their arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from services.stats.periods import Period, PeriodError, PeriodType, period_range


@pytest.mark.parametrize(
    ("text", "kind", "index"),
    [("2026-10", PeriodType.MONTH, 10), ("2026-01", PeriodType.MONTH, 1), ("2026-Q3", PeriodType.QUARTER, 3), ("2026", PeriodType.YEAR, 1)],
)
def test_the_three_period_forms_parse_and_print_back(text: str, kind: PeriodType, index: int) -> None:
    p = Period.parse(text)
    assert (p.year, p.type, p.index) == (2026, kind, index)
    assert str(p) == text


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-10", "2026/10", "2026-1", "", "1999", "2026-10-01"])
def test_anything_else_is_refused_with_a_chinese_message(text: str) -> None:
    with pytest.raises(PeriodError) as exc:
        Period.parse(text)
    assert "报告期" in str(exc.value) or "年份" in str(exc.value) or "月份" in str(exc.value)


def test_the_previous_period_crosses_the_year_boundary() -> None:
    assert str(Period.parse("2026-01").previous()) == "2025-12"
    assert str(Period.parse("2026-Q1").previous()) == "2025-Q4"
    assert str(Period.parse("2026").previous()) == "2025"


def test_the_same_period_last_year() -> None:
    assert str(Period.parse("2026-10").same_period_last_year()) == "2025-10"
    assert str(Period.parse("2026-Q3").same_period_last_year()) == "2025-Q3"


def test_a_quarter_is_made_of_its_three_months_and_a_year_of_four_quarters() -> None:
    q3 = Period.parse("2026-Q3")
    assert [str(p) for p in q3.sub_periods(PeriodType.MONTH)] == ["2026-07", "2026-08", "2026-09"]
    assert [str(p) for p in Period.parse("2026").sub_periods(PeriodType.QUARTER)] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert str(Period.parse("2026-08").enclosing(PeriodType.QUARTER)) == "2026-Q3"
    with pytest.raises(PeriodError):
        q3.sub_periods(PeriodType.YEAR)


def test_start_end_and_labels() -> None:
    q1 = Period.parse("2024-Q1")
    assert (q1.start, q1.end) == (date(2024, 1, 1), date(2024, 3, 31))
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert Period.parse("2026-10").label == "2026年10月"
    assert Period.parse("2026-Q3").label == "2026年第3季度"


def test_year_to_date_counts_a_quarter_only_once_it_is_over() -> None:
    aug = Period.parse("2026-08")
    assert [str(p) for p in aug.year_to_date(PeriodType.QUARTER)] == ["2026-Q1", "2026-Q2"]
    assert len(aug.year_to_date(PeriodType.MONTH)) == 8
    assert [str(p) for p in Period.parse("2026-09").year_to_date(PeriodType.QUARTER)][-1] == "2026-Q3"


def test_ranges_are_bounded_and_of_one_type() -> None:
    months = list(period_range(Period.parse("2025-11"), Period.parse("2026-02"), limit=10))
    assert [str(p) for p in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(PeriodError):
        list(period_range(Period.parse("2020-01"), Period.parse("2026-01"), limit=12))
    with pytest.raises(PeriodError):
        list(period_range(Period.parse("2026-01"), Period.parse("2026-Q1"), limit=12))
    with pytest.raises(PeriodError):
        list(period_range(Period.parse("2026-05"), Period.parse("2026-01"), limit=12))

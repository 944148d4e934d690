"""The working-day calendar: the official 2026 holidays and swapped working days, administrator overrides,
and the provisional Monday–Friday fallback for years not yet published."""

from __future__ import annotations

import datetime as dt

import pytest

from services.approvals.calendar import (
    CalendarOverride,
    CalendarSpanError,
    DayKind,
    DaySource,
    WorkingCalendar,
)

D = dt.date
CAL = WorkingCalendar()


def test_national_day_week_2026_is_off_and_the_swapped_saturday_after_it_is_a_working_day():
    for day in range(1, 8):
        assert not CAL.is_workday(D(2026, 10, day)), f"1–7 Oct is National Day ({day})"
    saturday = D(2026, 10, 10)
    assert saturday.weekday() == 5
    assert CAL.is_workday(saturday)
    info = CAL.day(saturday)
    assert info.source is DaySource.OFFICIAL and info.name == "国庆节调休上班"
    assert CAL.day(D(2026, 10, 1)).name == "国庆节"


def test_counting_working_days_across_national_day_2026():
    # Accepted Wednesday 30 Sep: the next working day is Thursday 8 Oct.
    assert CAL.next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    # 8 Oct (Thu), 9 Oct (Fri), 10 Oct (swapped Sat), 12 Oct (Mon), 13 Oct (Tue).
    assert CAL.nth_working_day_after(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert CAL.working_days_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    # The Sunday 20 Sep swapped working day counts too.
    assert CAL.is_workday(D(2026, 9, 20)) and CAL.nth_working_day_after(D(2026, 9, 18), 1) == D(2026, 9, 20)


def test_counting_working_days_across_spring_festival_2026():
    assert all(not CAL.is_workday(D(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_workday(D(2026, 2, 14)) and D(2026, 2, 14).weekday() == 5  # swapped Saturday before
    assert CAL.is_workday(D(2026, 2, 28)) and D(2026, 2, 28).weekday() == 5  # and after
    # Accepted Thursday 12 Feb: Fri 13, Sat 14 (swapped), then nothing until Tue 24 Feb.
    assert CAL.nth_working_day_after(D(2026, 2, 12), 2) == D(2026, 2, 14)
    assert CAL.nth_working_day_after(D(2026, 2, 12), 3) == D(2026, 2, 24)
    # Ten working days from 12 Feb: 13, 14, 24, 25, 26, 27, 28 (Sat), 2 Mar, 3 Mar, 4 Mar.
    assert CAL.nth_working_day_after(D(2026, 2, 12), 10) == D(2026, 3, 4)
    assert CAL.working_days_between(D(2026, 2, 12), D(2026, 3, 4)) == 10


def test_zero_working_days_is_the_same_day_and_counting_is_bounded():
    assert CAL.nth_working_day_after(D(2026, 10, 1), 0) == D(2026, 10, 1)
    assert CAL.working_days_between(D(2026, 10, 5), D(2026, 10, 1)) == 0
    with pytest.raises(CalendarSpanError):
        CAL.nth_working_day_after(D(2026, 1, 1), 10_000)
    with pytest.raises(ValueError):
        CAL.nth_working_day_after(D(2026, 1, 1), -1)


def test_a_year_without_published_data_falls_back_to_monday_to_friday_and_is_provisional():
    assert not CAL.year_is_provisional(2026)
    assert CAL.year_is_provisional(2027)
    new_year_2027 = D(2027, 1, 1)  # a Friday: the fallback cannot know it is 元旦
    assert CAL.day(new_year_2027).source is DaySource.WEEKDAY_RULE and CAL.is_workday(new_year_2027)
    assert not CAL.is_workday(D(2027, 1, 2))
    assert CAL.any_provisional(D(2026, 12, 20), D(2027, 1, 5))
    assert not CAL.any_provisional(D(2026, 12, 1), D(2026, 12, 31))


def test_an_override_in_a_year_makes_it_maintained_and_wins_over_the_official_calendar():
    overrides = [
        CalendarOverride(D(2027, 1, 1), DayKind.HOLIDAY, "2027年元旦"),
        CalendarOverride(D(2026, 10, 10), DayKind.HOLIDAY, "本区调整"),
    ]
    cal = WorkingCalendar.with_overrides(overrides)
    assert not cal.year_is_provisional(2027)
    assert not cal.is_workday(D(2027, 1, 1))
    assert cal.day(D(2027, 1, 1)).source is DaySource.OVERRIDE
    assert not cal.is_workday(D(2026, 10, 10))
    # 31 Dec 2026 (Thu) + 1 working day: Friday 1 Jan 2027 is now a holiday → Monday 4 Jan.
    assert CAL.nth_working_day_after(D(2026, 12, 31), 1) == D(2027, 1, 1)
    assert cal.nth_working_day_after(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_the_year_view_lists_holidays_swapped_days_and_overrides():
    view = WorkingCalendar.with_overrides([CalendarOverride(D(2026, 12, 31), DayKind.HOLIDAY, "跨年调整")]).year(2026)
    by_day = {e.day: e for e in view.exceptions}
    assert by_day[D(2026, 10, 10)].kind is DayKind.WORKDAY
    assert by_day[D(2026, 2, 17)].name == "春节"
    assert by_day[D(2026, 12, 31)].source is DaySource.OVERRIDE
    assert D(2026, 11, 23) not in by_day  # an ordinary Monday
    assert not view.provisional and view.has_official_data
    assert [o.day for o in view.overrides] == [D(2026, 12, 31)]
    # 2026 has 250 official working days, less the one override.
    assert view.working_days == WorkingCalendar().year(2026).working_days - 1
    assert WorkingCalendar().year(2027).provisional

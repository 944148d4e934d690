"""聘期届满 as plain rules: days left in a term, the expiring-soon window, its labels, when a replica
scans, and which calendar day "today" is in Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chassis.clock import SYSTEM_CLOCK, FixedClock, clock_of, local_date
from services.hr import domain
from services.hr.domain import InvalidInput
from services.hr.term_expiry import scan_due

TODAY = date(2026, 3, 10)


class TestDaysLeft:
    def test_the_last_day_of_a_term_has_zero_days_left(self) -> None:
        assert domain.days_left_in_term(TODAY, TODAY) == 0

    def test_a_term_ending_later_counts_the_days_to_its_last_day(self) -> None:
        assert domain.days_left_in_term(date(2026, 4, 9), TODAY) == 30

    def test_a_term_that_has_run_out_has_negative_days_left(self) -> None:
        assert domain.days_left_in_term(date(2026, 3, 9), TODAY) == -1

    def test_counting_crosses_month_and_leap_year_ends(self) -> None:
        assert domain.days_left_in_term(date(2028, 3, 1), date(2028, 2, 28)) == 2


class TestExpiryWindow:
    def test_the_window_reaches_n_days_past_today(self) -> None:
        assert domain.expiry_horizon(TODAY, 30) == date(2026, 4, 9)
        assert domain.expiry_horizon(TODAY, 1) == date(2026, 3, 11)
        assert domain.expiry_horizon(TODAY, 365) == date(2027, 3, 10)

    @pytest.mark.parametrize("days", [0, -1, 366])
    def test_a_window_outside_one_to_365_days_is_refused_naming_days(self, days: int) -> None:
        with pytest.raises(InvalidInput) as exc:
            domain.expiry_horizon(TODAY, days)
        assert exc.value.field == "days"


class TestLabels:
    @pytest.mark.parametrize(
        ("days_left", "label"),
        [(-3, "聘期已届满 3 天，待结束聘任"), (0, "今天是聘期最后一天"), (1, "聘期还剩 1 天"), (30, "聘期还剩 30 天")],
    )
    def test_each_remaining_span_reads_as_zone_staff_expect(self, days_left: int, label: str) -> None:
        assert domain.term_expiry_label(days_left) == label


class TestScanDue:
    def test_a_replica_that_never_scanned_scans_at_its_first_tick(self) -> None:
        assert scan_due(None, 5.0, 3600)

    def test_a_replica_waits_for_the_interval_to_pass(self) -> None:
        assert not scan_due(100.0, 3699.9, 3600)
        assert scan_due(100.0, 3700.0, 3600)

    @pytest.mark.parametrize("last", [None, 0.0])
    def test_an_interval_of_zero_turns_the_job_off(self, last: float | None) -> None:
        assert not scan_due(last, 1e9, 0)


class TestToday:
    def test_today_is_the_shanghai_date_even_when_utc_is_still_on_the_day_before(self) -> None:
        assert local_date(datetime(2026, 3, 9, 16, 30, tzinfo=UTC)) == date(2026, 3, 10)
        assert local_date(datetime(2026, 3, 9, 15, 59, tzinfo=UTC)) == date(2026, 3, 9)

    def test_a_naive_instant_is_taken_as_utc(self) -> None:
        assert local_date(datetime(2026, 3, 9, 16, 30)) == date(2026, 3, 10)

    def test_a_fixed_clock_stands_on_its_day_until_moved(self) -> None:
        clock = FixedClock.on(TODAY)
        assert local_date(clock.now()) == TODAY
        clock.advance(days=1)
        assert local_date(clock.now()) == date(2026, 3, 11)

    def test_the_service_uses_the_clock_set_in_its_extras_or_else_the_system_clock(self) -> None:
        clock = FixedClock.on(TODAY)
        assert clock_of({"clock": clock}) is clock
        assert clock_of({}) is SYSTEM_CLOCK

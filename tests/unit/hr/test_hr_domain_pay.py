"""Grades, 末位, performance pay and its coefficients, periods, post pay and the annual payroll cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.hr import domain
from services.hr.domain import CapCheck, CycleKind, Grade, GradeThresholds, InvalidInput, LimitExceeded

D = Decimal
THRESHOLDS = GradeThresholds(D(90), D(80), D(60))


class TestGrades:
    @pytest.mark.parametrize(
        ("score", "grade"),
        [("100", Grade.EXCELLENT), ("90", Grade.EXCELLENT), ("89.99", Grade.GOOD), ("80", Grade.GOOD),
         ("79.99", Grade.PASS), ("60", Grade.PASS), ("59.99", Grade.FAIL), ("0", Grade.FAIL)],
    )
    def test_each_threshold_is_the_lowest_score_of_its_grade(self, score: str, grade: Grade) -> None:
        assert THRESHOLDS.grade_for(D(score)) is grade

    def test_thresholds_must_rise_from_pass_to_excellent(self) -> None:
        with pytest.raises(InvalidInput):
            GradeThresholds(D(80), D(85), D(60)).check()


class TestBottomShare:
    def test_the_bottom_share_of_a_department_is_flagged(self) -> None:
        scores = {f"p{i}": D(70 + i) for i in range(10)}
        assert domain.bottom_flags(scores, D("0.1")) == {"p0"}
        assert domain.bottom_flags(scores, D("0.2")) == {"p0", "p1"}

    def test_a_department_smaller_than_one_over_the_share_flags_nobody(self) -> None:
        assert domain.bottom_flags({f"p{i}": D(70 + i) for i in range(9)}, D("0.1")) == set()

    def test_equal_scores_at_the_boundary_are_all_flagged(self) -> None:
        scores = {"a": D(60), "b": D(60), **{f"p{i}": D(80 + i) for i in range(8)}}
        assert domain.bottom_flags(scores, D("0.1")) == {"a", "b"}


class TestPerformancePay:
    def test_pay_is_base_times_zone_times_department_times_individual_coefficient(self) -> None:
        base = domain.cycle_base_pay(D("4.00"), CycleKind.QUARTER)
        assert base == D("1.00")
        assert domain.performance_pay(base, D("1.10"), D("1.20"), D("1.2")) == D("1.58")  # 1.584
        assert domain.performance_pay(D("2.00"), D("1.0"), D("1.0"), D("0")) == D("0.00")

    def test_each_coefficient_scales_the_pay_on_its_own(self) -> None:
        one = domain.performance_pay(D("8.00"), D(1), D(1), D(1))
        assert one == D("8.00")
        assert domain.performance_pay(D("8.00"), D("1.25"), D(1), D(1)) == D("10.00")
        assert domain.performance_pay(D("8.00"), D(1), D("0.9"), D(1)) == D("7.20")
        assert domain.performance_pay(D("8.00"), D(1), D(1), D("0.8")) == D("6.40")

    def test_rounding_is_half_up_to_two_decimals_once_at_the_end(self) -> None:
        assert domain.performance_pay(D("1.005"), D(1), D(1), D(1)) == D("1.01")
        assert domain.performance_pay(D("0.875"), D("1.1"), D("1"), D("1")) == D("0.96")  # 0.9625

    def test_a_year_cycle_pays_the_whole_annual_base(self) -> None:
        assert domain.cycle_base_pay(D("6.50"), CycleKind.YEAR) == D("6.50")


class TestZoneCoefficient:
    def test_without_any_assessment_the_coefficient_is_one(self) -> None:
        chosen = domain.pick_zone_coefficient(2025, {}, "cd-xingu")
        assert chosen.value == D("1.0") and chosen.source == "default"

    def test_the_cycle_year_is_used_when_published_else_the_latest_earlier_year(self) -> None:
        published = {2023: D("0.95"), 2024: D("1.08"), 2026: D("1.2")}
        assert domain.pick_zone_coefficient(2024, published, "z") == domain.ZoneCoefficient(D("1.08"), "assessment:z:2024")
        assert domain.pick_zone_coefficient(2025, published, "z") == domain.ZoneCoefficient(D("1.08"), "assessment:z:2024")
        assert domain.pick_zone_coefficient(2022, published, "z").source == "default"


class TestPeriods:
    def test_quarter_and_year_cycles_have_their_bounds_and_labels(self) -> None:
        assert domain.cycle_bounds(CycleKind.QUARTER, 2025, 4) == (date(2025, 10, 1), date(2025, 12, 31), "2025Q4")
        assert domain.cycle_bounds(CycleKind.YEAR, 2025, None) == (date(2025, 1, 1), date(2025, 12, 31), "2025")
        with pytest.raises(InvalidInput):
            domain.cycle_bounds(CycleKind.YEAR, 2025, 2)
        with pytest.raises(InvalidInput):
            domain.cycle_bounds(CycleKind.QUARTER, 2025, None)

    def test_performance_pay_is_paid_the_month_after_the_cycle_by_default(self) -> None:
        assert domain.next_month(date(2025, 12, 31)) == "2026-01"
        assert domain.next_month(date(2025, 3, 31)) == "2025-04"

    def test_a_payroll_period_is_yyyy_mm(self) -> None:
        assert domain.month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
        for bad in ("2024-13", "2024-2", "24-02", "2024-02-01"):
            with pytest.raises(InvalidInput) as exc:
                domain.parse_month(bad)
            assert exc.value.field == "period"


class TestPostPay:
    def test_the_evaluation_places_pay_within_the_grade_band(self) -> None:
        assert domain.post_pay(D("1.10"), D("1.60"), D(0)) == D("1.10")
        assert domain.post_pay(D("1.10"), D("1.60"), D(1)) == D("1.60")
        assert domain.post_pay(D("1.10"), D("1.60"), D("0.5")) == D("1.35")

    def test_pay_is_prorated_by_days_served(self) -> None:
        assert domain.post_pay(D("1.20"), D("1.20"), D(0), days_served=15, days_in_month=30) == D("0.60")


class TestPayrollCap:
    def cap(self, this_run: str, paid_before: str = "100.00") -> CapCheck:
        return CapCheck(
            cap=domain.annual_cap(D("1.5"), D("12.00"), 10), multiple=D("1.5"), reference_average_wan=D("12.00"),
            headcount=10, paid_before=D(paid_before), this_run=D(this_run),
        )

    def test_the_cap_is_multiple_times_reference_average_times_headcount(self) -> None:
        assert domain.annual_cap(D("1.5"), D("12.00"), 10) == D("180.00")
        assert domain.annual_cap(D("2"), D("11.37"), 3) == D("68.22")

    def test_a_year_reaching_the_cap_exactly_is_accepted(self) -> None:
        domain.check_payroll_cap(self.cap("80.00"))

    def test_one_hundredth_over_the_cap_is_refused_with_the_figures(self) -> None:
        with pytest.raises(LimitExceeded) as exc:
            domain.check_payroll_cap(self.cap("80.01"))
        figures = exc.value.figures
        assert figures["annual_cap_wan"] == 180.0 and figures["year_to_date_wan"] == 180.01
        assert figures["excess_wan"] == 0.01 and figures["paid_earlier_this_year_wan"] == 100.0
        assert figures["cap_multiple"] == 1.5 and figures["cap_headcount"] == 10
        assert exc.value.breaches[0].limit == "payroll_cap"

"""Pre-aggregation arithmetic: how contributions move a period's cell, and how cells combine
into quarters, years and year-to-date values for sum, average and latest indicators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.stats.catalog import BUILT_IN
from services.stats.domain import (
    Aggregation,
    Cell,
    check_indicator_definition,
    combine,
    contribution_change,
    from_units,
    percent_change,
    target_progress,
    to_units,
    value_over,
    year_to_date,
)
from services.stats.periods import Period

D = Decimal


def cells(**months: tuple[str, int]) -> dict[Period, Cell]:
    out = {}
    for key, (value, count) in months.items():
        p = Period.parse(key.replace("m", "2026-"))
        out[p] = Cell(p, to_units(value), count)
    return out


def test_a_value_is_exact_in_units_of_a_ten_thousandth() -> None:
    assert to_units("1234.5678") == 12345678
    assert from_units(to_units("0.1") + to_units("0.2")) == D("0.3")
    with pytest.raises(ValueError):
        to_units("0.00001")
    with pytest.raises(ValueError):
        to_units("NaN")


def test_a_contribution_moves_sum_and_count_by_its_change() -> None:
    assert contribution_change(None, 500) == (500, 1)  # first accepted
    assert contribution_change(500, 650) == (150, 0)  # revised
    assert contribution_change(650, None) == (-650, -1)  # withdrawn in a resubmission
    assert contribution_change(None, None) == (0, 0)


def test_a_quarter_of_a_sum_indicator_adds_its_months() -> None:
    output = BUILT_IN["industrial_output_above_scale"]
    c = cells(m07=("100", 2), m08=("200", 2), m09=("300.5", 3), m10=("999", 1))
    assert value_over(output, Period.parse("2026-Q3"), c) == D("600.5")
    assert value_over(output, Period.parse("2026-Q2"), c) is None  # no data is not zero


def test_an_average_indicator_weights_every_contribution_equally() -> None:
    rate = BUILT_IN["approvals_on_time_rate"]
    # July: 2 applications, both on time (200/2); August: 3, one on time (100/3).
    c = cells(m07=("200", 2), m08=("100", 3))
    assert value_over(rate, Period.parse("2026-Q3"), c) == D(60)
    assert value_over(rate, Period.parse("2026-07"), c) == D(100)


def test_a_latest_indicator_takes_the_last_month_with_data() -> None:
    fai = BUILT_IN["fixed_asset_investment"]  # 本年累计: the quarter's value is its latest month's
    c = cells(m07=("1000", 2), m08=("1800", 2))
    assert value_over(fai, Period.parse("2026-Q3"), c) == D(1800)
    assert year_to_date(fai, Period.parse("2026-09"), c) == D(1800)


def test_year_to_date_stops_at_the_period() -> None:
    output = BUILT_IN["industrial_output_above_scale"]
    c = cells(m01=("10", 1), m05=("20", 1), m11=("40", 1))
    assert year_to_date(output, Period.parse("2026-10"), c) == D(30)
    assert year_to_date(output, Period.parse("2026"), c) == D(70)


def test_combine_ignores_empty_cells() -> None:
    p = Period.parse("2026-01")
    assert combine(Aggregation.SUM, [Cell(p, 0, 0)]) is None
    assert combine(Aggregation.SUM, [Cell(p, 0, 1)]) == 0


def test_changes_and_target_progress() -> None:
    assert percent_change(D(120), D(100)) == D("20.0")
    assert percent_change(D(80), D(-100)) == D("180.0")
    assert percent_change(D(1), D(0)) is None
    assert target_progress(BUILT_IN["total_tax"], D(4250), D(8500)) == D("50.0")
    # Lower is better: 6 days against a 5-day target is 83.3 %.
    assert target_progress(BUILT_IN["approvals_avg_working_days"], D(6), D(5)) == D("83.3")


def test_a_cumulative_indicator_must_aggregate_as_latest() -> None:
    from dataclasses import replace

    from services.stats.domain import DomainViolation

    with pytest.raises(DomainViolation) as exc:
        check_indicator_definition(replace(BUILT_IN["fixed_asset_investment"], aggregation=Aggregation.SUM))
    assert exc.value.field == "aggregation"

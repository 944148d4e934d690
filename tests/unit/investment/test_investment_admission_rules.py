"""The admission check (项目准入) as plain Python."""

from __future__ import annotations

from decimal import Decimal as D

from services.investment.domain import AdmissionFacts, Thresholds, evaluate_admission

THRESHOLDS = Thresholds(
    min_total_investment_wan=D("20000"),
    min_investment_intensity_wan_per_mu=D("500"),
    min_output_per_mu_wan=D("800"),
    min_tax_per_mu_wan=D("50"),
    max_energy_per_output_tce_per_wan=D("0.08"),
)
FACTS = AdmissionFacts(
    agreed_investment_wan=D("85000"), land_area_mu=D("150"), expected_annual_output_wan=D("150000"),
    expected_annual_tax_wan=D("9000"), expected_annual_energy_tce=D("9000"),
)


def test_a_project_meeting_every_threshold_passes_with_rounded_actuals():
    result = evaluate_admission(THRESHOLDS, FACTS, sector_code="ic_packaging")
    assert result.passed
    assert [(c.criterion, c.actual) for c in result.criteria] == [
        ("total_investment", D("85000.00")), ("investment_intensity", D("566.67")), ("output_per_mu", D("1000.00")),
        ("tax_per_mu", D("60.00")), ("energy_per_output", D("0.0600")),
    ]


def test_exactly_at_the_threshold_passes_and_just_below_fails():
    at = AdmissionFacts(agreed_investment_wan=D("50000"), land_area_mu=D("100"))
    below = AdmissionFacts(agreed_investment_wan=D("49999"), land_area_mu=D("100"))
    only_intensity = Thresholds(min_investment_intensity_wan_per_mu=D("500"))
    assert evaluate_admission(only_intensity, at, sector_code="s").passed
    result = evaluate_admission(only_intensity, below, sector_code="s")
    assert not result.passed and result.criteria[0].actual == D("499.99")


def test_a_maximum_is_failed_from_above():
    heavy = AdmissionFacts(expected_annual_output_wan=D("1000"), expected_annual_energy_tce=D("81"))
    result = evaluate_admission(Thresholds(max_energy_per_output_tce_per_wan=D("0.08")), heavy, sector_code="s")
    assert not result.passed and result.criteria[0].comparison == "max" and result.criteria[0].actual == D("0.0810")


def test_missing_figures_fail_with_what_is_missing_and_unset_thresholds_are_not_evaluated():
    result = evaluate_admission(
        Thresholds(min_tax_per_mu_wan=D("50")), AdmissionFacts(agreed_investment_wan=D("1")), sector_code="s"
    )
    assert len(result.criteria) == 1
    c = result.criteria[0]
    assert (c.criterion, c.actual, c.passed, c.reason) == ("tax_per_mu", None, False, "未填写预计年税收；未填写用地面积")


def test_an_unlisted_sector_fails_and_an_entry_without_thresholds_never_passes():
    unlisted = evaluate_admission(None, FACTS, sector_code="textiles")
    assert not unlisted.passed and unlisted.criteria[0].criterion == "sector_listed"
    assert "textiles" in (unlisted.criteria[0].reason or "")
    assert not evaluate_admission(Thresholds(), FACTS, sector_code="s").passed

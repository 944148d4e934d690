"""Validation rules (审核规则): every kind, and errors that name the indicator and the rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.stats.catalog import BUILT_IN
from services.stats.domain import (
    DomainViolation,
    ReportContext,
    RuleDef,
    RuleKind,
    Source,
    check_form_values,
    normalize_rule_params,
    validate_report,
)
from services.stats.periods import Period

OCT = Period.parse("2026-10")
D = Decimal


def check(values: dict[str, int | str], rules: list[RuleDef], *, explanations: dict[str, str] | None = None, context: ReportContext | None = None):  # type: ignore[no-untyped-def]
    return validate_report(OCT, {k: D(str(v)) for k, v in values.items()}, explanations or {}, rules, BUILT_IN, context or ReportContext())


def test_required_names_the_missing_indicator_and_the_rule() -> None:
    rule = RuleDef(1, "total_tax", RuleKind.REQUIRED, name="税收必填")
    [v] = check({"industrial_output_above_scale": 10}, [rule])
    assert v.field == "values.total_tax"
    assert "全口径税收（total_tax）" in v.zh and "税收必填 #1" in v.zh
    assert v.code == "rule.required"
    assert check({"total_tax": 0}, [rule]) == []


def test_range_checks_both_bounds() -> None:
    rule = RuleDef(2, "industrial_output_above_scale", RuleKind.RANGE, {"min": "0", "max": "100"})
    assert [v.en for v in check({"industrial_output_above_scale": -1}, [rule])] == [
        "industrial_output_above_scale: must be at least 0 [rule range #2]"
    ]
    [too_big] = check({"industrial_output_above_scale": "100.01"}, [rule])
    assert "不能大于 100" in too_big.zh
    assert check({"industrial_output_above_scale": 100}, [rule]) == []


def test_comparison_between_indicators_with_a_factor() -> None:
    rule = RuleDef(3, "total_tax", RuleKind.COMPARISON, {"operator": "<=", "other_indicator": "main_business_revenue", "factor": "0.5"})
    [v] = check({"total_tax": 600, "main_business_revenue": 1000}, [rule])
    assert "主营业务收入（main_business_revenue）" in v.zh and "0.5 倍" in v.zh
    assert check({"total_tax": 500, "main_business_revenue": 1000}, [rule]) == []
    # Without the other value there is nothing to compare with (the required rule covers absence).
    assert check({"total_tax": 600}, [rule]) == []


def test_a_cumulative_value_may_not_fall_below_the_previous_periods() -> None:
    rule = RuleDef(4, "fixed_asset_investment", RuleKind.CUMULATIVE)
    ctx = ReportContext(previous_period={"fixed_asset_investment": D(1500)})
    [v] = check({"fixed_asset_investment": 1400}, [rule], context=ctx)
    assert "小于上期累计值 1500" in v.zh and v.code == "rule.cumulative"
    assert check({"fixed_asset_investment": 1500}, [rule], context=ctx) == []
    assert check({"fixed_asset_investment": 10}, [rule]) == []  # the year's first period


def test_a_year_on_year_jump_beyond_the_threshold_needs_an_explanation() -> None:
    rule = RuleDef(5, "industrial_output_above_scale", RuleKind.YOY_CHANGE, {"threshold_percent": "50"})
    ctx = ReportContext(last_year={"industrial_output_above_scale": D(1000)})
    [v] = check({"industrial_output_above_scale": 1600}, [rule], context=ctx)
    assert v.field == "explanations.industrial_output_above_scale"
    assert "同比变动 60.0%" in v.zh and "情况说明" in v.zh
    # The same jump with a reason passes; so does a drop within the threshold, or a whitespace-only reason does not.
    assert check({"industrial_output_above_scale": 1600}, [rule], context=ctx, explanations={"industrial_output_above_scale": "新产线投产"}) == []
    assert check({"industrial_output_above_scale": 600}, [rule], context=ctx) == []
    assert len(check({"industrial_output_above_scale": 400}, [rule], context=ctx, explanations={"industrial_output_above_scale": "  "})) == 1
    assert check({"industrial_output_above_scale": 99999}, [rule]) == []  # nothing last year to compare with


def test_rules_of_indicators_on_another_form_do_not_apply() -> None:
    quarterly_required = RuleDef(6, "talent_count", RuleKind.REQUIRED)
    assert check({"total_tax": 1}, [quarterly_required]) == []


def test_every_violation_is_reported_not_only_the_first() -> None:
    rules = [RuleDef(1, "total_tax", RuleKind.REQUIRED), RuleDef(2, "main_business_revenue", RuleKind.RANGE, {"min": "0", "max": None})]
    assert {v.rule_id for v in check({"main_business_revenue": -5}, rules)} == {1, 2}


def test_values_must_be_direct_report_indicators_of_the_periods_type() -> None:
    with pytest.raises(DomainViolation) as exc:
        check_form_values(OCT, {"talent_count": 1}, BUILT_IN, source=Source.DIRECT_REPORT)
    assert exc.value.field == "values.talent_count" and exc.value.code == "wrong_period_type"
    with pytest.raises(DomainViolation) as exc:
        check_form_values(OCT, {"approvals_completed": 1}, BUILT_IN, source=Source.DIRECT_REPORT)
    assert exc.value.code == "wrong_source"
    with pytest.raises(DomainViolation) as exc:
        check_form_values(OCT, {"no_such": 1}, BUILT_IN, source=Source.DIRECT_REPORT)
    assert exc.value.code == "unknown_indicator"


def test_rule_definitions_are_checked_for_their_kind() -> None:
    tax, fai, revenue, talent = BUILT_IN["total_tax"], BUILT_IN["fixed_asset_investment"], BUILT_IN["main_business_revenue"], BUILT_IN["talent_count"]
    with pytest.raises(DomainViolation) as exc:
        normalize_rule_params(RuleKind.RANGE, tax)
    assert exc.value.field == "min"
    with pytest.raises(DomainViolation) as exc:
        normalize_rule_params(RuleKind.RANGE, tax, minimum=D(5), maximum=D(1))
    assert exc.value.field == "min"
    with pytest.raises(DomainViolation) as exc:
        normalize_rule_params(RuleKind.COMPARISON, tax, operator="<=", other=talent, other_code="talent_count")
    assert exc.value.field == "other_indicator"  # another form
    with pytest.raises(DomainViolation) as exc:
        normalize_rule_params(RuleKind.CUMULATIVE, tax)
    assert exc.value.field == "indicator_code"  # not a year-to-date indicator
    with pytest.raises(DomainViolation) as exc:
        normalize_rule_params(RuleKind.YOY_CHANGE, tax, threshold_percent=D(0))
    assert exc.value.field == "threshold_percent"
    assert normalize_rule_params(RuleKind.CUMULATIVE, fai) == {}
    assert normalize_rule_params(RuleKind.COMPARISON, tax, operator="<", other=revenue, other_code="main_business_revenue") == {
        "operator": "<",
        "other_indicator": "main_business_revenue",
        "factor": "1",
    }

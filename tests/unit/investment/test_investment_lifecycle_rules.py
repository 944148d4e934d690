"""The lifecycle rules as plain Python: which moves are legal and what each stage needs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.investment.domain import (
    LIFECYCLE,
    IllegalTransition,
    ProjectFacts,
    Stage,
    StageRequirementsUnmet,
    allowed_next_stages,
    check_transition,
    days_in_stage,
    furthest_stage,
    shortfalls_for,
)
from tests.support.validators import VALID_USCC

COMPLETE = ProjectFacts(
    investor="长芯封测", agreed_investment_wan=Decimal("100"), funding_source="foreign", uscc=VALID_USCC,
    land_area_mu=Decimal("10"),
)
LEGAL = {(a, b) for a, b in zip(LIFECYCLE, LIFECYCLE[1:], strict=False)} | {
    (s, Stage.DROPPED) for s in LIFECYCLE if s != Stage.IN_OPERATION
}


@pytest.mark.parametrize("current", list(Stage))
@pytest.mark.parametrize("target", list(Stage))
def test_only_the_next_stage_or_a_drop_before_operation_is_legal(current, target):
    if (current, target) in LEGAL:
        check_transition(current, target, COMPLETE)
        assert target in allowed_next_stages(current)
    else:
        with pytest.raises(IllegalTransition) as exc:
            check_transition(current, target, COMPLETE)
        assert exc.value.current == current
        assert exc.value.allowed == allowed_next_stages(current)


def test_there_are_fourteen_legal_moves_and_two_final_stages():
    assert len(LEGAL) == 14  # seven steps forward, seven drops
    assert allowed_next_stages(Stage.IN_OPERATION) == allowed_next_stages(Stage.DROPPED) == []
    assert allowed_next_stages(Stage.LEAD) == [Stage.CONTACTING, Stage.DROPPED]


def test_signing_needs_investor_agreed_investment_and_funding_source():
    with pytest.raises(StageRequirementsUnmet) as exc:
        check_transition(Stage.NEGOTIATING, Stage.SIGNED, ProjectFacts(investor=" "))
    assert [s.field for s in exc.value.shortfalls] == ["investor", "agreed_investment_wan", "funding_source"]
    assert exc.value.shortfalls[1].label == "协议投资额"


def test_registration_needs_a_valid_uscc_and_land_needs_the_area():
    facts = ProjectFacts(investor="x", agreed_investment_wan=Decimal("1"), funding_source="local", uscc="91510100MA6DGXQ126")
    assert [(s.field, s.problem) for s in shortfalls_for(Stage.REGISTERED, facts)] == [("uscc", "invalid")]
    assert [s.field for s in shortfalls_for(Stage.LAND_SECURED, ProjectFacts(
        investor="x", agreed_investment_wan=Decimal("1"), funding_source="local", uscc=VALID_USCC))] == ["land_area_mu"]


def test_requirements_are_cumulative_and_a_dropped_project_owes_nothing():
    assert {s.field for s in shortfalls_for(Stage.IN_OPERATION, ProjectFacts())} == {
        "investor", "agreed_investment_wan", "funding_source", "uscc", "land_area_mu"
    }
    assert shortfalls_for(Stage.NEGOTIATING, ProjectFacts()) == []
    assert shortfalls_for(Stage.DROPPED, ProjectFacts()) == []
    assert shortfalls_for(Stage.SIGNED, ProjectFacts(investor="x", agreed_investment_wan=Decimal("0"),
                                                     funding_source="local"))[0].problem == "invalid"


def test_days_in_a_stage_are_calendar_days_in_shanghai():
    # 23:30 UTC is already the next day in Shanghai.
    entered = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # 23:00 on 1 March in Shanghai
    left = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 March in Shanghai
    assert days_in_stage(entered, left) == 1
    assert days_in_stage(entered, datetime(2026, 3, 11, 1, 0, tzinfo=UTC)) == 10


def test_a_dropped_project_reached_the_stage_it_was_dropped_from():
    assert furthest_stage(Stage.DROPPED, Stage.NEGOTIATING) == Stage.NEGOTIATING
    assert furthest_stage(Stage.SIGNED, None) == Stage.SIGNED

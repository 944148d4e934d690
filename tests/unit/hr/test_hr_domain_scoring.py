"""Weights, weighted scores with fault-tolerance exemptions, the competition ranking and its tie-breaking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.hr import domain
from services.hr.domain import CandidateScores, InvalidInput

D = Decimal
WEIGHTS = {"written": D(40), "interview": D(40), "performance": D(20)}
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def candidate(cid: str, written: int, interview: int, performance: int, minutes: int = 0) -> CandidateScores:
    return CandidateScores(
        cid, T0 + timedelta(minutes=minutes), {"written": D(written), "interview": D(interview), "performance": D(performance)}
    )


class TestWeights:
    def test_weights_must_add_up_to_exactly_100(self) -> None:
        domain.check_weights(WEIGHTS, field="weights")
        with pytest.raises(InvalidInput) as exc:
            domain.check_weights({"written": D("40"), "interview": D("59.99")}, field="weights")
        assert exc.value.field == "weights" and exc.value.figures == {"sum": "99.99"}

    def test_a_zero_weight_names_its_item(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            domain.check_weights({"written": D(100), "interview": D(0)}, field="weights")
        assert exc.value.field == "weights.interview"

    def test_scores_outside_the_items_or_the_range_are_refused(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            domain.check_scores({"essay": D(80)}, ["written", "interview"])
        assert exc.value.field == "scores.essay"
        with pytest.raises(InvalidInput):
            domain.check_scores({"written": D("100.01")}, ["written"])


class TestWeightedScore:
    def test_the_score_is_the_weighted_mean(self) -> None:
        assert domain.weighted_score({"a": D(90), "b": D(50)}, {"a": D(60), "b": D(40)}) == D("74.00")

    def test_an_exempted_item_is_removed_and_the_remaining_weights_renormalized(self) -> None:
        weights = {"a": D(50), "b": D(30), "c": D(20)}
        scores = {"a": D(90), "b": D(40), "c": D(80)}
        assert domain.weighted_score(scores, weights) == D("73.00")
        # Without b (30 %): (90·50 + 80·20) / 70 = 87.14
        assert domain.weighted_score(scores, weights, exempt={"b"}) == D("87.14")
        # An exempted item needs no score at all.
        assert domain.weighted_score({"a": D(90), "c": D(80)}, weights, exempt={"b"}) == D("87.14")

    def test_every_item_exempt_leaves_nothing_to_score(self) -> None:
        with pytest.raises(InvalidInput):
            domain.weighted_score({"a": D(90)}, {"a": D(100)}, exempt={"a"})

    def test_a_missing_score_of_a_counted_item_is_named(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            domain.weighted_score({"a": D(90)}, {"a": D(60), "b": D(40)})
        assert "b" in exc.value.en


class TestRanking:
    def test_higher_total_ranks_first(self) -> None:
        ranked, unscored = domain.rank_candidates([candidate("x", 70, 70, 70), candidate("y", 90, 80, 70)], WEIGHTS)
        assert [r.candidate_id for r in ranked] == ["y", "x"]
        assert [r.rank for r in ranked] == [1, 2]
        assert ranked[0].total == D("82.00") and not ranked[0].tied_on_total and unscored == []

    def test_equal_totals_are_decided_by_the_heaviest_component_then_the_next(self) -> None:
        # Both 80.00; written and interview weigh 40 each (equal weights: by name, so interview first).
        a = candidate("a", 90, 70, 80)  # interview 70
        b = candidate("b", 70, 90, 80)  # interview 90
        ranked, _ = domain.rank_candidates([a, b], WEIGHTS)
        assert [r.candidate_id for r in ranked] == ["b", "a"]
        assert all(r.tied_on_total for r in ranked)
        assert ranked[0].decided_by == "component:interview"
        assert domain.tie_break_components(WEIGHTS) == ["interview", "written", "performance"]

    def test_equal_totals_and_components_are_decided_by_the_earlier_application(self) -> None:
        late = candidate("a-late", 80, 80, 80, minutes=30)
        early = candidate("z-early", 80, 80, 80, minutes=5)
        ranked, _ = domain.rank_candidates([late, early], WEIGHTS)
        assert [r.candidate_id for r in ranked] == ["z-early", "a-late"]
        assert ranked[0].decided_by == "applied_at"

    def test_identical_records_rank_by_candidate_id_every_time(self) -> None:
        same = [candidate("c2", 80, 80, 80), candidate("c1", 80, 80, 80)]
        first, _ = domain.rank_candidates(same, WEIGHTS)
        second, _ = domain.rank_candidates(list(reversed(same)), WEIGHTS)
        assert [r.candidate_id for r in first] == [r.candidate_id for r in second] == ["c1", "c2"]
        assert first[0].decided_by == "candidate_id"

    def test_candidates_missing_a_score_are_listed_apart(self) -> None:
        partial = CandidateScores("p", T0, {"written": D(99)})
        ranked, unscored = domain.rank_candidates([partial, candidate("f", 60, 60, 60)], WEIGHTS)
        assert [r.candidate_id for r in ranked] == ["f"] and unscored == ["p"]

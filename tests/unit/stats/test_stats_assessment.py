"""Differentiated assessment (差异化考核, seed 000): weights by zone type, ranking, coefficients."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.stats.catalog import BUILT_IN
from services.stats.domain import (
    DEFAULT_WEIGHTS,
    ZoneInput,
    check_weights,
    coefficient_for_rank,
    score_zones,
)

D = Decimal
SCORED = [i for i in BUILT_IN.values() if i.dimension is not None]


def zone(zone_id: str, zone_type: str = "产业新城", targets: dict[str, int] | None = None, **values: int) -> ZoneInput:
    return ZoneInput(zone_id, zone_type, {k: D(v) for k, v in values.items()}, {k: D(v) for k, v in (targets or {}).items()})


def test_default_weights_add_up_to_one_for_every_zone_type() -> None:
    check_weights(DEFAULT_WEIGHTS)
    assert set(DEFAULT_WEIGHTS) == {"产业新城", "特色街区", "特色小镇"}
    with pytest.raises(ValueError):
        check_weights({"产业新城": {"industry_development": D("0.5"), "supporting_functions": D("0.2"), "policy_delivery": D("0.2")}})


def test_a_zone_is_scored_against_its_target_when_it_has_one() -> None:
    [a] = score_zones([zone("a", targets={"total_tax": 1000}, total_tax=500)], SCORED, DEFAULT_WEIGHTS)
    tax = next(i for i in a.indicators if i.code == "total_tax")
    assert (tax.basis, tax.score) == ("target", D(50))
    assert a.dimensions["industry_development"] == D("50.00")
    assert a.score == D("30.00")  # 0.6 × 50 for an industrial new town


def test_without_a_target_zones_are_compared_with_the_best_zone() -> None:
    results = score_zones([zone("a", total_tax=400), zone("b", total_tax=1000)], SCORED, DEFAULT_WEIGHTS)
    by_id = {r.zone_id: r for r in results}
    assert by_id["b"].dimensions["industry_development"] == D("100.00")
    assert by_id["a"].dimensions["industry_development"] == D("40.00")
    assert [r.zone_id for r in results] == ["b", "a"]


def test_lower_is_better_for_working_days() -> None:
    results = score_zones([zone("fast", approvals_avg_working_days=4), zone("slow", approvals_avg_working_days=8)], SCORED, DEFAULT_WEIGHTS)
    by_id = {r.zone_id: r for r in results}
    assert by_id["fast"].dimensions["policy_delivery"] == D("100.00")
    assert by_id["slow"].dimensions["policy_delivery"] == D("50.00")


def test_the_zone_type_decides_the_weights() -> None:
    town = zone("street", "特色街区", building_occupancy_rate=80, total_tax=100)
    industrial = zone("newtown", "产业新城", building_occupancy_rate=80, total_tax=100)
    by_id = {r.zone_id: r for r in score_zones([town, industrial], SCORED, DEFAULT_WEIGHTS)}
    # Same data, same dimension scores; the street weighs supporting functions (0.45) more than industry.
    assert by_id["street"].dimensions == by_id["newtown"].dimensions
    assert by_id["street"].score == D("75.00")  # 0.3 × 100 + 0.45 × 100
    assert by_id["newtown"].score == D("80.00")  # 0.6 × 100 + 0.2 × 100


def test_ranking_shares_ranks_on_equal_scores_and_maps_ranks_linearly_to_coefficients() -> None:
    zones = [zone("a", total_tax=100), zone("b", total_tax=100), zone("c", total_tax=50), zone("d")]
    results = score_zones(zones, SCORED, DEFAULT_WEIGHTS)
    assert [(r.zone_id, r.rank) for r in results] == [("a", 1), ("b", 1), ("c", 3), ("d", 4)]
    assert [r.coefficient for r in results] == [D("1.200"), D("1.200"), D("0.933"), D("0.800")]
    assert all(r.zones_ranked == 4 for r in results)


def test_coefficient_mapping() -> None:
    assert coefficient_for_rank(1, 5, D("0.8"), D("1.2")) == D("1.200")
    assert coefficient_for_rank(3, 5, D("0.8"), D("1.2")) == D("1.000")
    assert coefficient_for_rank(5, 5, D("0.8"), D("1.2")) == D("0.800")
    assert coefficient_for_rank(1, 1, D("0.8"), D("1.2")) == D("1.000")

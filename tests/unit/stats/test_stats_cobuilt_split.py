"""Crediting a co-built zone's partners (合作共建, seed 001): largest-remainder splits that add up
to exactly the whole."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.stats.domain import split_largest_remainder, split_value


def test_seventy_thirty_splits_cleanly() -> None:
    assert split_value(Decimal("1000.00"), 2, [70, 30]) == [Decimal("700.00"), Decimal("300.00")]


def test_three_equal_partners_get_the_leftover_cent_by_largest_remainder() -> None:
    # 100.00 万元 in cents: 10000 / 3 = 3333.33… each; one cent is left for the first largest remainder.
    parts = split_value(Decimal("100.00"), 2, ["33.33", "33.33", "33.34"])
    assert sum(parts) == Decimal("100.00")
    assert parts == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split_largest_remainder(10, [1, 1, 1]) == [4, 3, 3]


def test_the_largest_remainder_wins_not_the_largest_share() -> None:
    # quotas 7 × 0.15 = 1.05 → 1, 7 × 0.85 = 5.95 → 5; the missing unit goes to the 0.95 remainder.
    assert split_largest_remainder(7, [15, 85]) == [1, 6]
    # 5 units by 70/30: quotas 3.5 and 1.5 tie on the remainder; the larger share takes it.
    assert split_largest_remainder(5, [70, 30]) == [4, 1]


def test_a_negative_amount_splits_its_magnitude() -> None:
    assert split_largest_remainder(-5, [70, 30]) == [-4, -1]


def test_an_indivisible_count_still_adds_up() -> None:
    # One signed project credited 70:30 at 0 decimals goes wholly to the larger partner.
    assert split_value(Decimal(1), 0, [70, 30]) == [Decimal(1), Decimal(0)]


@given(
    total=st.integers(min_value=-10**12, max_value=10**12),
    shares=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=8).filter(lambda s: sum(s) > 0),
)
def test_parts_always_add_up_and_each_is_within_one_unit_of_its_exact_quota(total: int, shares: list[int]) -> None:
    parts = split_largest_remainder(total, shares)
    assert sum(parts) == total
    weight = sum(shares)
    for part, share in zip(parts, shares, strict=True):
        quota = Fraction(total * share, weight)
        assert abs(part - quota) < 1

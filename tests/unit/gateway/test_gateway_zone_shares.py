"""A co-built zone's partner shares must account for exactly the whole (seed 001: 天府国际生物城, 7:3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chassis.errors import Unprocessable
from gateway.domain import Partner, check_partner_shares


def partners(*shares: tuple[str, str]) -> list[Partner]:
    return [Partner(district, Decimal(share)) for district, share in shares]


def fields(exc: Unprocessable) -> dict[str, str]:
    return {e["field"]: e["code"] for e in exc.errors}


def test_a_zone_that_is_not_co_built_has_no_partners():
    check_partner_shares([], "双流区")


def test_seventy_thirty_adds_up():
    check_partner_shares(partners(("高新区", "70"), ("双流区", "30")), "高新区")


def test_shares_with_decimals_that_add_up_exactly_are_accepted():
    check_partner_shares(partners(("高新区", "33.34"), ("双流区", "33.33"), ("新津区", "33.33")), "高新区")


@pytest.mark.parametrize(
    "shares",
    [
        (("高新区", "70"), ("双流区", "20")),
        (("高新区", "70"), ("双流区", "31")),
        (("高新区", "33.33"), ("双流区", "33.33"), ("新津区", "33.33")),
    ],
)
def test_shares_that_do_not_add_up_to_100_are_refused_naming_partners(shares):
    with pytest.raises(Unprocessable) as info:
        check_partner_shares(partners(*shares), "高新区")
    assert fields(info.value)["partners"] == "shares_not_100"
    message = next(e for e in info.value.errors if e["field"] == "partners")["zh"]
    assert "100%" in message


def test_a_single_partner_is_not_a_co_built_zone():
    with pytest.raises(Unprocessable) as info:
        check_partner_shares(partners(("高新区", "100")), "高新区")
    assert "partners" in fields(info.value)


def test_a_partner_listed_twice_is_refused():
    with pytest.raises(Unprocessable) as info:
        check_partner_shares(partners(("高新区", "50"), ("高新区", "50")), "高新区")
    assert fields(info.value)["partners.1.district"] == "duplicate"


def test_a_zero_or_negative_share_is_refused_on_its_own_field():
    with pytest.raises(Unprocessable) as info:
        check_partner_shares(partners(("高新区", "100"), ("双流区", "0")), "高新区")
    assert "partners.1.share_percent" in fields(info.value)


def test_the_zone_district_must_be_one_of_the_partners():
    with pytest.raises(Unprocessable) as info:
        check_partner_shares(partners(("高新区", "70"), ("双流区", "30")), "锦江区")
    assert fields(info.value) == {"district": "not_a_partner"}

"""The batch summary the city dashboard reads: ``GET /summary/zones`` answers for several zones in one
request, each item exactly what ``GET /summary?zone_id=<zone>`` answers, with the same callers, the same
zone scoping and the same date range."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.integration.approvals.conftest import BIO, CHIP, EIA_FORM, HYGIENE, PACK, WORKS_PERMIT, Approvals

D = dt.date
ZONES = ("cd-xingu", "tf-biotown")


async def two_zones_with_different_applications(approvals: Approvals) -> None:
    """cd-xingu: one application completed and evaluated, one under review, one just filed;
    tf-biotown: one accepted and one filed, in a later week."""
    done = await approvals.accepted([HYGIENE])
    await approvals.accepted([EIA_FORM], uscc=PACK)
    await approvals.filed([WORKS_PERMIT])
    approvals.on(D(2026, 11, 9))
    await approvals.done(done["id"], "approve")
    await approvals.done(done["id"], "complete", {"certificate_no": "A-1"})
    await approvals.done(done["id"], "evaluate", {"score": 5}, headers=approvals.enterprise(CHIP))
    approvals.on(D(2026, 11, 16))
    bio = await approvals.filed([EIA_FORM], uscc=BIO, zone="tf-biotown")
    await approvals.done(bio["id"], "accept", headers=approvals.staff("tf-biotown"))
    await approvals.filed([HYGIENE], uscc=BIO, zone="tf-biotown")
    approvals.on(D(2026, 11, 20))


def city_leader(approvals: Approvals) -> dict[str, str]:
    return approvals.staff(None, roles=("leader",))


async def single(approvals: Approvals, zone_id: str, headers: dict[str, str], **params: str) -> dict[str, Any]:
    r = await approvals.client.get("/summary", params={"zone_id": zone_id, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def batch(approvals: Approvals, zone_ids: list[str], headers: dict[str, str], **params: str) -> dict[str, Any]:
    r = await approvals.client.get("/summary/zones", params={"zone_id": zone_ids, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def refused_field(r: Any) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()["errors"][0]["field"]  # type: ignore[no-any-return]


async def test_each_item_is_what_the_single_summary_answers_for_that_zone(approvals):
    await two_zones_with_different_applications(approvals)
    leader = city_leader(approvals)

    answer = await batch(approvals, list(ZONES), leader)

    assert answer["missing"] == []
    assert answer["items"] == [await single(approvals, zone, leader) for zone in ZONES]
    xingu, biotown = answer["items"]
    assert xingu["zone_id"] == "cd-xingu" and biotown["zone_id"] == "tf-biotown"
    assert xingu["completed"] == 1 and xingu["evaluations"] == 1 and xingu["backlog"] == 2
    assert biotown["completed"] == 0 and biotown["evaluations"] == 0 and biotown["backlog"] == 2


async def test_zones_come_back_in_the_order_first_named_and_a_repeated_zone_only_once(approvals):
    await two_zones_with_different_applications(approvals)
    leader = city_leader(approvals)

    answer = await batch(approvals, ["tf-biotown", "cd-xingu", "tf-biotown", "cd-xingu"], leader)

    assert [item["zone_id"] for item in answer["items"]] == ["tf-biotown", "cd-xingu"]
    assert answer["missing"] == []


async def test_a_zone_with_no_applications_is_a_zero_summary_not_missing(approvals):
    answer = await batch(approvals, ["cd-xingu", "ls-lakeside"], city_leader(approvals))

    assert [item["zone_id"] for item in answer["items"]] == ["cd-xingu", "ls-lakeside"]
    assert answer["missing"] == []
    assert answer["items"][1] == await single(approvals, "ls-lakeside", city_leader(approvals))


async def test_the_date_range_is_passed_to_every_zone_as_on_the_single_summary(approvals):
    await two_zones_with_different_applications(approvals)
    leader = city_leader(approvals)
    week = {"date_from": "2026-11-09", "date_to": "2026-11-15"}

    answer = await batch(approvals, list(ZONES), leader, **week)

    assert answer["items"] == [await single(approvals, zone, leader, **week) for zone in ZONES]
    xingu, biotown = answer["items"]
    assert xingu["date_from"] == "2026-11-09" and xingu["date_to"] == "2026-11-15"
    assert sum(xingu["by_status"].values()) == 0 and xingu["completed"] == 1  # filed the week before, completed in it
    assert sum(biotown["by_status"].values()) == 0  # filed the week after
    later = await batch(approvals, list(ZONES), leader, date_from="2026-11-16")
    assert sum(later["items"][1]["by_status"].values()) == 2


async def test_a_backwards_date_range_is_refused_naming_date_from(approvals):
    r = await approvals.client.get(
        "/summary/zones", params={"zone_id": "cd-xingu", "date_from": "2026-11-05", "date_to": "2026-11-01"},
        headers=city_leader(approvals),
    )
    assert refused_field(r) == "date_from"


async def test_a_zones_staff_may_ask_for_their_own_zone_but_naming_another_refuses_the_whole_request(approvals):
    await two_zones_with_different_applications(approvals)

    own = await batch(approvals, ["cd-xingu", "cd-xingu"], approvals.window)
    assert own["items"] == [await single(approvals, "cd-xingu", approvals.window)]

    r = await approvals.client.get("/summary/zones", params={"zone_id": ["cd-xingu", "tf-biotown"]}, headers=approvals.window)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "items" not in r.json()


async def test_enterprises_are_refused_as_on_the_single_summary(approvals):
    r = await approvals.client.get("/summary/zones", params={"zone_id": "cd-xingu"}, headers=approvals.enterprise(CHIP))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_no_zone_an_empty_zone_or_more_than_fifty_zones_is_refused_naming_zone_id(approvals):
    leader = city_leader(approvals)

    async def asking(query: str) -> Any:
        return await approvals.client.get(f"/summary/zones{query}", headers=leader)

    assert refused_field(await asking("")) == "zone_id"
    assert refused_field(await asking("?zone_id=")) == "zone_id"
    assert refused_field(await asking("?zone_id=cd-xingu&zone_id=")) == "zone_id"
    fifty_one = "&".join(f"zone_id=zone-{n:02d}" for n in range(51))
    assert refused_field(await asking(f"?{fifty_one}")) == "zone_id"
    assert refused_field(await asking(f"?zone_id={'z' * 65}")) == "zone_id"


async def test_fifty_zones_of_sixty_four_characters_are_answered(approvals):
    zones = [f"{n:02d}" + "z" * 62 for n in range(50)]

    answer = await batch(approvals, zones, city_leader(approvals))

    assert [item["zone_id"] for item in answer["items"]] == zones


async def test_a_request_without_a_token_is_unauthorized(approvals):
    r = await approvals.client.get("/summary/zones", params={"zone_id": "cd-xingu"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")

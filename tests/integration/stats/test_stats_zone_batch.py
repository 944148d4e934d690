"""GET /zones/summaries: several zones' statistics summaries in one request, for the city dashboard.

Each item is what GET /zones/{zone_id}/summary answers for that zone alone; the batch admits exactly
who the single summary admits, zone by zone; a zone the service has no record of is listed as missing.
"""

from __future__ import annotations

from typing import Any

from tests.integration.stats.stats_support import BIOTECH, BIOTOWN, PACKAGING, XINGU, file_and_accept, monthly

BATCH = "/zones/summaries"


async def two_zones_with_different_figures(svc: Any, people: Any) -> None:
    """成都芯谷: two enterprises and a 2026 target for output; 天府生物城 (co-built): one enterprise, other figures."""
    await file_and_accept(svc, people, monthly(period="2026-09", industrial_output_above_scale=7500, main_business_revenue=8000, total_tax=450))
    await file_and_accept(svc, people, monthly())
    await file_and_accept(svc, people, monthly(uscc=PACKAGING, industrial_output_above_scale="1000.25", total_tax=100))
    target = await svc.client.post(
        "/targets",
        json={"zone_id": XINGU, "year": 2026, "indicator_code": "industrial_output_above_scale", "target_value": 40000},
        headers=people.stats_admin(),
    )
    assert target.status_code == 201, target.text
    await file_and_accept(
        svc, people, monthly(uscc=BIOTECH, zone=BIOTOWN, industrial_output_above_scale="1000.05", main_business_revenue=1200, total_tax=33)
    )


def zone_ids(*zones: str) -> list[tuple[str, str]]:
    return [("zone_id", z) for z in zones]


def fields(problem: Any) -> list[str]:
    return [e["field"] for e in problem.json()["errors"]]


async def test_each_item_is_exactly_the_single_zone_summary_of_that_zone(stats, people):
    await two_zones_with_different_figures(stats, people)
    city = people.leader(None)
    for period in ("2026-10", "2026-Q4", "2026"):
        batch = await stats.client.get(BATCH, params=[*zone_ids(XINGU, BIOTOWN), ("period", period)], headers=city)
        assert batch.status_code == 200, batch.text
        singles = [
            (await stats.client.get(f"/zones/{zone}/summary", params={"period": period}, headers=city)).json() for zone in (XINGU, BIOTOWN)
        ]
        assert batch.json() == {"items": singles, "missing": []}
    xingu, biotown = batch.json()["items"]
    assert xingu != biotown  # the two zones' figures really differ, so the comparison above means something
    assert (xingu["zone_id"], biotown["zone_id"]) == (XINGU, BIOTOWN)


async def test_items_follow_the_order_first_named_and_a_repeated_zone_is_answered_once(stats, people):
    await two_zones_with_different_figures(stats, people)
    r = await stats.client.get(
        BATCH, params=[*zone_ids(BIOTOWN, XINGU, BIOTOWN, XINGU), ("period", "2026-10")], headers=people.stats_admin(None)
    )
    assert r.status_code == 200, r.text
    assert [s["zone_id"] for s in r.json()["items"]] == [BIOTOWN, XINGU]


async def test_a_zone_the_service_has_no_record_of_is_listed_as_missing_and_the_others_are_answered(stats, people):
    await two_zones_with_different_figures(stats, people)
    city = people.leader(None)
    assert (await stats.client.get("/zones/nowhere/summary", params={"period": "2026-10"}, headers=city)).status_code == 404
    r = await stats.client.get(BATCH, params=[*zone_ids("nowhere", XINGU, "gone-too", BIOTOWN), ("period", "2026-10")], headers=city)
    assert r.status_code == 200, r.text
    assert [s["zone_id"] for s in r.json()["items"]] == [XINGU, BIOTOWN]
    assert r.json()["missing"] == ["nowhere", "gone-too"]
    only_unknown = await stats.client.get(BATCH, params=[*zone_ids("nowhere"), ("period", "2026-10")], headers=city)
    assert only_unknown.json() == {"items": [], "missing": ["nowhere"]}


async def test_a_zones_staff_read_their_own_zone_but_naming_any_other_zone_refuses_the_whole_request(stats, people):
    await two_zones_with_different_figures(stats, people)
    own = await stats.client.get(BATCH, params=[*zone_ids(XINGU), ("period", "2026-10")], headers=people.officer(XINGU))
    assert own.status_code == 200, own.text
    assert [s["zone_id"] for s in own.json()["items"]] == [XINGU]
    for zones in ((XINGU, BIOTOWN), (BIOTOWN,), (XINGU, "nowhere")):
        r = await stats.client.get(BATCH, params=[*zone_ids(*zones), ("period", "2026-10")], headers=people.leader(XINGU))
        assert r.status_code == 403, (zones, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_enterprises_and_staff_without_a_summary_role_are_refused_as_on_the_single_summary(stats, people):
    params = [*zone_ids(XINGU), ("period", "2026-10")]
    assert (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.enterprise())).status_code == 403
    assert (await stats.client.get(BATCH, params=params, headers=people.enterprise())).status_code == 403
    assert (await stats.client.get(BATCH, params=params, headers=people.staff(None, "approvals"))).status_code == 403


async def test_no_zone_an_empty_or_overlong_zone_or_more_than_fifty_zones_is_a_problem_naming_zone_id(stats, people):
    city = people.leader(None)
    fifty_one = [f"zone-{n:02d}" for n in range(51)]
    for params in (
        [("period", "2026-10")],
        [*zone_ids(""), ("period", "2026-10")],
        [*zone_ids(XINGU, ""), ("period", "2026-10")],
        [*zone_ids("z" * 65), ("period", "2026-10")],
        [*zone_ids(*fifty_one), ("period", "2026-10")],
    ):
        r = await stats.client.get(BATCH, params=params, headers=city)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert fields(r) == ["zone_id"], r.text
    fifty = await stats.client.get(BATCH, params=[*zone_ids(*fifty_one[:50]), ("period", "2026-10")], headers=city)
    assert fifty.status_code == 200 and len(fifty.json()["missing"]) == 50
    longest = await stats.client.get(BATCH, params=[*zone_ids("z" * 64), ("period", "2026-10")], headers=city)
    assert longest.status_code == 200 and longest.json()["missing"] == ["z" * 64]


async def test_a_bad_or_missing_period_is_a_problem_naming_it_as_on_the_single_summary(stats, people):
    city = people.leader(None)
    for period in ("2026-Q9", "2026-13", "20261-01"):
        single = await stats.client.get(f"/zones/{XINGU}/summary", params={"period": period}, headers=city)
        batch = await stats.client.get(BATCH, params=[*zone_ids(XINGU, BIOTOWN), ("period", period)], headers=city)
        assert (batch.status_code, fields(batch)) == (single.status_code, fields(single)) == (422, ["period"]), batch.text
    missing = await stats.client.get(BATCH, params=zone_ids(XINGU), headers=city)
    assert missing.status_code == 422 and fields(missing) == ["period"]


async def test_without_a_token_the_batch_is_unauthorised(stats, people):
    r = await stats.client.get(BATCH, params=[*zone_ids(XINGU), ("period", "2026-10")])
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")

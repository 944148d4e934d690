"""The pipeline summary for several zones in one request (``GET /pipeline/summary/zones``): what the
city dashboard reads instead of one ``GET /pipeline/summary`` per zone.

Each item is exactly the one-zone summary; the caller and zone scoping are the one-zone endpoint's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.investment.access import today as shanghai_today
from tests.integration.investment.conftest import USCC_A, ZONE_A, ZONE_B

BATCH = "/pipeline/summary/zones"


def ago(days: int) -> str:
    return (shanghai_today() - timedelta(days=days)).isoformat()


def without_as_of(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without its reading time (the only thing two readings of the same data differ in)."""
    return {k: v for k, v in summary.items() if k != "as_of"}


async def build(inv):  # type: ignore[no-untyped-def]
    """zone-a: a signed chain project, a lead and a dropped one; zone-b: a chain project in contact."""
    chain = await inv.chain()
    await inv.set_status(chain, "ic.wafer", "missing")
    await inv.set_status(chain, "ic.design", "present")
    await inv.set_status(chain, "ic.packaging", "weak", zone=ZONE_B)
    node = lambda code: inv.node(chain, code)["id"]  # noqa: E731

    signed = await inv.project(name="A1", lead_on=ago(60), agreed_investment_wan=5000, node_id=node("ic.design"))
    for stage, days in (("contacting", 50), ("negotiating", 30), ("signed", 10)):
        assert (await inv.step(signed["id"], stage, effective_on=ago(days))).status_code == 200
    await inv.project(name="A2", lead_on=ago(30), agreed_investment_wan=1000, node_id=node("ic.wafer"))
    dropped = await inv.project(name="A3", lead_on=ago(40), agreed_investment_wan=3000)
    assert (await inv.step(dropped["id"], "contacting", effective_on=ago(36))).status_code == 200
    assert (await inv.step(dropped["id"], "dropped", reason="投资方撤回", effective_on=ago(5))).status_code == 200

    contacted = await inv.project(zone=ZONE_B, name="B1", lead_on=ago(20), agreed_investment_wan=7000,
                                  node_id=node("ic.packaging"))
    assert (await inv.step(contacted["id"], "contacting", zone=ZONE_B, effective_on=ago(8))).status_code == 200


async def single(inv, zone: str, headers: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await inv.client.get("/pipeline/summary", params={"zone_id": zone}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_each_item_is_what_the_one_zone_summary_answers_for_that_zone(inv):
    await build(inv)
    r = await inv.client.get(BATCH, params=[("zone_id", ZONE_A), ("zone_id", ZONE_B)], headers=inv.leader())
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "missing"} and body["missing"] == []
    zone_a, zone_b = await single(inv, ZONE_A, inv.leader()), await single(inv, ZONE_B, inv.leader())
    assert [without_as_of(item) for item in body["items"]] == [without_as_of(zone_a), without_as_of(zone_b)]
    # The two zones really differ, so an item cannot be the other zone's (or the whole city's) figures.
    assert (zone_a["zone_id"], zone_a["total_projects"], zone_a["total_agreed_investment_wan"]) == (ZONE_A, 3, 9000.0)
    assert (zone_b["zone_id"], zone_b["total_projects"], zone_b["total_agreed_investment_wan"]) == (ZONE_B, 1, 7000.0)
    assert [g["label"] for g in body["items"][1]["by_chain"]] == ["产业链 ic"]
    assert all(item["filters"] == {} for item in body["items"])


async def test_a_zones_own_staff_get_their_zone_exactly_as_the_one_zone_summary(inv):
    await build(inv)
    staff = inv.staff(roles=("leader",))
    r = await inv.client.get(BATCH, params={"zone_id": ZONE_A}, headers=staff)
    assert r.status_code == 200, r.text
    assert [without_as_of(item) for item in r.json()["items"]] == [without_as_of(await single(inv, ZONE_A, staff))]


async def test_items_follow_the_request_order_and_a_repeated_zone_is_answered_once(inv):
    await build(inv)
    params = [("zone_id", z) for z in (ZONE_B, ZONE_A, ZONE_B, "zone-empty", ZONE_A)]
    r = await inv.client.get(BATCH, params=params, headers=inv.leader())
    assert r.status_code == 200, r.text
    body = r.json()
    assert [item["zone_id"] for item in body["items"]] == [ZONE_B, ZONE_A, "zone-empty"]
    # The service keeps no registry of zones: a zone without projects is an empty summary, not missing.
    assert body["items"][2]["total_projects"] == 0 and body["missing"] == []


async def test_fifty_zones_are_answered_in_one_request(inv):
    zones = [f"zone-{i:02d}" for i in range(50)]
    r = await inv.client.get(BATCH, params=[("zone_id", z) for z in zones], headers=inv.leader())
    assert r.status_code == 200, r.text
    assert [item["zone_id"] for item in r.json()["items"]] == zones


async def test_a_zones_staff_naming_any_other_zone_is_refused_for_the_whole_request(inv):
    await build(inv)
    staff = inv.staff(roles=("leader",))
    r = await inv.client.get(BATCH, params=[("zone_id", ZONE_A), ("zone_id", ZONE_B)], headers=staff)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert (await inv.client.get(BATCH, params={"zone_id": ZONE_B}, headers=staff)).status_code == 403


async def test_enterprises_are_refused_as_on_the_one_zone_summary(inv):
    enterprise = inv.enterprise(USCC_A)
    assert (await inv.client.get("/pipeline/summary", headers=enterprise)).status_code == 403
    r = await inv.client.get(BATCH, params={"zone_id": ZONE_A}, headers=enterprise)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="no zone_id"),
        pytest.param("?zone_id=", id="an empty zone_id"),
        pytest.param(f"?zone_id={ZONE_A}&zone_id=", id="an empty zone_id among others"),
        pytest.param("?zone_id=" + "z" * 65, id="a zone_id over 64 characters"),
        pytest.param("?" + "&".join(f"zone_id=zone-{i:02d}" for i in range(51)), id="51 zones"),
    ],
)
async def test_a_batch_without_zones_with_an_empty_or_overlong_zone_or_over_fifty_zones_is_422_naming_zone_id(
    inv, query
):
    r = await inv.client.get(BATCH + query, headers=inv.leader())
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert [e["field"] for e in r.json()["errors"]] == ["zone_id"]


async def test_a_batch_without_a_token_is_401(inv):
    r = await inv.client.get(BATCH, params={"zone_id": ZONE_A})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"

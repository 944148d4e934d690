"""``GET /headcount/zones``: the city dashboard reads several zones' headcount in one request. Each item is
what ``GET /headcount`` answers for that zone, the same callers may ask, zone by zone, and the zone list
is checked as one field, ``zone_id``."""

from __future__ import annotations

from typing import Any

import pytest

from chassis.errors import NotFound
from chassis.tables import audit_log
from services.hr import org
from tests.integration.hr.conftest import HrWorld

ZONE_A, ZONE_B = "zone-a", "zone-b"


def without_time(figures: dict[str, Any]) -> dict[str, Any]:
    """A headcount answer without ``as_of`` (the moment it was computed, different on every read)."""
    return {k: v for k, v in figures.items() if k != "as_of"}


async def two_zones(hr: HrWorld, issuer: Any) -> None:
    """Zone A: quota 9, 招商部 with 4 allotted, 2 posts, 1 person serving. Zone B: quota 6, 规划建设部 with 3, nobody."""
    _, position = await hr.department_with_position(allocation=4, posts=2, total=9)
    person = await hr.person("李雷")
    await hr.appoint(person["id"], position["id"])
    zone_b = HrWorld(hr.svc, issuer, zone=ZONE_B)
    await zone_b.quota(6)
    await zone_b.department("planning", "规划建设部", 3)


async def batch(hr: HrWorld, headers: dict[str, str], *zones: str) -> Any:
    return await hr.client.get("/headcount/zones", params=[("zone_id", z) for z in zones], headers=headers)


async def single(hr: HrWorld, headers: dict[str, str], zone: str) -> Any:
    return await hr.client.get("/headcount", params={"zone_id": zone}, headers=headers)


async def test_each_item_is_what_the_single_headcount_answers_for_its_zone(hr, issuer):
    await two_zones(hr, issuer)
    city_leader = issuer.staff(None, roles=("leader",), subject="city.leader")
    one_by_one = [(await single(hr, city_leader, z)).json() for z in (ZONE_A, ZONE_B)]
    audited = await hr.count(audit_log)

    r = await batch(hr, city_leader, ZONE_A, ZONE_B)

    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "missing"} and body["missing"] == []
    assert [without_time(item) for item in body["items"]] == [without_time(figures) for figures in one_by_one]
    a, b = body["items"]
    assert (a["total_quota"], a["total_filled"], a["total_vacancies"]) == (9, 1, 8)
    assert (b["total_quota"], b["total_filled"], b["total_vacancies"]) == (6, 0, 6)
    assert [d["code"] for d in b["departments"]] == ["planning"]
    assert await hr.count(audit_log) == audited + 2  # each zone's read is audited as the single read is


async def test_zones_come_back_in_request_order_each_named_zone_once(hr, issuer):
    await two_zones(hr, issuer)
    city_stats = issuer.staff(None, roles=("stats",), subject="city.stats")
    audited = await hr.count(audit_log)

    r = await batch(hr, city_stats, ZONE_B, ZONE_A, ZONE_B, ZONE_A, ZONE_B)

    assert r.status_code == 200, r.text
    assert [item["zone_id"] for item in r.json()["items"]] == [ZONE_B, ZONE_A]
    assert await hr.count(audit_log) == audited + 2


@pytest.mark.parametrize("roles, department", [(("leader",), None), (("hr-admin",), None), (("dept-head",), "investment")])
async def test_a_zones_own_staff_read_their_zone_but_naming_another_refuses_the_whole_request(hr, issuer, roles, department):
    await two_zones(hr, issuer)
    own = hr.staff_token("zone-a.reader", *roles, department=department)
    assert (await single(hr, own, ZONE_B)).status_code == 403  # as strict as the single read

    mine = await batch(hr, own, ZONE_A)
    assert mine.status_code == 200, mine.text
    assert [without_time(i) for i in mine.json()["items"]] == [without_time((await single(hr, own, ZONE_A)).json())]

    audited = await hr.count(audit_log)
    for zones in ((ZONE_A, ZONE_B), (ZONE_B,), (ZONE_B, ZONE_A)):
        refused = await batch(hr, own, *zones)
        assert refused.status_code == 403, (zones, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert await hr.count(audit_log) == audited  # refused before any zone was read


async def test_callers_the_single_headcount_refuses_are_refused_here_too(hr, issuer):
    await two_zones(hr, issuer)
    for headers in (issuer.enterprise("91510100MA6DGXQ125"), hr.staff_token("someone"), issuer.staff(None, subject="city.clerk")):
        assert (await single(hr, headers, ZONE_A)).status_code == 403
        r = await batch(hr, headers, ZONE_A)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"

    no_token = await hr.client.get("/headcount/zones", params={"zone_id": ZONE_A})
    assert no_token.status_code == 401


@pytest.mark.parametrize(
    "zones",
    [
        pytest.param((), id="no zone_id"),
        pytest.param(("",), id="an empty zone_id"),
        pytest.param((ZONE_A, ""), id="an empty zone_id among good ones"),
        pytest.param(tuple(f"zone-{n}" for n in range(51)), id="51 zones"),
        pytest.param(("z" * 65,), id="a zone_id of 65 characters"),
    ],
)
async def test_a_missing_empty_overlong_or_too_long_zone_list_is_refused_naming_zone_id(hr, issuer, zones):
    city_leader = issuer.staff(None, roles=("leader",), subject="city.leader")
    audited = await hr.count(audit_log)

    r = await batch(hr, city_leader, *zones)

    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["zone_id"]
    assert await hr.count(audit_log) == audited


async def test_fifty_zones_and_zone_ids_of_64_characters_are_accepted(hr, issuer):
    city_leader = issuer.staff(None, roles=("leader",), subject="city.leader")
    zones = [f"zone-{n:02d}" for n in range(49)] + ["z" * 64]

    r = await batch(hr, city_leader, *zones)

    assert r.status_code == 200, r.text
    assert [item["zone_id"] for item in r.json()["items"]] == zones


async def test_a_zone_without_a_quota_reads_as_zeros_so_nothing_is_ever_missing(hr, issuer):
    await two_zones(hr, issuer)
    city_leader = issuer.staff(None, roles=("leader",), subject="city.leader")
    assert (await single(hr, city_leader, "zone-new")).status_code == 200

    r = await batch(hr, city_leader, "zone-new", ZONE_A)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["missing"] == []
    fresh = body["items"][0]
    assert without_time(fresh) == {
        "zone_id": "zone-new", "total_quota": 0, "total_filled": 0, "total_vacancies": 0, "departments": [],
    }
    assert without_time(fresh) == without_time((await single(hr, city_leader, "zone-new")).json())


async def test_a_zone_the_single_read_would_answer_404_for_is_listed_missing_and_the_others_answered(
    hr, issuer, monkeypatch
):
    await two_zones(hr, issuer)
    city_leader = issuer.staff(None, roles=("leader",), subject="city.leader")
    figures = org.headcount

    async def zone_b_unknown(session: Any, zone_id: str) -> Any:
        if zone_id == ZONE_B:
            raise NotFound("功能区不存在", "No such zone")
        return await figures(session, zone_id)

    monkeypatch.setattr(org, "headcount", zone_b_unknown)
    assert (await single(hr, city_leader, ZONE_B)).status_code == 404

    r = await batch(hr, city_leader, ZONE_B, ZONE_A)

    assert r.status_code == 200, r.text
    assert [item["zone_id"] for item in r.json()["items"]] == [ZONE_A]
    assert r.json()["missing"] == [ZONE_B]

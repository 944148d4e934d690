"""员额总控 and 设岗 through the API: allocations and posts at and over their edges, refused with the figures
and nothing written; the headcount figures leaders read."""

from __future__ import annotations

from chassis.tables import audit_log, outbox_event
from services.hr.models import Department, Position


async def test_allocations_may_reach_the_total_but_not_exceed_it(hr):
    await hr.quota(10)
    a = await hr.department("planning", "规划建设部", 6)
    b = await hr.department("strategy", "战略研究部", 4)  # exactly the total

    over = await hr.client.put(
        "/quota", json={"total": 10, "allocations": [{"department_id": b["id"], "allocation": 5}]}, headers=hr.admin
    )
    assert over.status_code == 409
    assert over.headers["content-type"] == "application/problem+json"
    body = over.json()
    assert body["figures"] == {"total_quota": 10, "allocated": 11, "excess": 1}
    assert body["errors"][0]["field"] == "allocations"

    raised = await hr.quota(11, {b["id"]: 5})
    assert raised["total"] == 11 and raised["allocated"] == 11 and raised["unallocated"] == 0
    assert {d["code"]: d["allocation"] for d in raised["departments"]} == {"planning": 6, "strategy": 5}
    assert a["allocation"] == 6


async def test_a_new_department_cannot_take_more_than_the_unallocated_quota(hr):
    await hr.quota(5)
    await hr.department("planning", "规划建设部", 3)
    refused = await hr.client.post(
        "/departments", json={"code": "strategy", "name": "战略研究部", "allocation": 3}, headers=hr.admin
    )
    assert refused.status_code == 409
    assert refused.json()["figures"]["excess"] == 1
    assert await hr.count(Department.__table__) == 1
    ok = await hr.department("strategy", "战略研究部", 2)
    assert ok["vacancies"] == 2


async def test_positions_may_fill_the_department_allocation_to_the_last_post_and_no_further(hr):
    await hr.quota(10)
    department = await hr.department("investment", "招商部", 5)
    await hr.band("P3")
    await hr.position(department["id"], "招商经理", posts=3, grade="P3")
    last = await hr.position(department["id"], "招商专员", posts=2, grade="P3")  # 5 of 5
    assert last["posts"] == 2 and last["pay_band"]["grade"] == "P3"

    outbox_before, audit_before = await hr.count(outbox_event), await hr.count(audit_log)
    over = await hr.client.post(
        "/positions",
        json={"department_id": department["id"], "title": "招商助理", "category": "support", "grade": "P3", "posts": 1},
        headers=hr.admin,
    )
    assert over.status_code == 409
    figures = over.json()["figures"]
    assert figures["department_allocation"] == 5 and figures["posts_in_other_positions"] == 5
    assert figures["requested_posts"] == 1 and figures["would_total"] == 6
    assert over.json()["errors"][0]["field"] == "posts"
    assert await hr.count(Position.__table__) == 2
    assert (await hr.count(outbox_event), await hr.count(audit_log)) == (outbox_before, audit_before)

    grow = await hr.client.patch(f"/positions/{last['id']}", json={"posts": 3}, headers=hr.admin)
    assert grow.status_code == 409 and grow.json()["figures"]["would_total"] == 6


async def test_a_position_cannot_shrink_below_the_people_holding_it(hr):
    _, position = await hr.department_with_position(allocation=5, posts=2)
    person = await hr.person("王芳")
    await hr.appoint(person["id"], position["id"])
    refused = await hr.client.patch(f"/positions/{position['id']}", json={"posts": 0}, headers=hr.admin)
    assert refused.status_code == 422  # posts ≥ 1 by schema
    assert refused.json()["errors"][0]["field"] == "posts"
    shrink = await hr.client.patch(f"/positions/{position['id']}", json={"posts": 1}, headers=hr.admin)
    assert shrink.status_code == 200 and shrink.json()["vacancies"] == 0


async def test_a_position_needs_a_banded_grade_and_an_existing_department(hr):
    await hr.quota(10)
    department = await hr.department("planning", "规划建设部", 5)
    no_band = await hr.position(department["id"], grade="Z9", expect=422)
    assert no_band["errors"][0]["field"] == "grade"
    await hr.band("P2")
    no_department = await hr.position("no-such-department", expect=422)
    assert no_department["errors"][0]["field"] == "department_id"
    bad_category = await hr.client.post(
        "/positions",
        json={"department_id": department["id"], "title": "x", "category": "executive", "grade": "P2", "posts": 1},
        headers=hr.admin,
    )
    assert bad_category.status_code == 422 and bad_category.json()["errors"][0]["field"] == "category"
    assert await hr.count(Position.__table__) == 0


async def test_an_allocation_cut_below_the_people_serving_is_refused_but_below_the_posts_is_allowed(hr):
    department, position = await hr.department_with_position(allocation=4, posts=3, total=10)
    first, second = await hr.person("甲"), await hr.person("乙")
    await hr.appoint(first["id"], position["id"])
    await hr.appoint(second["id"], position["id"])

    below_filled = await hr.client.put(
        "/quota", json={"total": 10, "allocations": [{"department_id": department["id"], "allocation": 1}]}, headers=hr.admin
    )
    assert below_filled.status_code == 409
    assert below_filled.json()["errors"][0]["field"] == "allocations.0.allocation"
    assert below_filled.json()["figures"]["departments"][0] == {"department": "招商部", "allocation": 1, "filled": 2}

    # A cut to exactly the people serving stands, although the position still offers 3 posts.
    cut = await hr.quota(10, {department["id"]: 2})
    assert cut["departments"][0]["posts_over_allocation"] == 1
    third = await hr.person("丙")
    refused = await hr.appoint(third["id"], position["id"], expect=409)
    assert [e["code"] for e in refused["errors"]] == ["department_allocation"]
    assert refused["figures"]["department"] == {"name": "招商部", "allocation": 2, "filled": 2}
    assert refused["figures"]["position"]["posts"] == 3


async def test_headcount_shows_quota_filled_and_vacancies_per_department_to_leaders(hr, issuer):
    department, position = await hr.department_with_position(allocation=4, posts=2, total=9)
    await hr.department("strategy", "战略研究部", 3)
    person = await hr.person("李雷")
    await hr.appoint(person["id"], position["id"])

    figures = await hr.call("GET", "/headcount", 200, headers=hr.leader)
    assert figures["zone_id"] == "zone-a"
    assert (figures["total_quota"], figures["total_filled"], figures["total_vacancies"]) == (9, 1, 8)
    by_code = {d["code"]: d for d in figures["departments"]}
    assert by_code["investment"] == {
        "department_id": department["id"], "code": "investment", "name": "招商部", "allocation": 4, "posts": 2,
        "filled": 1, "vacancies": 3,
    }
    assert by_code["strategy"]["vacancies"] == 3

    city_leader = issuer.staff(None, roles=("leader",), subject="city.leader")
    missing_zone = await hr.client.get("/headcount", headers=city_leader)
    assert missing_zone.status_code == 422 and missing_zone.json()["errors"][0]["field"] == "zone_id"
    assert (await hr.client.get("/headcount", params={"zone_id": "zone-a"}, headers=city_leader)).json()["total_filled"] == 1
    other_zone = await hr.client.get("/headcount", params={"zone_id": "zone-b"}, headers=hr.leader)
    assert other_zone.status_code == 403
    plain_staff = await hr.client.get("/headcount", headers=hr.staff_token("someone"))
    assert plain_staff.status_code == 403


async def test_writes_need_the_hr_admin_role_in_the_own_zone(hr, issuer):
    await hr.quota(5)
    for headers in (hr.leader, hr.staff_token("x", "dept-head", department="planning"), issuer.enterprise("91510100MA6DGXQ125")):
        r = await hr.client.post("/departments", json={"code": "x", "name": "x"}, headers=headers)
        assert r.status_code == 403, r.text
    other_zone = await hr.client.put("/quota", params={"zone_id": "zone-b"}, json={"total": 1}, headers=hr.admin)
    assert other_zone.status_code == 403
    unauthenticated = await hr.client.get("/departments")
    assert unauthenticated.status_code == 401

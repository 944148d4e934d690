"""竞聘上岗 and 双向选择: weighted ranking with documented tie-breaking, offers down the ranking when a
candidate declines, acceptance making the appointment (moving an internal candidate), and the
limits that refuse an appointment with the figures."""

from __future__ import annotations

from services.hr.models import Appointment, Candidate

WEIGHTS = {"written": 40, "interview": 40, "performance": 20}


async def opening(hr, position_id: str, weights: dict[str, int] | None = None, posts_to_fill: int = 1):  # type: ignore[no-untyped-def]
    body = {"position_id": position_id, "term_months": 36, "weights": weights or WEIGHTS, "posts_to_fill": posts_to_fill}
    return await hr.call("POST", "/openings", 201, json=body)


async def apply(hr, opening_id: str, name: str, scores: dict[str, int] | None, identity: str = "contract"):  # type: ignore[no-untyped-def]
    person = await hr.person(name, identity)
    candidate = await hr.call("POST", f"/openings/{opening_id}/candidates", 201, json={"staff_id": person["id"]})
    if scores is not None:
        candidate = await hr.call(
            "PUT", f"/openings/{opening_id}/candidates/{candidate['id']}/scores", 200, json={"scores": scores}
        )
    return candidate


async def test_the_ranking_breaks_ties_by_the_heaviest_component_then_the_earlier_application(hr):
    _, position = await hr.department_with_position(allocation=5, posts=1)
    o = await opening(hr, position["id"])
    assert o["tie_break_order"] == ["component:interview", "component:written", "component:performance", "applied_at", "candidate_id"]
    a = await apply(hr, o["id"], "A", {"written": 90, "interview": 70, "performance": 80})  # 80.00
    b = await apply(hr, o["id"], "B", {"written": 70, "interview": 90, "performance": 80})  # 80.00
    c = await apply(hr, o["id"], "C", {"written": 80, "interview": 80, "performance": 80})  # 80.00
    d = await apply(hr, o["id"], "D", {"written": 95, "interview": 95, "performance": 95})  # 95.00
    e = await apply(hr, o["id"], "E", {"written": 99})  # not fully scored
    f = await apply(hr, o["id"], "F", {"written": 60, "interview": 60, "performance": 60})  # applied before G
    g = await apply(hr, o["id"], "G", {"written": 60, "interview": 60, "performance": 60})
    assert a["total"] == 80.0 and e["total"] is None

    ranking = await hr.call("GET", f"/openings/{o['id']}/ranking", 200)
    order = [r["candidate_id"] for r in ranking["ranking"]]
    assert order == [d["id"], b["id"], c["id"], a["id"], f["id"], g["id"]]
    assert [r["rank"] for r in ranking["ranking"]] == [1, 2, 3, 4, 5, 6]
    by_id = {r["candidate_id"]: r for r in ranking["ranking"]}
    assert by_id[d["id"]]["tied_on_total"] is False
    assert by_id[b["id"]]["tied_on_total"] and by_id[b["id"]]["decided_by"] == "component:interview"
    assert by_id[f["id"]]["decided_by"] == "applied_at"
    assert ranking["unscored"] == [e["id"]]

    # The department head of the position's department may read it; other staff may not.
    head = hr.staff_token("head", "dept-head", department="investment")
    assert (await hr.client.get(f"/openings/{o['id']}/ranking", headers=head)).status_code == 200
    assert (await hr.client.get(f"/openings/{o['id']}/ranking", headers=hr.staff_token("nosy"))).status_code == 403


async def test_a_declined_offer_moves_to_the_next_candidate_who_can_accept(hr):
    _, position = await hr.department_with_position(allocation=5, posts=1)
    o = await opening(hr, position["id"])
    first = await apply(hr, o["id"], "第一名", {"written": 95, "interview": 90, "performance": 90})
    second = await apply(hr, o["id"], "第二名", {"written": 85, "interview": 85, "performance": 85})
    third = await apply(hr, o["id"], "第三名", {"written": 70, "interview": 70, "performance": 70})

    offer = await hr.call("POST", f"/openings/{o['id']}/appoint", 201)
    assert offer["candidate"]["id"] == first["id"] and offer["rank"] == 1 and offer["candidate"]["status"] == "offered"
    pending = await hr.call("POST", f"/openings/{o['id']}/appoint", 409)
    assert pending["candidate_id"] == first["id"]

    declined = await hr.call(
        "POST", f"/openings/{o['id']}/candidates/{first['id']}/decline", 200, json={"reason": "个人原因放弃"}
    )
    assert declined["declined"]["status"] == "declined" and declined["declined"]["decline_reason"] == "个人原因放弃"
    assert declined["next_offer"]["candidate"]["id"] == second["id"] and declined["next_offer"]["rank"] == 2

    accepted = await hr.call(
        "POST", f"/openings/{o['id']}/candidates/{second['id']}/accept", 201, json={"term_start": "2025-03-01"}
    )
    appointment = accepted["appointment"]
    assert appointment["staff_id"] == second["staff_id"] and appointment["position_id"] == position["id"]
    assert (appointment["term_start"], appointment["term_end"]) == ("2025-03-01", "2028-02-29")
    assert appointment["opening_id"] == o["id"] and accepted["opening_status"] == "filled"

    candidates = {c["id"]: c["status"] for c in await hr.call("GET", f"/openings/{o['id']}/candidates", 200)}
    assert candidates == {first["id"]: "declined", second["id"]: "appointed", third["id"]: "applied"}
    filled = await hr.call("POST", f"/openings/{o['id']}/appoint", 409)
    assert filled["errors"][0]["code"] == "filled"


async def test_declining_the_last_ranked_candidate_leaves_no_offer(hr):
    _, position = await hr.department_with_position(allocation=5, posts=1)
    o = await opening(hr, position["id"])
    only = await apply(hr, o["id"], "唯一", {"written": 80, "interview": 80, "performance": 80})
    await hr.call("POST", f"/openings/{o['id']}/appoint", 201)
    declined = await hr.call("POST", f"/openings/{o['id']}/candidates/{only['id']}/decline", 200, json={"reason": "另有安排"})
    assert declined["next_offer"] is None and declined["opening_status"] == "exhausted"
    nobody = await hr.call("POST", f"/openings/{o['id']}/appoint", 409)
    assert nobody["errors"][0]["code"] == "ranking_exhausted"


async def test_an_offer_that_would_exceed_the_posts_is_refused_with_the_figures_and_nothing_changes(hr):
    _, position = await hr.department_with_position(allocation=5, posts=1)
    holder = await hr.person("在岗者")
    await hr.appoint(holder["id"], position["id"])
    o = await opening(hr, position["id"])
    candidate = await apply(hr, o["id"], "外部候选人", {"written": 90, "interview": 90, "performance": 90})
    refused = await hr.call("POST", f"/openings/{o['id']}/appoint", 409)
    assert refused["limits"] == ["position_posts"]
    assert refused["figures"]["position"] == {"title": "专员", "posts": 1, "filled": 1}
    statuses = {c["id"]: c["status"] for c in await hr.call("GET", f"/openings/{o['id']}/candidates", 200)}
    assert statuses == {candidate["id"]: "applied"}


async def test_an_internal_candidate_is_transferred_and_their_old_post_freed(hr):
    department, old_position = await hr.department_with_position(allocation=3, posts=2)
    new_position = await hr.position(department["id"], "招商经理", posts=1)
    people = [await hr.person(n, "institution") for n in ("内部一", "内部二")]
    for p in people:
        await hr.appoint(p["id"], old_position["id"])

    o = await opening(hr, new_position["id"])
    outsider = await apply(hr, o["id"], "外部", {"written": 99, "interview": 99, "performance": 99})
    internal = await hr.call("POST", f"/openings/{o['id']}/candidates", 201, json={"staff_id": people[0]["id"]})
    assert internal["source"] == "internal" and outsider["source"] == "external"
    await hr.call("PUT", f"/openings/{o['id']}/candidates/{internal['id']}/scores", 200,
                  json={"scores": {"written": 90, "interview": 90, "performance": 90}})
    await hr.call("POST", f"/openings/{o['id']}/appoint", 201)
    await hr.call("POST", f"/openings/{o['id']}/candidates/{outsider['id']}/decline", 200, json={"reason": "薪酬不合适"})
    accepted = await hr.call("POST", f"/openings/{o['id']}/candidates/{internal['id']}/accept", 201, json={"term_start": "2025-07-01"})
    assert accepted["ended_appointment_id"] is not None
    old = await hr.call("GET", f"/appointments/{accepted['ended_appointment_id']}", 200)
    assert old["status"] == "ended" and old["end_reason"] == "transfer" and old["ended_on"] == "2025-06-30"
    headcount = await hr.call("GET", "/headcount", 200)
    assert headcount["departments"][0]["filled"] == 2  # moved within the department: no extra headcount


async def test_staff_apply_for_themselves_and_answer_only_their_own_offer(hr):
    _, position = await hr.department_with_position(allocation=5, posts=1)
    o = await opening(hr, position["id"])
    me = await hr.person("自荐者", account="self.applicant")
    mine = await hr.call("POST", f"/openings/{o['id']}/candidates", 201, json={}, headers=hr.staff_token("self.applicant"))
    assert mine["staff_id"] == me["id"]
    other = await hr.person("他人")
    for_other = await hr.client.post(
        f"/openings/{o['id']}/candidates", json={"staff_id": other["id"]}, headers=hr.staff_token("self.applicant")
    )
    assert for_other.status_code == 403
    await hr.call("PUT", f"/openings/{o['id']}/candidates/{mine['id']}/scores", 200,
                  json={"scores": {"written": 80, "interview": 80, "performance": 80}})
    await hr.call("POST", f"/openings/{o['id']}/appoint", 201)
    stranger = hr.staff_token("stranger")
    await hr.person("路人", account="stranger")
    assert (await hr.client.post(f"/openings/{o['id']}/candidates/{mine['id']}/accept", headers=stranger)).status_code == 403
    accepted = await hr.client.post(f"/openings/{o['id']}/candidates/{mine['id']}/accept", headers=hr.staff_token("self.applicant"))
    assert accepted.status_code == 201, accepted.text


async def test_opening_and_score_input_is_validated_naming_the_field(hr):
    _, position = await hr.department_with_position(allocation=5, posts=1)
    not_100 = await hr.client.post(
        "/openings", json={"position_id": position["id"], "term_months": 36, "weights": {"written": 50, "interview": 40}},
        headers=hr.admin,
    )
    assert not_100.status_code == 422 and not_100.json()["errors"][0]["field"] == "weights"
    too_many = await hr.client.post(
        "/openings", json={"position_id": position["id"], "term_months": 36, "weights": WEIGHTS, "posts_to_fill": 2},
        headers=hr.admin,
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "posts_to_fill"
    o = await opening(hr, position["id"])
    candidate = await apply(hr, o["id"], "某人", None)
    for scores, field in (({"essay": 80}, "scores.essay"), ({"written": 101}, "scores.written"), ({}, "scores")):
        r = await hr.client.put(
            f"/openings/{o['id']}/candidates/{candidate['id']}/scores", json={"scores": scores}, headers=hr.admin
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (scores, r.text)
    duplicate = await hr.client.post(f"/openings/{o['id']}/candidates", json={"staff_id": candidate["staff_id"]}, headers=hr.admin)
    assert duplicate.status_code == 409
    assert await hr.count(Candidate.__table__) == 1 and await hr.count(Appointment.__table__) == 0

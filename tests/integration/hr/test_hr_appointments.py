"""聘任: one position at a time, posts filled to the edge and not beyond, identity rules on the term,
ending with a reason, and the records each role may read."""

from __future__ import annotations

from chassis.tables import audit_log, outbox_event
from services.hr.models import Appointment


async def test_the_last_post_can_be_filled_and_the_next_appointment_is_refused_with_the_figures(hr):
    _, position = await hr.department_with_position(allocation=5, posts=2)
    first, second, third = await hr.person("一号"), await hr.person("二号"), await hr.person("三号")
    await hr.appoint(first["id"], position["id"])
    last = await hr.appoint(second["id"], position["id"])
    assert last["status"] == "active"

    outbox, audit = await hr.count(outbox_event), await hr.count(audit_log)
    refused = await hr.client.post(
        "/appointments",
        json={"staff_id": third["id"], "position_id": position["id"], "term_start": "2025-01-01", "term_end": "2027-12-31"},
        headers=hr.admin,
    )
    assert refused.status_code == 409
    body = refused.json()
    assert body["limits"] == ["position_posts"]
    assert body["figures"]["position"] == {"title": "专员", "posts": 2, "filled": 2}
    assert body["figures"]["department"] == {"name": "招商部", "allocation": 5, "filled": 2}
    assert body["figures"]["zone"] == {"total_quota": 10, "filled": 2}
    assert "职数 2" in body["detail"]
    assert await hr.count(Appointment.__table__) == 2
    assert (await hr.count(outbox_event), await hr.count(audit_log)) == (outbox, audit)


async def test_a_person_holds_one_position_at_a_time(hr):
    department, position = await hr.department_with_position(allocation=5, posts=2)
    other = await hr.position(department["id"], "招商经理", posts=1)
    person = await hr.person("钱七")
    current = await hr.appoint(person["id"], position["id"])
    refused = await hr.appoint(person["id"], other["id"], expect=409)
    assert refused["errors"][0]["field"] == "staff_id" and refused["current_appointment_id"] == current["id"]

    ended = await hr.call(
        "POST", f"/appointments/{current['id']}/end", 200,
        json={"reason": "transfer", "ended_on": "2025-06-30", "note": "调整到招商经理岗位"},
    )
    assert ended["status"] == "ended" and ended["end_reason"] == "transfer" and ended["end_reason_label"] == "调任"
    again = await hr.call("POST", f"/appointments/{current['id']}/end", 409, json={"reason": "term_end"})
    assert again["errors"][0]["field"] == "appointment_id"
    moved = await hr.appoint(person["id"], other["id"], term_start="2025-07-01")
    assert moved["position_title"] == "招商经理"


async def test_contract_staff_are_not_appointed_beyond_their_contract_and_locked_identity_keeps_its_establishment(hr):
    _, position = await hr.department_with_position(allocation=5, posts=3)
    contract = await hr.person("合同制", "contract", contract_start="2025-01-01", contract_end="2026-12-31")
    beyond = await hr.appoint(contract["id"], position["id"], term_end="2027-01-01", expect=409)
    assert beyond["limits"] == ["contract_term"] and beyond["errors"][0]["field"] == "term_end"
    assert beyond["figures"]["contract_end"] == "2026-12-31"
    within = await hr.appoint(contract["id"], position["id"], term_end="2026-12-31")
    assert within["identity"] == "contract"

    seconded = await hr.person("派驻", "seconded", secondment_end="2025-12-31")
    assert (await hr.appoint(seconded["id"], position["id"], expect=409))["limits"] == ["secondment_term"]

    locked = await hr.person("锁定", "institution", original_establishment="双流区投促中心（事业编制）")
    record = await hr.appoint(locked["id"], position["id"])
    assert record["original_establishment"] == "双流区投促中心（事业编制）" and record["identity_label"] == "事业人员（锁定身份）"

    fresh = await hr.person("新人")
    backwards = await hr.appoint(fresh["id"], position["id"], term_start="2026-01-01", term_end="2025-01-01", expect=422)
    assert backwards["errors"][0]["field"] == "term_end"


async def test_termination_after_evaluation_needs_a_failing_or_bottom_result(hr):
    _, position = await hr.department_with_position(allocation=5, posts=2)
    person = await hr.person("孙八")
    appointment = await hr.appoint(person["id"], position["id"])
    refused = await hr.call("POST", f"/appointments/{appointment['id']}/end", 409, json={"reason": "evaluation"})
    assert refused["errors"][0]["field"] == "reason" and refused["latest_grade"] is None
    bad_reason = await hr.call("POST", f"/appointments/{appointment['id']}/end", 422, json={"reason": "bored"})
    assert bad_reason["errors"][0]["field"] == "reason"
    assert (await hr.call("GET", f"/appointments/{appointment['id']}", 200))["status"] == "active"


async def test_appointments_are_read_by_hr_the_department_head_and_the_person_only(hr):
    department, position = await hr.department_with_position(allocation=5, posts=2, code="planning")
    person = await hr.person("周九", account="zhou.jiu")
    appointment = await hr.appoint(person["id"], position["id"])
    path = f"/appointments/{appointment['id']}"
    assert (await hr.client.get(path, headers=hr.staff_token("zhou.jiu"))).status_code == 200
    assert (await hr.client.get(path, headers=hr.staff_token("h", "dept-head", department="planning"))).status_code == 200
    assert (await hr.client.get(path, headers=hr.staff_token("h2", "dept-head", department="strategy"))).status_code == 404
    assert (await hr.client.get(path, headers=hr.staff_token("someone"))).status_code == 404
    own = (await hr.client.get("/appointments", headers=hr.staff_token("zhou.jiu"))).json()
    assert [a["id"] for a in own["items"]] == [appointment["id"]]
    assert (await hr.client.get("/appointments", headers=hr.staff_token("someone"))).json()["total"] == 0
    filtered = (await hr.client.get("/appointments", params={"department_id": department["id"], "status": "active"}, headers=hr.admin)).json()
    assert filtered["total"] == 1

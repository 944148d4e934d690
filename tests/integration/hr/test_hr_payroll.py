"""以岗定薪 and 工资总控: pay from the grade's band and the evaluation; the year's payroll may reach the
cap but not exceed it — over it the run is refused with the figures and nothing is saved."""

from __future__ import annotations

from chassis.tables import outbox_event
from services.hr.models import PayrollLine, PayrollRun


async def one_person_payroll(hr, *, reference: str, multiple: str = "1.50", low: str = "1.50", high: str = "1.50"):  # type: ignore[no-untyped-def]
    """A zone with a quota of one, one person paid a flat 1.50 万元 a month, and the year's policy."""
    await hr.quota(1)
    department = await hr.department("general", "综合管理部", 1)
    await hr.band("P2", low=low, high=high, base="4.00")
    position = await hr.position(department["id"], "综合专员")
    person = await hr.person("唯一员工")
    await hr.appoint(person["id"], position["id"], term_start="2025-01-01", term_end="2027-12-31")
    policy = await hr.call(
        "PUT", "/payroll-policies/2025", 200,
        json={"reference_average_wan": reference, "multiple": multiple, "basis": "双流区机关事业单位人员平均薪酬（seed 004）"},
    )
    return person, policy


async def test_the_year_may_reach_the_cap_exactly_and_one_month_more_is_refused_with_the_figures(hr):
    _, policy = await one_person_payroll(hr, reference="2.00")  # cap = 1.5 × 2.00 × 1 = 3.00
    assert policy["annual_cap_wan"] == 3.0 and policy["cap_headcount"] == 1 and policy["source"] == "policy"

    january = await hr.call("POST", "/payroll/2025-01", 201)
    assert january["total_wan"] == 1.5 and january["year_to_date_wan"] == 1.5 and january["headcount_paid"] == 1
    february = await hr.call("POST", "/payroll/2025-02", 201)
    assert february["year_to_date_wan"] == 3.0  # exactly the cap
    recomputed = await hr.call("POST", "/payroll/2025-02", 201)  # a recomputation replaces, never adds
    assert recomputed["year_to_date_wan"] == 3.0

    runs, lines, events = await hr.count(PayrollRun.__table__), await hr.count(PayrollLine.__table__), await hr.count(outbox_event)
    march = await hr.client.post("/payroll/2025-03", headers=hr.admin)
    assert march.status_code == 409
    assert march.headers["content-type"] == "application/problem+json"
    body = march.json()
    assert body["limits"] == ["payroll_cap"]
    assert body["figures"] == {
        "annual_cap_wan": 3.0, "cap_multiple": 1.5, "reference_average_wan": 2.0, "cap_headcount": 1,
        "paid_earlier_this_year_wan": 3.0, "this_run_wan": 1.5, "year_to_date_wan": 4.5, "excess_wan": 1.5,
        "period": "2025-03", "policy_source": "policy", "headcount_paid": 1,
    }
    assert "工资总控" in body["detail"]
    assert (await hr.count(PayrollRun.__table__), await hr.count(PayrollLine.__table__), await hr.count(outbox_event)) == (
        runs, lines, events,
    )
    assert (await hr.client.get("/payroll/2025-03", headers=hr.admin)).status_code == 404
    # Another year starts from nothing.
    await hr.call("PUT", "/payroll-policies/2026", 200, json={"reference_average_wan": "2.00", "multiple": "1.50"})
    assert (await hr.call("POST", "/payroll/2026-01", 201))["year_to_date_wan"] == 1.5


async def test_the_cap_multiple_stays_within_seed_004s_one_and_a_half_to_two(hr):
    for multiple, status in (("1.49", 422), ("1.50", 200), ("2.00", 200), ("2.01", 422)):
        r = await hr.client.put("/payroll-policies/2025", json={"reference_average_wan": "12.00", "multiple": multiple}, headers=hr.admin)
        assert r.status_code == status, (multiple, r.text)
        if status == 422:
            assert r.json()["errors"][0]["field"] == "multiple"
    defaults = await hr.call("GET", "/payroll-policies/2024", 200)
    assert defaults["source"] == "settings" and defaults["multiple"] == 1.8 and defaults["reference_average_wan"] == 12.0


async def test_pay_comes_from_the_band_placed_by_the_evaluation_plus_the_cycles_performance_pay(hr):
    person, _ = await one_person_payroll(hr, reference="12.00", low="1.00", high="2.00")
    # No evaluation yet: mid-band.
    january = await hr.call("POST", "/payroll/2025-01", 201)
    assert january["lines"][0]["post_pay_wan"] == 1.5 and january["lines"][0]["evaluation_grade"] is None

    cycle = await hr.call(
        "POST", "/evaluation-cycles", 201,
        json={"kind": "quarter", "year": 2025, "quarter": 1,
              "kpis": {"professional": [{"code": "output", "name": "专业产出", "weight": 100}]}},
    )
    await hr.call("PUT", f"/evaluation-cycles/{cycle['id']}/scores/{person['id']}", 200, json={"scores": {"output": 92}})
    final = await hr.call("POST", f"/evaluation-cycles/{cycle['id']}/finalize", 200)
    performance = final["results"][0]["performance_pay_wan"]
    assert performance == 1.2  # 4.00 / 4 × 1.0 × 1.0 × 1.2

    april = await hr.call("POST", "/payroll/2025-04", 201)  # the cycle's pay period
    [line] = april["lines"]
    assert line["evaluation_grade"] == "excellent" and line["band_position"] == 1.0
    assert line["post_pay_wan"] == 2.0 and line["performance_pay_wan"] == 1.2 and line["total_wan"] == 3.2
    may = await hr.call("POST", "/payroll/2025-05", 201)
    assert may["lines"][0]["performance_pay_wan"] == 0.0 and may["total_wan"] == 2.0


async def test_pay_is_prorated_when_an_appointment_ends_within_the_month(hr):
    person, _ = await one_person_payroll(hr, reference="12.00", low="1.20", high="1.20")
    appointment = (await hr.call("GET", "/appointments", 200, params={"staff_id": person["id"]}))["items"][0]
    await hr.call("POST", f"/appointments/{appointment['id']}/end", 200, json={"reason": "resignation", "ended_on": "2025-06-15"})
    june = await hr.call("POST", "/payroll/2025-06", 201)
    assert june["lines"][0]["days_served"] == 15 and june["lines"][0]["post_pay_wan"] == 0.6
    july = await hr.call("POST", "/payroll/2025-07", 201)
    assert july["lines"] == [] and july["total_wan"] == 0.0


async def test_payroll_readers_and_input(hr):
    await one_person_payroll(hr, reference="12.00")
    await hr.call("POST", "/payroll/2025-01", 201)
    bad = await hr.client.post("/payroll/2025-13", headers=hr.admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"
    leader_view = await hr.call("GET", "/payroll/2025-01", 200, headers=hr.leader)
    assert leader_view["total_wan"] == 1.5 and leader_view["lines"] == []
    head_view = await hr.call("GET", "/payroll/2025-01", 200, headers=hr.staff_token("h", "dept-head", department="general"))
    assert len(head_view["lines"]) == 1
    assert (await hr.client.get("/payroll/2025-01", headers=hr.staff_token("plain"))).status_code == 403
    assert (await hr.client.post("/payroll/2025-02", headers=hr.leader)).status_code == 403

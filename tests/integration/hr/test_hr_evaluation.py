"""绩效考核: KPI weights per category, fault-tolerance exemptions changing the weighted score, grades,
末位 per department, and performance pay = base × zone × department × individual coefficient."""

from __future__ import annotations

from services.hr.models import EvaluationEntry, Exemption

KPIS = {
    "professional": [
        {"code": "output", "name": "专业产出", "weight": 60},
        {"code": "service", "name": "企业服务评价", "weight": 25},
        {"code": "learning", "name": "学习创新", "weight": 15},
    ],
    "management": [{"code": "goals", "name": "目标任务", "weight": 100}],
}


async def cycle(hr, **extra):  # type: ignore[no-untyped-def]
    body = {"kind": "quarter", "year": 2025, "quarter": 1, "kpis": KPIS, **extra}
    return await hr.call("POST", "/evaluation-cycles", 201, json=body)


async def staffed(hr, names, *, position=None, department_code="investment"):  # type: ignore[no-untyped-def]
    if position is None:
        _, position = await hr.department_with_position(allocation=10, posts=len(names), code=department_code)
    out = []
    for name in names:
        person = await hr.person(name)
        await hr.appoint(person["id"], position["id"])
        out.append(person)
    return out


async def score(hr, cycle_id, staff_id, **scores):  # type: ignore[no-untyped-def]
    return await hr.call("PUT", f"/evaluation-cycles/{cycle_id}/scores/{staff_id}", 200, json={"scores": scores})


async def test_an_exemption_removes_the_item_and_renormalizes_the_remaining_weights(hr):
    [person] = await staffed(hr, ["容错对象"])
    c = await cycle(hr)
    assert c["period"] == "2025Q1" and c["pay_period"] == "2025-04"
    before = await score(hr, c["id"], person["id"], output=90, service=40, learning=80)
    assert before["score"] == 76.0 and before["exempt_items"] == []  # (90·60 + 40·25 + 80·15) / 100

    exemption = await hr.call(
        "POST", f"/evaluation-cycles/{c['id']}/exemptions", 201,
        json={"staff_id": person["id"], "kpi_code": "service", "reason": "先行先试的审批改革未达预期，经集体研究予以容错"},
    )
    assert exemption["approved_by"] == "hr.admin" and exemption["reason"].startswith("先行先试")
    after = await hr.call("GET", f"/evaluation-cycles/{c['id']}/results", 200)
    assert after["items"][0]["score"] == 88.0  # (90·60 + 80·15) / 75
    assert after["items"][0]["exempt_items"] == ["service"]

    final = await hr.call("POST", f"/evaluation-cycles/{c['id']}/finalize", 200)
    [result] = final["results"]
    assert result["score"] == 88.0 and result["grade"] == "good" and result["grade_label"] == "良好"
    # Without the exemption 76 would have been 合格.


async def test_exemption_rules_keep_one_scored_item_and_name_the_field(hr):
    [person] = await staffed(hr, ["某人"])
    c = await cycle(hr)
    path = f"/evaluation-cycles/{c['id']}/exemptions"
    unknown = await hr.client.post(path, json={"staff_id": person["id"], "kpi_code": "goals", "reason": "不适用"}, headers=hr.admin)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "kpi_code"
    no_reason = await hr.client.post(path, json={"staff_id": person["id"], "kpi_code": "output", "reason": ""}, headers=hr.admin)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    for code in ("output", "service"):
        await hr.call("POST", path, 201, json={"staff_id": person["id"], "kpi_code": code, "reason": "容错"})
    last = await hr.client.post(path, json={"staff_id": person["id"], "kpi_code": "learning", "reason": "容错"}, headers=hr.admin)
    assert last.status_code == 409 and last.json()["errors"][0]["code"] == "all_exempt"
    again = await hr.client.post(path, json={"staff_id": person["id"], "kpi_code": "output", "reason": "容错"}, headers=hr.admin)
    assert again.status_code == 409
    assert await hr.count(Exemption.__table__) == 2


async def test_coefficients_multiply_base_zone_department_and_individual(hr):
    department, position = await hr.department_with_position(allocation=10, posts=3)
    await hr.call("PATCH", f"/departments/{department['id']}", 200, json={"coefficient": "1.250"})
    excellent, good, failing = await staffed(hr, ["优秀者", "良好者", "不合格者"], position=position)
    c = await cycle(hr, individual_coefficients={"excellent": 1.3, "good": 1.0, "pass": 0.8, "fail": 0.5}, bottom_share=0)
    await score(hr, c["id"], excellent["id"], output=95, service=95, learning=95)
    await score(hr, c["id"], good["id"], output=85, service=80, learning=80)
    await score(hr, c["id"], failing["id"], output=50, service=50, learning=50)

    final = await hr.call("POST", f"/evaluation-cycles/{c['id']}/finalize", 200)
    assert final["cycle"]["zone_coefficient"] == 1.0 and final["cycle"]["zone_coefficient_source"] == "default"
    by_id = {r["staff_id"]: r for r in final["results"]}
    # The band's annual base is 4.00 万元, a quarter of it per quarterly cycle.
    for person, grade, individual, pay in (
        (excellent, "excellent", 1.3, 1.63),  # 1.00 × 1.0 × 1.25 × 1.3 = 1.625
        (good, "good", 1.0, 1.25),
        (failing, "fail", 0.5, 0.63),  # 0.625
    ):
        r = by_id[person["id"]]
        assert (r["grade"], r["individual_coefficient"], r["performance_pay_wan"]) == (grade, individual, pay), r
        assert (r["base_pay_wan"], r["zone_coefficient"], r["department_coefficient"]) == (1.0, 1.0, 1.25)
    assert final["grade_counts"] == {"excellent": 1, "good": 1, "pass": 0, "fail": 1}


async def test_the_bottom_share_is_flagged_per_department(hr):
    await hr.quota(20)
    await hr.band("P2")
    first = await hr.department("investment", "招商部", 5)
    second = await hr.department("planning", "规划建设部", 5)
    p1 = await hr.position(first["id"], posts=3)
    p2 = await hr.position(second["id"], posts=2)
    a = await staffed(hr, ["招商甲", "招商乙", "招商丙"], position=p1)
    b = await staffed(hr, ["规划甲", "规划乙"], position=p2)
    c = await cycle(hr, bottom_share=0.34, thresholds={"excellent": 95, "good": 85, "pass": 50})
    for person, value in zip(a + b, (90, 70, 80, 60, 99), strict=True):
        await score(hr, c["id"], person["id"], output=value, service=value, learning=value)
    final = await hr.call("POST", f"/evaluation-cycles/{c['id']}/finalize", 200)
    flagged = {r["staff_id"] for r in final["results"] if r["bottom_flag"]}
    assert flagged == {a[1]["id"]}  # 3 × 0.34 → 1 in 招商部; 2 × 0.34 → 0 in 规划建设部
    grades = {r["staff_id"]: r["grade"] for r in final["results"]}
    assert grades[b[1]["id"]] == "excellent" and grades[a[0]["id"]] == "good" and grades[b[0]["id"]] == "pass"

    # A 末位 result supports termination after evaluation.
    appointment = (await hr.call("GET", "/appointments", 200, params={"staff_id": a[1]["id"]}))["items"][0]
    ended = await hr.call("POST", f"/appointments/{appointment['id']}/end", 200, json={"reason": "evaluation"})
    assert ended["end_reason_label"] == "考核不合格解聘"


async def test_finalizing_needs_complete_scores_and_freezes_the_cycle(hr):
    first, second = await staffed(hr, ["完整", "不完整"])
    c = await cycle(hr)
    await score(hr, c["id"], first["id"], output=80, service=80, learning=80)
    await score(hr, c["id"], second["id"], output=80)
    incomplete = await hr.call("POST", f"/evaluation-cycles/{c['id']}/finalize", 409)
    assert incomplete["missing"] == [{"staff_id": second["id"], "kpi_codes": ["learning", "service"]}]
    await score(hr, c["id"], second["id"], service=70, learning=60)
    await hr.call("POST", f"/evaluation-cycles/{c['id']}/finalize", 200)
    frozen = await hr.client.put(
        f"/evaluation-cycles/{c['id']}/scores/{first['id']}", json={"scores": {"output": 100}}, headers=hr.admin
    )
    assert frozen.status_code == 409
    assert (await hr.client.post(f"/evaluation-cycles/{c['id']}/finalize", headers=hr.admin)).status_code == 409


async def test_cycle_input_is_validated_naming_the_field(hr):
    bad_weights = await hr.client.post(
        "/evaluation-cycles",
        json={"kind": "quarter", "year": 2025, "quarter": 2,
              "kpis": {"professional": [{"code": "a", "name": "A", "weight": 50}, {"code": "b", "name": "B", "weight": 40}]}},
        headers=hr.admin,
    )
    assert bad_weights.status_code == 422 and bad_weights.json()["errors"][0]["field"] == "kpis.professional"
    year_with_quarter = await hr.client.post(
        "/evaluation-cycles", json={"kind": "year", "year": 2025, "quarter": 2, "kpis": KPIS}, headers=hr.admin
    )
    assert year_with_quarter.status_code == 422 and year_with_quarter.json()["errors"][0]["field"] == "quarter"
    thresholds = await hr.client.post(
        "/evaluation-cycles",
        json={"kind": "year", "year": 2025, "kpis": KPIS, "thresholds": {"excellent": 70, "good": 80, "pass": 60}},
        headers=hr.admin,
    )
    assert thresholds.status_code == 422 and thresholds.json()["errors"][0]["field"] == "thresholds"
    await cycle(hr)
    duplicate = await hr.client.post("/evaluation-cycles", json={"kind": "quarter", "year": 2025, "quarter": 1, "kpis": KPIS}, headers=hr.admin)
    assert duplicate.status_code == 409

    outsider = await hr.person("未聘人员")
    c = (await hr.call("GET", "/evaluation-cycles", 200))["items"][0]
    not_appointed = await hr.client.put(
        f"/evaluation-cycles/{c['id']}/scores/{outsider['id']}", json={"scores": {"output": 80}}, headers=hr.admin
    )
    assert not_appointed.status_code == 409 and not_appointed.json()["errors"][0]["field"] == "staff_id"
    assert await hr.count(EvaluationEntry.__table__) == 0


async def test_results_are_read_by_hr_the_department_head_and_the_person(hr):
    await hr.quota(20)
    await hr.band("P2")
    planning = await hr.department("planning", "规划建设部", 5)
    strategy = await hr.department("strategy", "战略研究部", 5)
    p1, p2 = await hr.position(planning["id"]), await hr.position(strategy["id"])
    planner = await hr.person("规划师", account="planner")
    researcher = await hr.person("研究员", account="researcher")
    await hr.appoint(planner["id"], p1["id"])
    await hr.appoint(researcher["id"], p2["id"])
    c = await cycle(hr)
    for person in (planner, researcher):
        await score(hr, c["id"], person["id"], output=80, service=80, learning=80)
    path = f"/evaluation-cycles/{c['id']}/results"
    seen = {
        "hr": {r["staff_id"] for r in (await hr.call("GET", path, 200))["items"]},
        "head": {r["staff_id"] for r in (await hr.call("GET", path, 200, headers=hr.staff_token("h", "dept-head", department="planning")))["items"]},
        "self": {r["staff_id"] for r in (await hr.call("GET", path, 200, headers=hr.staff_token("researcher")))["items"]},
        "other": {r["staff_id"] for r in (await hr.call("GET", path, 200, headers=hr.staff_token("nobody")))["items"]},
    }
    assert seen == {"hr": {planner["id"], researcher["id"]}, "head": {planner["id"]}, "self": {researcher["id"]}, "other": set()}

"""Coordination issues (开发区吹哨、部门报到): raised to a department with a due date, acknowledged and
resolved by that department, escalated when stuck; leaders list the overdue ones.

The department is recognised by its code (``department_code``, HR's code, the ``dept`` claim of its
staff's tokens) within the issue's zone; its name (``department``) is only shown."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from chassis.tables import outbox_event
from services.investment.access import today as shanghai_today
from services.investment.models import CoordinationIssue

DEPT = "芯谷规划建设局"  # the name shown
DEPT_CODE = "planning"  # HR's code of that department: its staff's tokens carry dept=planning


async def raise_issue(inv, project_id: str, due: date | None = None, zone: str = "zone-a",  # type: ignore[no-untyped-def]
                      department_code: str | None = DEPT_CODE, department: str = DEPT):
    body: dict[str, Any] = {
        "title": "施工临时用电接入滞后", "department": department,
        "due_date": (due or shanghai_today() + timedelta(days=5)).isoformat(), "description": "供电方案尚未批复",
    }
    if department_code is not None:
        body["department_code"] = department_code
    r = await inv.client.post(f"/projects/{project_id}/issues", json=body, headers=inv.staff(zone))
    assert r.status_code == 201, r.text
    return r.json()


async def event_data(inv, event_type: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    async with inv.svc.ctx.db.session() as s:
        rows = (await s.execute(
            select(outbox_event.c.data).where(outbox_event.c.type == event_type).order_by(outbox_event.c.seq)
        )).scalars().all()
    return [json.loads(r) if isinstance(r, str) else r for r in rows]


async def make_overdue(inv, issue_id: str, days: int = 3) -> None:  # type: ignore[no-untyped-def]
    async with inv.svc.ctx.db.session() as s:
        row = await s.get(CoordinationIssue, issue_id)
        row.due_date = shanghai_today() - timedelta(days=days)
        await s.commit()


async def test_an_issue_is_raised_acknowledged_by_the_department_and_resolved(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    assert issue["status"] == "open" and issue["status_label"] == "待报到"
    assert (issue["department"], issue["department_code"]) == (DEPT, DEPT_CODE)
    assert issue["allowed_actions"] == ["acknowledge", "resolve", "escalate"]
    # A member of the planning department: no role at all, only the department's code in the token.
    dept = inv.staff(roles=(), dept=DEPT_CODE, subject="xingu.planning")
    ack = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=dept)
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged" and ack.json()["acknowledged_at"] is not None
    assert ack.json()["acknowledged_by"] == "xingu.planning"
    done = await inv.client.post(f"/issues/{issue['id']}/resolve", json={"resolution": "供电方案已批复"}, headers=dept)
    assert done.status_code == 200
    assert done.json()["status"] == "resolved" and done.json()["allowed_actions"] == []
    assert done.json()["resolved_by"] == "xingu.planning" and done.json()["department_code"] == DEPT_CODE
    again = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=dept)
    assert again.status_code == 409
    assert again.json()["current_status"] == "resolved" and again.json()["allowed_actions"] == []
    assert await inv.event_types() == [
        "zone.investment.project.created.v1", "zone.investment.issue.raised.v1", "zone.investment.issue.resolved.v1",
    ]
    async with inv.svc.ctx.db.session() as s:
        keys = (await s.execute(select(outbox_event.c.key).where(outbox_event.c.type.like("%issue%")))).scalars().all()
    assert set(keys) == {project["id"]}
    assert await inv.audit_actions(issue["id"]) == ["issue.raise", "issue.acknowledge", "issue.resolve"]


async def test_an_issue_is_escalated_with_a_reason_up_to_the_configured_level(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    leader = inv.staff(roles=("leader",))
    for level in (1, 2, 3):
        r = await inv.client.post(
            f"/issues/{issue['id']}/escalate", json={"escalated_to": f"第{level}级", "reason": "部门无法协调"}, headers=leader
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "escalated" and r.json()["escalation_level"] == level
    too_far = await inv.client.post(
        f"/issues/{issue['id']}/escalate", json={"escalated_to": "市政府", "reason": "仍未解决"}, headers=leader
    )
    assert too_far.status_code == 409
    missing_reason = await inv.client.post(f"/issues/{issue['id']}/escalate", json={"escalated_to": "x"}, headers=leader)
    assert missing_reason.status_code == 422 and missing_reason.json()["errors"][0]["field"] == "reason"
    assert (await inv.event_types()).count("zone.investment.issue.escalated.v1") == 3


async def test_the_department_escalates_its_own_issue_and_the_events_carry_its_code(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    dept = inv.staff(roles=(), dept=DEPT_CODE)
    up = await inv.client.post(
        f"/issues/{issue['id']}/escalate", json={"escalated_to": "分管领导", "reason": "需区级协调供电指标"}, headers=dept
    )
    assert up.status_code == 200, up.text
    assert up.json()["status"] == "escalated"
    assert (await inv.client.post(f"/issues/{issue['id']}/resolve", json={"resolution": "已协调"}, headers=dept)).status_code == 200
    for event_type in ("raised", "escalated", "resolved"):
        [data] = await event_data(inv, f"zone.investment.issue.{event_type}.v1")
        assert (data["department"], data["department_code"]) == (DEPT, DEPT_CODE), event_type


async def test_staff_of_another_department_are_refused_with_the_responsible_department_named(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    stranger = inv.staff(roles=("approvals",), dept="approvals")
    r = await inv.client.post(f"/issues/{issue['id']}/resolve", json={"resolution": "x"}, headers=stranger)
    assert r.status_code == 403
    problem = r.json()
    assert problem["detail"] == (
        "只有招商人员或责任部门「芯谷规划建设局」（部门代码 planning）的工作人员可解决此事项（您的部门代码为 approvals）"
    )
    assert problem["department_code"] == DEPT_CODE
    ack = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=stranger)
    assert ack.status_code == 403 and "报到" in ack.json()["detail"]
    # The department's name is shown, never matched: a token carrying the name instead of the code is refused.
    by_name = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=inv.staff(roles=(), dept=DEPT))
    assert by_name.status_code == 403
    # Codes are compared exactly, as HR issues them.
    by_case = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=inv.staff(roles=(), dept="Planning"))
    assert by_case.status_code == 403
    # A leader without a department may escalate, not acknowledge.
    leader = inv.staff(roles=("leader",))
    refused = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=leader)
    assert refused.status_code == 403 and "您的账户未归属部门" in refused.json()["detail"]
    # Acting on an issue does not make the department a raiser.
    raise_by_dept = await inv.client.post(
        f"/projects/{project['id']}/issues",
        json={"title": "x", "department": DEPT, "department_code": DEPT_CODE, "due_date": "2099-01-01"},
        headers=inv.staff(roles=(), dept=DEPT_CODE),
    )
    assert raise_by_dept.status_code == 403
    shown = (await inv.client.get(f"/issues/{issue['id']}", headers=stranger)).json()
    assert shown["status"] == "open" and shown["acknowledged_by"] is None
    assert await inv.audit_actions(issue["id"]) == ["issue.raise"]


async def test_the_same_department_code_in_another_zone_is_not_the_responsible_department(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    # zone-b has a planning department too; its staff do not see zone-a's records at all.
    other_zone = inv.staff("zone-b", roles=(), dept=DEPT_CODE)
    r = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=other_zone)
    assert r.status_code == 404
    resolve = await inv.client.post(f"/issues/{issue['id']}/resolve", json={"resolution": "x"}, headers=other_zone)
    assert resolve.status_code == 404
    # A token with a department but no zone (the gateway never issues one) is not any zone's department.
    zoneless = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=inv.staff(None, roles=(), dept=DEPT_CODE))
    assert zoneless.status_code == 403
    assert (await inv.client.get(f"/issues/{issue['id']}", headers=inv.leader())).json()["status"] == "open"


async def test_an_issue_without_a_department_code_is_acted_on_by_investment_staff_only(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"], department_code=None, department="双流区供电公司")
    assert issue["department_code"] is None
    dept = inv.staff(roles=(), dept=DEPT_CODE)
    refused = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=dept)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "此事项未指定责任部门代码，只有招商人员可报到"
    by_name = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=inv.staff(roles=(), dept="双流区供电公司"))
    assert by_name.status_code == 403
    ack = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=inv.staff())
    assert ack.status_code == 200, ack.text
    up = await inv.client.post(
        f"/issues/{issue['id']}/escalate", json={"escalated_to": "分管领导", "reason": "供电公司未回复"},
        headers=inv.staff(roles=("leader",)),
    )
    assert up.status_code == 200, up.text
    [raised] = await event_data(inv, "zone.investment.issue.raised.v1")
    assert "department_code" in raised and raised["department_code"] is None


async def test_issues_are_listed_by_department_code_and_a_department_lists_its_own(inv):
    a = await inv.project(name="A 区项目")
    b = await inv.project(zone="zone-b", name="B 区项目")
    planning = await raise_issue(inv, a["id"])
    await raise_issue(inv, a["id"], department_code="approvals", department="芯谷政务服务部")
    await raise_issue(inv, a["id"], department_code=None, department="双流区供电公司")
    await raise_issue(inv, b["id"], zone="zone-b")  # zone-b's own planning department

    dept = inv.staff(roles=(), dept=DEPT_CODE)
    mine = (await inv.client.get(f"/issues?department_code={DEPT_CODE}", headers=dept)).json()
    assert [i["id"] for i in mine["items"]] == [planning["id"]] and mine["total"] == 1
    everything = (await inv.client.get("/issues", headers=dept)).json()
    assert everything["total"] == 3  # every staff member reads the zone's issues; the code only filters
    city = (await inv.client.get(f"/issues?department_code={DEPT_CODE}", headers=inv.leader())).json()
    assert sorted(i["project_name"] for i in city["items"]) == ["A 区项目", "B 区项目"]
    combined = (await inv.client.get(f"/issues?department_code={DEPT_CODE}&status=resolved", headers=dept)).json()
    assert combined["total"] == 0
    nobody = (await inv.client.get("/issues?department_code=enterprise", headers=dept)).json()
    assert nobody["total"] == 0
    blank = await inv.client.get("/issues?department_code=", headers=dept)
    assert blank.status_code == 200 and blank.json()["total"] == 3


async def test_an_invalid_department_code_is_refused_naming_the_field(inv):
    project = await inv.project()
    for bad in ("规划建设部", "plan ning", "-planning", "planning!", "p" * 33, ""):
        r = await inv.client.post(
            f"/projects/{project['id']}/issues",
            json={"title": "x", "department": DEPT, "department_code": bad, "due_date": "2099-01-01"},
            headers=inv.staff(),
        )
        assert r.status_code == 422, (bad, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["department_code"], (bad, r.json())
    listed = await inv.client.get("/issues", params={"department_code": "规划"}, headers=inv.staff())
    assert listed.status_code == 422 and listed.json()["errors"][0]["field"] == "department_code"
    assert await inv.count(CoordinationIssue) == 0
    # HR's codes as HR accepts them (letters, digits, - and _, up to 32), surrounding spaces trimmed.
    for good, stored in ((" planning ", "planning"), ("Dept_02-a", "Dept_02-a"), ("p" * 32, "p" * 32)):
        issue = await raise_issue(inv, project["id"], department_code=good)
        assert issue["department_code"] == stored


async def test_a_due_date_in_the_past_is_refused(inv):
    project = await inv.project()
    r = await inv.client.post(
        f"/projects/{project['id']}/issues",
        json={"title": "x", "department": DEPT, "due_date": (shanghai_today() - timedelta(days=1)).isoformat()},
        headers=inv.staff(),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "due_date"
    assert await inv.count(CoordinationIssue) == 0


async def test_leaders_list_overdue_issues_across_zones_and_a_zone_sees_its_own(inv):
    a = await inv.project(name="A 区项目")
    b = await inv.project(zone="zone-b", name="B 区项目")
    late_a = await raise_issue(inv, a["id"])
    await make_overdue(inv, late_a["id"], days=4)
    await raise_issue(inv, a["id"])  # in time
    late_b = await raise_issue(inv, b["id"], zone="zone-b")
    await make_overdue(inv, late_b["id"], days=1)
    resolved_late = await raise_issue(inv, b["id"], zone="zone-b")
    await inv.client.post(f"/issues/{resolved_late['id']}/resolve", json={"resolution": "已解决"}, headers=inv.staff("zone-b"))
    await make_overdue(inv, resolved_late["id"], days=2)  # resolved: never overdue

    city = (await inv.client.get("/issues?overdue=true", headers=inv.leader())).json()
    assert [(i["project_name"], i["days_overdue"]) for i in city["items"]] == [("A 区项目", 4), ("B 区项目", 1)]
    assert all(i["overdue"] for i in city["items"])
    zone_a = (await inv.client.get("/issues?overdue=true", headers=inv.staff(roles=("leader",)))).json()
    assert [i["id"] for i in zone_a["items"]] == [late_a["id"]]
    in_time = (await inv.client.get("/issues?overdue=false", headers=inv.leader())).json()
    assert in_time["total"] == 2
    assert (await inv.client.get("/issues?status=resolved&zone_id=zone-b", headers=inv.leader())).json()["total"] == 1
    escalated = await inv.client.post(
        f"/issues/{late_a['id']}/escalate", json={"escalated_to": "分管领导", "reason": "超期未办"}, headers=inv.staff()
    )
    async with inv.svc.ctx.db.session() as s:
        data = (await s.execute(select(outbox_event.c.data).where(
            outbox_event.c.type == "zone.investment.issue.escalated.v1"))).scalar_one()
    assert escalated.status_code == 200 and '"overdue":true' in data

"""Coordination issues (开发区吹哨、部门报到): raised to a department with a due date, acknowledged and
resolved by that department, escalated when stuck; leaders list the overdue ones."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from chassis.tables import outbox_event
from services.investment.models import CoordinationIssue

DEPT = "规划建设局"


async def raise_issue(inv, project_id: str, due: date | None = None, zone: str = "zone-a"):  # type: ignore[no-untyped-def]
    r = await inv.client.post(
        f"/projects/{project_id}/issues",
        json={"title": "施工临时用电接入滞后", "department": DEPT, "due_date": (due or date.today() + timedelta(days=5)).isoformat(),
              "description": "供电方案尚未批复"},
        headers=inv.staff(zone),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def make_overdue(inv, issue_id: str, days: int = 3) -> None:  # type: ignore[no-untyped-def]
    async with inv.svc.ctx.db.session() as s:
        row = await s.get(CoordinationIssue, issue_id)
        row.due_date = date.today() - timedelta(days=days)
        await s.commit()


async def test_an_issue_is_raised_acknowledged_by_the_department_and_resolved(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    assert issue["status"] == "open" and issue["status_label"] == "待报到"
    assert issue["allowed_actions"] == ["acknowledge", "resolve", "escalate"]
    dept = inv.staff(roles=(), dept=DEPT)
    ack = await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=dept)
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged" and ack.json()["acknowledged_at"] is not None
    done = await inv.client.post(f"/issues/{issue['id']}/resolve", json={"resolution": "供电方案已批复"}, headers=dept)
    assert done.status_code == 200
    assert done.json()["status"] == "resolved" and done.json()["allowed_actions"] == []
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


async def test_staff_of_another_department_without_the_investment_role_cannot_act(inv):
    project = await inv.project()
    issue = await raise_issue(inv, project["id"])
    stranger = inv.staff(roles=("approvals",), dept="行政审批局")
    r = await inv.client.post(f"/issues/{issue['id']}/resolve", json={"resolution": "x"}, headers=stranger)
    assert r.status_code == 403
    assert (await inv.client.post(f"/issues/{issue['id']}/acknowledge", headers=inv.staff("zone-b", roles=(), dept=DEPT))).status_code == 404
    raise_by_dept = await inv.client.post(
        f"/projects/{project['id']}/issues", json={"title": "x", "department": DEPT, "due_date": "2099-01-01"},
        headers=inv.staff(roles=(), dept=DEPT),
    )
    assert raise_by_dept.status_code == 403
    shown = (await inv.client.get(f"/issues/{issue['id']}", headers=stranger)).json()
    assert shown["status"] == "open"


async def test_a_due_date_in_the_past_is_refused(inv):
    project = await inv.project()
    r = await inv.client.post(
        f"/projects/{project['id']}/issues",
        json={"title": "x", "department": DEPT, "due_date": (date.today() - timedelta(days=1)).isoformat()},
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

"""Enterprise reports through the API: filing, review (accept / return with reasons / resubmit),
closing a period, revisions with their trail, and what an enterprise still owes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from chassis.tables import audit_log, outbox_event
from services.stats.models import IndicatorAggregate, Report, ReportRevision
from tests.integration.stats.stats_support import CHIP_DESIGN, PACKAGING, XINGU, file_and_accept, monthly


async def summary_value(svc: Any, people: Any, code: str, period: str = "2026-10") -> float | None:
    r = await svc.client.get(f"/zones/{XINGU}/summary", params={"period": period}, headers=people.leader())
    assert r.status_code == 200, r.text
    return next(i["value"] for i in r.json()["indicators"] if i["code"] == code)  # type: ignore[no-any-return]


async def count(svc: Any, table: Any) -> int:
    async with svc.ctx.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_filed_report_counts_in_the_zone_only_once_accepted(stats, people):
    filed = await stats.client.post("/reports", json=monthly(), headers=people.enterprise())
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert (body["status"], body["status_label"], body["form_label"], body["version"]) == ("submitted", "待审核", "月报", 1)
    assert body["values"]["industrial_output_above_scale"] == 8000
    assert await summary_value(stats, people, "industrial_output_above_scale") is None

    accepted = await stats.client.post(f"/reports/{body['id']}/accept", json={"note": "数据无误"}, headers=people.officer())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["reviewed_by"] == "cd-xingu.stats"
    assert await summary_value(stats, people, "industrial_output_above_scale") == 8000

    # A second enterprise adds to the same aggregate.
    await file_and_accept(stats, people, monthly(uscc=PACKAGING, industrial_output_above_scale=1234.56))
    assert await summary_value(stats, people, "industrial_output_above_scale") == 9234.56

    again = await stats.client.post(f"/reports/{body['id']}/accept", headers=people.officer())
    assert again.status_code == 409
    assert await summary_value(stats, people, "industrial_output_above_scale") == 9234.56


async def test_filing_the_same_period_twice_is_a_conflict_pointing_at_resubmission(stats, people):
    first = await stats.client.post("/reports", json=monthly(), headers=people.enterprise())
    second = await stats.client.post("/reports", json=monthly(), headers=people.enterprise())
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["report_id"] == first.json()["id"]
    assert second.json()["errors"][0]["field"] == "period"


async def test_a_returned_report_carries_its_reasons_and_is_refiled_with_a_new_version(stats, people):
    filed = (await stats.client.post("/reports", json=monthly(total_tax=510), headers=people.enterprise())).json()
    returned = await stats.client.post(
        f"/reports/{filed['id']}/return",
        json={"reasons": [{"indicator_code": "total_tax", "reason": "与税务部门数据不符，请核实"}]},
        headers=people.officer(),
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert returned.json()["return_reasons"] == [{"indicator_code": "total_tax", "reason": "与税务部门数据不符，请核实"}]

    # The enterprise sees it among what it owes, with the reason.
    due = await stats.client.get("/reports/due", params={"as_of": "2026-11-05"}, headers=people.enterprise())
    [item] = [i for i in due.json()["items"] if i["status"] == "returned"]
    assert item["report_id"] == filed["id"] and item["return_reasons"][0]["reason"].startswith("与税务部门")

    resubmitted = await stats.client.post(
        f"/reports/{filed['id']}/resubmit", json={"values": monthly(total_tax=480)["values"]}, headers=people.enterprise()
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert (resubmitted.json()["status"], resubmitted.json()["version"], resubmitted.json()["return_reasons"]) == ("submitted", 2, None)
    await stats.client.post(f"/reports/{filed['id']}/accept", headers=people.officer())
    assert await summary_value(stats, people, "total_tax") == 480

    detail = (await stats.client.get(f"/reports/{filed['id']}", headers=people.enterprise())).json()
    assert [(t["action"], t["version"], t["actor"]) for t in detail["trail"]] == [
        ("submitted", 1, f"ent-{CHIP_DESIGN}"),
        ("returned", 1, "cd-xingu.stats"),
        ("resubmitted", 2, f"ent-{CHIP_DESIGN}"),
        ("accepted", 2, "cd-xingu.stats"),
    ]
    assert detail["trail"][1]["reasons"][0]["indicator_code"] == "total_tax"


async def test_a_resubmission_of_an_accepted_report_replaces_its_values_once_accepted(stats, people):
    accepted = await file_and_accept(stats, people, monthly(employees=100))
    # In an open period a correction is a plain resubmission; the old values count until it is accepted.
    r = await stats.client.post(
        f"/reports/{accepted['id']}/resubmit", json={"values": monthly(industrial_output_above_scale=8100)["values"]}, headers=people.enterprise()
    )
    assert r.status_code == 200, r.text
    assert await summary_value(stats, people, "industrial_output_above_scale") == 8000
    assert await summary_value(stats, people, "employees") == 100
    await stats.client.post(f"/reports/{accepted['id']}/accept", headers=people.officer())
    assert await summary_value(stats, people, "industrial_output_above_scale") == 8100
    assert await summary_value(stats, people, "employees") is None  # dropped from the new version


async def test_a_closed_period_refuses_a_plain_resubmission_and_takes_a_revision_with_its_trail(stats, people):
    accepted = await file_and_accept(stats, people, monthly())
    pending = await stats.client.post("/reports", json=monthly(uscc=PACKAGING), headers=people.enterprise(PACKAGING))

    blocked = await stats.client.post("/periods/2026-10/close", headers=people.stats_admin())
    assert blocked.status_code == 409 and "待审核" in blocked.json()["detail"]
    await stats.client.post(
        f"/reports/{pending.json()['id']}/return", json={"reasons": [{"reason": "缺少说明"}]}, headers=people.officer()
    )
    closed = await stats.client.post("/periods/2026-10/close", headers=people.stats_admin())
    assert closed.status_code == 201, closed.text
    assert (closed.json()["reports_accepted"], closed.json()["reports_returned"]) == (1, 1)
    assert (await stats.client.post("/periods/2026-10/close", headers=people.stats_admin())).status_code == 409

    refused = await stats.client.post(
        f"/reports/{accepted['id']}/resubmit", json={"values": monthly(total_tax=450)["values"]}, headers=people.enterprise()
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0] == {"field": "period", "code": "period_closed", "message": refused.json()["errors"][0]["message"]}
    assert "修订" in refused.json()["detail"]
    late = await stats.client.post("/reports", json=monthly(period="2026-10", uscc=PACKAGING, zone=XINGU), headers=people.enterprise(PACKAGING))
    assert late.status_code == 409  # already filed (and returned) — and the period is closed anyway
    returned_again = await stats.client.post(
        f"/reports/{pending.json()['id']}/resubmit", json={"values": monthly()["values"]}, headers=people.enterprise(PACKAGING)
    )
    assert returned_again.status_code == 409

    revised = await stats.client.post(
        f"/reports/{accepted['id']}/revise",
        json={"values": {"total_tax": 450}, "reason": "企业更正：多计一笔退税"},
        headers=people.officer(),
    )
    assert revised.status_code == 201, revised.text
    body = revised.json()
    assert body["values"]["total_tax"] == 450 and body["revision_count"] == 1 and body["period_closed"] is True
    [revision] = body["revisions"]
    assert revision["before"] == {"total_tax": 500.0} and revision["after"] == {"total_tax": 450.0}
    assert (revision["reason"], revision["revised_by"], revision["period_closed"]) == ("企业更正：多计一笔退税", "cd-xingu.stats", True)
    assert body["trail"][-1]["action"] == "revised"
    assert await summary_value(stats, people, "total_tax") == 450

    async with stats.ctx.db.session() as s:
        audit = (await s.execute(select(audit_log).where(audit_log.c.action == "report.revise"))).one()
    assert audit.before == {"total_tax": 500.0} and audit.after["reason"] == "企业更正：多计一笔退税"
    assert await count(stats, ReportRevision) == 1


async def test_a_revision_must_change_something_and_still_pass_the_rules(stats, people):
    accepted = await file_and_accept(stats, people, monthly())
    same = await stats.client.post(f"/reports/{accepted['id']}/revise", json={"values": {"total_tax": 500}, "reason": "核对"}, headers=people.officer())
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "values"
    broken = await stats.client.post(
        f"/reports/{accepted['id']}/revise", json={"values": {"total_tax": 9000}, "reason": "更正"}, headers=people.officer()
    )
    assert broken.status_code == 422
    assert broken.json()["violations"][0]["rule_kind"] == "comparison"
    submitted = (await stats.client.post("/reports", json=monthly(uscc=PACKAGING), headers=people.enterprise(PACKAGING))).json()
    not_yet = await stats.client.post(f"/reports/{submitted['id']}/revise", json={"values": {"total_tax": 1}, "reason": "x"}, headers=people.officer())
    assert not_yet.status_code == 409


async def test_a_return_needs_reasons_naming_indicators_on_the_report(stats, people):
    filed = (await stats.client.post("/reports", json=monthly(), headers=people.enterprise())).json()
    empty = await stats.client.post(f"/reports/{filed['id']}/return", json={"reasons": []}, headers=people.officer())
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reasons"
    elsewhere = await stats.client.post(
        f"/reports/{filed['id']}/return", json={"reasons": [{"indicator_code": "talent_count", "reason": "?"}]}, headers=people.officer()
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "reasons.0.indicator_code"
    async with stats.ctx.db.session() as s:
        assert (await s.get(Report, filed["id"])).status == "submitted"  # type: ignore[union-attr]


async def test_lists_filter_and_an_enterprise_sees_only_its_own(stats, people):
    await file_and_accept(stats, people, monthly())
    await stats.client.post("/reports", json=monthly(uscc=PACKAGING), headers=people.enterprise(PACKAGING))
    await stats.client.post("/reports", json=monthly(period="2026-09"), headers=people.enterprise())

    staff = await stats.client.get("/reports", params={"period": "2026-10"}, headers=people.officer())
    assert staff.json()["total"] == 2
    pending = await stats.client.get("/reports", params={"status": "submitted"}, headers=people.officer())
    assert {i["uscc"] for i in pending.json()["items"]} == {PACKAGING, CHIP_DESIGN}
    own = await stats.client.get("/reports", headers=people.enterprise())
    assert own.json()["total"] == 2 and {i["uscc"] for i in own.json()["items"]} == {CHIP_DESIGN}
    other = await stats.client.get("/reports", params={"uscc": PACKAGING}, headers=people.enterprise())
    assert other.json()["total"] == 0
    paged = await stats.client.get("/reports", params={"size": 1, "page": 2}, headers=people.officer())
    assert paged.json()["total"] == 3 and len(paged.json()["items"]) == 1


async def test_obligations_say_which_forms_are_owed(stats, people):
    r = await stats.client.post(
        "/obligations",
        json={
            "zone_id": XINGU,
            "uscc": PACKAGING,
            "enterprise_name": "蓉芯封装测试有限公司",
            "indicator_codes": ["industrial_output_above_scale", "total_tax", "talent_count"],
            "from_period": "2026-08",
        },
        headers=people.officer(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["forms"] == ["月报", "季报"]
    await file_and_accept(stats, people, monthly(period="2026-09", uscc=PACKAGING))
    due = await stats.client.get("/reports/due", params={"as_of": "2026-11-12"}, headers=people.officer())
    owed = [(i["uscc"], i["period"], i["form_label"], i["overdue"]) for i in due.json()["items"]]
    assert owed == [
        (PACKAGING, "2026-08", "月报", True),
        (PACKAGING, "2026-Q3", "季报", True),
        (PACKAGING, "2026-10", "月报", True),
    ]
    assert due.json()["items"][0]["enterprise_name"] == "蓉芯封装测试有限公司"
    mine = await stats.client.get("/reports/due", params={"as_of": "2026-11-12"}, headers=people.enterprise(PACKAGING))
    assert len(mine.json()["items"]) == 3
    theirs = await stats.client.get("/reports/due", params={"as_of": "2026-11-12"}, headers=people.enterprise(CHIP_DESIGN))
    assert theirs.json()["items"] == []
    bad = await stats.client.post(
        "/obligations",
        json={"zone_id": XINGU, "uscc": PACKAGING, "indicator_codes": ["approvals_completed"], "from_period": "2026-08"},
        headers=people.officer(),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "indicator_codes.0"


async def test_every_state_change_writes_its_event_and_audit_in_the_same_transaction(stats, people):
    accepted = await file_and_accept(stats, people, monthly())
    await stats.client.post(f"/reports/{accepted['id']}/revise", json={"values": {"total_tax": 499}, "reason": "更正"}, headers=people.officer())
    await stats.client.post("/periods/2026-10/close", headers=people.stats_admin())
    async with stats.ctx.db.session() as s:
        types = [t for (t,) in (await s.execute(select(outbox_event.c.type).order_by(outbox_event.c.seq))).all()]
        aggregates = (await s.execute(select(func.count()).select_from(IndicatorAggregate))).scalar_one()
    assert types == [
        "zone.stats.report.submitted.v1",
        "zone.stats.report.accepted.v1",
        "zone.stats.report.revised.v1",
        "zone.stats.period.closed.v1",
    ]
    assert aggregates == 3
    assert await count(stats, audit_log) == 4

"""The broker: every transition's event arrives on zone.approvals keyed by the application with the right
schema, and notify-and-commit eligibility follows the investment service's admission_checked events."""

from __future__ import annotations

import datetime as dt
import uuid

from chassis.events import CloudEvent
from services.approvals.events import EVENTS
from services.approvals.models import InvestmentProject
from tests.integration.approvals.conftest import CHIP, EIA_FORM, FOOD_PRODUCTION, HYGIENE, PACK, WORKS_PERMIT
from tests.support.events import assert_matches_schema, publish, read_all
from tests.support.services import eventually


def admission_checked(project_id: str, *, passed: bool, uscc: str = CHIP, checked_at: str = "2026-11-01T10:00:00+08:00") -> CloudEvent:
    return CloudEvent(
        type="zone.investment.project.admission_checked.v1",
        source="/zone-platform/investment",
        subject=project_id,
        zoneid="cd-xingu",
        data={
            "project_id": project_id, "zone_id": "cd-xingu", "uscc": uscc, "sector_code": "C3973",
            "passed": passed,
            "criteria": [
                {"criterion": "investment_intensity", "required": 300, "actual": 420 if passed else 180,
                 "passed": passed, "reason": None if passed else "投资强度 180 万元/亩，低于 300 万元/亩"},
            ],
            "checked_at": checked_at,
        },
    )


async def projected(approvals, project_id: str, passed: bool) -> bool:  # type: ignore[no-untyped-def]
    async with approvals.svc.ctx.db.session() as s:
        row = await s.get(InvestmentProject, project_id)
        return row is not None and row.admission_passed is passed


async def test_commitment_is_allowed_only_for_a_project_whose_latest_admission_check_passed(approvals_on_broker, kafka):
    approvals = approvals_on_broker
    topic = approvals.svc.settings.topic("investment")
    passed_id, failed_id = f"P-{uuid.uuid4().hex[:8]}", f"P-{uuid.uuid4().hex[:8]}"
    await publish(kafka.bootstrap, topic, admission_checked(passed_id, passed=True))
    await publish(kafka.bootstrap, topic, admission_checked(failed_id, passed=False))
    await eventually(lambda: projected(approvals, passed_id, True), message="passed check not projected")
    await eventually(lambda: projected(approvals, failed_id, False), message="failed check not projected")

    eligible = await approvals.file([EIA_FORM, WORKS_PERMIT], commitment=True, project_id=passed_id)
    assert eligible.status_code == 201, eligible.text
    app = eligible.json()
    assert app["status"] == "approved" and app["commitment"] is True
    assert [t["action"] for t in app["timeline"]] == ["submit", "auto_accept", "auto_approve"]
    assert app["verification"]["status"] == "pending"
    assert app["verification"]["due_date"] == "2026-12-14"  # 30 working days from Mon 2 Nov
    assert app["allowed_actions"] == ["complete", "assign", "verify"]

    refused = await approvals.file([EIA_FORM], commitment=True, project_id=failed_id)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "project_id" and error["code"] == "admission_failed" and "投资强度" in error["message"]

    unknown = await approvals.file([EIA_FORM], commitment=True, project_id="P-never-heard-of")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "project_unknown"

    item_not_allowed = await approvals.file([EIA_FORM, "51011600HB-XK-0003"], commitment=True)
    assert item_not_allowed.status_code == 422
    assert item_not_allowed.json()["errors"][0] == {
        "field": "item_codes.1", "code": "item_not_allowed", "message": "事项「排污许可证核发」不适用告知承诺制",
    }

    other_enterprise = await approvals.file([EIA_FORM], uscc=PACK, commitment=True, project_id=passed_id)
    assert other_enterprise.status_code == 422
    assert other_enterprise.json()["errors"][0]["code"] == "project_of_other_enterprise"

    # A newer check that fails takes the project out of commitment mode; a stale one changes nothing.
    await publish(kafka.bootstrap, topic, admission_checked(passed_id, passed=False, checked_at="2026-11-02T08:00:00+08:00"))
    await eventually(lambda: projected(approvals, passed_id, False), message="newer check not projected")
    await publish(kafka.bootstrap, topic, admission_checked(passed_id, passed=True, checked_at="2026-10-01T08:00:00+08:00"))
    consumer = approvals.svc.ctx.consumers[0]

    async def stale_one_handled() -> bool:
        return consumer.handled >= 4

    await eventually(stale_one_handled, message="the stale check was not consumed")
    preview = await approvals.client.get(
        "/commitment-eligibility", params={"zone_id": "cd-xingu", "item_codes": [EIA_FORM], "project_id": passed_id},
        headers=approvals.enterprise(CHIP),
    )
    assert preview.status_code == 200
    assert preview.json()["eligible"] is False and preview.json()["reasons"][0]["code"] == "admission_failed"

    # Verification: confirmed, or revoked for a broken promise (the credit platform subscribes).
    confirmed = await approvals.done(app["id"], "verify", {"outcome": "confirmed", "note": "现场核查与承诺一致"})
    assert confirmed["verification"]["status"] == "confirmed" and "verify" not in confirmed["allowed_actions"]
    second = await approvals.filed([HYGIENE], commitment=True)
    revoked = await approvals.done(second["id"], "verify", {"outcome": "revoked", "note": "从业人员未取得健康证明，违反承诺"})
    assert revoked["status"] == "revoked" and revoked["reason"] == "从业人员未取得健康证明，违反承诺"


async def test_each_transition_publishes_its_event_with_the_right_schema_keyed_by_the_application(approvals_on_broker, kafka):
    approvals = approvals_on_broker
    # submitted, accepted, correction_requested, resubmitted, approved, completed, evaluated
    main = await approvals.accepted([HYGIENE, WORKS_PERMIT])
    await approvals.done(main["id"], "request-correction", {"items": [{"material_code": "premises_layout", "reason": "不清晰"}]})
    await approvals.done(main["id"], "resubmit", {"materials": [{"code": "premises_layout"}]}, headers=approvals.enterprise(CHIP))
    await approvals.done(main["id"], "approve")
    await approvals.done(main["id"], "complete", {"certificate_no": "建字第510116202600512号"})
    await approvals.done(main["id"], "evaluate", {"score": 1, "comment": "多次往返"}, headers=approvals.enterprise(CHIP))
    # refused, denied, referred
    refused = await approvals.filed([HYGIENE])
    await approvals.done(refused["id"], "refuse", {"reason": "申请事项不属于本机关职权"})
    denied = await approvals.accepted([HYGIENE])
    await approvals.done(denied["id"], "deny", {"reason": "卫生检测不合格"})
    await approvals.filed([FOOD_PRODUCTION])
    # commitment: verified and revoked
    kept = await approvals.filed([HYGIENE], commitment=True)
    await approvals.done(kept["id"], "verify", {"outcome": "confirmed", "note": "属实"})
    broken = await approvals.filed([HYGIENE], commitment=True, uscc=PACK, headers=approvals.enterprise(PACK))
    await approvals.done(broken["id"], "verify", {"outcome": "revoked", "note": "违反承诺"})
    # alert_raised
    late = await approvals.accepted([HYGIENE])
    approvals.on(dt.date(2026, 11, 10))
    from services.approvals.alerts import run_alert_scan

    assert await run_alert_scan(approvals.svc.ctx) >= 1

    expected = {et.name for et in EVENTS}
    events = await eventually(
        lambda: _all_types(kafka.bootstrap, approvals.svc.settings.topic("approvals"), expected), timeout_s=30,
        message="not every event type reached the broker",
    )
    for event in events:
        assert_matches_schema(event, EVENTS)
        assert event.subject == event.data["application_id"]
        assert event.zoneid == event.data["zone_id"] == "cd-xingu"
    completed = next(e for e in events if e.type.endswith(".completed.v1"))
    assert completed.data["application_id"] == main["id"]
    assert completed.data["item_codes"] == [HYGIENE, WORKS_PERMIT]
    assert completed.data["on_time"] is True and completed.data["certificate_no"] == "建字第510116202600512号"
    assert completed.data["working_days_used"] >= 0 and completed.data["promised_days"] == 7
    revoked = next(e for e in events if e.type.endswith(".commitment_revoked.v1"))
    assert revoked.data["uscc"] == PACK and revoked.data["reason"] == "违反承诺"
    alert = next(e for e in events if e.type.endswith(".alert_raised.v1") and e.data["application_id"] == late["id"])
    assert alert.data["level"] == "red" and alert.data["previous_level"] == "none"
    evaluated = next(e for e in events if e.type.endswith(".evaluated.v1"))
    assert evaluated.data["level"] == "very_dissatisfied" and evaluated.data["follow_up_id"]
    # Keyed by application: the events of one application arrive in the order they happened.
    main_types = [e.type.split(".")[3] for e in events if e.data["application_id"] == main["id"]]
    assert main_types == ["submitted", "accepted", "correction_requested", "resubmitted", "approved", "completed", "evaluated"]


async def _all_types(bootstrap: str, topic: str, expected: set[str]):  # type: ignore[no-untyped-def]
    events = await read_all(bootstrap, topic, expect_at_least=len(expected), timeout_s=5)
    return events if {e.type for e in events} >= expected else None

"""The lifecycle through the API: the clock, the one-time correction notice stopping it, completion on
time or late, and every illegal action answered with 409 naming the state and what is allowed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from chassis.tables import audit_log
from services.approvals.domain import Action
from tests.integration.approvals.conftest import (
    CHIP,
    DISCHARGE,
    EIA_FORM,
    FOOD_BUSINESS,
    FOOD_PRODUCTION,
    HYGIENE,
    PACK,
    PROJECT_FILING,
    START,
)

D = dt.date


async def test_a_correction_during_review_stops_the_clock_until_resubmission(approvals):
    app = await approvals.accepted([HYGIENE])  # Mon 2 Nov, promise 5 → due Mon 9 Nov
    assert app["due_date"] == "2026-11-09" and app["clock"]["state"] == "running"

    approvals.on(D(2026, 11, 4))  # Wednesday: the clock has run two days
    noticed = await approvals.done(
        app["id"], "request-correction",
        {"items": [{"material_code": "hygiene_test_report", "reason": "检测报告超过有效期"},
                   {"material_code": "premises_layout", "reason": "未标注功能分区"}]},
    )
    assert noticed["status"] == "correction_requested"
    assert noticed["clock"]["state"] == "paused" and noticed["due_date"] is None
    assert noticed["corrections"][0]["clock_paused"] is True
    assert noticed["allowed_actions"] == ["resubmit", "deny", "assign"]

    approvals.on(D(2026, 11, 9))  # the next Monday: still paused, nothing more used
    waiting = await approvals.get(app["id"])
    assert waiting["working_days_elapsed"] == 2 and waiting["working_days_paused"] == 3
    assert waiting["working_days_remaining"] == 3

    approvals.on(D(2026, 11, 10))  # Tuesday: the applicant resubmits both materials
    incomplete = await approvals.act(
        app["id"], "resubmit", {"materials": [{"code": "hygiene_test_report"}]}, headers=approvals.enterprise(CHIP)
    )
    assert incomplete.status_code == 422
    assert [e["field"] for e in incomplete.json()["errors"]] == ["materials.premises_layout"]
    resumed = await approvals.done(
        app["id"], "resubmit", {"materials": [{"code": "hygiene_test_report"}, {"code": "premises_layout"}]},
        headers=approvals.enterprise(CHIP),
    )
    assert resumed["status"] == "accepted" and resumed["clock"]["state"] == "running"
    assert resumed["working_days_paused"] == 4  # Thu 5, Fri 6, Mon 9, Tue 10
    assert resumed["due_date"] == "2026-11-13"  # three working days left: Wed 11, Thu 12, Fri 13

    approvals.on(D(2026, 11, 13))
    await approvals.done(app["id"], "approve")
    done = await approvals.done(app["id"], "complete", {"certificate_no": "川卫公证字〔2026〕第0188号"})
    assert done["status"] == "completed" and done["clock"]["on_time"] is True
    assert done["working_days_elapsed"] == 5 and done["certificate_no"] == "川卫公证字〔2026〕第0188号"
    assert [t["action"] for t in done["timeline"]] == [
        "submit", "accept", "request-correction", "resubmit", "approve", "complete",
    ]
    assert done["timeline"][2]["actor"] == "xingu.approvals"
    assert done["timeline"][3]["actor_kind"] == "enterprise"


async def test_a_correction_at_intake_does_not_start_the_clock_and_accept_needs_every_mandatory_material(approvals):
    app = await approvals.filed([DISCHARGE], materials=[{"code": "application_form"}])
    refused = await approvals.act(app["id"], "accept")
    assert refused.status_code == 409
    assert {e["field"] for e in refused.json()["errors"]} == {
        "materials.discharge_application", "materials.monitoring_plan", "materials.pollution_facilities",
    }
    noticed = await approvals.done(
        app["id"], "request-correction",
        {"items": [{"material_code": m, "reason": "未提交"} for m in ("discharge_application", "monitoring_plan", "pollution_facilities")]},
    )
    assert noticed["clock"]["state"] == "not_started" and noticed["corrections"][0]["phase"] == "intake"
    assert noticed["allowed_actions"] == ["resubmit", "refuse", "assign"]
    back = await approvals.done(
        app["id"], "resubmit",
        {"materials": [{"code": m} for m in ("discharge_application", "monitoring_plan", "pollution_facilities")]},
        headers=approvals.enterprise(CHIP),
    )
    assert back["status"] == "submitted"
    accepted = await approvals.done(app["id"], "accept")
    assert accepted["clock"]["state"] == "running" and accepted["working_days_paused"] == 0


async def test_a_second_correction_notice_cannot_ask_for_what_was_already_there(approvals):
    app = await approvals.accepted([FOOD_BUSINESS])
    await approvals.done(app["id"], "request-correction", {"items": [{"material_code": "premises_layout", "reason": "不清晰"}]})
    await approvals.done(app["id"], "resubmit", {"materials": [{"code": "premises_layout"}]}, headers=approvals.enterprise(CHIP))
    second = await approvals.act(
        app["id"], "request-correction",
        {"items": [{"material_code": "premises_layout", "reason": "仍不清晰"},
                   {"material_code": "food_safety_rules", "reason": "制度不全"}]},
    )
    assert second.status_code == 409
    body = second.json()
    assert "一次性告知" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["items.1.material_code"]
    # Only what was named before (or came in since) may be asked for again.
    again = await approvals.done(app["id"], "request-correction", {"items": [{"material_code": "premises_layout", "reason": "仍不清晰"}]})
    assert [c["notice_no"] for c in again["corrections"]] == [1, 2]
    unknown = await approvals.act(app["id"], "request-correction", {"items": [{"material_code": "eia_report_book", "reason": "缺少报告书"}]})
    assert unknown.status_code == 409  # not in a state that allows a notice any more
    assert unknown.json()["state"] == "correction_requested"


async def test_late_completion_is_recorded_as_not_on_time(approvals):
    app = await approvals.accepted([HYGIENE])
    approvals.on(D(2026, 11, 10))  # due Mon 9 Nov
    assert (await approvals.get(app["id"]))["alert_level"] == "red"
    await approvals.done(app["id"], "approve")
    done = await approvals.done(app["id"], "complete", {"certificate_no": "川卫公证字〔2026〕第0199号"})
    assert done["clock"]["on_time"] is False and done["working_days_elapsed"] == 6
    assert done["alert_level"] == "none"


async def test_an_immediate_item_is_completed_the_same_day(approvals):
    app = await approvals.accepted([PROJECT_FILING])
    assert app["due_date"] == START.isoformat()
    await approvals.done(app["id"], "approve")
    done = await approvals.done(app["id"], "complete", {"certificate_no": "川投资备【2026-510116-39-03-000211】"})
    assert done["clock"]["on_time"] is True and done["working_days_elapsed"] == 0


async def build_every_state(approvals) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One application in each state (and the variants that change what is allowed)."""
    ids: dict[str, str] = {}
    ids["submitted"] = (await approvals.filed([EIA_FORM]))["id"]
    ids["referred"] = (await approvals.filed([FOOD_PRODUCTION]))["id"]
    ids["accepted"] = (await approvals.accepted([EIA_FORM]))["id"]
    refused = await approvals.filed([EIA_FORM])
    ids["refused"] = (await approvals.done(refused["id"], "refuse", {"reason": "不属于本机关职权范围"}))["id"]
    intake = await approvals.filed([EIA_FORM])
    await approvals.done(intake["id"], "request-correction", {"items": [{"material_code": "eia_report_form", "reason": "缺页"}]})
    ids["correction_requested/intake"] = intake["id"]
    review = await approvals.accepted([EIA_FORM])
    await approvals.done(review["id"], "request-correction", {"items": [{"material_code": "eia_report_form", "reason": "缺页"}]})
    ids["correction_requested/review"] = review["id"]
    approved = await approvals.accepted([EIA_FORM])
    ids["approved"] = (await approvals.done(approved["id"], "approve"))["id"]
    denied = await approvals.accepted([EIA_FORM])
    ids["denied"] = (await approvals.done(denied["id"], "deny", {"reason": "选址位于饮用水源保护区"}))["id"]
    completed = await approvals.accepted([EIA_FORM], uscc=PACK)
    await approvals.done(completed["id"], "approve")
    ids["completed"] = (await approvals.done(completed["id"], "complete", {"certificate_no": "双环审〔2026〕12号"}))["id"]
    evaluated = await approvals.accepted([EIA_FORM], uscc=PACK)
    await approvals.done(evaluated["id"], "approve")
    await approvals.done(evaluated["id"], "complete", {"certificate_no": "双环审〔2026〕13号"})
    await approvals.done(evaluated["id"], "evaluate", {"score": 4}, headers=approvals.enterprise(PACK))
    ids["completed/evaluated"] = evaluated["id"]
    commitment = await approvals.filed([EIA_FORM], commitment=True)
    ids["approved/commitment"] = commitment["id"]
    revoked = await approvals.filed([EIA_FORM], commitment=True)
    ids["revoked"] = (await approvals.done(revoked["id"], "verify", {"outcome": "revoked", "note": "未按承诺落实环保设施"}))["id"]
    return ids


BODIES = {
    "refuse": {"reason": "材料不符合法定形式"}, "deny": {"reason": "不符合规划条件"},
    "request-correction": {"items": [{"material_code": "eia_report_form", "reason": "缺页"}]},
    "complete": {"certificate_no": "X-1"}, "assign": {"role": "agent", "staff": "xingu.agent"},
    "verify": {"outcome": "confirmed", "note": "现场核查属实"}, "evaluate": {"score": 5},
}


async def test_every_illegal_action_in_every_state_is_409_naming_the_state_and_the_allowed_actions(approvals):
    ids = await build_every_state(approvals)
    checked = 0
    for label, app_id in ids.items():
        app = await approvals.get(app_id)
        allowed = set(app["allowed_actions"])
        for action in Action:
            if action.value in allowed:
                continue
            uscc = app["applicant"]["uscc"]
            headers = approvals.enterprise(uscc) if action in (Action.EVALUATE, Action.RESUBMIT) else approvals.window
            r = await approvals.act(app_id, action.value, BODIES.get(action.value), headers=headers)
            assert r.status_code == 409, (label, action, r.text)
            problem = r.json()
            assert r.headers["content-type"] == "application/problem+json"
            assert problem["state"] == app["status"], (label, action)
            assert problem["allowed_actions"] == app["allowed_actions"], (label, action)
            assert app["status_label"] in problem["detail"]
            checked += 1
        assert (await approvals.get(app_id))["status"] == app["status"]  # nothing changed
    assert checked >= 80


async def test_every_change_is_audited_with_before_and_after(approvals):
    app = await approvals.accepted([EIA_FORM])
    await approvals.done(app["id"], "assign", {"role": "agent", "staff": "xingu.agent", "staff_name": "李代办"})
    async with approvals.svc.ctx.db.session() as s:
        rows = (await s.execute(select(audit_log).where(audit_log.c.entity_id == app["id"]).order_by(audit_log.c.id))).all()
    assert [r.action for r in rows] == ["application.file", "application.accept", "application.assign"]
    assert rows[1].before["status"] == "submitted" and rows[1].after["status"] == "accepted"
    assert rows[2].after["agent"] == "xingu.agent" and rows[2].actor == "xingu.approvals"
    listed = await approvals.client.get("/applications", params={"agent": "xingu.agent"}, headers=approvals.window)
    assert [a["id"] for a in listed.json()["items"]] == [app["id"]]

"""Time-limit alerts (the job raises each level once) and evaluations (好差评) with their follow-ups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from chassis.tables import outbox_event
from services.approvals.alerts import run_alert_scan
from tests.integration.approvals.conftest import CHIP, EIA_FORM, HYGIENE, PACK

D = dt.date
ALERT = "zone.approvals.application.alert_raised.v1"


async def alert_events(approvals) -> list[dict]:  # type: ignore[no-untyped-def]
    import json

    async with approvals.svc.ctx.db.session() as s:
        rows = (await s.execute(select(outbox_event).where(outbox_event.c.type == ALERT).order_by(outbox_event.c.seq))).all()
    return [json.loads(r.data) for r in rows]


async def test_the_alert_job_raises_yellow_then_red_once_each(approvals):
    app = await approvals.accepted([EIA_FORM])  # Mon 2 Nov, promise 15 → due Mon 23 Nov, yellow from day 12 (Wed 18 Nov)
    quiet = await approvals.accepted([HYGIENE], uscc=PACK)
    await approvals.done(quiet["id"], "approve")
    await approvals.done(quiet["id"], "complete", {"certificate_no": "川卫公证字〔2026〕第0200号"})
    assert app["due_date"] == "2026-11-23"

    approvals.on(D(2026, 11, 17))
    assert await run_alert_scan(approvals.svc.ctx) == 0
    assert (await approvals.get(app["id"]))["alert_level"] == "none"

    approvals.on(D(2026, 11, 18))
    assert await run_alert_scan(approvals.svc.ctx) == 1
    assert await run_alert_scan(approvals.svc.ctx) == 0  # once per change
    assert (await approvals.get(app["id"]))["alert_level"] == "yellow"
    yellow = await approvals.client.get("/applications", params={"alert": "yellow"}, headers=approvals.window)
    assert [a["id"] for a in yellow.json()["items"]] == [app["id"]]

    approvals.on(D(2026, 11, 24))
    assert await run_alert_scan(approvals.svc.ctx) == 1
    events = await alert_events(approvals)
    assert [(e["previous_level"], e["level"]) for e in events] == [("none", "yellow"), ("yellow", "red")]
    assert events[1]["working_days_remaining"] == -1 and events[1]["due_date"] == "2026-11-23"
    red = await approvals.client.get("/applications", params={"alert": "red"}, headers=approvals.window)
    assert [a["id"] for a in red.json()["items"]] == [app["id"]]
    none = await approvals.client.get("/applications", params={"alert": "none"}, headers=approvals.window)
    assert [a["id"] for a in none.json()["items"]] == [quiet["id"]]
    detail = await approvals.get(app["id"])
    assert detail["timeline"][-1]["action"] == "alert" and detail["clock"]["alert_label"] == "红色预警（已超期）"

    # Concluding it ends the alert, quietly.
    await approvals.done(app["id"], "approve")
    await approvals.done(app["id"], "complete", {"certificate_no": "双环审〔2026〕31号"})
    assert await run_alert_scan(approvals.svc.ctx) == 0
    assert len(await alert_events(approvals)) == 2


async def test_a_paused_clock_keeps_its_level_and_raises_nothing_new(approvals):
    app = await approvals.accepted([HYGIENE])  # due Mon 9 Nov; yellow from Fri 6 Nov
    approvals.on(D(2026, 11, 6))
    await approvals.done(app["id"], "request-correction", {"items": [{"material_code": "premises_layout", "reason": "不清晰"}]})
    assert await run_alert_scan(approvals.svc.ctx) == 1  # yellow when the clock stopped
    approvals.on(D(2026, 11, 30))
    assert await run_alert_scan(approvals.svc.ctx) == 0  # weeks later, still only yellow
    assert (await approvals.get(app["id"]))["alert_level"] == "yellow"


async def test_evaluation_is_by_the_applicant_once_and_only_after_completion(approvals):
    app = await approvals.accepted([HYGIENE])
    early = await approvals.act(app["id"], "evaluate", {"score": 5}, headers=approvals.enterprise(CHIP))
    assert early.status_code == 409 and early.json()["state"] == "accepted"
    await approvals.done(app["id"], "approve")
    await approvals.done(app["id"], "complete", {"certificate_no": "川卫公证字〔2026〕第0201号"})
    by_staff = await approvals.act(app["id"], "evaluate", {"score": 5}, headers=approvals.window)
    assert by_staff.status_code == 403
    out_of_range = await approvals.act(app["id"], "evaluate", {"score": 6}, headers=approvals.enterprise(CHIP))
    assert out_of_range.status_code == 422 and out_of_range.json()["errors"][0]["field"] == "score"
    rated = await approvals.done(
        app["id"], "evaluate",
        {"score": 4, "comment": "效率高", "dimensions": {"efficiency": 5, "convenience": 4}},
        headers=approvals.enterprise(CHIP),
    )
    assert rated["evaluation"]["level_label"] == "满意" and rated["evaluation"]["follow_up_id"] is None
    assert rated["evaluation"]["dimensions"] == {"efficiency": 5, "convenience": 4}
    twice = await approvals.act(app["id"], "evaluate", {"score": 1}, headers=approvals.enterprise(CHIP))
    assert twice.status_code == 409 and twice.json()["allowed_actions"] == []
    follow_ups = await approvals.client.get("/follow-ups", headers=approvals.window)
    assert follow_ups.json()["total"] == 0


async def test_a_poor_rating_opens_a_follow_up_due_in_15_working_days_that_staff_close_with_a_call_back(approvals):
    app = await approvals.accepted([HYGIENE])
    await approvals.done(app["id"], "approve")
    await approvals.done(app["id"], "complete", {"certificate_no": "川卫公证字〔2026〕第0202号"})
    rated = await approvals.done(app["id"], "evaluate", {"score": 2, "comment": "跑了两次"}, headers=approvals.enterprise(CHIP))
    assert rated["evaluation"]["level_label"] == "不满意"
    follow_up_id = rated["evaluation"]["follow_up_id"]
    listed = (await approvals.client.get("/follow-ups", params={"status": "open"}, headers=approvals.window)).json()
    [follow_up] = listed["items"]
    assert follow_up["id"] == follow_up_id and follow_up["level_label"] == "不满意"
    assert follow_up["due_date"] == "2026-11-23"  # 15 working days after Mon 2 Nov
    assert (await approvals.client.get("/follow-ups", headers=approvals.enterprise(CHIP))).status_code == 403
    assert (await approvals.client.get("/follow-ups", headers=approvals.staff("tf-biotown"))).json()["total"] == 0

    approvals.on(D(2026, 11, 24))
    overdue = (await approvals.client.get("/follow-ups", params={"overdue": True}, headers=approvals.window)).json()
    assert [f["id"] for f in overdue["items"]] == [follow_up_id] and overdue["items"][0]["overdue"]
    no_note = await approvals.client.post(f"/follow-ups/{follow_up_id}/close", json={}, headers=approvals.window)
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "callback_note"
    other_zone = await approvals.client.post(
        f"/follow-ups/{follow_up_id}/close", json={"callback_note": "已回访"}, headers=approvals.staff("tf-biotown")
    )
    assert other_zone.status_code == 404
    closed = await approvals.client.post(
        f"/follow-ups/{follow_up_id}/close",
        json={"callback_note": "已电话回访王经理，说明材料一次性告知要求", "rectification": "窗口增设材料预审"},
        headers=approvals.window,
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_by"] == "xingu.approvals"
    again = await approvals.client.post(f"/follow-ups/{follow_up_id}/close", json={"callback_note": "再次"}, headers=approvals.window)
    assert again.status_code == 409
    assert (await approvals.get(app["id"]))["timeline"][-1]["action"] == "follow_up_close"

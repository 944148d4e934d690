"""Work queues and dashboards: list filters and pagination, the summary the gateway aggregates, and the
demo seed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from chassis.clock import FixedClock
from chassis.tables import outbox_event
from services.approvals.definition import DEFINITION
from services.approvals.models import Application, ApprovalItemVersion, Delegation, FollowUp
from services.approvals.seed import seed
from tests.integration.approvals.conftest import (
    BIO,
    CHIP,
    EIA_FORM,
    FOOD_PRODUCTION,
    HYGIENE,
    PACK,
    WORKS_PERMIT,
)

D = dt.date


async def test_lists_filter_by_status_uscc_item_and_date_and_paginate(approvals):
    a = await approvals.accepted([EIA_FORM])
    b = await approvals.filed([HYGIENE], uscc=PACK)
    approvals.on(D(2026, 11, 5))
    c = await approvals.filed([HYGIENE, WORKS_PERMIT])
    await approvals.filed([EIA_FORM], uscc=BIO, zone="tf-biotown")

    async def ids(**params):  # type: ignore[no-untyped-def]
        r = await approvals.client.get("/applications", params=params, headers=approvals.window)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await ids() == [c["id"], b["id"], a["id"]]  # newest first, own zone only
    assert await ids(status="accepted") == [a["id"]]
    assert set(await ids(status=["accepted", "submitted"])) == {a["id"], b["id"], c["id"]}
    assert await ids(uscc=PACK) == [b["id"]]
    assert await ids(item=HYGIENE) == [c["id"], b["id"]]
    assert await ids(date_from="2026-11-03") == [c["id"]]
    assert await ids(date_to="2026-11-02") == [b["id"], a["id"]]
    page = (await approvals.client.get("/applications", params={"size": 2, "page": 2}, headers=approvals.window)).json()
    assert page["total"] == 3 and page["page"] == 2 and [i["id"] for i in page["items"]] == [a["id"]]
    row = (await approvals.client.get("/applications", params={"status": "accepted"}, headers=approvals.window)).json()["items"][0]
    assert {"id", "zone_id", "uscc", "item_codes", "status", "due_date", "alert_level", "working_days_remaining"} <= row.keys()
    assert row["due_date"] == "2026-11-23" and row["working_days_remaining"] == 12
    bad = await approvals.client.get("/applications", params={"alert": "orange"}, headers=approvals.window)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "alert"
    backwards = await approvals.client.get("/applications", params={"date_from": "2026-11-05", "date_to": "2026-11-01"}, headers=approvals.window)
    assert backwards.status_code == 422
    # An enterprise sees its own, whatever it asks for; city-level staff see every zone.
    mine = (await approvals.client.get("/applications", headers=approvals.enterprise(CHIP))).json()
    assert {i["id"] for i in mine["items"]} == {a["id"], c["id"]}
    city = (await approvals.client.get("/applications", headers=approvals.staff(None, roles=("leader",)))).json()
    assert city["total"] == 4
    assert (await approvals.client.get("/applications", params={"zone_id": "tf-biotown"}, headers=approvals.window)).status_code == 403


async def test_the_summary_counts_by_status_alerts_backlog_and_on_time_completion(approvals):
    on_time = await approvals.accepted([HYGIENE])
    late = await approvals.accepted([HYGIENE], uscc=PACK)
    running = await approvals.accepted([EIA_FORM])
    await approvals.filed([FOOD_PRODUCTION])
    approvals.on(D(2026, 11, 9))
    await approvals.done(on_time["id"], "approve")
    await approvals.done(on_time["id"], "complete", {"certificate_no": "A-1"})
    approvals.on(D(2026, 11, 11))
    await approvals.done(late["id"], "approve")
    await approvals.done(late["id"], "complete", {"certificate_no": "A-2"})
    await approvals.done(on_time["id"], "evaluate", {"score": 4}, headers=approvals.enterprise(CHIP))
    await approvals.done(late["id"], "evaluate", {"score": 2}, headers=approvals.enterprise(PACK))  # opens a follow-up
    approvals.on(D(2026, 11, 20))  # the EIA application (due 23 Nov) is yellow
    r = await approvals.client.get("/summary", headers=approvals.staff("cd-xingu", roles=("leader",)))
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["zone_id"] == "cd-xingu"
    assert s["by_status"]["completed"] == 2 and s["by_status"]["accepted"] == 1 and s["by_status"]["referred"] == 1
    assert s["by_status"]["denied"] == 0
    assert s["alerts"] == {"yellow": 1, "red": 0}
    assert s["backlog"] == 1 and s["completed"] == 2 and s["completed_on_time"] == 1
    assert s["on_time_rate"] == 0.5
    assert s["average_working_days"] == 6.0  # 5 and 7 working days
    assert s["evaluations"] == 2 and s["average_score"] == 3.0 and s["satisfaction_rate"] == 0.5
    assert s["open_follow_ups"] == 1 and s["commitment_applications"] == 0
    assert running["id"]
    empty = (await approvals.client.get("/summary", params={"date_from": "2026-12-01"}, headers=approvals.window)).json()
    assert empty["backlog"] == 0 and empty["on_time_rate"] is None and empty["average_working_days"] is None
    assert empty["evaluations"] == 0 and empty["average_score"] is None and empty["satisfaction_rate"] is None
    assert empty["alerts"] == {"yellow": 0, "red": 0} and sum(empty["by_status"].values()) == 0
    city = (await approvals.client.get("/summary", params={"zone_id": "tf-biotown"}, headers=approvals.staff(None, roles=("leader",)))).json()
    assert city["zone_id"] == "tf-biotown" and city["backlog"] == 0
    assert (await approvals.client.get("/summary", headers=approvals.enterprise(CHIP))).status_code == 403
    assert (await approvals.client.get("/summary", params={"zone_id": "tf-biotown"}, headers=approvals.window)).status_code == 403


async def test_the_demo_seed_fills_an_empty_database_once(service_factory, issuer, tmp_path):
    svc = await service_factory(DEFINITION, relay_enabled=False, consumers_enabled=False, files_dir=str(tmp_path))
    svc.ctx.extras["clock"] = FixedClock.on(D(2026, 11, 23), 17)
    for _ in range(2):
        async with svc.ctx.db.session() as session:
            await seed(session, svc.ctx)
            await session.commit()

    async def count(model) -> int:  # type: ignore[no-untyped-def]
        async with svc.ctx.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(model))).scalar_one())

    assert await count(ApprovalItemVersion) == 29
    assert await count(Delegation) == 27 * 2
    assert await count(Application) == 11
    assert await count(FollowUp) == 1
    async with svc.ctx.db.session() as s:
        statuses = dict((await s.execute(select(Application.status, func.count()).group_by(Application.status))).all())
        types = set((await s.execute(select(outbox_event.c.type))).scalars())
    assert statuses == {"completed": 3, "accepted": 3, "correction_requested": 1, "submitted": 1, "referred": 2, "approved": 1}
    assert "zone.approvals.application.completed.v1" in types and "zone.approvals.application.referred.v1" in types
    leader = issuer.staff("cd-xingu", roles=("leader",))
    summary = (await svc.client.get("/summary", headers=leader)).json()
    assert summary["alerts"]["red"] >= 1 and summary["alerts"]["yellow"] >= 1
    own = (await svc.client.get("/applications", headers=issuer.enterprise(CHIP))).json()
    assert own["total"] >= 4 and all(i["uscc"] == CHIP for i in own["items"])

"""聘期届满: the term-end job ends an appointment once its term has run out — as HR ending it by hand
would, once, whoever else runs the job — and zone staff see the appointments whose term ends soon.

The service's clock is a fixed one (``ctx.extras["clock"]``) standing on 2026-03-10 in Shanghai; tests
move it instead of waiting. ``term_end`` is the last day served.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from chassis.clock import FixedClock
from chassis.tables import audit_log, outbox_event
from services.hr import people
from services.hr.definition import DEFINITION
from services.hr.domain import EndReason
from services.hr.models import Appointment
from services.hr.term_expiry import TERM_END_ACTOR, run_term_end_scan, term_end_job
from tests.integration.hr.conftest import HrWorld

TODAY = date(2026, 3, 10)
YESTERDAY = TODAY - timedelta(days=1)
ENDED = "zone.hr.appointment.ended.v1"


def on(day: date) -> str:
    return day.isoformat()


async def start(hr_factory: Any, **settings: Any) -> tuple[HrWorld, FixedClock]:
    world = await hr_factory(relay_enabled=False, consumers_enabled=False, **settings)
    clock = FixedClock.on(TODAY)
    world.svc.ctx.extras["clock"] = clock
    return world, clock


async def appointed(hr: HrWorld, position: dict[str, Any], name: str, term_end: date, **person: Any) -> dict[str, Any]:
    someone = await hr.person(name, **person)
    return await hr.appoint(someone["id"], position["id"], term_start="2024-01-01", term_end=on(term_end))  # type: ignore[no-any-return]


async def outbox(hr: HrWorld, event_type: str, subject: str | None = None) -> list[dict[str, Any]]:
    query = select(outbox_event.c.subject, outbox_event.c.zone_id, outbox_event.c.data).where(outbox_event.c.type == event_type)
    if subject is not None:
        query = query.where(outbox_event.c.subject == subject)
    async with hr.svc.ctx.db.session() as s:
        rows = (await s.execute(query.order_by(outbox_event.c.seq))).all()
    return [{"subject": r.subject, "zone_id": r.zone_id, "data": json.loads(r.data)} for r in rows]


async def audit_rows(hr: HrWorld, action: str, entity_id: str) -> list[Any]:
    async with hr.svc.ctx.db.session() as s:
        return list(
            (await s.execute(select(audit_log).where(audit_log.c.action == action, audit_log.c.entity_id == entity_id))).all()
        )


async def read(hr: HrWorld, appointment: dict[str, Any]) -> dict[str, Any]:
    return await hr.call("GET", f"/appointments/{appointment['id']}", 200)  # type: ignore[no-any-return]


# --- the term-end job ----------------------------------------------------------------------------------


async def test_an_appointment_past_its_term_is_ended_with_reason_term_end_on_its_last_day(hr_factory):
    hr, _ = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=5, posts=3)
    expired = await appointed(hr, position, "届满甲", YESTERDAY)
    assert (await hr.call("GET", f"/positions/{position['id']}", 200))["vacancies"] == 2

    assert await run_term_end_scan(hr.svc.ctx) == 1

    record = await read(hr, expired)
    assert record["status"] == "ended"
    assert record["end_reason"] == "term_end" and record["end_reason_label"] == "任期届满"
    assert record["ended_on"] == on(YESTERDAY)
    assert record["end_note"] == "聘期届满，系统自动结束聘任"
    # Exactly the event HR's own "end appointment" writes, in the outbox.
    [event] = await outbox(hr, ENDED, expired["id"])
    assert event["zone_id"] == hr.zone
    assert {k: event["data"][k] for k in ("appointment_id", "staff_id", "position_id", "reason", "ended_on")} == {
        "appointment_id": expired["id"], "staff_id": expired["staff_id"], "position_id": position["id"],
        "reason": "term_end", "ended_on": on(YESTERDAY),
    }
    # Audited as the system, not as a person.
    [audit] = await audit_rows(hr, "appointment.end", expired["id"])
    assert (audit.actor, audit.actor_kind) == (TERM_END_ACTOR, "system")
    assert audit.before["status"] == "active" and audit.after["status"] == "ended"
    # The post is vacant again and the zone's headcount says so.
    assert (await hr.call("GET", f"/positions/{position['id']}", 200))["vacancies"] == 3
    assert (await outbox(hr, "zone.hr.headcount.changed.v1"))[-1]["data"]["total_filled"] == 0


async def test_an_appointment_ending_today_or_later_is_left_alone(hr_factory):
    hr, _ = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=5, posts=3)
    last_day_today = await appointed(hr, position, "今天最后一天", TODAY)
    later = await appointed(hr, position, "明年届满", date(2027, 3, 9))
    headcount_events = len(await outbox(hr, "zone.hr.headcount.changed.v1"))

    assert await run_term_end_scan(hr.svc.ctx) == 0

    assert (await read(hr, last_day_today))["status"] == "active"
    assert (await read(hr, later))["status"] == "active"
    assert await outbox(hr, ENDED) == []
    assert len(await outbox(hr, "zone.hr.headcount.changed.v1")) == headcount_events


async def test_the_appointment_ends_on_its_last_day_even_when_the_job_notices_weeks_later(hr_factory):
    hr, clock = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=5, posts=3)
    appointment = await appointed(hr, position, "迟到的扫描", TODAY)

    clock.advance(days=40)  # e.g. the job was turned off for a while
    assert await run_term_end_scan(hr.svc.ctx) == 1

    assert (await read(hr, appointment))["ended_on"] == on(TODAY)
    [event] = await outbox(hr, ENDED, appointment["id"])
    assert event["data"]["ended_on"] == on(TODAY)


async def test_running_the_job_again_ends_nothing_more_and_emits_nothing_more(hr_factory):
    hr, _ = await start(hr_factory, term_end_scan_batch=2)  # five appointments: three transactions
    _, position = await hr.department_with_position(allocation=10, posts=6)
    expired = [await appointed(hr, position, f"届满{i}", YESTERDAY - timedelta(days=i)) for i in range(5)]

    assert await run_term_end_scan(hr.svc.ctx) == 5
    outbox_rows, audit_total = await hr.count(outbox_event), await hr.count(audit_log)
    assert await run_term_end_scan(hr.svc.ctx) == 0

    assert (await hr.count(outbox_event), await hr.count(audit_log)) == (outbox_rows, audit_total)
    assert sorted(e["subject"] for e in await outbox(hr, ENDED)) == sorted(a["id"] for a in expired)


async def test_one_run_ends_at_most_the_configured_number_and_the_next_run_ends_the_rest(hr_factory):
    hr, _ = await start(hr_factory, term_end_scan_batch=2, term_end_scan_max=3)
    _, position = await hr.department_with_position(allocation=10, posts=6)
    expired = [await appointed(hr, position, f"分批{i}", YESTERDAY - timedelta(days=i)) for i in range(5)]

    assert await run_term_end_scan(hr.svc.ctx) == 3
    # The longest overdue go first.
    assert [(await read(hr, a))["status"] for a in expired] == ["active", "active", "ended", "ended", "ended"]
    assert await run_term_end_scan(hr.svc.ctx) == 2
    assert len(await outbox(hr, ENDED)) == 5


async def test_two_replicas_scanning_at_once_end_each_appointment_once_and_announce_it_once(hr_factory, service_factory, issuer):
    hr, clock = await start(hr_factory, term_end_scan_batch=3)
    second = await service_factory(
        DEFINITION, database_url=hr.svc.settings.database_url, relay_enabled=False, consumers_enabled=False,
        term_end_scan_batch=3,
    )
    second.ctx.extras["clock"] = clock
    other_zone = HrWorld(hr.svc, issuer, zone="zone-b")
    expired = []
    for world in (hr, other_zone):
        _, position = await world.department_with_position(allocation=10, posts=8)
        expired += [await appointed(world, position, f"{world.zone}-{i}", YESTERDAY - timedelta(days=i)) for i in range(7)]

    ended = await asyncio.gather(run_term_end_scan(hr.svc.ctx), run_term_end_scan(second.ctx))

    assert sum(ended) == len(expired) == 14
    events = await outbox(hr, ENDED)
    assert sorted(e["subject"] for e in events) == sorted(a["id"] for a in expired)  # one each, none twice
    for appointment in expired:
        assert len(await audit_rows(hr, "appointment.end", appointment["id"])) == 1


async def test_an_appointment_read_before_someone_else_ended_it_is_not_ended_twice(hr_factory):
    hr, _ = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=5, posts=3)
    appointment = await appointed(hr, position, "手工先结束", YESTERDAY)
    db = hr.svc.ctx.db
    async with db.session() as stale_session:
        stale = await stale_session.get(Appointment, appointment["id"])
        assert stale is not None and stale.status == "active"

    # HR ends it by hand (resignation) …
    await hr.call("POST", f"/appointments/{appointment['id']}/end", 200, json={"reason": "resignation", "ended_on": on(YESTERDAY)})
    # … and whoever still holds the old read loses the compare-and-set instead of overwriting it.
    async with db.session() as session:
        session.add(stale)
        try:
            await people.end(session, TERM_END_ACTOR, stale, EndReason.TERM_END, stale.term_end, None)
        except people.AppointmentAlreadyEnded:
            pass
        else:
            raise AssertionError("a stale appointment was ended a second time")
        await session.commit()
    assert await run_term_end_scan(hr.svc.ctx) == 0

    assert (await read(hr, appointment))["end_reason"] == "resignation"
    assert [e["data"]["reason"] for e in await outbox(hr, ENDED, appointment["id"])] == ["resignation"]


async def test_an_appointment_the_job_ended_cannot_be_ended_again_by_hand(hr_factory):
    hr, _ = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=5, posts=3)
    appointment = await appointed(hr, position, "已自动结束", YESTERDAY)
    await run_term_end_scan(hr.svc.ctx)

    again = await hr.call("POST", f"/appointments/{appointment['id']}/end", 409, json={"reason": "other"})
    assert again["errors"][0]["code"] == "already_ended"
    assert len(await outbox(hr, ENDED, appointment["id"])) == 1


async def test_the_scheduled_job_scans_when_its_interval_has_passed_and_never_when_it_is_zero(hr_factory):
    off, _ = await start(hr_factory, term_end_scan_interval_s=0)
    _, position = await off.department_with_position(allocation=5, posts=3)
    untouched = await appointed(off, position, "任务关闭", YESTERDAY)
    await term_end_job(off.svc.ctx)
    assert (await read(off, untouched))["status"] == "active"

    on_duty, _ = await start(hr_factory, term_end_scan_interval_s=3600)
    _, position = await on_duty.department_with_position(allocation=5, posts=3)
    first = await appointed(on_duty, position, "首次扫描", YESTERDAY)
    await term_end_job(on_duty.svc.ctx)  # a replica's first tick scans at once
    assert (await read(on_duty, first))["status"] == "ended"
    second = await appointed(on_duty, position, "间隔未到", YESTERDAY)
    await term_end_job(on_duty.svc.ctx)  # within the hour: no scan
    assert (await read(on_duty, second))["status"] == "active"


# --- the expiring-soon list -------------------------------------------------------------------------------


async def expiring(hr: HrWorld, headers: dict[str, str] | None = None, expect: int = 200, **params: Any) -> Any:
    r = await hr.client.get("/appointments/expiring", params=params, headers=headers or hr.admin)
    assert r.status_code == expect, r.text
    return r.json()


async def test_the_expiring_list_shows_the_zones_terms_ending_within_n_days_soonest_first(hr_factory, issuer):
    hr, _ = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=10, posts=6)
    in_20 = await appointed(hr, position, "二十天", TODAY + timedelta(days=20))
    in_5 = await appointed(hr, position, "五天", TODAY + timedelta(days=5))
    last_day = await appointed(hr, position, "今天", TODAY)
    await appointed(hr, position, "四十天", TODAY + timedelta(days=40))
    ended = await appointed(hr, position, "已辞职", TODAY + timedelta(days=3))
    await hr.call("POST", f"/appointments/{ended['id']}/end", 200, json={"reason": "resignation"})
    other_zone = HrWorld(hr.svc, issuer, zone="zone-b")
    _, elsewhere = await other_zone.department_with_position(allocation=5, posts=2)
    theirs = await appointed(other_zone, elsewhere, "别的功能区", TODAY + timedelta(days=2))

    page = await expiring(hr)
    assert (page["as_of"], page["within_days"], page["total"]) == (on(TODAY), 30, 3)
    assert [a["id"] for a in page["items"]] == [last_day["id"], in_5["id"], in_20["id"]]
    assert [(a["days_left"], a["expiry_label"]) for a in page["items"]] == [
        (0, "今天是聘期最后一天"), (5, "聘期还剩 5 天"), (20, "聘期还剩 20 天"),
    ]
    assert [a["id"] for a in (await expiring(hr, days=5))["items"]] == [last_day["id"], in_5["id"]]
    assert (await expiring(hr, days=40))["total"] == 4
    assert (await expiring(hr, days=365, size=1, page=2))["items"][0]["id"] == in_5["id"]
    # The other zone's HR sees its own appointment only.
    assert [a["id"] for a in (await expiring(other_zone, headers=other_zone.admin))["items"]] == [theirs["id"]]


async def test_a_term_past_its_end_that_the_job_has_not_yet_ended_is_listed_first_as_overdue(hr_factory):
    hr, _ = await start(hr_factory, term_end_scan_interval_s=0)  # the job is off
    _, position = await hr.department_with_position(allocation=5, posts=3)
    overdue = await appointed(hr, position, "已届满", TODAY - timedelta(days=3))
    soon = await appointed(hr, position, "快到期", TODAY + timedelta(days=1))

    items = (await expiring(hr, days=1))["items"]

    assert [(a["id"], a["days_left"], a["expiry_label"]) for a in items] == [
        (overdue["id"], -3, "聘期已届满 3 天，待结束聘任"), (soon["id"], 1, "聘期还剩 1 天"),
    ]


async def test_the_window_is_bounded_to_one_to_365_days(hr_factory):
    hr, _ = await start(hr_factory)
    for bad in ("0", "366", "-1", "thirty"):
        problem = await expiring(hr, expect=422, days=bad)
        assert problem["errors"][0]["field"].endswith("days"), problem


async def test_the_expiring_list_follows_who_may_read_appointments(hr_factory, issuer):
    hr, _ = await start(hr_factory)
    _, position = await hr.department_with_position(allocation=5, posts=3, code="planning")
    mine = await appointed(hr, position, "周九", TODAY + timedelta(days=7), account="zhou.jiu")
    await appointed(hr, position, "吴十", TODAY + timedelta(days=8))

    assert [a["id"] for a in (await expiring(hr, hr.staff_token("zhou.jiu")))["items"]] == [mine["id"]]
    assert (await expiring(hr, hr.staff_token("h", "dept-head", department="planning")))["total"] == 2
    assert (await expiring(hr, hr.staff_token("h2", "dept-head", department="strategy")))["total"] == 0
    assert (await expiring(hr, issuer.staff(None, roles=("hr-admin",)), zone_id=hr.zone))["total"] == 2
    # Refused: enterprises, and another zone's HR asking for this zone.
    enterprise = await expiring(hr, issuer.enterprise("91510100MA6C8U4P5L"), expect=403)
    assert enterprise["status"] == 403
    await expiring(hr, issuer.staff("zone-b", roles=("hr-admin",)), expect=403, zone_id=hr.zone)
    assert (await expiring(hr, issuer.staff("zone-b", roles=("hr-admin",))))["total"] == 0
    assert (await hr.client.get("/appointments/expiring")).status_code == 401

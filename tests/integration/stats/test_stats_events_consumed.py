"""Events the service consumes, over the real broker: the platform's zone directory (a co-built
zone and its shares) and the investment, approvals and HR events behind derived indicators — a
redelivered event never counts twice."""

from __future__ import annotations

from typing import Any

from chassis.events import CloudEvent
from chassis.telemetry import EVENTS_CONSUMED
from tests.integration.stats.stats_support import CHIP_DESIGN, XINGU, file_and_accept, monthly, start_stats
from tests.support.events import publish
from tests.support.services import eventually


def zone_event(kind: str, zone_id: str, partners: list[dict[str, Any]], name: str = "东部新区未来医学城") -> CloudEvent:
    return CloudEvent(
        type=f"zone.platform.zone.{kind}.v1",
        source="/zone-platform/gateway",
        subject=zone_id,
        zoneid=zone_id,
        data={"zone_id": zone_id, "name": name, "type": "产业新城", "district": "简阳市", "partners": partners, "active": True},
    )


async def test_a_co_built_zone_published_by_the_platform_splits_its_figures_by_share_adding_up_exactly(service_factory, people, kafka):
    svc = await start_stats(service_factory, consumers_enabled=True)
    thirds = [{"district": "高新区", "share_percent": 33.33}, {"district": "双流区", "share_percent": 33.33}, {"district": "简阳市", "share_percent": 33.34}]
    await publish(kafka.bootstrap, svc.settings.topic("platform"), zone_event("created", "ed-medcity", thirds))

    async def zone_known() -> bool:
        zones = (await svc.client.get("/zones", headers=people.leader(None))).json()
        return any(z["zone_id"] == "ed-medcity" for z in zones)

    await eventually(zone_known, message="zone.created never projected")
    await file_and_accept(svc, people, monthly(zone="ed-medcity", industrial_output_above_scale="100.01", total_tax=7))

    summary = (await svc.client.get("/zones/ed-medcity/summary", params={"period": "2026-10"}, headers=people.leader(None))).json()
    output = next(i for i in summary["indicators"] if i["code"] == "industrial_output_above_scale")
    shares = [p["value"] for p in output["partner_shares"]]
    # 10001 cents by 33.33 / 33.33 / 33.34: quotas 3333.3333, 3333.3333, 3334.3334 → floors 3333, 3333, 3334;
    # the cent left over goes to the largest remainder (.3334, the third partner's).
    assert shares == [33.33, 33.33, 33.35]
    assert round(sum(shares), 2) == output["value"] == 100.01
    tax = next(i for i in summary["indicators"] if i["code"] == "total_tax")
    assert [p["value"] for p in tax["partner_shares"]] == [2.33, 2.33, 2.34]

    # The platform changes the agreement to 7:3; the next summary follows.
    seventy_thirty = [{"district": "高新区", "share_percent": 70}, {"district": "双流区", "share_percent": 30}]
    await publish(kafka.bootstrap, svc.settings.topic("platform"), zone_event("changed", "ed-medcity", seventy_thirty, name="未来医学城"))

    async def resplit() -> list[float] | None:
        s = (await svc.client.get("/zones/ed-medcity/summary", params={"period": "2026-10"}, headers=people.leader(None))).json()
        out = next(i for i in s["indicators"] if i["code"] == "industrial_output_above_scale")
        values = [p["value"] for p in out["partner_shares"]]
        return values if len(values) == 2 and s["zone_name"] == "未来医学城" else None

    assert await eventually(resplit, message="zone.changed never projected") == [70.01, 30.0]


def derived_events(zone: str) -> list[tuple[str, CloudEvent]]:
    def ev(service: str, type_: str, subject: str, data: dict[str, Any]) -> tuple[str, CloudEvent]:
        return service, CloudEvent(type=type_, source=f"/zone-platform/{service}", subject=subject, zoneid=zone, data={"zone_id": zone, **data})

    return [
        ev("investment", "zone.investment.project.signed.v1", "p-1", {
            "project_id": "p-1", "name": "12 英寸晶圆项目", "investor": "某半导体集团", "agreed_investment_wan": 150000.5,
            "funding_source": "domestic_outside_city", "signed_on": "2026-10-18", "chain_code": "ic", "key_project": True,
        }),
        ev("investment", "zone.investment.funds.recorded.v1", "p-1", {
            "project_id": "p-1", "period": "2026-10", "amount_wan": 20000, "source": "domestic_outside_city",
        }),
        ev("investment", "zone.investment.funds.recorded.v1", "p-2", {
            "project_id": "p-2", "period": "2026-10", "amount_wan": 1234.56, "source": "foreign",
        }),
        ev("approvals", "zone.approvals.application.completed.v1", "a-1", {
            "application_id": "a-1", "uscc": CHIP_DESIGN, "item_codes": ["XK-0001"], "completed_at": "2026-10-31T18:30:00+08:00",
            "accepted_at": "2026-10-20T09:00:00+08:00", "promised_days": 5, "working_days_used": 4, "on_time": True, "certificate_no": "C-1",
        }),
        ev("approvals", "zone.approvals.application.completed.v1", "a-2", {
            "application_id": "a-2", "uscc": CHIP_DESIGN, "item_codes": ["XK-0002"], "completed_at": "2026-10-12T10:00:00+08:00",
            "accepted_at": "2026-10-01T09:00:00+08:00", "promised_days": 5, "working_days_used": 7, "on_time": False, "certificate_no": "C-2",
        }),
        ev("hr", "zone.hr.headcount.changed.v1", zone, {
            "as_of": "2026-10-15", "total_quota": 60, "total_filled": 48, "total_vacancies": 12, "departments": [],
        }),
    ]


async def test_the_same_event_delivered_twice_counts_once(service_factory, people, kafka):
    svc = await start_stats(service_factory, consumers_enabled=True)
    events = derived_events(XINGU)
    for service, event in events:
        await publish(kafka.bootstrap, svc.settings.topic(service), event)
        await publish(kafka.bootstrap, svc.settings.topic(service), event)  # redelivered: same id
    # The approvals service republishes a completion under a new id: the application still counts once.
    _, completion = events[3]
    await publish(kafka.bootstrap, svc.settings.topic("approvals"), CloudEvent(**{**completion.__dict__, "id": "republished-a-1"}))
    # A later headcount reading of the same month replaces the earlier one; an older one is ignored.
    _, headcount = events[5]
    later = CloudEvent(**{**headcount.__dict__, "id": "hc-2", "data": {**headcount.data, "as_of": "2026-10-28", "total_filled": 50, "total_vacancies": 10}})
    older = CloudEvent(**{**headcount.__dict__, "id": "hc-0", "data": {**headcount.data, "as_of": "2026-10-02", "total_filled": 40, "total_vacancies": 20}})
    await publish(kafka.bootstrap, svc.settings.topic("hr"), later)
    await publish(kafka.bootstrap, svc.settings.topic("hr"), older)

    group = svc.ctx.consumers[0].group

    async def all_handled() -> bool:
        # 9 distinct event ids handled; each of the 6 redeliveries skipped by the inbox.
        duplicates = sum(EVENTS_CONSUMED.labels(group, t, "duplicate")._value.get() for t in {e.type for _, e in events})
        return svc.ctx.consumers[0].handled >= 9 and duplicates >= 6

    await eventually(all_handled, timeout_s=30, message="events not all consumed")
    summary = (await svc.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())).json()
    values = {i["code"]: i["value"] for i in summary["indicators"]}
    assert values["signed_projects"] == 1
    assert values["major_projects_signed"] == 1
    assert values["agreed_investment"] == 150000.5
    assert values["funds_domestic_outside_city"] == 20000
    assert values["foreign_capital_utilized"] == 1234.56
    assert values["approvals_completed"] == 2
    assert values["approvals_on_time_rate"] == 50.0
    assert values["approvals_avg_working_days"] == 5.5
    assert values["headcount_filled"] == 50
    assert values["headcount_vacancies"] == 10
    # Event-derived figures sit beside reported ones.
    await file_and_accept(svc, people, monthly())
    after = (await svc.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())).json()
    assert {i["code"]: i["value"] for i in after["indicators"]}["signed_projects"] == 1

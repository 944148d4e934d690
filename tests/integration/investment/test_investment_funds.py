"""Funds in place (实际到位资金): a period, an amount in 万元 and where the money came from, for a
signed project; anything else is refused with the field named and nothing written."""

from __future__ import annotations

import json

from sqlalchemy import select

from chassis.tables import outbox_event
from services.investment.access import today as shanghai_today
from services.investment.models import FundsRecord


def next_month() -> str:
    today = shanghai_today()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


async def signed_project(inv):  # type: ignore[no-untyped-def]
    project = await inv.project()
    await inv.advance(project["id"], "signed")
    return project


async def test_funds_are_recorded_per_period_totalled_by_source_and_announced(inv):
    project = await signed_project(inv)
    url = f"/projects/{project['id']}/funds"
    first = await inv.client.post(url, json={"period": "2026-03", "amount_wan": "1200.50", "source": "domestic_outside_city"},
                                  headers=inv.staff())
    assert first.status_code == 201, first.text
    assert first.json()["amount_wan"] == 1200.5 and first.json()["source_label"] == "市外内资"
    await inv.client.post(url, json={"period": "2026-04", "amount_wan": 800, "source": "foreign"}, headers=inv.staff())
    listed = (await inv.client.get(url, headers=inv.staff())).json()
    assert [i["period"] for i in listed["items"]] == ["2026-03", "2026-04"]
    assert listed["total_wan"] == 2000.5
    assert listed["by_source"] == {"domestic_outside_city": 1200.5, "foreign": 800.0}
    async with inv.svc.ctx.db.session() as s:
        rows = (await s.execute(select(outbox_event).where(
            outbox_event.c.type == "zone.investment.funds.recorded.v1").order_by(outbox_event.c.seq))).all()
    assert [r.key for r in rows] == [project["id"], project["id"]]
    data = json.loads(rows[0].data)
    assert {k: data[k] for k in ("project_id", "zone_id", "period", "amount_wan", "source")} == {
        "project_id": project["id"], "zone_id": "zone-a", "period": "2026-03", "amount_wan": 1200.5,
        "source": "domestic_outside_city",
    }
    assert await inv.audit_actions(first.json()["id"]) == ["funds.record"]


async def test_invalid_funds_are_refused_naming_the_field_and_nothing_is_written(inv):
    project = await signed_project(inv)
    url = f"/projects/{project['id']}/funds"
    before = await inv.count(outbox_event)
    cases = [
        ({"period": "2026-03", "amount_wan": -100, "source": "foreign"}, "amount_wan"),
        ({"period": "2026-03", "amount_wan": 0, "source": "foreign"}, "amount_wan"),
        ({"period": "2026-03", "amount_wan": "1.005", "source": "foreign"}, "amount_wan"),
        ({"period": "2026-3", "amount_wan": 100, "source": "foreign"}, "period"),
        ({"period": "2026-13", "amount_wan": 100, "source": "foreign"}, "period"),
        ({"period": "202603", "amount_wan": 100, "source": "foreign"}, "period"),
        ({"period": next_month(), "amount_wan": 100, "source": "foreign"}, "period"),
        ({"period": "2026-03", "amount_wan": 100, "source": "local"}, "source"),
        ({"period": "2026-03", "amount_wan": 100}, "source"),
        ({"period": "2026-03", "amount_wan": 100, "source": "foreign", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = await inv.client.post(url, json=body, headers=inv.staff())
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert await inv.count(FundsRecord) == 0
    assert await inv.count(outbox_event) == before


async def test_funds_for_an_unknown_project_are_404(inv):
    r = await inv.client.post(
        "/projects/00000000-0000-0000-0000-000000000000/funds",
        json={"period": "2026-03", "amount_wan": 100, "source": "foreign"}, headers=inv.staff(),
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_funds_wait_for_the_signature_and_stop_with_a_drop(inv):
    project = await inv.project()
    body = {"period": "2026-03", "amount_wan": 100, "source": "foreign"}
    early = await inv.client.post(f"/projects/{project['id']}/funds", json=body, headers=inv.staff())
    assert early.status_code == 409 and early.json()["current_stage"] == "lead"
    await inv.advance(project["id"], "signed")
    await inv.step(project["id"], "dropped", reason="资金链断裂")
    late = await inv.client.post(f"/projects/{project['id']}/funds", json=body, headers=inv.staff())
    assert late.status_code == 409
    assert await inv.count(FundsRecord) == 0

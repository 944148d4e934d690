"""The project lifecycle through the API: one step forward at a time, or dropped with a reason
before operation; every illegal move is a 409 naming the current stage and the allowed ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from services.investment.access import today as shanghai_today
from services.investment.models import Project, StageChange
from tests.support.validators import VALID_USCC

STAGES = ["lead", "contacting", "negotiating", "signed", "registered", "land_secured", "under_construction",
          "in_operation", "dropped"]
FORWARD = STAGES[1:8]


def allowed_from(stage: str) -> list[str]:
    if stage in ("in_operation", "dropped"):
        return []
    return [STAGES[STAGES.index(stage) + 1], "dropped"]


async def assert_illegal_moves_refused(inv, project_id: str, current: str) -> None:  # type: ignore[no-untyped-def]
    for target in STAGES:
        if target in allowed_from(current):
            continue
        r = await inv.step(project_id, target, reason="测试")
        assert r.status_code == 409, (current, target, r.text)
        problem = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert problem["current_stage"] == current
        assert problem["allowed_next_stages"] == allowed_from(current)
        assert problem["errors"][0]["field"] == "to_stage"
        assert current in problem["detail"] and target in problem["detail"]


async def test_a_project_walks_every_stage_one_step_at_a_time_and_every_other_move_is_refused(inv):
    project = await inv.project()
    assert project["stage"] == "lead"
    assert project["allowed_next_stages"] == ["contacting", "dropped"]
    current = "lead"
    for target in FORWARD:
        await assert_illegal_moves_refused(inv, project["id"], current)
        r = await inv.step(project["id"], target)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["transition"]["from_stage"] == current
        assert body["transition"]["to_stage"] == target
        assert body["project"]["stage"] == target
        current = target
    await assert_illegal_moves_refused(inv, project["id"], "in_operation")
    final = (await inv.client.get(f"/projects/{project['id']}", headers=inv.staff())).json()
    assert list(final["stage_dates"]) == STAGES[:8]
    assert [h["to_stage"] for h in final["stage_history"]] == STAGES[:8]
    assert final["allowed_next_stages"] == []


async def test_a_project_can_be_dropped_with_a_reason_from_every_stage_before_operation_and_then_nothing_moves(inv):
    for stop in ["lead", *FORWARD[:-1]]:
        project = await inv.project(name=f"项目-{stop}")
        if stop != "lead":
            await inv.advance(project["id"], stop)
        r = await inv.step(project["id"], "dropped", reason="投资方战略调整")
        assert r.status_code == 200, (stop, r.text)
        dropped = r.json()["project"]
        assert dropped["stage"] == "dropped"
        assert dropped["dropped_from_stage"] == stop
        assert dropped["drop_reason"] == "投资方战略调整"
        await assert_illegal_moves_refused(inv, project["id"], "dropped")


async def test_dropping_without_a_reason_is_422_naming_reason_and_changes_nothing(inv):
    project = await inv.project()
    r = await inv.step(project["id"], "dropped")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["reason"]
    again = (await inv.client.get(f"/projects/{project['id']}", headers=inv.staff())).json()
    assert again["stage"] == "lead"
    assert await inv.count(StageChange) == 1


async def test_signing_requires_the_investor_s_agreed_investment_and_funding_source(inv):
    project = await inv.project(agreed_investment_wan=None, funding_source=None)
    await inv.advance(project["id"], "negotiating")
    r = await inv.step(project["id"], "signed")
    assert r.status_code == 409
    problem = r.json()
    assert {e["field"] for e in problem["errors"]} == {"agreed_investment_wan", "funding_source"}
    assert problem["missing_fields"] == ["agreed_investment_wan", "funding_source"]
    assert problem["current_stage"] == "negotiating"
    assert "协议投资额" in problem["detail"]

    patch = await inv.client.patch(
        f"/projects/{project['id']}", json={"agreed_investment_wan": "52000.50", "funding_source": "foreign"},
        headers=inv.staff(),
    )
    assert patch.status_code == 200, patch.text
    signed = await inv.step(project["id"], "signed", effective_on=shanghai_today().isoformat())
    assert signed.status_code == 200, signed.text
    assert signed.json()["project"]["signed_on"] is not None
    assert signed.json()["project"]["agreed_investment_wan"] == 52000.5


async def test_registration_requires_a_valid_uscc_given_then_or_already_on_the_project(inv):
    project = await inv.project()
    await inv.advance(project["id"], "signed")
    missing = await inv.client.post(
        f"/projects/{project['id']}/transitions", json={"to_stage": "registered"}, headers=inv.staff()
    )
    assert missing.status_code == 409
    assert [e["field"] for e in missing.json()["errors"]] == ["uscc"]

    invalid = await inv.step(project["id"], "registered", uscc="91510100MA6DGXQ126")  # wrong check digit
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "uscc"
    assert "统一社会信用代码" in invalid.json()["errors"][0]["message"]

    ok = await inv.step(project["id"], "registered", uscc=VALID_USCC.lower())
    assert ok.status_code == 200, ok.text
    assert ok.json()["project"]["uscc"] == VALID_USCC


async def test_securing_land_requires_the_area(inv):
    project = await inv.project(land_area_mu=None)
    await inv.advance(project["id"], "registered")
    r = await inv.step(project["id"], "land_secured")
    assert r.status_code == 409
    assert [e["field"] for e in r.json()["errors"]] == ["land_area_mu"]
    ok = await inv.step(project["id"], "land_secured", land_area_mu="120.5")
    assert ok.status_code == 200, ok.text
    assert ok.json()["project"]["land_area_mu"] == 120.5


async def test_data_a_later_stage_depends_on_cannot_be_cleared_and_data_for_another_stage_is_refused(inv):
    project = await inv.project()
    await inv.advance(project["id"], "signed")
    r = await inv.client.patch(f"/projects/{project['id']}", json={"agreed_investment_wan": None}, headers=inv.staff())
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "agreed_investment_wan"
    wrong = await inv.step(project["id"], "registered", land_area_mu=10)
    assert wrong.status_code == 422
    assert "land_area_mu" in [e["field"] for e in wrong.json()["errors"]]


async def test_stage_dates_are_recorded_so_time_per_stage_can_be_measured(inv):
    today = shanghai_today()
    start = today - timedelta(days=40)
    project = await inv.project(lead_on=start.isoformat())
    first = await inv.step(project["id"], "contacting", effective_on=(start + timedelta(days=10)).isoformat())
    assert first.json()["transition"]["days_in_previous_stage"] == 10
    second = await inv.step(project["id"], "negotiating", effective_on=(start + timedelta(days=25)).isoformat())
    assert second.status_code == 200
    transition = second.json()["transition"]
    assert transition["days_in_previous_stage"] == 15
    assert transition["effective_on"] == (start + timedelta(days=25)).isoformat()
    shown = second.json()["project"]
    assert shown["stage_dates"] == {
        "lead": start.isoformat(),
        "contacting": (start + timedelta(days=10)).isoformat(),
        "negotiating": (start + timedelta(days=25)).isoformat(),
    }
    assert shown["days_in_stage"] == 15
    async with inv.svc.ctx.db.session() as s:
        rows = (await s.execute(select(StageChange).order_by(col(StageChange.changed_at)))).scalars().all()
    assert [r.days_in_previous_stage for r in rows] == [None, 10, 15]


async def test_a_stage_date_before_the_current_stage_began_or_in_the_future_is_refused(inv):
    today = shanghai_today()
    project = await inv.project(lead_on=(today - timedelta(days=5)).isoformat())
    early = await inv.step(project["id"], "contacting", effective_on=(today - timedelta(days=6)).isoformat())
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "effective_on"
    future = await inv.step(project["id"], "contacting", effective_on=(today + timedelta(days=1)).isoformat())
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "effective_on"
    async with inv.svc.ctx.db.session() as s:
        assert (await s.get(Project, project["id"])).stage == "lead"  # type: ignore[union-attr]


async def test_an_unknown_target_stage_is_422_naming_to_stage(inv):
    project = await inv.project()
    r = await inv.step(project["id"], "celebrating")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "to_stage"


async def test_a_retried_transition_with_the_same_idempotency_key_returns_the_first_result(inv):
    project = await inv.project()
    headers = {**inv.staff(), "Idempotency-Key": "move-1"}
    url = f"/projects/{project['id']}/transitions"
    first = await inv.client.post(url, json={"to_stage": "contacting"}, headers=headers)
    again = await inv.client.post(url, json={"to_stage": "contacting"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await inv.count(StageChange) == 2

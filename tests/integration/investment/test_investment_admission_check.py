"""Checking a project against its zone's admission catalog (项目准入目录): every criterion with its
required value, actual value and verdict; a missing figure fails with the reason; the result is
stored on the project and announced."""

from __future__ import annotations

import json

from sqlalchemy import select

from chassis.tables import outbox_event
from services.investment.models import AdmissionCheck

PACKAGING = {
    "min_total_investment_wan": 20000,
    "min_investment_intensity_wan_per_mu": 500,
    "min_output_per_mu_wan": 800,
    "min_tax_per_mu_wan": 50,
    "max_energy_per_output_tce_per_wan": "0.08",
}
GOOD = {
    "sector_code": "ic_packaging",
    "agreed_investment_wan": 85000,
    "land_area_mu": 150,
    "expected_annual_output_wan": 150000,
    "expected_annual_tax_wan": 9000,
    "expected_annual_energy_tce": 9000,
}


async def check(inv, project_id: str, zone: str = "zone-a"):  # type: ignore[no-untyped-def]
    return await inv.client.post(f"/projects/{project_id}/admission-check", headers=inv.staff(zone))


async def test_a_project_meeting_every_threshold_passes_and_the_result_is_stored_and_announced(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project(**GOOD)
    r = await check(inv, project["id"])
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["passed"] is True
    by_name = {c["criterion"]: c for c in result["criteria"]}
    assert list(by_name) == ["total_investment", "investment_intensity", "output_per_mu", "tax_per_mu", "energy_per_output"]
    assert by_name["investment_intensity"] == {
        "criterion": "investment_intensity", "label": "投资强度", "unit": "万元/亩", "comparison": "min",
        "required": 500.0, "actual": 566.67, "passed": True, "reason": None,
    }
    assert by_name["output_per_mu"]["actual"] == 1000.0
    assert by_name["tax_per_mu"]["actual"] == 60.0
    assert by_name["energy_per_output"]["actual"] == 0.06 and by_name["energy_per_output"]["required"] == 0.08

    shown = (await inv.client.get(f"/projects/{project['id']}", headers=inv.staff())).json()
    assert shown["admission_passed"] is True and shown["admission_checked_at"] is not None
    history = (await inv.client.get(f"/projects/{project['id']}/admission-checks", headers=inv.staff())).json()
    assert [h["id"] for h in history] == [result["id"]]
    async with inv.svc.ctx.db.session() as s:
        row = (await s.execute(select(outbox_event).where(
            outbox_event.c.type == "zone.investment.project.admission_checked.v1"))).one()
    data = json.loads(row.data)
    assert row.key == project["id"] and row.zone_id == "zone-a"
    assert data["passed"] is True and data["sector_code"] == "ic_packaging" and len(data["criteria"]) == 5


async def test_a_project_below_one_threshold_fails_on_that_criterion_only(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project(**{**GOOD, "expected_annual_tax_wan": 6000})  # 40 万元/亩 < 50
    result = (await check(inv, project["id"])).json()
    assert result["passed"] is False
    failed = [c for c in result["criteria"] if not c["passed"]]
    assert failed == [{
        "criterion": "tax_per_mu", "label": "亩均税收", "unit": "万元/亩·年", "comparison": "min",
        "required": 50.0, "actual": 40.0, "passed": False, "reason": None,
    }]


async def test_a_maximum_criterion_fails_when_the_actual_is_above_it(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project(**{**GOOD, "expected_annual_energy_tce": 15000})  # 0.1 tce/万元 > 0.08
    result = (await check(inv, project["id"])).json()
    energy = next(c for c in result["criteria"] if c["criterion"] == "energy_per_output")
    assert (energy["actual"], energy["passed"], result["passed"]) == (0.1, False, False)


async def test_missing_figures_fail_their_criteria_with_the_reason(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project(sector_code="ic_packaging", agreed_investment_wan=85000, land_area_mu=None)
    result = (await check(inv, project["id"])).json()
    assert result["passed"] is False
    by_name = {c["criterion"]: c for c in result["criteria"]}
    assert by_name["total_investment"]["passed"] is True
    intensity = by_name["investment_intensity"]
    assert intensity["actual"] is None and intensity["passed"] is False
    assert intensity["reason"] == "未填写用地面积"
    assert by_name["output_per_mu"]["reason"] == "未填写预计年产值；未填写用地面积"
    assert by_name["energy_per_output"]["reason"] == "未填写预计年综合能耗；未填写预计年产值"
    assert (await inv.client.get(f"/projects/{project['id']}", headers=inv.staff())).json()["admission_passed"] is False


async def test_a_sector_the_zone_does_not_list_fails_as_a_whole_and_the_zone_s_own_catalog_is_used(inv):
    await inv.catalog(zone="zone-b", **PACKAGING)  # another zone's catalog does not apply
    project = await inv.project(**GOOD)
    result = (await check(inv, project["id"])).json()
    assert result["passed"] is False and result["catalog_entry_id"] is None
    assert result["criteria"] == [{
        "criterion": "sector_listed", "label": "行业列入准入目录", "unit": "", "comparison": "listed",
        "required": None, "actual": None, "passed": False, "reason": "本功能区项目准入目录未收录行业 ic_packaging",
    }]


async def test_a_project_without_a_sector_cannot_be_checked_and_nothing_is_stored(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project()
    r = await check(inv, project["id"])
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "sector_code"
    assert await inv.count(AdmissionCheck) == 0


async def test_a_re_check_after_an_amendment_reflects_the_new_figures(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project(**{**GOOD, "expected_annual_tax_wan": 6000})
    assert (await check(inv, project["id"])).json()["passed"] is False
    await inv.client.patch(f"/projects/{project['id']}", json={"expected_annual_tax_wan": 7500}, headers=inv.staff())
    assert (await check(inv, project["id"])).json()["passed"] is True
    history = (await inv.client.get(f"/projects/{project['id']}/admission-checks", headers=inv.staff())).json()
    assert [h["passed"] for h in history] == [True, False]


async def test_only_the_project_s_zone_investment_staff_run_a_check(inv):
    await inv.catalog(**PACKAGING)
    project = await inv.project(**GOOD)
    assert (await check(inv, project["id"], zone="zone-b")).status_code == 404
    other_role = await inv.client.post(
        f"/projects/{project['id']}/admission-check", headers=inv.staff(roles=("approvals",))
    )
    assert other_role.status_code == 403
    assert await inv.count(AdmissionCheck) == 0

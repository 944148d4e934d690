"""Who may see and do what: investment staff write in their own zone, other staff read, an
enterprise sees only the project carrying its own USCC, and another zone's records look missing."""

from __future__ import annotations

from chassis.tables import audit_log
from services.investment.models import FundsRecord, Project
from tests.support.validators import OTHER_USCC, THIRD_USCC, VALID_USCC


async def registered_project(inv, uscc: str, zone: str = "zone-a", name: str = "项目"):  # type: ignore[no-untyped-def]
    project = await inv.project(zone=zone, name=name)
    await inv.advance(project["id"], "registered", zone=zone, uscc=uscc)
    return project


async def test_an_enterprise_sees_only_projects_with_its_own_uscc(inv):
    own = await registered_project(inv, VALID_USCC, name="本企业项目")
    other = await registered_project(inv, OTHER_USCC, name="他人项目")
    own_elsewhere = await registered_project(inv, VALID_USCC, zone="zone-b", name="本企业另一功能区项目")
    enterprise = inv.enterprise(VALID_USCC)

    mine = await inv.client.get(f"/projects/{own['id']}", headers=enterprise)
    assert mine.status_code == 200 and mine.json()["uscc"] == VALID_USCC
    theirs = await inv.client.get(f"/projects/{other['id']}", headers=enterprise)
    assert theirs.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    assert (await inv.client.get(f"/projects/{other['id']}/funds", headers=enterprise)).status_code == 404

    listed = (await inv.client.get("/projects", headers=enterprise)).json()
    assert sorted(p["id"] for p in listed["items"]) == sorted([own["id"], own_elsewhere["id"]])
    asked_for_other = (await inv.client.get(f"/projects?uscc={OTHER_USCC}", headers=enterprise)).json()
    assert asked_for_other == {"items": [], "total": 0, "page": 1, "size": 20}
    one_zone = (await inv.client.get("/projects?zone_id=zone-b", headers=enterprise)).json()
    assert [p["id"] for p in one_zone["items"]] == [own_elsewhere["id"]]
    nothing = (await inv.client.get("/projects", headers=inv.enterprise(THIRD_USCC))).json()
    assert nothing["total"] == 0


async def test_an_enterprise_cannot_write_anything_or_read_staff_views(inv):
    own = await registered_project(inv, VALID_USCC)
    enterprise = inv.enterprise(VALID_USCC)
    writes = [
        ("post", "/projects", {"name": "x", "investor": "y"}),
        ("patch", f"/projects/{own['id']}", {"name": "改名"}),
        ("post", f"/projects/{own['id']}/transitions", {"to_stage": "land_secured"}),
        ("post", f"/projects/{own['id']}/funds", {"period": "2026-01", "amount_wan": 1, "source": "foreign"}),
        ("post", f"/projects/{own['id']}/issues", {"title": "x", "department": "y", "due_date": "2099-01-01"}),
        ("post", f"/projects/{own['id']}/admission-check", None),
        ("post", "/catalog", {"sector_code": "x", "sector_name": "y", "min_tax_per_mu_wan": 1}),
    ]
    for method, url, body in writes:
        r = await inv.client.request(method, url, json=body, headers=enterprise)
        assert r.status_code == 403, (method, url, r.text)
    for url in ("/pipeline/summary", "/issues", "/chains", "/catalog", "/targets"):
        assert (await inv.client.get(url, headers=enterprise)).status_code == 403, url
    assert (await inv.client.get(f"/projects/{own['id']}", headers=enterprise)).json()["name"] == "项目"
    assert await inv.count(Project) == 1


async def test_staff_without_the_investment_role_read_but_cannot_write(inv):
    project = await inv.project()
    approvals = inv.staff(roles=("approvals",))
    assert (await inv.client.get(f"/projects/{project['id']}", headers=approvals)).status_code == 200
    assert (await inv.client.get("/projects", headers=approvals)).json()["total"] == 1
    assert (await inv.client.get("/pipeline/summary", headers=approvals)).status_code == 200
    for method, url, body in [
        ("post", "/projects", {"name": "x", "investor": "y"}),
        ("patch", f"/projects/{project['id']}", {"name": "改名"}),
        ("post", f"/projects/{project['id']}/transitions", {"to_stage": "contacting"}),
        ("post", f"/projects/{project['id']}/issues", {"title": "x", "department": "y", "due_date": "2099-01-01"}),
    ]:
        r = await inv.client.request(method, url, json=body, headers=approvals)
        assert r.status_code == 403, (method, url, r.text)
        assert "investment" in r.json()["detail"] or "investment" in r.text
    assert (await inv.client.get(f"/projects/{project['id']}", headers=inv.staff())).json()["stage"] == "lead"


async def test_a_zone_s_staff_cannot_see_or_act_on_another_zone_s_project(inv):
    project = await inv.project(zone="zone-b")
    await inv.advance(project["id"], "signed", zone="zone-b")
    a = inv.staff("zone-a")
    assert (await inv.client.get(f"/projects/{project['id']}", headers=a)).status_code == 404
    for method, url, body in [
        ("patch", f"/projects/{project['id']}", {"name": "改名"}),
        ("post", f"/projects/{project['id']}/transitions", {"to_stage": "dropped", "reason": "x"}),
        ("post", f"/projects/{project['id']}/funds", {"period": "2026-01", "amount_wan": 1, "source": "foreign"}),
        ("post", f"/projects/{project['id']}/issues", {"title": "x", "department": "y", "due_date": "2099-01-01"}),
        ("post", f"/projects/{project['id']}/admission-check", None),
    ]:
        r = await inv.client.request(method, url, json=body, headers=a)
        assert r.status_code == 404, (method, url, r.text)
    assert (await inv.client.get("/projects", headers=a)).json()["total"] == 0
    assert (await inv.client.get("/projects?zone_id=zone-b", headers=a)).status_code == 403
    assert (await inv.client.get("/pipeline/summary?zone_id=zone-b", headers=a)).status_code == 403
    refused = await inv.client.post("/projects", json={"name": "x", "investor": "y", "zone_id": "zone-b"}, headers=a)
    assert refused.status_code == 403
    assert await inv.count(FundsRecord) == 0
    assert (await inv.client.get(f"/projects/{project['id']}", headers=inv.staff("zone-b"))).json()["stage"] == "signed"


async def test_city_level_staff_read_across_zones_and_must_name_the_zone_they_write_in(inv):
    await inv.project(zone="zone-a")
    await inv.project(zone="zone-b")
    city_investment = inv.staff(None)
    assert (await inv.client.get("/projects", headers=inv.leader())).json()["total"] == 2
    unnamed = await inv.client.post("/projects", json={"name": "x", "investor": "y"}, headers=city_investment)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "zone_id"
    named = await inv.client.post(
        "/projects", json={"name": "x", "investor": "y", "zone_id": "zone-b"}, headers=city_investment
    )
    assert named.status_code == 201 and named.json()["zone_id"] == "zone-b"


async def test_a_missing_or_forged_token_is_401(inv):
    assert (await inv.client.get("/projects")).status_code == 401
    bad = await inv.client.get("/projects", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"


async def test_every_change_is_audited_with_who_and_the_zone(inv):
    project = await inv.project()
    await inv.advance(project["id"], "signed")
    await inv.client.post(
        f"/projects/{project['id']}/funds", json={"period": "2026-01", "amount_wan": 10, "source": "foreign"},
        headers=inv.staff(),
    )
    actions = await inv.audit_actions(project["id"])
    assert actions == ["project.create", "project.transition.contacting", "project.transition.negotiating",
                       "project.transition.signed"]
    audit = (await inv.client.get(f"/audit?entity_id={project['id']}", headers=inv.issuer.staff("zone-a", roles=("auditor",)))).json()
    assert audit["total"] == 4
    assert {e["zone_id"] for e in audit["items"]} == {"zone-a"}
    assert {e["actor"] for e in audit["items"]} == {"staff-zone-a-investment"}
    assert await inv.count(audit_log) == 5

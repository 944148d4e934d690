"""Recording, amending and finding projects: idempotent creation, problem details that name the
field with nothing written, the chain role read from the zone's chain panorama, list filters."""

from __future__ import annotations

from datetime import timedelta

from chassis.tables import audit_log, outbox_event
from services.investment.access import today as shanghai_today
from services.investment.models import Project, StageChange
from tests.support.validators import OTHER_USCC, VALID_USCC


async def test_a_project_is_recorded_as_a_lead_audited_and_announced(inv):
    project = await inv.project(key_project=True, leader="王建国", task_team=["李明", "陈静", "李明"],
                                policy_measures=["前三年租金全免"])
    assert project["stage"] == "lead" and project["stage_label"] == "线索"
    assert project["zone_id"] == "zone-a"
    assert project["agreed_investment_wan"] == 85000.0
    assert project["task_team"] == ["李明", "陈静"]
    assert project["key_project"] is True
    assert await inv.event_types() == ["zone.investment.project.created.v1"]
    assert await inv.audit_actions(project["id"]) == ["project.create"]


async def test_a_retried_creation_with_the_same_key_returns_the_first_project_and_writes_once(inv):
    headers = {**inv.staff(), "Idempotency-Key": "new-project-1"}
    body = {"name": "晶圆制造项目", "investor": "晶微半导体（新加坡）私人有限公司"}
    first = await inv.client.post("/projects", json=body, headers=headers)
    again = await inv.client.post("/projects", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await inv.count(Project) == 1
    assert await inv.count(outbox_event) == 1
    other = await inv.client.post("/projects", json={**body, "name": "另一个项目"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


INVALID = [
    ({"investor": "某投资方"}, "name"),
    ({"name": "  ", "investor": "某投资方"}, "name"),
    ({"name": "项目", "investor": "某投资方", "agreed_investment_wan": -5}, "agreed_investment_wan"),
    ({"name": "项目", "investor": "某投资方", "agreed_investment_wan": "12.345"}, "agreed_investment_wan"),
    ({"name": "项目", "investor": "某投资方", "land_area_mu": 0}, "land_area_mu"),
    ({"name": "项目", "investor": "某投资方", "uscc": "91510100MA6DGXQ12X"}, "uscc"),
    ({"name": "项目", "investor": "某投资方", "funding_source": "mars"}, "funding_source"),
    ({"name": "项目", "investor": "某投资方", "chain_role": "延链"}, "chain_role"),
    ({"name": "项目", "investor": "某投资方", "stage": "signed"}, "stage"),
    ({"name": "项目", "investor": "某投资方", "node_id": "no-such-node"}, "node_id"),
    ({"name": "项目", "investor": "某投资方", "chain_code": "nosuch"}, "chain_code"),
    ({"name": "项目", "investor": "某投资方", "lead_on": (shanghai_today() + timedelta(days=2)).isoformat()}, "lead_on"),
]


async def test_invalid_input_is_a_problem_naming_the_field_and_nothing_is_written(inv):
    for i, (body, field) in enumerate(INVALID):
        r = await inv.client.post("/projects", json=body, headers={**inv.staff(), "Idempotency-Key": f"bad-{i}"})
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert await inv.count(Project) == 0
    assert await inv.count(StageChange) == 0
    assert await inv.count(outbox_event) == 0
    assert await inv.count(audit_log) == 0


async def test_problem_details_are_in_english_when_asked(inv):
    r = await inv.client.post(
        "/projects", json={"investor": "x"}, headers={**inv.staff(), "Accept-Language": "en"}
    )
    assert r.status_code == 422
    assert r.headers["content-language"] == "en"
    assert r.json()["title"] == "Validation failed"


async def test_the_chain_role_is_read_from_the_zone_s_status_on_the_node(inv):
    chain = await inv.chain()
    expected = {"ic.wafer": ("missing", "补链"), "ic.packaging": ("weak", "强链"), "ic.design": ("present", "扩链")}
    for node_code, (status, _) in expected.items():
        await inv.set_status(chain, node_code, status)
        await inv.set_status(chain, node_code, "present" if status != "present" else "missing", zone="zone-b")
    for node_code, (_, role) in expected.items():
        project = await inv.project(node_id=inv.node(chain, node_code)["id"])  # zone-b's status does not count
        assert project["chain_code"] == "ic"
        assert (project["chain_role"], project["chain_role_derived"]) == (role, True), node_code


async def test_a_stated_chain_role_is_kept_and_an_unassessed_node_gives_none(inv):
    chain = await inv.chain()
    await inv.set_status(chain, "ic.wafer", "missing")
    stated = await inv.project(node_id=inv.node(chain, "ic.wafer")["id"], chain_role="扩链")
    assert stated["chain_role"] == "扩链" and stated["chain_role_derived"] is False
    unassessed = await inv.project(node_id=inv.node(chain, "ic.terminal")["id"])
    assert unassessed["chain_role"] is None and unassessed["chain_role_derived"] is False


async def test_moving_a_project_to_another_node_re_derives_a_derived_role(inv):
    chain = await inv.chain()
    await inv.set_status(chain, "ic.wafer", "missing")
    await inv.set_status(chain, "ic.design", "present")
    project = await inv.project(node_id=inv.node(chain, "ic.wafer")["id"])
    assert project["chain_role"] == "补链"
    r = await inv.client.patch(
        f"/projects/{project['id']}", json={"node_id": inv.node(chain, "ic.design")["id"]}, headers=inv.staff()
    )
    assert r.status_code == 200, r.text
    assert r.json()["chain_role"] == "扩链"
    url = f"/projects/{project['id']}"
    stated = (await inv.client.patch(url, json={"chain_role": "强链"}, headers=inv.staff())).json()
    assert (stated["chain_role"], stated["chain_role_derived"]) == ("强链", False)
    moved = (await inv.client.patch(url, json={"node_id": inv.node(chain, "ic.wafer")["id"]}, headers=inv.staff())).json()
    assert moved["chain_role"] == "强链"  # a stated role survives a move
    cleared = (await inv.client.patch(url, json={"chain_role": None}, headers=inv.staff())).json()
    assert (cleared["chain_role"], cleared["chain_role_derived"]) == ("补链", True)
    bad = await inv.client.patch(url, json={"uscc": "not-a-uscc"}, headers=inv.staff())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "uscc"


async def test_a_node_of_another_chain_than_the_one_named_is_refused(inv):
    ic = await inv.chain("ic")
    await inv.chain("bio", nodes=(("bio.drugs", "创新药", "upstream"),))
    r = await inv.client.post(
        "/projects",
        json={"name": "x", "investor": "y", "chain_code": "bio", "node_id": inv.node(ic, "ic.design")["id"]},
        headers=inv.staff(),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "chain_code"


async def test_an_amendment_is_audited_and_announced_with_the_changed_fields_and_a_no_op_is_silent(inv):
    project = await inv.project()
    r = await inv.client.patch(
        f"/projects/{project['id']}",
        json={"leader": "张卫东", "key_project": True, "expected_annual_output_wan": "150000"},
        headers=inv.staff(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["leader"] == "张卫东" and r.json()["expected_annual_output_wan"] == 150000.0
    same = await inv.client.patch(f"/projects/{project['id']}", json={"leader": "张卫东"}, headers=inv.staff())
    assert same.status_code == 200
    assert await inv.event_types() == ["zone.investment.project.created.v1", "zone.investment.project.updated.v1"]
    assert await inv.audit_actions(project["id"]) == ["project.create", "project.update"]
    async with inv.svc.ctx.db.session() as s:
        from sqlalchemy import select

        data = (await s.execute(select(outbox_event.c.data).order_by(outbox_event.c.seq.desc()))).scalars().first()
    assert '"changed_fields":["expected_annual_output_wan","key_project","leader"]' in data


async def test_an_amendment_cannot_null_a_required_field_or_touch_a_dropped_project(inv):
    project = await inv.project()
    r = await inv.client.patch(f"/projects/{project['id']}", json={"name": None}, headers=inv.staff())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    await inv.step(project["id"], "dropped", reason="不再推进")
    closed = await inv.client.patch(f"/projects/{project['id']}", json={"leader": "x"}, headers=inv.staff())
    assert closed.status_code == 409


async def test_projects_are_filtered_and_paginated(inv):
    chain = await inv.chain()
    await inv.set_status(chain, "ic.wafer", "missing")
    wafer = await inv.project(name="晶圆项目", node_id=inv.node(chain, "ic.wafer")["id"], key_project=True, leader="张卫东")
    await inv.advance(wafer["id"], "registered", uscc=VALID_USCC)
    design = await inv.project(name="设计项目", chain_code="ic", leader="王建国")
    await inv.advance(design["id"], "signed")
    for i in range(3):
        await inv.project(name=f"线索 {i}")
    await inv.project(zone="zone-b", name="B 区项目")
    staff = inv.staff()

    async def names(query: str, headers: dict[str, str] = staff) -> list[str]:
        r = await inv.client.get(f"/projects?{query}", headers=headers)
        assert r.status_code == 200, r.text
        return sorted(p["name"] for p in r.json()["items"])

    assert await names("stage=registered") == ["晶圆项目"]
    assert await names("chain_code=ic") == ["晶圆项目", "设计项目"]
    assert await names("chain_role=补链") == ["晶圆项目"]
    assert await names("key_project=true") == ["晶圆项目"]
    assert await names("leader=王建国") == ["设计项目"]
    assert await names(f"uscc={VALID_USCC}") == ["晶圆项目"]
    assert await names(f"uscc={OTHER_USCC}") == []
    today = shanghai_today().isoformat()
    assert len(await names(f"date_from={today}&date_to={today}")) == 5
    assert await names(f"date_field=signed&date_from={today}&date_to={today}") == ["晶圆项目", "设计项目"]
    assert await names("date_from=2001-01-01&date_to=2001-12-31") == []
    assert await names("q=晶圆") == ["晶圆项目"]
    assert await names("zone_id=zone-b", inv.leader()) == ["B 区项目"]
    assert len(await names("", inv.leader())) == 6
    first = (await inv.client.get("/projects?size=2&page=1", headers=staff)).json()
    second = (await inv.client.get("/projects?size=2&page=3", headers=staff)).json()
    assert first["total"] == 5 and len(first["items"]) == 2 and len(second["items"]) == 1
    bad = await inv.client.get("/projects?uscc=123", headers=staff)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "uscc"
    bad_stage = await inv.client.get("/projects?stage=flying", headers=staff)
    assert bad_stage.status_code == 422 and bad_stage.json()["errors"][0]["field"] == "stage"


async def test_empty_filters_as_the_gateway_sends_them_mean_no_filter(inv):
    await inv.project()
    r = await inv.client.get("/projects?uscc=&zone_id=&stage=&key_project=&page=1&size=20", headers=inv.leader())
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 1
    summary = await inv.client.get("/pipeline/summary?zone_id=", headers=inv.staff(roles=("leader",)))
    assert summary.status_code == 200 and summary.json()["zone_id"] == "zone-a"
    assert [s["stage"] for s in summary.json()["stages"]][:1] == ["lead"]
    assert {"stage", "label", "count", "agreed_investment_wan"} <= set(summary.json()["stages"][0])


async def test_no_filter_value_on_any_list_is_a_server_error(inv):
    long = "x" * 300
    lists = {
        "/projects": ["zone_id", "stage", "chain_code", "chain_role", "key_project", "leader", "uscc", "date_from",
                      "date_to", "date_field", "q", "page", "size"],
        "/issues": ["zone_id", "status", "overdue", "project_id", "department", "department_code"],
        "/targets": ["zone_id", "chain_code", "node_id", "kind"],
        "/catalog": ["zone_id", "chain_code", "sector_code"],
        "/chains": ["zone_id"],
        "/pipeline/summary": ["zone_id", "chain_code", "chain_role", "key_project"],
    }
    for url, params in lists.items():
        for param in params:
            for value in ("", long, "\x00", "a\x00b", "-1"):
                r = await inv.client.get(url, params={param: value}, headers=inv.leader())
                assert r.status_code in (200, 403, 422), (url, param, value, r.status_code, r.text)
                if r.status_code == 422:
                    assert r.json()["errors"][0]["field"] == param, (url, param, r.json())
    too_long = await inv.client.get("/projects", params={"leader": long}, headers=inv.leader())
    assert too_long.status_code == 422


async def test_nul_characters_anywhere_are_refused_as_bad_input_not_a_server_error(inv):
    project = await inv.project()
    for method, url, body, field in [
        ("post", "/projects", {"name": "a\x00b", "investor": "y"}, "name"),
        ("post", "/projects", {"name": "a", "investor": "y", "task_team": ["李\x00明"]}, "task_team.0"),
        ("post", "/projects", {"name": "a", "investor": "y", "node_id": "\x00"}, "node_id"),
        ("patch", f"/projects/{project['id']}", {"leader": "\x00"}, "leader"),
        ("post", f"/projects/{project['id']}/issues", {"title": "x", "department": "\x00", "due_date": "2099-01-01"},
         "department"),
        ("get", "/projects/a%00b", None, "project_id"),
        ("get", "/issues/a%00b", None, "issue_id"),
    ]:
        r = await inv.client.request(method, url, json=body, headers=inv.staff())
        assert r.status_code == 422, (method, url, r.status_code, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (url, r.json())
    assert await inv.count(Project) == 1

"""The reference data of attraction: city-wide chains, each zone's status on a node, target
companies and the zone's admission catalog."""

from __future__ import annotations

from services.investment.models import CatalogEntry, Chain
from tests.support.validators import VALID_USCC


async def test_chains_are_city_wide_and_only_city_level_investment_staff_or_admins_add_them(inv):
    drugs = {"code": "bio.drugs", "name": "创新药研发", "position": "upstream"}
    body = {"code": "bio", "name": "生物医药", "nodes": [drugs]}
    assert (await inv.client.post("/chains", json=body, headers=inv.staff("zone-a"))).status_code == 403
    assert (await inv.client.post("/chains", json=body, headers=inv.leader())).status_code == 403
    created = await inv.client.post("/chains", json=body, headers=inv.staff(None))
    assert created.status_code == 201, created.text
    chain = created.json()
    assert chain["nodes"][0]["position_label"] == "上游" and chain["nodes"][0]["statuses"] == []
    dup = await inv.client.post("/chains", json=body, headers=inv.admin())
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "code"
    node = await inv.client.post(
        f"/chains/{chain['id']}/nodes", json={"code": "bio.devices", "name": "医疗器械", "position": "midstream"},
        headers=inv.admin(),
    )
    assert node.status_code == 201
    again = await inv.client.post(
        f"/chains/{chain['id']}/nodes", json={"code": "bio.devices", "name": "医疗器械", "position": "midstream"},
        headers=inv.admin(),
    )
    assert again.status_code == 409
    bad = await inv.client.post(
        "/chains", json={**body, "code": "x", "nodes": [drugs, drugs]}, headers=inv.admin()
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "nodes"
    bad_position = await inv.client.post(
        "/chains", json={"code": "y", "name": "y", "nodes": [{"code": "y.a", "name": "a", "position": "sideways"}]},
        headers=inv.admin(),
    )
    assert bad_position.status_code == 422 and bad_position.json()["errors"][0]["field"] == "nodes.0.position"
    assert await inv.count(Chain) == 1


async def test_each_zone_marks_its_own_status_on_a_node_and_sees_only_its_own(inv):
    chain = await inv.chain()
    await inv.set_status(chain, "ic.wafer", "missing", zone="zone-a")
    await inv.set_status(chain, "ic.wafer", "present", zone="zone-b")
    await inv.set_status(chain, "ic.wafer", "weak", zone="zone-a")  # a zone revises its panorama
    a = (await inv.client.get("/chains", headers=inv.staff("zone-a", roles=()))).json()
    wafer = next(n for n in a[0]["nodes"] if n["code"] == "ic.wafer")
    assert [(s["zone_id"], s["status"], s["status_label"], s["derived_chain_role"]) for s in wafer["statuses"]] == [
        ("zone-a", "weak", "薄弱", "强链")
    ]
    city = (await inv.client.get(f"/chains/{chain['id']}", headers=inv.leader())).json()
    wafer = next(n for n in city["nodes"] if n["code"] == "ic.wafer")
    assert [(s["zone_id"], s["status"]) for s in wafer["statuses"]] == [("zone-a", "weak"), ("zone-b", "present")]
    node = inv.node(chain, "ic.wafer")
    refused = await inv.client.put(
        f"/chains/{chain['id']}/nodes/{node['id']}/status", json={"status": "weak"}, headers=inv.staff(roles=("approvals",))
    )
    assert refused.status_code == 403
    other = await inv.client.put(
        f"/chains/{chain['id']}/nodes/{node['id']}/status", json={"status": "weak", "zone_id": "zone-b"}, headers=inv.staff()
    )
    assert other.status_code == 403
    unknown = await inv.client.put(f"/chains/{chain['id']}/nodes/nope/status", json={"status": "weak"}, headers=inv.staff())
    assert unknown.status_code == 404
    bad = await inv.client.put(f"/chains/{chain['id']}/nodes/{node['id']}/status", json={"status": "thriving"}, headers=inv.staff())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_target_companies_are_listed_per_zone_and_node(inv):
    chain = await inv.chain()
    wafer = inv.node(chain, "ic.wafer")["id"]
    body = {"node_id": wafer, "company_name": "晶微半导体（新加坡）私人有限公司", "kind": "key", "headquarters": "新加坡"}
    created = await inv.client.post("/targets", json=body, headers=inv.staff())
    assert created.status_code == 201, created.text
    assert created.json()["kind_label"] == "重点企业" and created.json()["chain_code"] == "ic"
    assert (await inv.client.post("/targets", json=body, headers=inv.staff())).status_code == 409
    await inv.client.post(
        "/targets", json={**body, "company_name": "配套气体公司", "kind": "supporting", "uscc": VALID_USCC}, headers=inv.staff()
    )
    await inv.client.post("/targets", json=body, headers=inv.staff("zone-b"))
    listed = (await inv.client.get("/targets", headers=inv.staff())).json()
    assert listed["total"] == 2
    assert (await inv.client.get("/targets?kind=supporting", headers=inv.staff())).json()["total"] == 1
    assert (await inv.client.get("/targets?chain_code=ic", headers=inv.leader())).json()["total"] == 3
    bad = await inv.client.post("/targets", json={**body, "uscc": "123"}, headers=inv.staff())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "uscc"
    unknown = await inv.client.post("/targets", json={**body, "node_id": "nope"}, headers=inv.staff())
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "node_id"


async def test_a_zone_keeps_one_catalog_entry_per_sector_with_at_least_one_threshold(inv):
    entry = await inv.catalog(min_investment_intensity_wan_per_mu=500, max_energy_per_output_tce_per_wan="0.08")
    assert entry["min_investment_intensity_wan_per_mu"] == 500.0 and entry["max_energy_per_output_tce_per_wan"] == 0.08
    dup = await inv.client.post(
        "/catalog", json={"sector_code": "ic_packaging", "sector_name": "x", "min_tax_per_mu_wan": 1}, headers=inv.staff()
    )
    assert dup.status_code == 409 and dup.json()["existing_id"] == entry["id"]
    await inv.catalog(zone="zone-b", min_tax_per_mu_wan=30)  # the same sector in another zone is its own entry
    none = await inv.client.post("/catalog", json={"sector_code": "ic_x", "sector_name": "x"}, headers=inv.staff())
    assert none.status_code == 422
    negative = await inv.client.post(
        "/catalog", json={"sector_code": "ic_x", "sector_name": "x", "min_tax_per_mu_wan": -1}, headers=inv.staff()
    )
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"] == "min_tax_per_mu_wan"
    unknown_chain = await inv.client.post(
        "/catalog", json={"sector_code": "ic_x", "sector_name": "x", "min_tax_per_mu_wan": 1, "chain_code": "nope"},
        headers=inv.staff(),
    )
    assert unknown_chain.status_code == 422 and unknown_chain.json()["errors"][0]["field"] == "chain_code"
    assert await inv.count(CatalogEntry) == 2

    patched = await inv.client.patch(
        f"/catalog/{entry['id']}", json={"min_investment_intensity_wan_per_mu": 600, "max_energy_per_output_tce_per_wan": None},
        headers=inv.staff(),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["min_investment_intensity_wan_per_mu"] == 600.0
    assert patched.json()["max_energy_per_output_tce_per_wan"] is None
    emptied = await inv.client.patch(
        f"/catalog/{entry['id']}", json={"min_investment_intensity_wan_per_mu": None}, headers=inv.staff()
    )
    assert emptied.status_code == 422
    assert (await inv.client.patch(f"/catalog/{entry['id']}", json={"min_tax_per_mu_wan": 1}, headers=inv.staff("zone-b"))).status_code == 404
    assert (await inv.client.get("/catalog", headers=inv.staff())).json()["total"] == 1
    assert (await inv.client.get("/catalog", headers=inv.leader())).json()["total"] == 2
    assert (await inv.client.get(f"/catalog/{entry['id']}", headers=inv.staff("zone-b"))).status_code == 404
    assert await inv.audit_actions(entry["id"]) == ["catalog.create", "catalog.update"]

"""一企一档 and the dashboard: every backend called at once, each deciding what the caller may see; a failure is named."""

from __future__ import annotations

import time

from tests.integration.gateway.conftest import ContractControls, contract_app
from tests.support.validators import VALID_USCC


async def platform_with_contract_services(gateway_factory, http_server, controls, down=()):  # type: ignore[no-untyped-def]
    gw = await gateway_factory(aggregate_timeout_s=2.0)
    backend = http_server(contract_app(gw.state.keyring.jwks, controls))
    for name, b in gw.state.backends.items():
        if name not in down:
            b.base_url = backend.url
    for zone_id in ("cd-xingu", "tf-biotown", "jj-chunxi"):
        await gw.create_zone(zone_id)
    await gw.create_account(username="xingu.jicheng", kind="enterprise", name="成都芯谷集成电路设计有限公司", uscc=VALID_USCC)
    await gw.create_account(username="xingu.leader", kind="staff", zone_id="cd-xingu", roles=["leader"])
    await gw.create_account(username="xingu.approvals", kind="staff", zone_id="cd-xingu", roles=["approvals"])
    await gw.create_account(username="city.leader", kind="staff", roles=["leader"])
    return gw


async def test_an_enterprise_sees_its_own_file_fetched_with_its_own_token(gateway_factory, http_server):
    controls = ContractControls()
    gw = await platform_with_contract_services(gateway_factory, http_server, controls)
    r = await gw.client.get("/api/me/overview", headers=await gw.headers("xingu.jicheng"))
    assert r.status_code == 200, r.text
    overview = r.json()
    assert overview["uscc"] == VALID_USCC and overview["name"] == "成都芯谷集成电路设计有限公司"
    assert overview["projects"][0]["uscc"] == VALID_USCC and overview["projects"][0]["seen_by"] == "xingu.jicheng"
    assert [a["due_date"] for a in overview["applications"]] == ["2026-03-20", "2026-03-02", "2026-02-20"]
    assert overview["alerts"] == {"yellow": 1, "red": 1}
    assert overview["reports_due"]["due"] == [{"period": "2026-02", "form": "B204"}]
    assert overview["reports_returned"][0]["status"] == "returned"
    assert overview["partial"] == []
    assert {c["sub"] for c in controls.calls} == {"xingu.jicheng"}
    assert all(c["query"].get("uscc") == VALID_USCC for c in controls.calls)


async def test_the_enterprise_file_is_for_enterprises_only(gateway_factory, http_server):
    gw = await platform_with_contract_services(gateway_factory, http_server, ContractControls())
    r = await gw.client.get("/api/me/overview", headers=await gw.headers("xingu.leader"))
    assert r.status_code == 403
    assert (await gw.client.get("/api/me/overview")).status_code == 401


async def test_a_zone_leader_sees_the_own_zone_and_cannot_ask_for_another(gateway_factory, http_server):
    gw = await platform_with_contract_services(gateway_factory, http_server, ContractControls())
    leader = await gw.headers("xingu.leader")
    r = await gw.client.get("/api/dashboard", headers=leader, params={"period": "2026-Q1"})
    assert r.status_code == 200, r.text
    board = r.json()
    assert board["scope"] == "zone" and board["zone_id"] == "cd-xingu" and board["period"] == "2026-Q1"
    [zone] = board["zones"]
    assert zone["pipeline"]["stages"][0]["count"] == 3
    assert zone["approvals"]["alerts"] == {"yellow": 1, "red": 1} and zone["approvals"]["on_time_rate"] == 0.95
    assert zone["headcount"]["total_vacancies"] == 19
    assert zone["statistics"]["period"] == "2026-Q1"
    assert board["partial"] == [] and board["forbidden"] == []
    other = await gw.client.get("/api/dashboard", headers=leader, params={"zone_id": "tf-biotown"})
    assert other.status_code == 403
    assert (await gw.client.get("/api/dashboard", headers=leader, params={"period": "2026-Q5"})).status_code == 422


async def test_a_part_the_caller_may_not_see_is_named_forbidden_not_missing(gateway_factory, http_server):
    gw = await platform_with_contract_services(gateway_factory, http_server, ContractControls())
    board = (await gw.client.get("/api/dashboard", headers=await gw.headers("xingu.approvals"))).json()
    assert board["forbidden"] == ["hr"] and board["partial"] == []
    assert board["zones"][0]["headcount"] is None and board["zones"][0]["approvals"] is not None


async def test_a_city_leader_sees_every_zone_with_a_ranking_fetched_concurrently(gateway_factory, http_server):
    every_call = 4 + 3  # one per service for all zones, the city pipeline, this year's and last year's assessment
    controls = ContractControls(hold_until_in_flight=every_call)
    gw = await platform_with_contract_services(gateway_factory, http_server, controls)
    headers = await gw.headers("city.leader")
    r = await gw.client.get("/api/dashboard", headers=headers, params={"period": "2026"})
    assert r.status_code == 200, r.text
    board = r.json()
    assert board["scope"] == "city" and board["zone_id"] is None
    assert [z["zone_id"] for z in board["zones"]] == ["cd-xingu", "jj-chunxi", "tf-biotown"]
    assert board["ranking"]["year"] == 2025  # 2026 not published yet: the latest one
    assert board["pipeline_total"]["zone_id"] is None
    assert len(controls.calls) == every_call
    batched = {c["path"]: c["query"] for c in controls.calls if c["path"].endswith(("/zones", "/summaries"))}
    assert set(batched) == {"/pipeline/summary/zones", "/summary/zones", "/headcount/zones", "/zones/summaries"}
    assert all(z["approvals"]["zone_id"] == z["zone_id"] and z["statistics"]["period"] == "2026" for z in board["zones"])
    assert controls.max_in_flight == every_call, f"only {controls.max_in_flight} of {every_call} backend calls were in flight at once"
    controls.hold_until_in_flight = 0
    one = await gw.client.get("/api/dashboard", headers=headers, params={"zone_id": "tf-biotown"})
    assert one.json()["scope"] == "zone" and [z["zone_id"] for z in one.json()["zones"]] == ["tf-biotown"]
    assert (await gw.client.get("/api/dashboard", headers=headers, params={"zone_id": "nowhere"})).status_code == 404


async def test_with_a_service_down_the_rest_is_returned_and_the_missing_part_named(gateway_factory, http_server):
    gw = await platform_with_contract_services(gateway_factory, http_server, ContractControls(), down=("hr",))
    started = time.monotonic()
    board = (await gw.client.get("/api/dashboard", headers=await gw.headers("city.leader"))).json()
    assert time.monotonic() - started < 2.0
    assert board["partial"] == ["hr"]
    for zone in board["zones"]:
        assert zone["headcount"] is None and zone["partial"] == ["hr"]
        assert zone["pipeline"] is not None and zone["approvals"] is not None and zone["statistics"] is not None
    overview = (await gw.client.get("/api/me/overview", headers=await gw.headers("xingu.jicheng"))).json()
    assert overview["partial"] == [] and overview["applications"]


async def test_no_assessment_published_yet_is_no_ranking_not_a_missing_part(gateway_factory, http_server):
    controls = ContractControls()
    gw = await platform_with_contract_services(gateway_factory, http_server, controls)
    board = (await gw.client.get("/api/dashboard", headers=await gw.headers("city.leader"), params={"period": "2027"})).json()
    assert board["ranking"] is None
    assert board["partial"] == [] and board["forbidden"] == []


async def test_a_zone_the_statistics_service_does_not_know_lacks_only_its_statistics(gateway_factory, http_server):
    controls = ContractControls(stats_unknown_zones={"jj-chunxi"})
    gw = await platform_with_contract_services(gateway_factory, http_server, controls)
    board = (await gw.client.get("/api/dashboard", headers=await gw.headers("city.leader"))).json()
    zones = {z["zone_id"]: z for z in board["zones"]}
    assert zones["jj-chunxi"]["statistics"] is None and zones["jj-chunxi"]["partial"] == ["stats"]
    assert zones["jj-chunxi"]["headcount"]["zone_id"] == "jj-chunxi"
    assert zones["cd-xingu"]["statistics"]["zone_id"] == "cd-xingu" and zones["cd-xingu"]["partial"] == []
    assert board["partial"] == ["stats"]

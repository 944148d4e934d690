"""The reference data through the API: the versioned item catalog, the delegation lists and the working
calendar with administrator overrides (and what a calendar change does to running clocks)."""

from __future__ import annotations

import datetime as dt

from tests.integration.approvals.conftest import CHIP, EIA_FORM, HYGIENE

D = dt.date

NEW_ITEM = {
    "code": "51011600ZJ-XK-0009",
    "name": "城市房屋拆除工程备案前置审核",
    "competent_department": "双流区住房和城乡建设局",
    "implementing_body": "成都市双流区住房和城乡建设局",
    "legal_basis": "《建设工程安全生产管理条例》第十一条",
    "statutory_days": 15,
    "promised_days": 5,
    "fee_yuan": "0",
    "materials": [{"code": "application_form", "name": "申请表", "mandatory": True}],
}


async def test_the_catalog_lists_the_seeded_items_and_shows_a_handling_guide(approvals):
    r = await approvals.client.get("/items", params={"size": 100}, headers=approvals.enterprise(CHIP))
    assert r.status_code == 200
    page = r.json()
    assert page["total"] >= 20
    by_code = {i["code"]: i for i in page["items"]}
    eia = by_code[EIA_FORM]
    assert eia["category"] == "行政许可" and eia["type_code"] == "XK"
    assert (eia["statutory_days"], eia["promised_days"]) == (30, 15)
    assert eia["commitment_allowed"] and eia["verification_window_days"] == 30
    assert by_code["51011600FG-BA-0001"]["handling_kind"] == "immediate"
    assert by_code["51011600FG-BA-0001"]["handling_kind_label"] == "即办件"
    only_commitment = (await approvals.client.get("/items", params={"commitment_allowed": True, "size": 100}, headers=approvals.window)).json()
    assert only_commitment["total"] < page["total"] and all(i["commitment_allowed"] for i in only_commitment["items"])
    search = (await approvals.client.get("/items", params={"q": "食品"}, headers=approvals.window)).json()
    assert {i["code"] for i in search["items"]} == {"51011600SJ-XK-0001", "51011600SJ-XK-0002"}
    guide = await approvals.client.get(f"/items/{EIA_FORM}", headers=approvals.enterprise(CHIP))
    assert guide.status_code == 200 and [v["version"] for v in guide.json()["versions"]] == [1]
    assert (await approvals.client.get("/items/51011600ZZ-XK-9999", headers=approvals.window)).status_code == 404


async def test_only_city_level_catalog_administrators_change_the_catalog(approvals):
    zone_admin = approvals.staff("cd-xingu", roles=("approvals-admin",))
    assert (await approvals.client.post("/items", json=NEW_ITEM, headers=zone_admin)).status_code == 403
    assert (await approvals.client.post("/items", json=NEW_ITEM, headers=approvals.window)).status_code == 403
    assert (await approvals.client.post("/items", json=NEW_ITEM, headers=approvals.enterprise(CHIP))).status_code == 403
    city_admin = approvals.staff(None, roles=("approvals-admin",), subject="city.approvals-admin")
    created = await approvals.client.post("/items", json=NEW_ITEM, headers={**city_admin, "Idempotency-Key": "item-9"})
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.json()["category"] == "行政许可"
    duplicate = await approvals.client.post("/items", json=NEW_ITEM, headers=city_admin)
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "code"


async def test_item_rules_promised_within_statutory_code_pattern_and_a_verification_window(approvals):
    too_long = await approvals.client.post("/items", json={**NEW_ITEM, "promised_days": 20}, headers=approvals.admin)
    assert too_long.status_code == 422 and "承诺时限不得超过法定时限" in too_long.json()["errors"][0]["message"]
    bad_code = await approvals.client.post("/items", json={**NEW_ITEM, "code": "ZJ-0009"}, headers=approvals.admin)
    assert bad_code.status_code == 422 and bad_code.json()["errors"][0]["field"] == "code"
    wrong_category = await approvals.client.post("/items", json={**NEW_ITEM, "category": "行政备案"}, headers=approvals.admin)
    assert wrong_category.status_code == 422
    no_window = await approvals.client.post("/items", json={**NEW_ITEM, "commitment_allowed": True}, headers=approvals.admin)
    assert no_window.status_code == 422


async def test_a_new_version_takes_effect_on_its_date_and_the_old_one_stays_readable(approvals):
    terms = {k: v for k, v in NEW_ITEM.items() if k != "code"}
    await approvals.client.post("/items", json=NEW_ITEM, headers=approvals.admin)
    future = await approvals.client.put(
        f"/items/{NEW_ITEM['code']}", json={**terms, "promised_days": 3, "effective_from": "2026-12-01", "change_note": "压缩时限"},
        headers=approvals.admin,
    )
    assert future.status_code == 200 and future.json()["version"] == 2
    now = (await approvals.client.get(f"/items/{NEW_ITEM['code']}", headers=approvals.window)).json()
    assert now["version"] == 1 and now["promised_days"] == 5
    assert [v["version"] for v in now["versions"]] == [2, 1]
    december = (await approvals.client.get(f"/items/{NEW_ITEM['code']}", params={"as_of": "2026-12-01"}, headers=approvals.window)).json()
    assert december["version"] == 2 and december["promised_days"] == 3
    backdated = await approvals.client.put(
        f"/items/{NEW_ITEM['code']}", json={**terms, "effective_from": "2026-01-01"}, headers=approvals.admin
    )
    assert backdated.status_code == 422 and backdated.json()["errors"][0]["field"] == "effective_from"
    abolished = await approvals.client.put(
        f"/items/{EIA_FORM}", json={**terms, "status": "abolished", "change_note": "事项取消"}, headers=approvals.admin
    )
    assert abolished.status_code == 200
    refused = await approvals.file([EIA_FORM])
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "abolished_item"


async def test_delegations_are_kept_per_zone_without_overlaps(approvals):
    zone_admin = approvals.staff("cd-xingu", roles=("approvals-admin",), subject="xingu.approvals-admin")
    body = {"zone_id": "cd-xingu", "item_code": "51011600YJ-XK-0001", "valid_from": "2026-11-10",
            "valid_until": "2027-11-09", "document_no": "双府发〔2026〕21号"}
    created = await approvals.client.post("/delegations", json=body, headers=zone_admin)
    assert created.status_code == 201, created.text
    delegation = created.json()
    assert delegation["authority"] == "双流区应急管理局" and delegation["in_force_today"] is False
    overlap = await approvals.client.post("/delegations", json={**body, "valid_from": "2027-01-01", "valid_until": None}, headers=zone_admin)
    assert overlap.status_code == 409
    other_zone = await approvals.client.post("/delegations", json={**body, "zone_id": "tf-biotown"}, headers=zone_admin)
    assert other_zone.status_code == 403
    unknown = await approvals.client.post("/delegations", json={**body, "item_code": "51011600YJ-XK-0099"}, headers=zone_admin)
    assert unknown.status_code == 422
    backwards = await approvals.client.post("/delegations", json={**body, "valid_until": "2026-01-01"}, headers=zone_admin)
    assert backwards.status_code == 422
    # Referred before the delegation starts, accepted into the zone's queue once it is in force.
    before = await approvals.file(["51011600YJ-XK-0001"])
    assert before.json()["status"] == "referred"
    approvals.on(D(2026, 11, 10))
    after = await approvals.file(["51011600YJ-XK-0001"])
    assert after.json()["status"] == "submitted"
    mine = (await approvals.client.get("/delegations", params={"in_force_on": "2026-11-10", "size": 100}, headers=zone_admin)).json()
    assert all(d["zone_id"] == "cd-xingu" for d in mine["items"]) and mine["total"] == 28  # 27 seeded + the new one
    assert (await approvals.client.get("/delegations", params={"zone_id": "tf-biotown"}, headers=zone_admin)).status_code == 403


async def test_the_calendar_shows_the_official_year_and_administrators_maintain_the_next_one(approvals):
    y2026 = (await approvals.client.get("/calendar/2026", headers=approvals.enterprise(CHIP))).json()
    assert y2026["provisional"] is False and y2026["has_official_data"] is True
    days = {d["date"]: d for d in y2026["exceptions"]}
    assert days["2026-10-10"]["kind"] == "workday" and days["2026-10-10"]["name"] == "国庆节调休上班"
    assert days["2026-02-17"]["kind"] == "holiday"
    y2027 = (await approvals.client.get("/calendar/2027", headers=approvals.window)).json()
    assert y2027["provisional"] is True and y2027["exceptions"] == []

    approvals.on(D(2026, 12, 24))  # Thursday
    app = await approvals.accepted([EIA_FORM])  # 15 working days, into January 2027
    assert app["due_date"] == "2027-01-14" and app["due_date_provisional"] is True

    zone_admin = approvals.staff("cd-xingu", roles=("approvals-admin",))
    assert (await approvals.client.put("/calendar/2027-01-01", json={"kind": "holiday"}, headers=zone_admin)).status_code == 403
    bad = await approvals.client.put("/calendar/2027-01-01", json={"kind": "weekend"}, headers=approvals.admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    changed = await approvals.client.put("/calendar/2027-01-01", json={"kind": "holiday", "note": "2027年元旦"}, headers=approvals.admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["year_provisional"] is False and changed.json()["applications_rescheduled"] == 1
    rescheduled = await approvals.get(app["id"])
    assert rescheduled["due_date"] == "2027-01-15" and rescheduled["due_date_provisional"] is False
    y2027 = (await approvals.client.get("/calendar/2027", headers=approvals.window)).json()
    assert y2027["provisional"] is False and y2027["overrides"] == [{"date": "2027-01-01", "kind": "holiday", "note": "2027年元旦"}]
    removed = await approvals.client.delete("/calendar/2027-01-01", headers=approvals.admin)
    assert removed.status_code == 200 and removed.json()["year_provisional"] is True
    assert (await approvals.get(app["id"]))["due_date"] == "2027-01-14"
    assert (await approvals.client.delete("/calendar/2027-01-01", headers=approvals.admin)).status_code == 404
    assert (await approvals.client.get("/calendar/1900", headers=approvals.window)).status_code == 422


async def test_a_swapped_working_saturday_counts_toward_the_promise(approvals):
    approvals.on(D(2026, 10, 9))  # Friday before the 调休 Saturday 10 Oct
    app = await approvals.accepted([HYGIENE])
    # Sat 10, Mon 12, Tue 13, Wed 14, Thu 15 Oct.
    assert app["due_date"] == "2026-10-15"
    approvals.on(D(2026, 10, 10))
    assert (await approvals.get(app["id"]))["working_days_elapsed"] == 1

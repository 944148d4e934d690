"""Filing applications: bundles, validation that writes nothing, referral when an item is not delegated,
idempotent retries, and who may file and see what."""

from __future__ import annotations

from sqlalchemy import func, select

from chassis.tables import audit_log, outbox_event
from services.approvals.models import Application, ApplicationItem, Document
from tests.integration.approvals.conftest import (
    BIO,
    CHIP,
    CONSTRUCTION_PERMIT,
    EIA_FORM,
    FOOD_PRODUCTION,
    HYGIENE,
    PACK,
    START,
    WORKS_PERMIT,
)
from tests.support.validators import VALID_USCC


async def count(approvals, table) -> int:  # type: ignore[no-untyped-def]
    async with approvals.svc.ctx.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def nothing_written(approvals) -> bool:  # type: ignore[no-untyped-def]
    for table in (Application.__table__, ApplicationItem.__table__, Document.__table__, outbox_event, audit_log):
        assert await count(approvals, table) == 0, table
    return True


async def test_a_bundle_is_one_application_with_the_longest_promise_and_each_material_once(approvals):
    r = await approvals.file([WORKS_PERMIT, CONSTRUCTION_PERMIT])
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "submitted" and app["status_label"] == "待受理"
    assert app["item_codes"] == [WORKS_PERMIT, CONSTRUCTION_PERMIT]
    assert [i["version"] for i in app["items"]] == [1, 1]
    assert app["clock"]["promised_days"] == 7  # parallel handling: the longer of 7 and 3
    codes = [m["code"] for m in app["materials"]]
    assert len(codes) == len(set(codes)) and "application_form" in codes  # shared materials asked once
    assert app["clock"]["state"] == "not_started" and app["due_date"] is None
    assert [t["action"] for t in app["timeline"]] == ["submit"]
    assert "accept" in app["allowed_actions"]

    accepted = await approvals.done(app["id"], "accept")
    # Accepted Monday 2 Nov 2026: seven working days from Tuesday → Wednesday 11 Nov.
    assert accepted["due_date"] == "2026-11-11"
    assert accepted["working_days_remaining"] == 7
    assert accepted["first_inquiry"]["username"] == "xingu.approvals"


async def test_an_invalid_uscc_is_422_naming_the_field_and_writes_nothing(approvals):
    body = approvals.body([EIA_FORM])
    body["applicant"]["uscc"] = "91510100MA6DGXQ12X"
    r = await approvals.client.post("/applications", json=body, headers=approvals.window)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "统一社会信用代码无效" in fields["applicant.uscc"]
    assert await nothing_written(approvals)


async def test_unknown_item_codes_are_422_naming_each_one_and_write_nothing(approvals):
    r = await approvals.file([EIA_FORM, "51011600HB-XK-0999", "not-a-code"])
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert set(errors) == {"item_codes.1", "item_codes.2"}
    assert errors["item_codes.1"]["code"] == "unknown_item"
    assert "51011600HB-XK-0999" in errors["item_codes.1"]["message"]
    assert await nothing_written(approvals)


async def test_materials_not_required_by_the_items_are_refused(approvals):
    r = await approvals.file([EIA_FORM], materials=[{"code": "eia_report_form"}, {"code": "fire_design_docs"}])
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "materials.1.code"
    assert await nothing_written(approvals)


async def test_an_enterprise_files_only_under_its_own_uscc(approvals):
    r = await approvals.client.post("/applications", json=approvals.body([EIA_FORM], uscc=PACK), headers=approvals.enterprise(CHIP))
    assert r.status_code == 403
    assert r.json()["errors"][0]["field"] == "applicant.uscc"
    assert await nothing_written(approvals)


async def test_staff_file_on_behalf_only_in_their_own_zone_and_only_into_served_zones(approvals):
    other_zone = await approvals.client.post(
        "/applications", json=approvals.body([EIA_FORM], zone="tf-biotown"), headers=approvals.window
    )
    assert other_zone.status_code == 403
    unknown_zone = await approvals.client.post(
        "/applications", json=approvals.body([EIA_FORM], zone="nowhere-zone"), headers=approvals.admin
    )
    assert unknown_zone.status_code == 422 and unknown_zone.json()["errors"][0]["field"] == "zone_id"
    on_behalf = await approvals.client.post("/applications", json=approvals.body([EIA_FORM], uscc=VALID_USCC), headers=approvals.window)
    assert on_behalf.status_code == 201
    assert on_behalf.json()["timeline"][0]["actor"] == "xingu.approvals"


async def test_an_item_not_delegated_to_the_zone_is_referred_to_its_authority_with_a_reason(approvals):
    r = await approvals.file([FOOD_PRODUCTION, HYGIENE])
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "referred"
    assert app["allowed_actions"] == []
    [referral] = app["referrals"]
    assert referral["item_code"] == FOOD_PRODUCTION
    assert referral["authority"] == "双流区市场监督管理局"
    assert "未赋权" in referral["reason"]
    assert [t["action"] for t in app["timeline"]] == ["submit", "refer"]
    async with approvals.svc.ctx.db.session() as s:
        types = (await s.execute(select(outbox_event.c.type))).scalars().all()
    assert types == ["zone.approvals.application.referred.v1"]
    # The same item is handled in a zone it was delegated to... unless the delegation has ended.
    listed = await approvals.client.get(
        "/delegations", params={"zone_id": "tf-biotown", "item_code": FOOD_PRODUCTION}, headers=approvals.admin
    )
    [delegation] = listed.json()["items"]
    ended = await approvals.client.post(
        f"/delegations/{delegation['id']}/end", json={"valid_until": "2026-10-31", "note": "收回赋权"}, headers=approvals.admin
    )
    assert ended.status_code == 200 and ended.json()["in_force_today"] is False
    r = await approvals.file([FOOD_PRODUCTION], uscc=BIO, zone="tf-biotown")
    assert r.json()["status"] == "referred"


async def test_a_retried_filing_with_the_same_idempotency_key_creates_one_application(approvals):
    headers = {**approvals.enterprise(CHIP), "Idempotency-Key": "filing-001"}
    body = approvals.body([EIA_FORM])
    first = await approvals.client.post("/applications", json=body, headers=headers)
    again = await approvals.client.post("/applications", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await count(approvals, Application.__table__) == 1
    assert await count(approvals, outbox_event) == 1


async def test_an_enterprise_reading_another_enterprises_application_gets_404(approvals):
    app = await approvals.filed([EIA_FORM], uscc=CHIP)
    mine = await approvals.client.get(f"/applications/{app['id']}", headers=approvals.enterprise(CHIP))
    assert mine.status_code == 200
    theirs = await approvals.client.get(f"/applications/{app['id']}", headers=approvals.enterprise(PACK))
    missing = await approvals.client.get("/applications/no-such-application", headers=approvals.enterprise(PACK))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["title"] == missing.json()["title"]
    # ... nor act on it, nor find it in a list.
    assert (await approvals.act(app["id"], "evaluate", {"score": 5}, headers=approvals.enterprise(PACK))).status_code == 404
    listed = await approvals.client.get("/applications", params={"uscc": CHIP}, headers=approvals.enterprise(PACK))
    assert listed.json()["total"] == 0


async def test_staff_of_another_zone_neither_see_nor_act_while_city_level_staff_read_across_zones(approvals):
    app = await approvals.filed([EIA_FORM])
    biotown = approvals.staff("tf-biotown")
    assert (await approvals.client.get(f"/applications/{app['id']}", headers=biotown)).status_code == 404
    assert (await approvals.act(app["id"], "accept", headers=biotown)).status_code == 404
    city = approvals.staff(None, roles=("leader",))
    assert (await approvals.client.get(f"/applications/{app['id']}", headers=city)).status_code == 200
    # Staff of the zone without the approvals role read but do not act.
    reader = approvals.staff("cd-xingu", roles=("investment",))
    assert (await approvals.client.get(f"/applications/{app['id']}", headers=reader)).status_code == 200
    refused = await approvals.act(app["id"], "accept", headers=reader)
    assert refused.status_code == 403
    # An enterprise cannot act as staff.
    assert (await approvals.act(app["id"], "accept", headers=approvals.enterprise(CHIP))).status_code == 403


async def test_an_application_keeps_the_item_version_it_was_filed_under(approvals):
    before = await approvals.filed([HYGIENE])
    item = (await approvals.client.get(f"/items/{HYGIENE}", headers=approvals.admin)).json()
    new_terms = {k: item[k] for k in (
        "name", "competent_department", "implementing_body", "legal_basis", "statutory_days", "on_site_visits",
        "commitment_allowed", "verification_window_days", "materials",
    )}
    r = await approvals.client.put(
        f"/items/{HYGIENE}", json={**new_terms, "promised_days": 3, "effective_from": START.isoformat(), "change_note": "压缩承诺时限"},
        headers=approvals.admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    after = await approvals.filed([HYGIENE])
    assert [i["version"] for i in (await approvals.get(before["id"]))["items"]] == [1]
    assert (await approvals.get(before["id"]))["clock"]["promised_days"] == 5
    assert after["items"][0]["version"] == 2 and after["clock"]["promised_days"] == 3

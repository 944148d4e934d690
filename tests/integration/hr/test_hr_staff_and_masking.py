"""Staff records: identities, national ID numbers validated and masked for every role but HR
administrators (whose unmasked reads are audited), idempotent creation, and invalid input that
names the field and writes nothing."""

from __future__ import annotations

from sqlalchemy import select

from chassis.tables import audit_log, idempotency_key, outbox_event
from chassis.validators import national_id_with_check_digit
from services.hr.models import Staff

SPARE_ID = national_id_with_check_digit("11010519491231002")  # 110105: 北京朝阳, any year


async def audit_rows(hr, action: str) -> list:  # type: ignore[no-untyped-def]
    async with hr.svc.ctx.db.session() as s:
        return list((await s.execute(select(audit_log).where(audit_log.c.action == action))).all())


async def test_masking_for_every_role_and_audited_unmasked_reads(hr, issuer):
    department, position = await hr.department_with_position(code="planning", allocation=5, posts=3)
    await hr.department("strategy", "战略研究部", 2)
    member = await hr.person("赵敏", "civil_servant", account="zhao.min")
    outsider = await hr.person("钱多", "contract")
    await hr.appoint(member["id"], position["id"])
    number = hr.national_ids[0]
    masked = number[:6] + "********" + number[-4:]

    head_of_planning = hr.staff_token("head.planning", "dept-head", department="planning")
    head_of_strategy = hr.staff_token("head.strategy", "dept-head", department="strategy")
    readers = {
        "hr-admin": (hr.admin, number),
        "platform admin": (issuer.admin(), number),
        "dept-head of the department": (head_of_planning, masked),
        "the staff member": (hr.staff_token("zhao.min"), masked),
    }
    for role, (headers, expected) in readers.items():
        r = await hr.client.get(f"/staff/{member['id']}", headers=headers, params={})
        assert r.status_code == 200, (role, r.text)
        assert r.json()["national_id"] == expected, role
        assert r.json()["national_id_masked"] is (expected == masked), role

    # Everyone else does not see the record at all (as if it did not exist).
    for role, headers in {
        "dept-head of another department": head_of_strategy,
        "leader": hr.leader,
        "stats": hr.staff_token("stat.person", "stats"),
        "auditor": hr.staff_token("audit.person", "auditor"),
        "another staff member": hr.staff_token("someone.else"),
        "hr-admin of another zone": issuer.staff("zone-b", roles=("hr-admin",), subject="b.hr"),
    }.items():
        r = await hr.client.get(f"/staff/{member['id']}", headers=headers)
        assert r.status_code == 404, (role, r.status_code)
    enterprise = await hr.client.get(f"/staff/{member['id']}", headers=issuer.enterprise("91510100MA6DGXQ125"))
    assert enterprise.status_code == 403

    # Lists follow the same scopes; a department head sees only the people of their department.
    listed = (await hr.client.get("/staff", headers=head_of_planning)).json()
    assert [s["id"] for s in listed["items"]] == [member["id"]] and listed["items"][0]["national_id"] == masked
    everyone = (await hr.client.get("/staff", headers=hr.admin)).json()
    assert {s["id"] for s in everyone["items"]} == {member["id"], outsider["id"]}
    assert (await hr.client.get("/staff", headers=hr.leader)).json()["items"] == []
    me = (await hr.client.get("/staff/me", headers=hr.staff_token("zhao.min"))).json()
    assert me["id"] == member["id"] and me["national_id"] == masked and me["current_appointment"]["position_id"] == position["id"]

    # Every unmasked read is on the audit trail, and the trail itself only ever holds the masked number.
    unmasked_reads = await audit_rows(hr, "staff.national_id.read")
    read_ids = [row.entity_id for row in unmasked_reads]
    assert read_ids.count(member["id"]) >= 3  # created, hr-admin read, platform admin read, hr-admin list
    assert {row.actor for row in unmasked_reads} == {"hr.admin", "admin"}
    async with hr.svc.ctx.db.session() as s:
        trail = [str(dict(row._mapping)) for row in (await s.execute(select(audit_log))).all()]
    assert all(number not in row for row in trail)
    assert any(masked in row for row in trail)


async def test_invalid_national_id_numbers_are_refused_naming_the_field_and_nothing_is_written(hr):
    valid = {"name": "孙丽", "identity": "contract", "contract_start": "2025-01-01", "contract_end": "2027-12-31"}
    for bad in ("510122199001011230", "51012219900101123", "510109199001011232", "5101221990010112XX", "", "51012219900230123X"):
        r = await hr.client.post("/staff", json={**valid, "national_id": bad}, headers=hr.admin)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["national_id"]
        assert bad == "" or bad not in r.text
    for table in (Staff.__table__, audit_log, outbox_event):
        assert await hr.count(table) == 0


async def test_a_number_already_on_record_is_a_conflict_that_does_not_echo_it(hr):
    first = await hr.person("周明")
    number = hr.national_ids[0]
    again = await hr.client.post(
        "/staff", json={"name": "周明明", "national_id": number, "identity": "institution", "original_establishment": "x"},
        headers=hr.admin,
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "national_id" and again.json()["staff_id"] == first["id"]
    assert number not in again.text
    assert await hr.count(Staff.__table__) == 1


async def test_each_identity_requires_its_own_details(hr):
    cases = [
        ({"identity": "civil_servant"}, {"original_establishment"}),
        ({"identity": "contract"}, {"contract_start", "contract_end"}),
        ({"identity": "seconded"}, {"sending_unit"}),
        ({"identity": "institution", "original_establishment": "x", "sending_unit": "y"}, {"sending_unit"}),
        ({"identity": "freelancer"}, {"identity"}),
    ]
    for body, fields in cases:
        r = await hr.client.post("/staff", json={"name": "测试", "national_id": SPARE_ID, **body}, headers=hr.admin)
        assert r.status_code == 422, (body, r.text)
        assert {e["field"] for e in r.json()["errors"]} == fields, body
    assert await hr.count(Staff.__table__) == 0

    seconded = await hr.person("派驻干部", "seconded", sending_unit="双流区大健康办")
    assert seconded["identity_label"] == "派驻" and seconded["sending_unit"] == "双流区大健康办"
    locked = await hr.person("锁定身份", "civil_servant", original_establishment="双流区发改局（行政编制）")
    assert locked["identity_locked"] is True and locked["original_establishment"] == "双流区发改局（行政编制）"
    contract = await hr.person("社会化聘用", "contract")
    assert contract["identity_locked"] is False and contract["contract_end"] == "2029-12-31"


async def test_creation_with_an_idempotency_key_is_done_once(hr):
    body = {"name": "吴刚", "national_id": SPARE_ID, "identity": "institution", "original_establishment": "x"}
    headers = {**hr.admin, "Idempotency-Key": "staff-wu-gang"}
    first = await hr.client.post("/staff", json=body, headers=headers)
    again = await hr.client.post("/staff", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert await hr.count(Staff.__table__) == 1
    # The stored response of an HR administrator's creation holds the number; it is theirs alone (per client).
    other_admin = {**hr.staff_token("other.hr", "hr-admin"), "Idempotency-Key": "staff-wu-gang"}
    replay_for_other = await hr.client.post("/staff", json=body, headers=other_admin)
    assert replay_for_other.status_code == 409  # the same number is already on record; not a replay
    assert await hr.count(idempotency_key) == 1

    dept = await hr.client.post("/departments", json={"code": "g", "name": "综合管理部"}, headers={**hr.admin, "Idempotency-Key": "d1"})
    dept_again = await hr.client.post("/departments", json={"code": "g", "name": "综合管理部"}, headers={**hr.admin, "Idempotency-Key": "d1"})
    assert dept.status_code == dept_again.status_code == 201 and dept.json()["id"] == dept_again.json()["id"]
    duplicate_code = await hr.client.post("/departments", json={"code": "g", "name": "另一个"}, headers=hr.admin)
    assert duplicate_code.status_code == 409 and duplicate_code.json()["errors"][0]["field"] == "code"


async def test_an_account_links_one_record_and_staff_without_a_record_get_404(hr):
    await hr.person("甲", account="jia")
    taken = await hr.client.post(
        "/staff", json={"name": "乙", "national_id": SPARE_ID, "identity": "institution",
                        "original_establishment": "x", "account": "jia"},
        headers=hr.admin,
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "account"
    unlinked = await hr.client.get("/staff/me", headers=hr.staff_token("nobody"))
    assert unlinked.status_code == 404 and unlinked.headers["content-type"] == "application/problem+json"


async def test_unknown_fields_and_bad_types_name_the_field(hr):
    r = await hr.client.post(
        "/staff", json={"name": "", "national_id": SPARE_ID, "identity": "institution", "salary": 5},
        headers=hr.admin,
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"name", "salary"}
    page = await hr.client.get("/staff", params={"size": 0}, headers=hr.admin)
    assert page.status_code == 422 and page.json()["errors"][0]["field"] == "size"
    assert await hr.count(Staff.__table__) == 0

"""National ID numbers at rest: the database holds only ``v1:`` ciphertext and a keyed blind index —
never the number, never an unsalted hash of it — while uniqueness per zone, masking and the HR
administrator's audited full read work as before; a database written by an earlier version (plain
numbers, SHA-256 digests) is upgraded by the service's start-up step, and a key that opens nothing
stops the start."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from chassis.tables import audit_log
from services.hr.models import Staff, new_id
from services.hr.personal_data import SESSION_KEY, UnreadablePersonalData, upgrade_stored

from .conftest import new_national_id

KEY_A = "hr-test-key-a-0123456789-abcdefghijklmnopqrstuvwxyz"
KEY_B = "hr-test-key-b-9876543210-zyxwvutsrqponmlkjihgfedcba"
staff = Staff.__table__


async def raw_staff(hr: Any) -> list[dict[str, Any]]:
    """Every staff row as the database holds it (Core select: no ORM, no decryption)."""
    async with hr.svc.ctx.db.session() as s:
        return [dict(r._mapping) for r in (await s.execute(select(staff))).all()]


async def write_legacy_row(hr: Any, number: str, name: str = "旧档案") -> str:
    """A staff row as the version before encryption wrote it: the number in clear, unsalted SHA-256."""
    staff_id = new_id()
    at = datetime.now(UTC)
    async with hr.svc.ctx.db.session() as s:
        await s.execute(
            insert(staff).values(
                id=staff_id, zone_id=hr.zone, name=name, national_id=number,
                national_id_digest=hashlib.sha256(number.upper().encode()).hexdigest(),
                identity="institution", original_establishment="双流区某局（事业编制）", created_at=at, updated_at=at,
            )
        )
        await s.commit()
    return staff_id


async def test_the_database_holds_no_national_id_number_only_ciphertext_and_a_keyed_index(hr):
    people = [await hr.person("甲"), await hr.person("乙", "contract"), await hr.person("丙", "seconded")]
    rows = await raw_staff(hr)
    assert len(rows) == len(people)
    everything = repr(rows)
    for number in hr.national_ids:
        assert number not in everything
        assert number[:6] + number[-4:] not in everything and number[6:14] not in everything  # nor its birth date
        assert hashlib.sha256(number.encode()).hexdigest() not in everything
    for row in rows:
        assert row["national_id"].startswith("v1:") and len(row["national_id"]) <= 80
        assert len(row["national_id_digest"]) == 64
    # The audit trail of those creations holds the masked form only.
    async with hr.svc.ctx.db.session() as s:
        trail = repr((await s.execute(select(audit_log))).all())
    assert all(number not in trail for number in hr.national_ids)


async def test_the_same_number_twice_in_a_zone_is_still_a_conflict_and_another_zone_may_hold_it(hr, issuer):
    first = await hr.person("周明")
    number = hr.national_ids[0]
    body = {"name": "周明明", "national_id": number, "identity": "institution", "original_establishment": "x"}
    again = await hr.client.post("/staff", json=body, headers=hr.admin)
    assert again.status_code == 409, again.text
    assert again.json()["errors"][0]["code"] == "duplicate" and again.json()["staff_id"] == first["id"]
    assert number not in again.text
    if number.endswith("X"):  # the check digit in lower case is the same number
        lower = await hr.client.post("/staff", json={**body, "national_id": number.lower()}, headers=hr.admin)
        assert lower.status_code == 409
    other_zone = issuer.staff("zone-b", roles=("hr-admin",), subject="b.hr")
    elsewhere = await hr.client.post("/staff", json=body, headers=other_zone)
    assert elsewhere.status_code == 201, elsewhere.text
    assert len(await raw_staff(hr)) == 2


async def test_the_hr_administrators_full_read_decrypts_is_audited_and_others_see_it_masked(hr):
    _, position = await hr.department_with_position(code="planning")
    person = await hr.person("赵敏", account="zhao.min")
    await hr.appoint(person["id"], position["id"])
    number = hr.national_ids[0]
    masked = number[:6] + "********" + number[-4:]
    assert person["national_id"] == number  # the creating administrator's answer

    full = await hr.call("GET", f"/staff/{person['id']}", 200)
    assert full["national_id"] == number and full["national_id_masked"] is False
    listed = await hr.call("GET", "/staff", 200)
    assert [s["national_id"] for s in listed["items"]] == [number]
    own = await hr.call("GET", "/staff/me", 200, headers=hr.staff_token("zhao.min"))
    assert own["national_id"] == masked and own["national_id_masked"] is True
    head = hr.staff_token("head.planning", "dept-head", department="planning")
    assert (await hr.call("GET", f"/staff/{person['id']}", 200, headers=head))["national_id"] == masked

    async with hr.svc.ctx.db.session() as s:
        reads = (await s.execute(select(audit_log).where(audit_log.c.action == "staff.national_id.read"))).all()
    assert len(reads) == 3  # POST, GET /staff/{id}, GET /staff — one per unmasked read
    assert all(r.after["national_id"] == masked for r in reads)


async def test_plain_numbers_of_an_earlier_version_are_encrypted_and_reindexed_at_start(hr_factory):
    hr = await hr_factory(relay_enabled=False, consumers_enabled=False)
    current = await hr.person("新档案")
    legacy_number = new_national_id()
    legacy_id = await write_legacy_row(hr, legacy_number)
    sealed_before = {r["id"]: r["national_id"] for r in await raw_staff(hr)}[current["id"]]
    # Until the step has run (an old row met by a replica already serving) the row still reads.
    assert (await hr.call("GET", f"/staff/{legacy_id}", 200))["national_id"] == legacy_number

    restarted = await hr_factory(database_url=hr.svc.settings.database_url, relay_enabled=False, consumers_enabled=False)
    rows = {r["id"]: r for r in await raw_staff(restarted)}
    legacy = rows[legacy_id]
    assert legacy["national_id"].startswith("v1:") and legacy_number not in repr(rows)
    assert legacy["national_id_digest"] != hashlib.sha256(legacy_number.encode()).hexdigest()
    assert legacy["national_id_digest"] == of_service(restarted).index(legacy_number)
    assert rows[current["id"]]["national_id"] == sealed_before  # already current: left alone

    # Read back in full by the administrator, masked for others; its number is still unique.
    assert (await restarted.call("GET", f"/staff/{legacy_id}", 200))["national_id"] == legacy_number
    duplicate = await restarted.client.post(
        "/staff", json={"name": "重复", "national_id": legacy_number, "identity": "seconded", "sending_unit": "x"},
        headers=restarted.admin,
    )
    assert duplicate.status_code == 409 and duplicate.json()["staff_id"] == legacy_id

    # Idempotent: a second run (another replica starting) changes nothing.
    report = await upgrade_stored(restarted.svc.ctx.db, of_service(restarted))
    assert (report.examined, report.encrypted, report.reencrypted, report.reindexed) == (2, 0, 0, 0)
    assert {r["id"]: r for r in await raw_staff(restarted)} == rows


async def test_rotating_the_key_reencrypts_every_number_and_the_old_key_can_then_go(hr_factory):
    hr = await hr_factory(relay_enabled=False, consumers_enabled=False, personal_data_key=KEY_A)
    person = await hr.person("轮换")
    number = hr.national_ids[0]
    before = (await raw_staff(hr))[0]
    url = hr.svc.settings.database_url

    rotated = await hr_factory(
        database_url=url, relay_enabled=False, consumers_enabled=False,
        personal_data_key=KEY_B, personal_data_previous_keys=KEY_A,
    )
    after = (await raw_staff(rotated))[0]
    assert after["national_id"] != before["national_id"] and after["national_id_digest"] != before["national_id_digest"]

    only_new = await hr_factory(database_url=url, relay_enabled=False, consumers_enabled=False, personal_data_key=KEY_B)
    assert (await only_new.call("GET", f"/staff/{person['id']}", 200))["national_id"] == number
    body = {"name": "重复", "national_id": number, "identity": "seconded", "sending_unit": "x"}
    assert (await only_new.client.post("/staff", json=body, headers=only_new.admin)).status_code == 409


async def test_a_key_that_opens_none_of_the_stored_numbers_stops_the_start(hr_factory):
    hr = await hr_factory(relay_enabled=False, consumers_enabled=False, personal_data_key=KEY_A)
    await hr.person("甲")
    with pytest.raises(UnreadablePersonalData, match="HR_PERSONAL_DATA_KEY") as info:
        await hr_factory(
            database_url=hr.svc.settings.database_url, relay_enabled=False, consumers_enabled=False, personal_data_key=KEY_B
        )
    assert hr.national_ids[0] not in str(info.value)


def of_service(hr: Any) -> Any:
    """The running service's national-ID cipher (as its sessions get it)."""
    return hr.svc.ctx.db.session_info[SESSION_KEY]

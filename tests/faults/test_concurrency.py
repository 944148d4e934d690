"""Concurrency against the real approvals process: retries and races leave one consistent state.

- 100 identical filings sent at once with one ``Idempotency-Key`` create one application: every
  answer is that application (201) or "still in flight, retry" (409), and a retry afterwards
  replays the first answer.
- 100 staff actions racing on one application (half 受理, half 不予受理) leave exactly one of them
  applied: one 200, the rest 409 naming the current state, one timeline entry, one status.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from services.approvals.catalog_data import SEED_ITEMS

CHIP = "91510100MA6DGXQ125"  # 成都芯谷集成电路设计有限公司, a demo enterprise of cd-xingu
ITEM = "51011600HB-XK-0001"  # 环境影响报告表审批, delegated to cd-xingu in the demo data
RACERS = 100


def filing(item: str = ITEM) -> dict[str, Any]:
    [spec] = [i for i in SEED_ITEMS if i.code == item]
    return {
        "zone_id": "cd-xingu",
        "applicant": {"uscc": CHIP, "name": "成都芯谷集成电路设计有限公司", "contact_person": "王经理", "contact_phone": "13800028001"},
        "item_codes": [item],
        "materials": [{"code": code} for code, mandatory in spec.materials if mandatory],
    }


async def applications_of(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    page = 1
    while page < 50:
        r = await client.get("/applications", params={"uscc": CHIP, "page": page, "size": 100}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        ids |= {a["id"] for a in body["items"]}
        if len(body["items"]) < 100:
            return ids
        page += 1
    return ids


async def test_100_identical_filings_with_one_idempotency_key_create_one_application(platform, issuer):
    enterprise = {**issuer.enterprise(CHIP), "Idempotency-Key": f"concurrent-{uuid.uuid4()}"}
    body = filing()
    limits = httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
    async with httpx.AsyncClient(base_url=platform.url("approvals"), timeout=30, limits=limits) as client:
        before = await applications_of(client, issuer.enterprise(CHIP))

        answers = await asyncio.gather(*(client.post("/applications", json=body, headers=enterprise) for _ in range(RACERS)))

        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {201, 409}, statuses
        created = {a.json()["id"] for a in answers if a.status_code == 201}
        assert len(created) == 1, created
        for refused in (a for a in answers if a.status_code == 409):
            assert refused.headers["content-type"] == "application/problem+json"
        after = await applications_of(client, issuer.enterprise(CHIP))
        assert after - before == created

        retry = await client.post("/applications", json=body, headers=enterprise)
        assert retry.status_code == 201 and retry.json()["id"] in created
        assert retry.headers.get("Idempotent-Replayed") == "true"


async def test_100_racing_staff_actions_on_one_application_apply_exactly_one(platform, issuer):
    window = issuer.staff("cd-xingu", roles=("approvals",), subject="xingu.approvals")
    limits = httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
    async with httpx.AsyncClient(base_url=platform.url("approvals"), timeout=30, limits=limits) as client:
        filed = await client.post("/applications", json=filing(), headers=issuer.enterprise(CHIP))
        assert filed.status_code == 201, filed.text
        app_id = filed.json()["id"]

        def act(i: int) -> Any:
            if i % 2:
                return client.post(f"/applications/{app_id}/accept", json={"note": f"受理 {i}"}, headers=window)
            return client.post(f"/applications/{app_id}/refuse", json={"reason": f"材料不符合法定形式 {i}"}, headers=window)

        answers = await asyncio.gather(*(act(i) for i in range(RACERS)))

        statuses = [a.status_code for a in answers]
        assert statuses.count(200) == 1, statuses
        assert set(statuses) == {200, 409}, statuses
        [winner] = [a.json() for a in answers if a.status_code == 200]
        for loser in (a for a in answers if a.status_code == 409):
            assert loser.headers["content-type"] == "application/problem+json", loser.text
        final = (await client.get(f"/applications/{app_id}", headers=window)).json()
        assert final["status"] == winner["status"] in {"accepted", "refused"}
        decisions = [t for t in final["timeline"] if t["action"] in {"accept", "refuse"}]
        assert len(decisions) == 1, final["timeline"]

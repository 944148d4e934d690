"""The gateway's own access matrix (the services' matrix is ``tests/faults/test_access_matrix.py``).

Every operation of the gateway's live OpenAPI has a row saying who may call it; a test fails naming
any operation the table lacks. Each row is probed with no token (401), an enterprise token, a zone's
staff token with every staff role, and another system client (webhook subscriptions belong to the
client that made them: another client gets 404 and the subscription is unchanged).
"""

from __future__ import annotations

from typing import Any

from tests.support.validators import VALID_USCC

REVOKED = "zone.approvals.application.commitment_revoked.v1"

PUBLIC, AUTHENTICATED, ADMIN, STAFF, SYSTEM_OWNER = "public", "any authenticated", "admin", "staff", "owning system client"

#: method + path → who may call it
GATEWAY_OPS: dict[str, str] = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /admin/outbox": ADMIN,
    "POST /admin/outbox/replay": ADMIN,
    "GET /admin/dead-letters": ADMIN,
    "POST /admin/dead-letters/{dead_letter_id}/redrive": ADMIN,
    "GET /audit": ADMIN,  # administrators and auditors
    "POST /auth/token": PUBLIC,
    "GET /auth/me": AUTHENTICATED,
    "GET /.well-known/jwks.json": PUBLIC,
    "POST /admin/accounts": ADMIN,
    "GET /admin/accounts": ADMIN,
    "GET /admin/accounts/{username}": ADMIN,
    "PATCH /admin/accounts/{username}": ADMIN,
    "POST /admin/accounts/{username}/unlock": ADMIN,
    "POST /admin/clients": ADMIN,
    "GET /admin/clients": ADMIN,
    "PATCH /admin/clients/{client_id}": ADMIN,
    "GET /admin/keys": ADMIN,
    "POST /admin/keys/rotate": ADMIN,
    "POST /admin/zones": ADMIN,
    "PUT /admin/zones/{zone_id}": ADMIN,
    "GET /api/zones": PUBLIC,  # the zone directory is public (gateway/README.md)
    "GET /api/zones/{zone_id}": PUBLIC,
    "GET /api/me/overview": AUTHENTICATED,
    "GET /api/dashboard": STAFF,
    "POST /api/subscriptions": SYSTEM_OWNER,
    "GET /api/subscriptions": SYSTEM_OWNER,
    "GET /api/subscriptions/{subscription_id}": SYSTEM_OWNER,
    "PATCH /api/subscriptions/{subscription_id}": SYSTEM_OWNER,
    "DELETE /api/subscriptions/{subscription_id}": SYSTEM_OWNER,
    "POST /api/subscriptions/{subscription_id}/rotate-secret": SYSTEM_OWNER,
    "GET /api/subscriptions/{subscription_id}/deliveries": SYSTEM_OWNER,
    "POST /api/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver": SYSTEM_OWNER,
    "GET /asyncapi.json": PUBLIC,
}

STAFF_ROLES = ["approvals", "approvals-admin", "investment", "hr-admin", "dept-head", "stats", "stats-admin", "leader"]


def _body(key: str, ids: dict[str, str]) -> Any:
    """Bodies valid for the rightful caller, so a refusal is about access, not validation."""
    return {
        "POST /admin/outbox/replay": {"since": "2099-01-01T00:00:00Z"},
        "POST /admin/accounts": {"username": "acm-new", "kind": "staff", "name": "x", "password": "Xingu-2026-pass",
                                 "zone_id": "cd-xingu", "roles": ["leader"]},
        "PATCH /admin/accounts/{username}": {"name": "pwned"},
        "POST /admin/clients": {"client_id": "acm-client", "name": "x", "event_types": []},
        "PATCH /admin/clients/{client_id}": {"name": "pwned"},
        "POST /admin/zones": {"zone_id": "zz-new", "name": "x", "type": "产业新城", "district": "x"},
        "PUT /admin/zones/{zone_id}": {"name": "x", "type": "产业新城", "district": "x"},
        "POST /api/subscriptions": {"callback_url": "https://8.8.8.8/acm", "event_types": [REVOKED]},
        "PATCH /api/subscriptions/{subscription_id}": {"active": False},
        "POST /api/subscriptions/{subscription_id}/rotate-secret": {"overlap_hours": 0},
    }.get(key)


async def test_every_gateway_operation_has_an_access_rule_and_each_refuses_the_callers_it_does_not_admit(gateway_factory):
    gw = await gateway_factory(webhook_allow_private=False)
    spec = (await gw.client.get("/openapi.json")).json()
    live = {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item if m in {"get", "post", "put", "patch", "delete"}}
    assert not sorted(live - set(GATEWAY_OPS)), f"gateway operations without an access rule: {sorted(live - set(GATEWAY_OPS))}"
    assert not sorted(set(GATEWAY_OPS) - live), f"rows for operations that no longer exist: {sorted(set(GATEWAY_OPS) - live)}"

    await gw.create_zone("cd-xingu")
    await gw.create_account(username="ent", kind="enterprise", uscc=VALID_USCC)
    await gw.create_account(username="staff", kind="staff", zone_id="cd-xingu", roles=STAFF_ROLES)
    owner = {"Authorization": f"Bearer {await gw.client_token('credit-platform', [REVOKED])}"}
    other = {"Authorization": f"Bearer {await gw.client_token('someone-else', [REVOKED])}"}
    created = await gw.client.post("/api/subscriptions", headers=owner, json=_body("POST /api/subscriptions", {}))
    assert created.status_code == 201, created.text
    ids = {"subscription_id": created.json()["id"], "delivery_id": "1", "dead_letter_id": "1", "username": "staff",
           "client_id": "credit-platform", "zone_id": "cd-xingu"}
    callers = {"enterprise": await gw.headers("ent"), "zone staff with every role": await gw.headers("staff")}

    failures: list[str] = []
    for key, who in GATEWAY_OPS.items():
        method, template = key.split(" ", 1)
        path = template.format(**ids)
        body = _body(key, ids)

        async def call(headers: dict[str, str] | None, method: str = method, path: str = path, body: Any = body) -> Any:
            return await gw.client.request(method, path, headers=headers or {}, json=body)

        if who == PUBLIC:
            continue  # answered without a token by design (token endpoint, keys, health, contract)
        if (r := await call(None)).status_code != 401:
            failures.append(f"{key}: no token got {r.status_code}")
        if who in {ADMIN, STAFF, SYSTEM_OWNER}:
            for name, headers in callers.items():
                if who == STAFF and name != "enterprise":
                    continue
                if (r := await call(headers)).status_code != 403:
                    failures.append(f"{key}: {name} got {r.status_code} {r.text[:200]}")
        if who == SYSTEM_OWNER and "{subscription_id}" in template:
            before = (await gw.client.get(f"/api/subscriptions/{ids['subscription_id']}", headers=owner)).json()
            if (r := await call(other)).status_code != 404:
                failures.append(f"{key}: another system client got {r.status_code} {r.text[:200]}")
            after = (await gw.client.get(f"/api/subscriptions/{ids['subscription_id']}", headers=owner)).json()
            if after != before:
                failures.append(f"{key}: another client's refused call changed the subscription")
    listed = await gw.client.get("/api/subscriptions", headers=other)
    assert listed.status_code == 200 and ids["subscription_id"] not in {s["id"] for s in listed.json()["items"]}
    assert not failures, "\n".join(failures)
    # The rightful owner reads its subscription (so the 404s above were refusals, not a wrong id).
    assert (await gw.client.get(f"/api/subscriptions/{ids['subscription_id']}", headers=owner)).status_code == 200

"""Accounts, logins and tokens through the real gateway app and database."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select, update

from chassis.auth import JwksVerifier, build_claims
from chassis.tables import audit_log
from gateway.models import SigningKeyRecord
from tests.integration.gateway.conftest import ADMIN, ADMIN_PASSWORD, PASSWORD
from tests.support.validators import OTHER_USCC, VALID_USCC

TOKEN = "/auth/token"


def password_form(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


async def verify_with_published_keys(gw, token: str):  # type: ignore[no-untyped-def]
    jwks = (await gw.client.get("/.well-known/jwks.json")).json()
    verifier = JwksVerifier(issuer="zone-platform", audience="zone-platform", jwks=jwks)
    return await verifier.verify(token)


async def audit_actions(gw, entity_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    async with gw.state.ctx.db.session() as s:
        rows = (await s.execute(select(audit_log.c.action).where(audit_log.c.entity_id == entity_id).order_by(audit_log.c.id))).all()
    return [r.action for r in rows]


async def test_the_first_administrator_comes_from_the_environment_and_its_token_verifies_against_the_jwks(gateway_factory):
    gw = await gateway_factory()
    r = await gw.client.post(TOKEN, data=password_form(ADMIN, ADMIN_PASSWORD))
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["kind"] == "admin"
    principal = await verify_with_published_keys(gw, body["access_token"])
    assert principal.subject == ADMIN and principal.kind == "admin" and principal.is_admin
    claims = principal.claims
    assert claims["iss"] == "zone-platform" and claims["aud"] == "zone-platform"
    assert claims["exp"] - claims["iat"] == 3600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == gw.state.keyring.current.kid


async def test_a_staff_token_carries_zone_department_roles_and_name_and_an_enterprise_token_its_uscc(gateway_factory):
    gw = await gateway_factory()
    await gw.create_zone("cd-xingu")
    await gw.create_account(username="xingu.approvals", kind="staff", name="审批专员", zone_id="cd-xingu",
                            department="approvals", roles=["approvals"])
    await gw.create_account(username="xingu.jicheng", kind="enterprise", name="成都芯谷集成电路设计有限公司", uscc=VALID_USCC)
    staff = await verify_with_published_keys(gw, await gw.token("xingu.approvals"))
    assert staff.claims["kind"] == "staff" and staff.claims["zone"] == "cd-xingu" and staff.claims["dept"] == "approvals"
    assert staff.claims["roles"] == ["approvals"] and staff.claims["name"] == "审批专员"
    assert "uscc" not in staff.claims and "event_types" not in staff.claims
    enterprise = await verify_with_published_keys(gw, await gw.token("xingu.jicheng"))
    assert enterprise.claims["kind"] == "enterprise" and enterprise.claims["uscc"] == VALID_USCC
    assert enterprise.claims["roles"] == [] and "zone" not in enterprise.claims
    me = await gw.client.get("/auth/me", headers={"Authorization": f"Bearer {await gw.token('xingu.jicheng')}"})
    assert me.json()["uscc"] == VALID_USCC and me.json()["kind"] == "enterprise"


async def test_inconsistent_accounts_are_refused_naming_the_field_and_nothing_is_written(gateway_factory):
    gw = await gateway_factory()
    admin = await gw.admin()
    cases = [
        ({"username": "ent.a", "kind": "enterprise", "name": "A"}, "uscc"),
        ({"username": "ent.b", "kind": "enterprise", "name": "B", "uscc": "91510100MA61R8XE5X"}, "uscc"),
        ({"username": "staff.c", "kind": "staff", "name": "C", "zone_id": "no-such-zone"}, "zone_id"),
        ({"username": "staff.d", "kind": "staff", "name": "D", "roles": ["root"]}, "roles"),
        ({"username": "Bad Name", "kind": "staff", "name": "E"}, "username"),
    ]
    for body, field in cases:
        r = await gw.client.post("/admin/accounts", json={"password": PASSWORD, **body}, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    weak = await gw.client.post("/admin/accounts", json={"username": "weak", "kind": "staff", "name": "W", "password": "abcdefgh"},
                                headers=admin)
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    listing = await gw.client.get("/admin/accounts", headers=admin)
    assert [a["username"] for a in listing.json()["items"]] == [ADMIN]
    await gw.create_account(username="dup", kind="staff")
    again = await gw.client.post("/admin/accounts", json={"username": "dup", "kind": "staff", "name": "x", "password": PASSWORD},
                                 headers=admin)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "username"


async def test_repeated_wrong_passwords_lock_the_account_for_a_while_and_each_attempt_is_audited(gateway_factory):
    gw = await gateway_factory(login_max_failures=3, login_lockout_s=2)
    await gw.create_account(username="xingu.stats", kind="staff")
    for _ in range(2):
        r = await gw.client.post(TOKEN, data=password_form("xingu.stats", "wrong-password-1"))
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert r.json()["detail"] == "用户名或密码错误"
    locked = await gw.client.post(TOKEN, data=password_form("xingu.stats", "wrong-password-1"))
    assert locked.status_code == 400 and "已锁定" in locked.json()["detail"]
    assert 1 <= int(locked.headers["retry-after"]) <= 2
    still = await gw.client.post(TOKEN, data=password_form("xingu.stats"))  # the right password, but locked
    assert still.status_code == 400 and "已锁定" in still.json()["detail"]
    await asyncio.sleep(2.1)
    assert (await gw.client.post(TOKEN, data=password_form("xingu.stats"))).status_code == 200
    actions = await audit_actions(gw, "xingu.stats")
    assert actions == ["account.create", "auth.login_failed", "auth.login_failed", "auth.account_locked",
                       "auth.login_refused", "auth.token_issued"]


async def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(gateway_factory):
    gw = await gateway_factory()
    r = await gw.client.post(TOKEN, data=password_form("nobody", "whatever-123"))
    assert r.status_code == 400 and r.json()["detail"] == "用户名或密码错误"
    assert await audit_actions(gw, "nobody") == ["auth.login_failed"]


async def test_malformed_token_requests_are_problem_details_naming_the_field(gateway_factory):
    gw = await gateway_factory()
    r = await gw.client.post(TOKEN, data={"grant_type": "password", "username": "x"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "password"
    r = await gw.client.post(TOKEN, data={"grant_type": "authorization_code"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = await gw.client.post(TOKEN, data={})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "grant_type"


async def test_a_deactivated_account_cannot_log_in_and_a_password_reset_unlocks_it(gateway_factory):
    gw = await gateway_factory()
    await gw.create_account(username="leaver", kind="staff")
    admin = await gw.admin()
    r = await gw.client.patch("/admin/accounts/leaver", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    refused = await gw.client.post(TOKEN, data=password_form("leaver"))
    assert refused.status_code == 400 and refused.json()["detail"] == "账户已停用"
    await gw.client.patch("/admin/accounts/leaver", json={"active": True, "password": "New-pass-2026"}, headers=admin)
    assert (await gw.client.post(TOKEN, data=password_form("leaver", "New-pass-2026"))).status_code == 200
    own = await gw.client.patch(f"/admin/accounts/{ADMIN}", json={"active": False}, headers=admin)
    assert own.status_code == 409


async def test_system_clients_get_tokens_by_client_credentials_in_the_form_or_basic_auth(gateway_factory):
    gw = await gateway_factory()
    revoked = "zone.approvals.application.commitment_revoked.v1"
    r = await gw.client.post("/admin/clients", json={"client_id": "credit-platform", "name": "信用平台", "event_types": [revoked]},
                             headers=await gw.admin())
    assert r.status_code == 201
    secret = r.json()["client_secret"]
    listed = await gw.client.get("/admin/clients", headers=await gw.admin())
    assert "client_secret" not in listed.json()["items"][0]
    form = await gw.client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "credit-platform",
                                             "client_secret": secret})
    basic = await gw.client.post(
        TOKEN, data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(f"credit-platform:{secret}".encode()).decode()},
    )
    for response in (form, basic):
        assert response.status_code == 200, response.text
        principal = await verify_with_published_keys(gw, response.json()["access_token"])
        assert principal.kind == "system" and principal.event_types == (revoked,) and principal.name == "信用平台"
    wrong = await gw.client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "credit-platform",
                                              "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    bad_type = await gw.client.post("/admin/clients", json={"client_id": "x-sys", "name": "x", "event_types": ["zone.approvals.application.exploded.v1"]},
                                    headers=await gw.admin())
    assert bad_type.status_code == 422 and bad_type.json()["errors"][0]["field"] == "event_types.0"


async def test_admin_only_endpoints_refuse_enterprise_and_staff_tokens_and_anonymous_callers(gateway_factory):
    gw = await gateway_factory()
    await gw.create_zone("cd-xingu")
    await gw.create_account(username="ent", kind="enterprise", uscc=VALID_USCC)
    await gw.create_account(username="staff", kind="staff", zone_id="cd-xingu", roles=["approvals", "leader"])
    endpoints = [
        ("post", "/admin/accounts", {"username": "x1", "kind": "staff", "name": "x", "password": PASSWORD}),
        ("get", "/admin/accounts", None),
        ("get", f"/admin/accounts/{ADMIN}", None),
        ("patch", f"/admin/accounts/{ADMIN}", {"name": "pwned"}),
        ("post", "/admin/clients", {"client_id": "x2", "name": "x", "event_types": []}),
        ("get", "/admin/clients", None),
        ("post", "/admin/keys/rotate", None),
        ("get", "/admin/keys", None),
        ("post", "/admin/zones", {"zone_id": "zz-new", "name": "x", "type": "产业新城", "district": "x"}),
        ("put", "/admin/zones/cd-xingu", {"name": "x", "type": "产业新城", "district": "x"}),
    ]
    for username in ("ent", "staff"):
        headers = await gw.headers(username)
        for method, path, body in endpoints:
            r = await gw.client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (username, method, path, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"
    for method, path, body in endpoints:
        assert (await gw.client.request(method, path, json=body)).status_code == 401
    dashboard = await gw.client.get("/api/dashboard", headers=await gw.headers("ent"))
    assert dashboard.status_code == 403


async def test_an_expired_or_foreign_token_is_refused(gateway_factory):
    gw = await gateway_factory()
    expired = gw.state.keyring.sign(build_claims(subject=ADMIN, kind="admin", roles=["admin"], ttl_s=-60))
    r = await gw.client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "过期" in r.json()["detail"]
    from chassis.auth import SigningKey

    foreign = SigningKey.generate("foreign").sign(build_claims(subject=ADMIN, kind="admin", roles=["admin"]))
    assert (await gw.client.get("/auth/me", headers={"Authorization": f"Bearer {foreign}"})).status_code == 401


async def test_key_rotation_keeps_the_previous_key_published_until_its_tokens_expire(gateway_factory):
    gw = await gateway_factory()
    old_token = await gw.token(ADMIN, ADMIN_PASSWORD)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    r = await gw.client.post("/admin/keys/rotate", headers={"Authorization": f"Bearer {old_token}"})
    assert r.status_code == 200 and r.json()["retired"] == [old_kid]
    new_kid = r.json()["kid"]
    jwks = (await gw.client.get("/.well-known/jwks.json")).json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    new_token = await gw.token(ADMIN, ADMIN_PASSWORD)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    for token in (old_token, new_token):  # both still valid, at the gateway and for any service using the JWKS
        assert (await gw.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
        assert (await verify_with_published_keys(gw, token)).subject == ADMIN
    keys = (await gw.client.get("/admin/keys", headers={"Authorization": f"Bearer {new_token}"})).json()
    retired = next(k for k in keys if k["kid"] == old_kid)
    expires = datetime.fromisoformat(retired["expires_at"])
    assert timedelta(minutes=60) < expires - datetime.fromisoformat(retired["retired_at"]) <= timedelta(minutes=62)
    assert next(k for k in keys if k["kid"] == new_kid)["current"] is True
    # Once the old key's tokens have all expired, it leaves the JWKS and its tokens stop working.
    async with gw.state.ctx.db.session() as s:
        await s.execute(update(SigningKeyRecord).where(SigningKeyRecord.kid == old_kid)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await s.commit()
    await gw.state.keyring.load()
    jwks = (await gw.client.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [new_kid]
    fresh = JwksVerifier(issuer="zone-platform", audience="zone-platform", jwks=jwks)
    assert (await fresh.verify(new_token)).subject == ADMIN
    try:
        await fresh.verify(old_token)
        raise AssertionError("a token of a key no longer published must be refused")
    except Exception as exc:
        assert "密钥" in str(getattr(exc, "zh", exc))
    assert "keys.rotate" in await audit_actions(gw, new_kid)


async def test_private_keys_are_stored_encrypted(gateway_factory):
    gw = await gateway_factory()
    async with gw.state.ctx.db.session() as s:
        record = (await s.execute(select(SigningKeyRecord))).scalars().first()
    assert record is not None
    assert record.private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


async def test_the_token_endpoint_has_its_own_rate_limit_per_ip(gateway_factory):
    gw = await gateway_factory(token_rate_limit_burst=3, token_rate_limit_per_s=0.5)
    statuses = [(await gw.client.post(TOKEN, data=password_form("nobody", "x"))).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    limited = await gw.client.post(TOKEN, data=password_form("nobody", "x"))
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1


async def test_requests_are_rate_limited_per_token_subject(gateway_factory):
    gw = await gateway_factory(rate_limit_burst=5, rate_limit_per_s=0.5)
    await gw.create_account(username="busy", kind="enterprise", uscc=VALID_USCC)
    await gw.create_account(username="calm", kind="enterprise", uscc=OTHER_USCC)
    busy, calm = await gw.headers("busy"), await gw.headers("calm")
    statuses = [(await gw.client.get("/auth/me", headers=busy)).status_code for _ in range(6)]
    assert statuses[-1] == 429 and statuses.count(200) >= 4
    assert (await gw.client.get("/auth/me", headers=calm)).status_code == 200


async def test_security_headers_and_cors_for_configured_origins_only(gateway_factory):
    gw = await gateway_factory(cors_origins="https://portal.chengdu.example.cn")
    r = await gw.client.get("/api/zones")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization"}
    ok = await gw.client.options("/api/zones", headers={"Origin": "https://portal.chengdu.example.cn", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://portal.chengdu.example.cn"
    other = await gw.client.options("/api/zones", headers={"Origin": "https://evil.example.com", **preflight})
    assert "access-control-allow-origin" not in other.headers

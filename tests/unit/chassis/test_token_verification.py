"""Services verify the gateway's RS256 tokens against its JWKS and scope staff to their zone."""

import time

import pytest

from chassis.auth import JwksVerifier, SigningKey, build_claims, jwks_document, scoped_zone
from chassis.errors import Forbidden, Unauthorized

KEY = SigningKey.generate("k1")
OTHER = SigningKey.generate("k2")


def verifier() -> JwksVerifier:
    return JwksVerifier(issuer="zone-platform", audience="zone-platform", jwks=jwks_document([KEY]))


async def test_a_staff_token_yields_its_zone_department_and_roles():
    token = KEY.sign(build_claims(subject="xingu.approvals", kind="staff", roles=["approvals"], zone_id="cd-xingu", department="政务服务部"))
    p = await verifier().verify(token)
    assert (p.kind, p.zone_id, p.department, p.roles) == ("staff", "cd-xingu", "政务服务部", frozenset({"approvals"}))
    assert not p.is_city_level


async def test_an_expired_token_is_refused():
    claims = build_claims(subject="a", kind="staff", ttl_s=-10)
    with pytest.raises(Unauthorized, match="过期|expired"):
        await verifier().verify(KEY.sign(claims))


async def test_a_token_signed_by_an_unknown_key_is_refused():
    with pytest.raises(Unauthorized):
        await verifier().verify(OTHER.sign(build_claims(subject="a", kind="staff")))


async def test_a_token_for_another_audience_is_refused():
    with pytest.raises(Unauthorized):
        await verifier().verify(KEY.sign(build_claims(subject="a", kind="staff", audience="elsewhere")))


async def test_an_enterprise_token_must_carry_a_uscc():
    with pytest.raises(Unauthorized):
        await verifier().verify(KEY.sign(build_claims(subject="e", kind="enterprise")))


async def test_an_unsigned_token_is_refused():
    import jwt

    token = jwt.encode({"sub": "a", "kind": "admin", "exp": int(time.time()) + 60, "iat": int(time.time())}, None, algorithm="none")
    with pytest.raises(Unauthorized):
        await verifier().verify(token)


async def test_zone_staff_are_scoped_to_their_zone_and_city_level_staff_read_across():
    zone_staff = await verifier().verify(KEY.sign(build_claims(subject="s", kind="staff", zone_id="cd-xingu")))
    city = await verifier().verify(KEY.sign(build_claims(subject="c", kind="staff", roles=["leader"])))
    assert scoped_zone(zone_staff, None) == "cd-xingu"
    assert scoped_zone(zone_staff, "cd-xingu") == "cd-xingu"
    with pytest.raises(Forbidden):
        scoped_zone(zone_staff, "tf-biotown")
    assert scoped_zone(city, None) is None
    assert scoped_zone(city, "tf-biotown") == "tf-biotown"

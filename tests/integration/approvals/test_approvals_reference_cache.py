"""The reference data a filing reads (catalog, delegations, calendar) is cached in the service's process:
a change made through the service is seen by the very next filing; another replica sees it once its
cache expires (``reference_cache_ttl_s``)."""

from __future__ import annotations

from typing import Any

from services.approvals import refcache
from services.approvals.definition import DEFINITION
from tests.integration.approvals.conftest import EIA_FORM, START, Approvals, start_approvals

ZONE_ADMIN: dict[str, Any] = {"roles": ("approvals-admin",), "subject": "xingu.approvals-admin"}


async def abolish(approvals: Approvals, code: str) -> None:
    terms = (await approvals.client.get(f"/items/{code}", headers=approvals.window)).json()
    r = await approvals.client.put(
        f"/items/{code}", json={**_terms_in(terms), "status": "abolished", "change_note": "事项取消"}, headers=approvals.admin
    )
    assert r.status_code == 200, r.text


def _terms_in(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "category", "competent_department", "implementing_body", "delegating_authority", "legal_basis",
            "conditions", "statutory_days", "promised_days", "on_site_visits", "fee_yuan", "fee_note",
            "commitment_allowed", "verification_window_days", "materials")
    out = {k: item[k] for k in keys if k in item}
    out["materials"] = [{"code": m["code"], "name": m["name"], "mandatory": m["mandatory"]} for m in item["materials"]]
    return out


async def test_an_item_abolished_through_the_service_is_refused_by_the_very_next_filing(approvals):
    assert (await approvals.file([EIA_FORM])).status_code == 201  # the item is now cached
    await abolish(approvals, EIA_FORM)
    refused = await approvals.file([EIA_FORM])
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "abolished_item"


async def test_a_delegation_ended_through_the_service_refers_the_very_next_filing(approvals):
    assert (await approvals.filed([EIA_FORM]))["status"] == "submitted"  # the delegation is now cached
    zone_admin = approvals.staff("cd-xingu", **ZONE_ADMIN)
    listed = (await approvals.client.get("/delegations", params={"size": 100}, headers=zone_admin)).json()["items"]
    delegation = next(d for d in listed if d["item_code"] == EIA_FORM and d["zone_id"] == "cd-xingu")
    assert delegation["valid_from"] < START.isoformat()
    ended = await approvals.client.post(
        f"/delegations/{delegation['id']}/end", json={"valid_until": delegation["valid_from"], "note": "收回赋权"},
        headers=zone_admin,
    )
    assert ended.status_code == 200, ended.text
    assert (await approvals.filed([EIA_FORM]))["status"] == "referred"


async def test_another_replica_sees_a_catalog_change_once_its_cache_expires(
    service_factory, issuer, tmp_path, monkeypatch
):
    # The cache's clock is moved by hand: sleeping through a short TTL failed on a loaded CI machine,
    # where the filings themselves outlasted it.
    now = [1_000.0]
    monkeypatch.setattr(refcache, "clock", lambda: now[0])
    ttl = 60.0
    first = await start_approvals(service_factory, issuer, tmp_path, reference_cache_ttl_s=ttl)
    second_svc = await service_factory(
        DEFINITION, database_url=first.svc.ctx.settings.database_url, reference_cache_ttl_s=ttl,
        relay_enabled=False, consumers_enabled=False, files_dir=str(tmp_path / "files"),
    )
    second_svc.ctx.extras["clock"] = first.clock
    second = Approvals(svc=second_svc, issuer=issuer, clock=first.clock)

    assert (await second.file([EIA_FORM])).status_code == 201  # cached on the second replica
    await abolish(first, EIA_FORM)
    # Within the TTL the second replica still answers from its cache (the bound this setting documents) …
    assert (await second.file([EIA_FORM])).status_code == 201
    now[0] += ttl + 1
    # … and after it, from the database.
    refused = await second.file([EIA_FORM])
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "abolished_item"

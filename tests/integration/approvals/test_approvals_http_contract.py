"""The HTTP contract: a meaningful OpenAPI document, and no input — however malformed — answered with a 500."""

from __future__ import annotations

import re

from tests.integration.approvals.conftest import CHIP, EIA_FORM

ODD_VALUES = ["x", "9999-99-99", "51011600HB-XK-0001", "%E4%B8%AD", "a" * 300]
ODD_BODIES: list[object] = [None, {}, [], "text", {"items": "nope"}, {"score": "five"}, {"kind": None}]


async def test_every_route_is_documented_with_a_summary_tags_and_a_response_schema(approvals):
    spec = (await approvals.client.get("/openapi.json")).json()
    ours = {p: ops for p, ops in spec["paths"].items() if not p.startswith(("/admin", "/healthz", "/readyz", "/audit"))}
    assert len(ours) >= 20
    for path, operations in ours.items():
        for method, op in operations.items():
            assert op.get("summary") and op.get("tags"), (method, path)
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and ok.get("content"), (method, path)


async def test_no_malformed_request_is_answered_with_a_server_error(approvals):
    app = await approvals.filed([EIA_FORM])
    spec = (await approvals.client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        if path.startswith(("/admin", "/audit")):
            continue
        for method in operations:
            attempts = [(value, {}, approvals.admin) for value in ODD_VALUES]
            attempts += [(app["id"], body, approvals.admin) for body in ODD_BODIES]
            attempts += [(app["id"], {}, approvals.enterprise(CHIP)), (app["id"], {}, approvals.window)]
            for value, body, headers in attempts:
                url = re.sub(r"\{[a-z_]+\}", value, path)
                r = await approvals.client.request(method.upper(), url, json=body, headers=headers)
                assert r.status_code < 500, (method, url, body, r.status_code, r.text)
                if r.status_code >= 400:
                    assert r.headers["content-type"] == "application/problem+json", (method, url)

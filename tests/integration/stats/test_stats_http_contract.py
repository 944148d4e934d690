"""The HTTP contract: every route is documented (Chinese summary, tag, response model) and the
paths the gateway's aggregation calls exist."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_every_route_has_a_chinese_summary_a_tag_and_a_response(stats):
    doc = (await stats.client.get("/openapi.json")).json()
    paths = doc["paths"]
    for path in (
        "/zones/{zone_id}/summary",
        "/zones/{zone_id}/summary/export",
        "/zones/{zone_id}/series",
        "/reports",
        "/reports/due",
        "/reports/{report_id}/accept",
        "/reports/{report_id}/return",
        "/reports/{report_id}/resubmit",
        "/reports/{report_id}/revise",
        "/periods/{period}/close",
        "/indicators",
        "/rules",
        "/targets",
        "/obligations",
        "/assessments/{year}",
    ):
        assert path in paths, path
    for path, operations in paths.items():
        for method, op in operations.items():
            assert CJK.search(op.get("summary", "")), f"{method} {path} lacks a Chinese summary"
            assert op.get("tags"), f"{method} {path} has no tag"
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and (ok.get("content") or path.endswith("/export")), f"{method} {path} has no response model"
    summary_schema = paths["/zones/{zone_id}/summary"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert summary_schema["$ref"].endswith("/SummaryOut")

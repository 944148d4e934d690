"""Malformed input anywhere is a 4xx problem document naming what is wrong — never a 500, never a write."""

from __future__ import annotations

from chassis.tables import audit_log, outbox_event
from services.hr.models import Appointment, Department, Position, Staff

LONG = "x" * 300


async def test_malformed_requests_are_answered_with_problem_details_and_change_nothing(hr):
    department, position = await hr.department_with_position(allocation=2, posts=1)
    person = await hr.person("某人")
    counts = [await hr.count(t) for t in (Department.__table__, Position.__table__, Staff.__table__, Appointment.__table__, outbox_event, audit_log)]
    requests = [
        ("PUT", "/quota", {"total": -1}, "total"),
        ("PUT", "/quota", {"total": 5, "allocations": [{"department_id": department["id"], "allocation": 1}] * 2}, "allocations"),
        ("PUT", "/quota", {"total": 5, "allocations": [{"department_id": "nope", "allocation": 1}]}, "allocations.0.department_id"),
        ("POST", "/departments", {"code": "bad code!", "name": "x"}, "code"),
        ("POST", "/departments", {"code": "ok", "name": "x", "coefficient": "NaN"}, "coefficient"),
        ("PATCH", f"/departments/{department['id']}", {"coefficient": 99}, "coefficient"),
        ("PUT", "/pay-bands/P9", {"label": "x", "monthly_min_wan": 2, "monthly_max_wan": 1, "annual_performance_base_wan": 1}, "body"),
        ("PUT", "/pay-bands/P9", {"label": "x", "monthly_min_wan": "1.001", "monthly_max_wan": 2, "annual_performance_base_wan": 1}, "monthly_min_wan"),
        ("POST", "/positions", {"department_id": department["id"], "title": LONG, "category": "management", "grade": "P2", "posts": 1}, "title"),
        ("PATCH", f"/positions/{position['id']}", {"posts": 100000}, "posts"),
        ("POST", "/staff", {"name": "x", "national_id": 12345, "identity": "contract"}, "national_id"),
        ("PATCH", f"/staff/{person['id']}", {"contract_end": "2025-02-30"}, "contract_end"),
        ("POST", "/appointments", {"staff_id": person["id"], "position_id": position["id"], "term_start": "9999-01-01", "term_end": "9999-12-31"}, "term_start"),
        ("POST", "/appointments", {"staff_id": person["id"], "position_id": "nope", "term_start": "2025-01-01", "term_end": "2025-12-31"}, "position_id"),
        ("POST", "/openings", {"position_id": position["id"], "term_months": 0, "weights": {"a": 100}}, "term_months"),
        ("POST", "/openings", {"position_id": position["id"], "term_months": 12, "weights": {"a": -5, "b": 105}}, "weights.a"),
        ("POST", "/evaluation-cycles", {"kind": "month", "year": 2025, "kpis": {}}, "kind"),
        ("POST", "/evaluation-cycles", {"kind": "year", "year": 1800, "kpis": {"support": []}}, "year"),
        ("POST", "/payroll/0000-01", None, "period"),
        ("PUT", "/payroll-policies/2025", {"reference_average_wan": 0, "multiple": 1.5}, "reference_average_wan"),
    ]
    for method, path, body, field in requests:
        r = await hr.client.request(method, path, json=body, headers=hr.admin)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json", (path, r.text)
        fields = [e["field"] for e in r.json().get("errors", [])]
        assert any(f == field or f.startswith(field + ".") for f in fields), (method, path, body, fields)
    for method, path in (
        ("GET", "/staff/" + "9" * 37), ("GET", "/positions/none"), ("POST", "/appointments/none/end"),
        ("GET", "/openings/none/ranking"), ("POST", "/evaluation-cycles/none/finalize"), ("GET", "/payroll/2025-13"),
        ("GET", "/departments?zone_id=" + LONG),
    ):
        r = await hr.client.request(method, path, json={"reason": "term_end"} if method == "POST" else None, headers=hr.admin)
        assert r.status_code in (404, 422), (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    # An empty zone is no zone: refused by name, not read as a zone called "" (city-level readers got zeros).
    for path in ("/headcount?zone_id=", "/departments?zone_id="):
        r = await hr.client.get(path, headers=hr.admin)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["zone_id"], (path, r.text)
    not_json = await hr.client.post("/staff", content=b"{not json", headers={**hr.admin, "content-type": "application/json"})
    assert not_json.status_code == 422
    after = [await hr.count(t) for t in (Department.__table__, Position.__table__, Staff.__table__, Appointment.__table__, outbox_event, audit_log)]
    assert after == counts

"""The access matrix (OWASP API1 broken object-level and API5 broken function-level authorization).

This module owns one declarative table: every operation of every service's live ``/openapi.json``
(method + path template) with who may call it. A test fails naming any operation the table lacks,
so a new endpoint cannot ship without an access rule. For every row the same probes run against the
real processes (uvicorn, demo data, the tests' signing key):

- no token → 401 (public operations answer without one);
- an enterprise token on a staff-only operation → 403;
- another enterprise (enterprise B, registered in the same zone as A — the hardest cross-tenant case)
  on A's object → 403/404, never 2xx;
- a zone's staff member without the required role → 403; zone staff on a city-level operation → 403;
- staff of the other zone, holding the right role, on a zone-1 object → 403/404;
- city-level staff (no zone) read zone objects across zones → 200;
- the rightful caller reads with 200 (so every 404 above means "refused", not "wrong id"), and for a
  representative write per service the rightful write succeeds with the very body the others were
  refused with (so the refusals are about access, not validation);
- after every refused write the object, re-read by an administrator, is unchanged.

Collections are checked apart: enterprise B's listings never contain A's objects, zone-2 staff never
see zone-1 records, city-level staff see both zones. Gateway-owned objects (accounts, webhook
subscriptions) have their own matrix in ``tests/integration/gateway/test_gateway_access_matrix.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from chassis.launcher import Platform
from tests.support.tokens import TokenIssuer

Z1, Z2 = "cd-xingu", "tf-biotown"
# Enterprise A owns the objects under test; B is registered in the same zone (so zone scoping alone
# cannot hide A's records from it); C is registered in the other zone.
A = "91510100MA6C8U4P5L"  # 蓉芯封装测试有限公司 (成都芯谷)
B = "91510100MA6DGXQ125"  # 成都芯谷集成电路设计有限公司 (成都芯谷)
C = "91510116MA68N7WB32"  # 天府生物医药科技有限公司 (天府国际生物城)
NOBODY = "no-such-role"  # a role no rule admits

# --- who may call an operation ---------------------------------------------------------------------

PUBLIC = "public"  # no token needed
AUTHENTICATED = "any authenticated"  # any valid token, enterprises included (reference data)
ADMIN = "platform admin"  # operators only
AUDITOR = "auditor"
STAFF = "any staff of the zone"  # every staff member of the object's zone; enterprises refused
ROLE = "staff of the zone with a role"
CITY = "city-level staff with a role"  # zone staff refused even with the role
OWNER = "enterprise owner, or zone staff (with a role if named)"
APPLICANT = "enterprise owner only"  # staff refused too


@dataclass(frozen=True)
class Op:
    who: str
    roles: tuple[str, ...] = ()
    zoned: bool = False  # the call targets zone 1 (an object, a path or a zone_id): zone-2 staff refused
    owned: bool = False  # the call targets enterprise A's object: enterprise B refused
    body: Callable[[dict[str, Any]], Any] | None = None  # valid for the rightful caller
    files: bool = False  # multipart upload instead of JSON
    reread: str | None = None  # GET (same service) that must be unchanged after refused writes
    prove: bool = False  # make the rightful write once (2xx): the refusals were about access
    zone: str = Z1  # the zone of the object (the other one's staff are refused)
    params: dict[str, str] = field(default_factory=dict)  # path parameters overriding the world's
    norole: tuple[int, ...] = (403,)  # what a zone-1 staff member without the role gets
    city_reads: bool = True  # city-level staff read this zone object (GET only)


def j(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda w: value


def platform_ops() -> dict[str, Op]:
    """The chassis routes every service has."""
    return {
        "GET /healthz": Op(PUBLIC),
        "GET /readyz": Op(PUBLIC),
        "GET /admin/outbox": Op(ADMIN),
        "POST /admin/outbox/replay": Op(ADMIN, body=j({"since": "2099-01-01T00:00:00Z"}), prove=True),
        "GET /admin/dead-letters": Op(ADMIN),
        "POST /admin/dead-letters/{dead_letter_id}/redrive": Op(ADMIN),
        "GET /audit": Op(AUDITOR),
    }


INVESTMENT = "investment"
INVESTMENT_OPS: dict[str, Op] = {
    **platform_ops(),
    "GET /chains": Op(STAFF),
    "POST /chains": Op(CITY, (INVESTMENT,), body=j({"code": "acm", "name": "访问矩阵测试链"})),
    "GET /chains/{chain_id}": Op(STAFF),
    "POST /chains/{chain_id}/nodes": Op(
        CITY, (INVESTMENT,), body=j({"code": "ic.acm", "name": "访问矩阵环节", "position": "upstream"})
    ),
    "PUT /chains/{chain_id}/nodes/{node_id}/status": Op(
        ROLE, (INVESTMENT,), zoned=True, body=j({"status": "weak", "zone_id": Z1, "note": "访问矩阵"})
    ),
    "GET /targets": Op(STAFF),
    "POST /targets": Op(
        ROLE, (INVESTMENT,), zoned=True,
        body=lambda w: {"node_id": w["node_id"], "company_name": "访问矩阵科技有限公司", "kind": "key", "zone_id": Z1},
    ),
    "GET /catalog": Op(STAFF),
    "POST /catalog": Op(
        ROLE, (INVESTMENT,), zoned=True, body=j({"sector_code": "acm_sector", "sector_name": "访问矩阵行业", "min_total_investment_wan": "1000", "zone_id": Z1})
    ),
    "GET /catalog/{entry_id}": Op(STAFF, zoned=True),
    "PATCH /catalog/{entry_id}": Op(
        ROLE, (INVESTMENT,), zoned=True, body=j({"note": "访问矩阵修改"}), reread="/catalog/{entry_id}"
    ),
    "POST /projects": Op(
        ROLE, (INVESTMENT,), zoned=True, body=j({"name": "访问矩阵项目", "investor": "访问矩阵投资方", "zone_id": Z1})
    ),
    "GET /projects": Op(OWNER),
    "GET /projects/{project_id}": Op(OWNER, zoned=True, owned=True),
    "PATCH /projects/{project_id}": Op(
        ROLE, (INVESTMENT,), zoned=True, owned=True, body=j({"note": "访问矩阵：合法修改"}),
        reread="/projects/{project_id}", prove=True,
    ),
    "POST /projects/{project_id}/transitions": Op(
        ROLE, (INVESTMENT,), zoned=True, owned=True, body=j({"to_stage": "dropped", "reason": "访问矩阵"}),
        reread="/projects/{project_id}",
    ),
    "POST /projects/{project_id}/admission-check": Op(
        ROLE, (INVESTMENT,), zoned=True, owned=True, reread="/projects/{project_id}/admission-checks"
    ),
    "GET /projects/{project_id}/admission-checks": Op(OWNER, zoned=True, owned=True),
    "POST /projects/{project_id}/funds": Op(
        ROLE, (INVESTMENT,), zoned=True, owned=True,
        body=j({"period": "2026-10", "amount_wan": "1", "source": "domestic_outside_city"}),
        reread="/projects/{project_id}/funds",
    ),
    "GET /projects/{project_id}/funds": Op(OWNER, zoned=True, owned=True),
    "POST /projects/{project_id}/issues": Op(
        ROLE, (INVESTMENT,), zoned=True, owned=True,
        body=j({"title": "访问矩阵调度事项", "department": "双流区自然资源局", "due_date": "2099-12-31"}),
    ),
    "GET /issues": Op(STAFF),
    "GET /issues/{issue_id}": Op(STAFF, zoned=True),
    "POST /issues/{issue_id}/acknowledge": Op(STAFF, zoned=True, body=j({"note": "访问矩阵"}), reread="/issues/{issue_id}"),
    "POST /issues/{issue_id}/resolve": Op(
        STAFF, zoned=True, body=j({"resolution": "访问矩阵"}), reread="/issues/{issue_id}"
    ),
    "POST /issues/{issue_id}/escalate": Op(
        STAFF, zoned=True, body=j({"escalated_to": "双流区人民政府", "reason": "访问矩阵"}), reread="/issues/{issue_id}"
    ),
    "GET /pipeline/summary": Op(STAFF),
    "GET /pipeline/summary/zones": Op(STAFF, zoned=True),
}

APPROVALS, APPROVALS_ADMIN = "approvals", "approvals-admin"


def _item_update(w: dict[str, Any]) -> dict[str, Any]:
    item = w["item"]
    keep = ("name", "category", "competent_department", "implementing_body", "delegating_authority", "legal_basis",
            "conditions", "statutory_days", "promised_days", "on_site_visits", "fee_yuan", "fee_note",
            "commitment_allowed", "verification_window_days", "materials")
    return {k: item[k] for k in keep} | {"change_note": "访问矩阵"}


def _item_create(w: dict[str, Any]) -> dict[str, Any]:
    body = _item_update(w)
    body.pop("change_note")
    return body | {"code": "51011600CG-XK-0999", "name": "访问矩阵事项"}


def _application(w: dict[str, Any], uscc: str = A) -> dict[str, Any]:
    return {
        "zone_id": Z1,
        "applicant": {"uscc": uscc, "name": "蓉芯封装测试有限公司", "contact_person": "张三", "contact_phone": "13800000000"},
        "item_codes": [w["code"]],
    }


APPROVALS_OPS: dict[str, Op] = {
    **platform_ops(),
    "GET /items": Op(AUTHENTICATED),
    "POST /items": Op(CITY, (APPROVALS_ADMIN,), body=_item_create),
    "GET /items/{code}": Op(AUTHENTICATED),
    "PUT /items/{code}": Op(CITY, (APPROVALS_ADMIN,), body=_item_update, reread="/items/{code}"),
    "GET /delegations": Op(STAFF),
    "POST /delegations": Op(
        ROLE, (APPROVALS_ADMIN,), zoned=True,
        body=lambda w: {"zone_id": Z1, "item_code": w["code"], "valid_from": "2099-01-01", "note": "访问矩阵"},
    ),
    "POST /delegations/{delegation_id}/end": Op(
        ROLE, (APPROVALS_ADMIN,), zoned=True, body=j({"valid_until": "2099-12-31"}), reread="/delegations?zone_id=" + Z1
    ),
    "GET /calendar/{year}": Op(AUTHENTICATED),
    "PUT /calendar/{day}": Op(CITY, (APPROVALS_ADMIN,), body=j({"kind": "workday", "note": "访问矩阵"}), reread="/calendar/2099"),
    "DELETE /calendar/{day}": Op(CITY, (APPROVALS_ADMIN,), reread="/calendar/2099"),
    "POST /applications": Op(OWNER, (APPROVALS,), zoned=True, owned=True, body=_application),
    "GET /applications": Op(OWNER),
    "GET /applications/{application_id}": Op(OWNER, zoned=True, owned=True),
    "POST /applications/{application_id}/documents": Op(
        OWNER, (APPROVALS,), zoned=True, owned=True, files=True, reread="/applications/{application_id}",
        params={"application_id": "app_correction"},
    ),
    "GET /applications/{application_id}/documents/{document_id}": Op(
        OWNER, zoned=True, owned=True, params={"application_id": "app_correction"}
    ),
    "GET /commitment-eligibility": Op(OWNER),
    "POST /applications/{application_id}/accept": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"note": "访问矩阵"}),
        reread="/applications/{application_id}", params={"application_id": "app_submitted"},
    ),
    "POST /applications/{application_id}/refuse": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"reason": "访问矩阵"}),
        reread="/applications/{application_id}", params={"application_id": "app_submitted"},
    ),
    "POST /applications/{application_id}/request-correction": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True,
        body=j({"items": [{"material_code": "application_form", "reason": "访问矩阵"}]}),
        reread="/applications/{application_id}", params={"application_id": "app_submitted"},
    ),
    "POST /applications/{application_id}/resubmit": Op(
        OWNER, (APPROVALS,), zoned=True, owned=True, body=j({"note": "访问矩阵"}),
        reread="/applications/{application_id}", params={"application_id": "app_correction"},
    ),
    "POST /applications/{application_id}/approve": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"note": "访问矩阵"}), reread="/applications/{application_id}"
    ),
    "POST /applications/{application_id}/deny": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"reason": "访问矩阵"}), reread="/applications/{application_id}"
    ),
    "POST /applications/{application_id}/complete": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"certificate_no": "ACM-0001"}),
        reread="/applications/{application_id}",
    ),
    "POST /applications/{application_id}/assign": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"role": "agent", "staff": "xingu.approvals", "staff_name": "陈静"}),
        reread="/applications/{application_id}", prove=True,
    ),
    "POST /applications/{application_id}/verify": Op(
        ROLE, (APPROVALS,), zoned=True, owned=True, body=j({"outcome": "revoked", "note": "访问矩阵"}),
        reread="/applications/{application_id}",
    ),
    "POST /applications/{application_id}/evaluate": Op(
        APPLICANT, zoned=True, owned=True, body=j({"score": 1, "comment": "访问矩阵"}),
        reread="/applications/{application_id}",
    ),
    "GET /follow-ups": Op(STAFF),
    "POST /follow-ups/{follow_up_id}/close": Op(
        ROLE, (APPROVALS,), zoned=True, zone=Z2, body=j({"callback_note": "访问矩阵"}), reread="/follow-ups"
    ),
    "GET /summary": Op(STAFF),
    "GET /summary/zones": Op(STAFF, zoned=True),
}

HR_ADMIN, DEPT_HEAD, LEADER, STATS = "hr-admin", "dept-head", "leader", "stats"
Q1 = f"?zone_id={Z1}"
HR_OPS: dict[str, Op] = {
    **platform_ops(),
    "GET /departments": Op(STAFF, zoned=True),
    "POST /departments": Op(ROLE, (HR_ADMIN,), zoned=True, body=j({"code": "acm", "name": "访问矩阵部", "allocation": 0})),
    "GET /departments/{department_id}": Op(STAFF, zoned=True),
    "PATCH /departments/{department_id}": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=lambda w: {"name": w["department"]["name"]},
        reread="/departments/{department_id}", prove=True,
    ),
    "GET /quota": Op(STAFF, zoned=True),
    "PUT /quota": Op(ROLE, (HR_ADMIN,), zoned=True, body=lambda w: {"total": 999}, reread="/quota" + Q1),
    "GET /headcount": Op(ROLE, (LEADER, HR_ADMIN, DEPT_HEAD, STATS), zoned=True),
    "GET /headcount/zones": Op(ROLE, (LEADER, HR_ADMIN, DEPT_HEAD, STATS), zoned=True),
    "GET /pay-bands": Op(STAFF, zoned=True),
    "PUT /pay-bands/{grade}": Op(
        ROLE, (HR_ADMIN,), zoned=True,
        body=j({"label": "访问矩阵", "monthly_min_wan": "1", "monthly_max_wan": "2", "annual_performance_base_wan": "1"}),
        reread="/pay-bands" + Q1,
    ),
    "GET /positions": Op(STAFF, zoned=True),
    "POST /positions": Op(
        ROLE, (HR_ADMIN,), zoned=True,
        body=lambda w: {"department_id": w["department_id"], "title": "访问矩阵岗", "category": "support", "grade": "M1", "posts": 1},
    ),
    "GET /positions/{position_id}": Op(STAFF, zoned=True),
    "PATCH /positions/{position_id}": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=j({"title": "访问矩阵岗位"}), reread="/positions/{position_id}"
    ),
    # Personal data: the HR administrator, the department head, the person themself.
    "GET /staff": Op(STAFF, zoned=True),
    "POST /staff": Op(
        ROLE, (HR_ADMIN,), zoned=True,
        body=j({"name": "访问矩阵", "national_id": "11010519491231002X", "identity": "contract"}),
    ),
    "GET /staff/me": Op(STAFF),
    "GET /staff/{staff_id}": Op(ROLE, (HR_ADMIN,), zoned=True, norole=(403, 404)),
    "PATCH /staff/{staff_id}": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=j({"sending_unit": "访问矩阵单位"}), reread="/staff/{staff_id}"
    ),
    "GET /appointments": Op(STAFF, zoned=True),
    "GET /appointments/expiring": Op(STAFF, zoned=True),  # scoped like GET /appointments
    "POST /appointments": Op(
        ROLE, (HR_ADMIN,), zoned=True,
        body=lambda w: {"staff_id": w["staff_id"], "position_id": w["position_id"], "term_start": "2099-01-01",
                        "term_end": "2099-12-31"},
    ),
    "GET /appointments/{appointment_id}": Op(ROLE, (HR_ADMIN,), zoned=True, norole=(403, 404)),
    "POST /appointments/{appointment_id}/end": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=j({"reason": "other", "note": "访问矩阵"}), reread="/appointments/{appointment_id}"
    ),
    "GET /openings": Op(STAFF, zoned=True),
    "POST /openings": Op(
        ROLE, (HR_ADMIN,), zoned=True,
        body=lambda w: {"position_id": w["position_id"], "term_months": 12, "weights": {"written": 50, "interview": 50}},
    ),
    "GET /openings/{opening_id}": Op(STAFF, zoned=True),
    "GET /openings/{opening_id}/candidates": Op(ROLE, (HR_ADMIN, DEPT_HEAD), zoned=True),
    "POST /openings/{opening_id}/candidates": Op(STAFF, zoned=True, body=j({}), reread="/openings/{opening_id}/candidates"),
    "PUT /openings/{opening_id}/candidates/{candidate_id}/scores": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=j({"scores": {"written": 80, "interview": 80, "performance": 80}}),
        reread="/openings/{opening_id}/candidates",
    ),
    "GET /openings/{opening_id}/ranking": Op(ROLE, (HR_ADMIN, DEPT_HEAD), zoned=True),
    "POST /openings/{opening_id}/appoint": Op(ROLE, (HR_ADMIN,), zoned=True, reread="/openings/{opening_id}"),
    "POST /openings/{opening_id}/candidates/{candidate_id}/accept": Op(
        STAFF, zoned=True, body=j({}), reread="/openings/{opening_id}/candidates"
    ),
    "POST /openings/{opening_id}/candidates/{candidate_id}/decline": Op(
        STAFF, zoned=True, body=j({"reason": "访问矩阵"}), reread="/openings/{opening_id}/candidates"
    ),
    "GET /evaluation-cycles": Op(STAFF, zoned=True),
    "POST /evaluation-cycles": Op(
        ROLE, (HR_ADMIN,), zoned=True,
        body=lambda w: {"kind": "year", "year": 2099, "kpis": w["cycle"]["kpis"]},
    ),
    "GET /evaluation-cycles/{cycle_id}": Op(STAFF, zoned=True),
    "PUT /evaluation-cycles/{cycle_id}/scores/{staff_id}": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=j({"scores": {"duty": 80, "cooperation": 80}}),
        reread="/evaluation-cycles/{cycle_id}/results",
    ),
    "POST /evaluation-cycles/{cycle_id}/exemptions": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=lambda w: {"staff_id": w["staff_id"], "kpi_code": "duty", "reason": "访问矩阵"},
        reread="/evaluation-cycles/{cycle_id}/exemptions",
    ),
    "GET /evaluation-cycles/{cycle_id}/exemptions": Op(STAFF, zoned=True),
    "GET /evaluation-cycles/{cycle_id}/results": Op(STAFF, zoned=True),
    "POST /evaluation-cycles/{cycle_id}/finalize": Op(ROLE, (HR_ADMIN,), zoned=True, reread="/evaluation-cycles/{cycle_id}"),
    "GET /payroll-policies/{year}": Op(ROLE, (HR_ADMIN, LEADER, DEPT_HEAD), zoned=True),
    "PUT /payroll-policies/{year}": Op(
        ROLE, (HR_ADMIN,), zoned=True, body=j({"reference_average_wan": "99", "multiple": "1.5"}),
        reread="/payroll-policies/{year}" + Q1,
    ),
    "POST /payroll/{period}": Op(ROLE, (HR_ADMIN,), zoned=True, prove=True),  # the GET below reads it
    "GET /payroll/{period}": Op(ROLE, (HR_ADMIN, LEADER, DEPT_HEAD), zoned=True, norole=(403,)),
}

STATS_ADMIN = "stats-admin"
STATS_OPS: dict[str, Op] = {
    **platform_ops(),
    "GET /zones": Op(AUTHENTICATED),
    "GET /indicators": Op(AUTHENTICATED),
    "POST /indicators": Op(
        CITY, (STATS_ADMIN,),
        body=j({"code": "acm_indicator", "name": "访问矩阵指标", "unit": "个", "period_type": "month", "aggregation": "sum",
                "source": "zone_collected"}),
    ),
    "GET /rules": Op(AUTHENTICATED),
    "POST /rules": Op(CITY, (STATS_ADMIN,), body=j({"indicator_code": "employees", "kind": "required", "name": "访问矩阵规则"})),
    "PATCH /rules/{rule_id}": Op(CITY, (STATS_ADMIN,), body=j({"active": False}), reread="/rules"),
    "POST /reports": Op(
        OWNER, (STATS,), zoned=True, owned=True,
        body=j({"uscc": A, "zone_id": Z1, "period": "2026-11", "values": {"employees": 100}}),
    ),
    "GET /reports": Op(OWNER, (STATS, STATS_ADMIN, LEADER)),
    "GET /reports/due": Op(OWNER, (STATS, STATS_ADMIN, LEADER)),
    "GET /reports/{report_id}": Op(OWNER, (STATS, STATS_ADMIN, LEADER), zoned=True, owned=True),
    "POST /reports/{report_id}/accept": Op(
        ROLE, (STATS,), zoned=True, owned=True, body=j({"note": "访问矩阵"}), reread="/reports/{report_id}"
    ),
    "POST /reports/{report_id}/return": Op(
        ROLE, (STATS,), zoned=True, owned=True, body=j({"reasons": [{"reason": "访问矩阵"}]}), reread="/reports/{report_id}"
    ),
    "POST /reports/{report_id}/resubmit": Op(
        OWNER, (STATS,), zoned=True, owned=True, body=j({"values": {"employees": 1}}), reread="/reports/{report_id}"
    ),
    "POST /reports/{report_id}/revise": Op(
        ROLE, (STATS,), zoned=True, owned=True, body=j({"values": {"employees": 1}, "reason": "访问矩阵"}),
        reread="/reports/{report_id}",
    ),
    "POST /periods/{period}/close": Op(ROLE, (STATS_ADMIN,), zoned=True, body=j({"zone_id": Z1}), reread="/periods/closed"),
    "GET /periods/closed": Op(STAFF),
    "GET /targets": Op(STAFF),
    "POST /targets": Op(
        ROLE, (STATS_ADMIN,), zoned=True,
        body=j({"zone_id": Z1, "year": 2099, "indicator_code": "employees", "target_value": 1}),
    ),
    "GET /obligations": Op(ROLE, (STATS,)),
    "POST /obligations": Op(
        ROLE, (STATS,), zoned=True,
        body=j({"zone_id": Z1, "uscc": A, "enterprise_name": "蓉芯封装测试有限公司",
                "indicator_codes": ["employees", "fixed_asset_investment", "high_level_talent_count",
                                    "industrial_output_above_scale", "main_business_revenue", "talent_count", "total_tax"],
                "from_period": "2025-01"}),
        reread="/obligations?zone_id=" + Z1, prove=True,
    ),
    "POST /zones/{zone_id}/values": Op(
        ROLE, (STATS,), zoned=True, body=j({"period": "2099-01", "values": {"employees": 1}}),
    ),
    "GET /zones/{zone_id}/summary": Op(ROLE, (LEADER, STATS, STATS_ADMIN), zoned=True),
    "GET /zones/summaries": Op(ROLE, (LEADER, STATS, STATS_ADMIN), zoned=True),
    "GET /zones/{zone_id}/summary/export": Op(ROLE, (LEADER, STATS, STATS_ADMIN), zoned=True),
    "GET /zones/{zone_id}/series": Op(ROLE, (LEADER, STATS, STATS_ADMIN), zoned=True),
    "POST /admin/aggregates/rebuild": Op(ROLE, (STATS_ADMIN,)),
    "POST /assessments/{year}": Op(CITY, (STATS_ADMIN,), prove=True),  # the GET below reads it
    "GET /assessments/{year}": Op(STAFF),
}

MATRIX: dict[str, dict[str, Op]] = {
    "investment": INVESTMENT_OPS, "approvals": APPROVALS_OPS, "hr": HR_OPS, "stats": STATS_OPS,
}

# Query parameters some operations need (city-level callers name the zone; lists of item codes …).
QUERY: dict[tuple[str, str], str] = {
    ("approvals", "GET /commitment-eligibility"): "?zone_id=" + Z1 + "&item_codes={code}",
    ("stats", "GET /zones/{zone_id}/summary"): "?period=2026-10",
    # The city dashboard's batch reads name their zones (zone 1 here) in repeated zone_id parameters.
    ("investment", "GET /pipeline/summary/zones"): "?zone_id=" + Z1,
    ("approvals", "GET /summary/zones"): "?zone_id=" + Z1,
    ("hr", "GET /headcount/zones"): "?zone_id=" + Z1,
    ("stats", "GET /zones/summaries"): "?zone_id=" + Z1 + "&period=2026-10",
    ("stats", "GET /zones/{zone_id}/summary/export"): "?period=2026-10",
    ("stats", "GET /zones/{zone_id}/series"): "?indicator=employees&from=2026-01&to=2026-10",
}


# --- the world: demo objects, tokens -----------------------------------------------------------------


@dataclass
class World:
    platform: Platform
    issuer: TokenIssuer
    ids: dict[str, Any]

    def client(self, service: str) -> httpx.Client:
        return httpx.Client(base_url=self.platform.url(service), timeout=30)


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    data = response.json()
    return data["items"] if isinstance(data, dict) and "items" in data else data


@pytest.fixture(scope="module")
def world(platform: Platform, issuer: TokenIssuer) -> Iterator[World]:
    admin = issuer.admin()
    ids: dict[str, Any] = {"dead_letter_id": "1", "year": "2026", "day": "2099-01-04", "period": "2026-10", "zone_id": Z1}
    with httpx.Client(timeout=30) as http:
        def get(service: str, path: str) -> list[dict[str, Any]]:
            return _items(http.get(platform.url(service) + path, headers=admin))

        # investment: A's project in zone 1 (with its coordination issue), the IC chain, zone 1's catalog.
        [project] = [p for p in get("investment", "/projects?size=100") if p["uscc"] == A and p["zone_id"] == Z1]
        ids["project_id"] = project["id"]
        ids["issue_id"] = next(i["id"] for i in get("investment", "/issues?size=100") if i["project_id"] == project["id"])
        chain = next(c for c in get("investment", "/chains") if c["code"] == "ic")
        ids["chain_id"], ids["node_id"] = chain["id"], chain["nodes"][0]["id"]
        ids["entry_id"] = get("investment", f"/catalog?zone_id={Z1}")[0]["id"]

        # approvals: A's applications in zone 1 in the states the actions need, and a document of A's.
        apps = [a for a in get("approvals", "/applications?size=100") if a["uscc"] == A and a["zone_id"] == Z1]
        by_status = {a["status"]: a["id"] for a in apps}
        ids["application_id"] = by_status["accepted"]
        ids["app_submitted"] = by_status["submitted"]
        ids["app_correction"] = by_status["correction_requested"]
        completed = [a for a in get("approvals", "/applications?size=100&status=completed") if a["zone_id"] == Z1]
        ids["app_completed"] = completed[0]["id"]
        ids["app_completed_uscc"] = completed[0]["uscc"]
        ids["follow_up_id"] = get("approvals", "/follow-ups")[0]["id"]
        ids["delegation_id"] = get("approvals", f"/delegations?zone_id={Z1}&size=1")[0]["id"]
        ids["code"] = next(d["item_code"] for d in get("approvals", f"/delegations?zone_id={Z1}&size=100") if d.get("item_code"))
        ids["item"] = http.get(platform.url("approvals") + f"/items/{ids['code']}", headers=admin).json()
        upload = http.post(
            platform.url("approvals") + f"/applications/{ids['app_correction']}/documents",
            headers=issuer.enterprise(A), files={"file": ("a.pdf", PDF, "application/pdf")},
        )
        assert upload.status_code == 201, upload.text  # the rightful upload (enterprise A on its own application)
        ids["document_id"] = upload.json()["id"]

        # hr: zone 1's organisation and people.
        department = get("hr", f"/departments?zone_id={Z1}")[0]
        ids["department_id"], ids["department"] = department["id"], department
        ids["position_id"] = get("hr", f"/positions?zone_id={Z1}")[0]["id"]
        people = get("hr", f"/staff?zone_id={Z1}&size=100")
        ids["staff_id"] = next(s["id"] for s in people if s["account"] is None)
        ids["appointment_id"] = get("hr", f"/appointments?zone_id={Z1}")[0]["id"]
        opening = get("hr", f"/openings?zone_id={Z1}")[0]
        ids["opening_id"] = opening["id"]
        ids["candidate_id"] = get("hr", f"/openings/{opening['id']}/candidates")[0]["id"]
        cycle = get("hr", f"/evaluation-cycles?zone_id={Z1}")[0]
        ids["cycle_id"], ids["cycle"] = cycle["id"], cycle
        ids["grade"] = get("hr", f"/pay-bands?zone_id={Z1}")[0]["grade"]

        # stats: A's report in zone 1, an audit rule.
        ids["report_id"] = next(r["id"] for r in get("stats", "/reports?size=100") if r["uscc"] == A and r["zone_id"] == Z1)
        ids["rule_id"] = get("stats", "/rules")[0]["id"]
    yield World(platform, issuer, ids)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- probes --------------------------------------------------------------------------------------------


def _path(service: str, key: str, op: Op, ids: dict[str, Any]) -> str:
    method, template = key.split(" ", 1)
    values = {**ids, **{name: ids[alias] for name, alias in op.params.items()}}
    path = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)
    query = QUERY.get((service, key), "")
    query = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), query)
    if op.zoned and service == "hr" and "zone_id" not in query:
        query = (query + "&" if query else "?") + f"zone_id={op.zone}"  # HR names the zone in the query
    return path + query


def _reread_path(op: Op, ids: dict[str, Any]) -> str | None:
    if op.reread is None:
        return None
    values = {**ids, **{name: ids[alias] for name, alias in op.params.items()}}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), op.reread)


def _strip_volatile(data: Any) -> Any:
    """Reading twice may differ in what the clock computes (remaining working days …), not in state."""
    volatile = {"remaining_working_days", "elapsed_working_days", "overdue_days", "clock", "now", "as_of", "generated_at"}
    if isinstance(data, dict):
        return {k: _strip_volatile(v) for k, v in data.items() if k not in volatile}
    if isinstance(data, list):
        return [_strip_volatile(v) for v in data]
    return data


def _call(
    client: httpx.Client, method: str, path: str, headers: dict[str, str] | None, op: Op, ids: dict[str, Any]
) -> httpx.Response:
    kwargs: dict[str, Any] = {}
    if op.files:
        kwargs["files"] = {"file": ("m.pdf", PDF, "application/pdf")}
    elif op.body is not None:
        kwargs["json"] = op.body(ids)
    elif method in {"POST", "PUT", "PATCH"}:
        kwargs["json"] = None
    return client.request(method, path, headers=headers or {}, **kwargs)


def _rows() -> list[tuple[str, str]]:
    return [(service, key) for service, ops in MATRIX.items() for key in ops]


@pytest.mark.parametrize("service", list(MATRIX))
def test_every_operation_of_the_live_openapi_has_an_access_rule(platform: Platform, service: str) -> None:
    spec = httpx.get(platform.url(service) + "/openapi.json", timeout=30).json()
    live = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    missing = sorted(live - set(MATRIX[service]))
    stale = sorted(set(MATRIX[service]) - live)
    assert not missing, f"{service}: operations without an access rule in the matrix: {missing}"
    assert not stale, f"{service}: matrix rows for operations that no longer exist: {stale}"


def _expect(outcome: list[str], who: str, response: httpx.Response, allowed: tuple[int, ...]) -> None:
    if response.status_code not in allowed:
        outcome.append(f"{who}: expected {allowed}, got {response.status_code} {response.text[:300]}")


@pytest.mark.parametrize(("service", "key"), _rows(), ids=[f"{s} {k}" for s, k in _rows()])
def test_each_operation_refuses_every_caller_its_rule_does_not_admit(world: World, service: str, key: str) -> None:
    op = MATRIX[service][key]
    ids, issuer = world.ids, world.issuer
    method = key.split(" ", 1)[0]
    path = _path(service, key, op, ids)
    other_zone = Z2 if op.zone == Z1 else Z1
    write = method != "GET"
    failures: list[str] = []
    with world.client(service) as client:
        reread = _reread_path(op, ids) if write else None
        before = _strip_volatile(client.get(reread, headers=issuer.admin()).json()) if reread else None

        # No token: 401 (public operations answer anyone).
        anonymous = _call(client, method, path, None, op, ids)
        if op.who == PUBLIC:
            _expect(failures, "anonymous on a public operation", anonymous, (200,))
            assert not failures, failures
            return
        _expect(failures, "no token", anonymous, (401,))

        holder = op.roles or (NOBODY,)
        # Enterprise A on a staff-only operation: 403, even on its own objects.
        if op.who in {ADMIN, AUDITOR, STAFF, ROLE, CITY}:
            _expect(failures, "enterprise A on a staff-only operation", _call(client, method, path, issuer.enterprise(A), op, ids), (403,))
        # Enterprise B: never A's objects, never staff operations.
        if op.who != AUTHENTICATED and (op.owned or op.who not in {OWNER, APPLICANT}):
            _expect(failures, "enterprise B (another tenant)", _call(client, method, path, issuer.enterprise(B), op, ids), (403, 404))
        # A zone-1 staff member without the role the operation needs.
        if op.who in {ADMIN, AUDITOR, CITY, APPLICANT} or (op.who in {ROLE, OWNER} and op.roles):
            nobody = issuer.staff(op.zone, roles=(NOBODY,), subject="acm-nobody")
            _expect(failures, f"{op.zone} staff without a role {op.roles or op.who}",
                    _call(client, method, path, nobody, op, ids), op.norole)
        # Zone staff holding the role on a city-level operation.
        if op.who in {CITY, ADMIN}:
            _expect(failures, f"{op.zone} staff with roles {holder} on a {op.who} operation",
                    _call(client, method, path, issuer.staff(op.zone, roles=holder, subject="acm-zone-holder"), op, ids), (403,))
        # The other zone's staff, holding the role, on this zone's object.
        if op.zoned and op.who in {STAFF, ROLE, OWNER, APPLICANT}:
            other = issuer.staff(other_zone, roles=holder, subject="acm-other-zone")
            _expect(failures, f"{other_zone} staff with roles {holder} on a {op.zone} object",
                    _call(client, method, path, other, op, ids), (403, 404))

        # Nothing a refused caller sent changed the object.
        if reread:
            after = _strip_volatile(client.get(reread, headers=issuer.admin()).json())
            if after != before:
                failures.append(f"a refused write changed {reread}: before {str(before)[:400]} after {str(after)[:400]}")

        # The rightful caller: reads answer 200 (so the refusals above were not "wrong id"); a
        # representative write per service succeeds with the same body.
        rightful = _rightful(op, issuer)
        if rightful is not None and (not write or op.prove):
            response = _call(client, method, path, rightful, op, ids)
            if not 200 <= response.status_code < 300:
                failures.append(f"rightful caller: expected 2xx, got {response.status_code} {response.text[:300]}")
        # City-level staff read zone objects across zones.
        if not write and op.zoned and op.city_reads and op.who in {STAFF, ROLE, OWNER}:
            city = issuer.staff(None, roles=op.roles[:1] or ("leader",), subject="acm-city")
            _expect(failures, "city-level staff reading across zones", _call(client, method, path, city, op, ids), (200,))
    assert not failures, f"{service} {key}:\n  " + "\n  ".join(failures)


def _rightful(op: Op, issuer: TokenIssuer) -> dict[str, str] | None:
    if op.who == AUTHENTICATED:
        return issuer.enterprise(A)
    if op.who == ADMIN:
        return issuer.admin()
    if op.who == AUDITOR:
        return issuer.staff(None, roles=("auditor",), subject="acm-auditor")
    if op.who == STAFF:  # a demo staff member with an HR record (GET /staff/me) and no relevant role
        return issuer.staff(op.zone, roles=(NOBODY,), subject="xingu.leader" if op.zone == Z1 else "acm-staff")
    if op.who == ROLE:
        return issuer.staff(op.zone, roles=op.roles[:1], subject="acm-rightful")
    if op.who == CITY:
        return issuer.staff(None, roles=op.roles[:1], subject="acm-city-rightful")
    if op.who in {OWNER, APPLICANT}:
        return issuer.enterprise(A)
    return None


# --- collections -----------------------------------------------------------------------------------------

#: (service, list path, roles of the zone staff reading it, the field naming the owner or None, the zone
#: whose demo rows are to be hidden from the other zone's staff)
COLLECTIONS = [
    ("investment", "/projects?size=100", ("investment",), "uscc", Z1),
    ("investment", "/issues?size=100", ("investment",), None, Z1),
    ("investment", "/targets?size=100", ("investment",), None, Z1),
    ("investment", "/catalog?size=100", ("investment",), None, Z1),
    ("approvals", "/applications?size=100", ("approvals",), "uscc", Z1),
    ("approvals", "/delegations?size=100", ("approvals",), None, Z1),
    ("approvals", "/follow-ups?size=100", ("approvals",), None, Z2),
    ("hr", "/departments?size=100", ("hr-admin",), None, Z1),
    ("hr", "/positions?size=100", ("hr-admin",), None, Z1),
    ("hr", "/staff?size=100", ("hr-admin",), None, Z1),
    ("hr", "/appointments?size=100", ("hr-admin",), None, Z1),
    ("hr", "/openings?size=100", ("hr-admin",), None, Z1),
    ("hr", "/evaluation-cycles?size=100", ("hr-admin",), None, Z1),
    ("stats", "/reports?size=100", ("stats",), "uscc", Z1),
    ("stats", "/obligations?size=100", ("stats",), None, Z1),
]


@pytest.mark.parametrize(("service", "path", "roles", "owner_field", "zone"), COLLECTIONS, ids=[f"{c[0]} {c[1]}" for c in COLLECTIONS])
def test_listings_show_only_the_callers_own_zone_and_enterprise(
    world: World, service: str, path: str, roles: tuple[str, ...], owner_field: str | None, zone: str
) -> None:
    issuer = world.issuer
    other = Z2 if zone == Z1 else Z1
    with world.client(service) as client:
        def listing(headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
            return _items(client.get(path + query, headers=headers))

        everything = listing(issuer.admin(), f"&zone_id={zone}" if service == "hr" else "")
        assert any(row.get("zone_id") == zone for row in everything), f"the demo data has no {zone} rows to hide"
        others = listing(issuer.staff(other, roles=roles, subject="acm-other-lister"))
        assert all(row.get("zone_id") == other for row in others), f"{other} staff see other zones' rows: {[r.get('zone_id') for r in others]}"
        # Asking for the other zone explicitly is refused, not answered.
        refused = client.get(path + f"&zone_id={zone}", headers=issuer.staff(other, roles=roles, subject="acm-other-lister"))
        assert refused.status_code == 403, refused.text
        # City-level staff read across zones (HR, which acts in one zone at a time, by naming it).
        city = issuer.staff(None, roles=roles, subject="acm-city-lister")
        if service == "hr":
            assert {r["zone_id"] for r in listing(city, f"&zone_id={zone}")} == {zone}
            assert {r["zone_id"] for r in listing(city, f"&zone_id={other}")} <= {other}
        else:
            assert zone in {r["zone_id"] for r in listing(city)}, f"city-level staff do not see {zone}"
        if owner_field is not None:
            mine = listing(issuer.enterprise(A))
            assert mine and {r[owner_field] for r in mine} == {A}, "enterprise A does not see exactly its own rows"
            for tenant in (B, C):
                theirs = listing(issuer.enterprise(tenant))
                assert A not in {r[owner_field] for r in theirs}, f"enterprise {tenant} sees enterprise A's rows"
                assert {r[owner_field] for r in theirs} <= {tenant}
                # Filtering by A's USCC shows B nothing of A's (the filter is not trusted).
                filtered = client.get(path + f"&uscc={A}", headers=issuer.enterprise(tenant))
                assert filtered.status_code in (200, 403, 404), filtered.text
                if filtered.status_code == 200:
                    assert A not in {r[owner_field] for r in _items(filtered)}

"""Validation rules through the API: defining every kind, reports refused with errors naming the
indicator and the rule, the explanation path for a year-on-year jump, and bad input answered with
problem details that name the field while nothing is written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from chassis.tables import audit_log, idempotency_key, outbox_event
from services.stats.models import Report, ReportValue, ValidationRule
from tests.integration.stats.stats_support import CHIP_DESIGN, PACKAGING, XINGU, file_and_accept, monthly


async def nothing_written(svc: Any) -> None:
    async with svc.ctx.db.session() as s:
        for table in (Report, ReportValue, outbox_event, audit_log):
            assert (await s.execute(select(func.count()).select_from(table))).scalar_one() == 0, table


async def test_stats_admin_defines_a_rule_of_every_kind(stats, people):
    rules = [
        {"indicator_code": "employees", "kind": "required", "name": "从业人员必填"},
        {"indicator_code": "employees", "kind": "range", "min": 1, "max": 50000},
        {"indicator_code": "main_business_revenue", "kind": "comparison", "operator": ">=", "other_indicator": "total_tax", "factor": 2},
        {"indicator_code": "fixed_asset_investment", "kind": "cumulative"},
        {"indicator_code": "main_business_revenue", "kind": "yoy_change", "threshold_percent": 30},
    ]
    created = []
    for rule in rules:
        r = await stats.client.post("/rules", json=rule, headers=people.stats_admin(None))
        assert r.status_code == 201, r.text
        created.append(r.json())
    assert [c["kind_label"] for c in created] == ["必填", "取值范围", "指标间比较", "累计值不得小于上期累计", "同比变动超阈值须说明"]
    assert created[2]["params"] == {"operator": ">=", "other_indicator": "total_tax", "factor": "2"}
    listed = await stats.client.get("/rules", params={"indicator_code": "employees"}, headers=people.enterprise())
    assert {r["kind"] for r in listed.json()} == {"required", "range"}

    # The new rules bite: employees now required and at least 1; revenue at least twice the tax.
    r = await stats.client.post("/reports", json=monthly(main_business_revenue=900, total_tax=500), headers=people.enterprise())
    assert r.status_code == 422
    by_field = {e["field"]: e for e in r.json()["errors"]}
    assert set(by_field) == {"values.employees", "values.main_business_revenue"}
    assert "从业人员期末人数（employees）" in by_field["values.employees"]["message"]
    assert f"从业人员必填 #{created[0]['id']}" in by_field["values.employees"]["message"]
    assert by_field["values.main_business_revenue"]["code"] == "rule.comparison"

    # Deactivating a rule lifts it.
    off = await stats.client.patch(f"/rules/{created[0]['id']}", json={"active": False}, headers=people.stats_admin(None))
    assert off.json()["active"] is False
    r = await stats.client.post("/reports", json=monthly(main_business_revenue=1000, total_tax=500), headers=people.enterprise())
    assert r.status_code == 201, r.text


BAD_RULES = [
    ({"indicator_code": "total_tax", "kind": "range"}, "min"),
    ({"indicator_code": "total_tax", "kind": "range", "min": 10, "max": 1}, "min"),
    ({"indicator_code": "total_tax", "kind": "comparison", "operator": "<="}, "other_indicator"),
    ({"indicator_code": "total_tax", "kind": "comparison", "operator": "<=", "other_indicator": "talent_count"}, "other_indicator"),
    ({"indicator_code": "total_tax", "kind": "cumulative"}, "indicator_code"),
    ({"indicator_code": "total_tax", "kind": "yoy_change"}, "threshold_percent"),
    ({"indicator_code": "total_tax", "kind": "yoy_change", "threshold_percent": -5}, "threshold_percent"),
    ({"indicator_code": "no_such_thing", "kind": "required"}, "indicator_code"),
    ({"indicator_code": "total_tax", "kind": "sometimes"}, "kind"),
]


async def test_a_rule_that_does_not_fit_its_kind_is_refused_naming_the_field(stats, people):
    for rule, field in BAD_RULES:
        r = await stats.client.post("/rules", json=rule, headers=people.stats_admin(None))
        assert r.status_code == 422, (rule, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == field, rule
    async with stats.ctx.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(ValidationRule))).scalar_one() == 12  # the seeded ones


async def test_the_seeded_required_range_and_comparison_rules(stats, people):
    r = await stats.client.post(
        "/reports", json=monthly(industrial_output_above_scale=-5, main_business_revenue=None, total_tax=20), headers=people.enterprise()
    )
    assert r.status_code == 422
    violations = {(v["indicator_code"], v["rule_kind"]) for v in r.json()["violations"]}
    assert violations == {("industrial_output_above_scale", "range"), ("main_business_revenue", "required")}
    assert r.json()["detail"].startswith("报表未通过审核规则（2 项）：主营业务收入（main_business_revenue）：必须填报")
    messages = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert messages["values.industrial_output_above_scale"].startswith("规上工业总产值（industrial_output_above_scale）：不能小于 0［规则：产值取值范围")

    r = await stats.client.post("/reports", json=monthly(main_business_revenue=100, total_tax=101), headers=people.enterprise())
    [v] = r.json()["violations"]
    assert (v["indicator_code"], v["rule_kind"], v["field"]) == ("total_tax", "comparison", "values.total_tax")
    assert "税收不大于主营业务收入" in v["rule"]
    await nothing_written(stats)


async def test_a_cumulative_value_below_the_previous_months_is_refused(stats, people):
    await file_and_accept(stats, people, monthly(period="2026-08", fixed_asset_investment=1500))
    # September was not filed: October compares with August, the latest earlier month of the year.
    r = await stats.client.post("/reports", json=monthly(fixed_asset_investment=1200), headers=people.enterprise())
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "values.fixed_asset_investment" and error["code"] == "rule.cumulative"
    assert "上期累计值 1500" in error["message"]
    ok = await stats.client.post("/reports", json=monthly(fixed_asset_investment=1800), headers=people.enterprise())
    assert ok.status_code == 201
    # A new year starts again from zero.
    jan = await stats.client.post("/reports", json=monthly(period="2027-01", fixed_asset_investment=100), headers=people.enterprise())
    assert jan.status_code == 201, jan.text


async def test_a_year_on_year_jump_is_accepted_only_with_an_explanation(stats, people):
    await file_and_accept(stats, people, monthly(period="2025-10", industrial_output_above_scale=5000, main_business_revenue=5200, total_tax=300))
    jump = monthly(industrial_output_above_scale=8000)  # +60 % against 2025-10, threshold 50 %
    r = await stats.client.post("/reports", json=jump, headers=people.enterprise())
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert set(errors) == {"explanations.industrial_output_above_scale", "explanations.total_tax"}
    error = errors["explanations.industrial_output_above_scale"]
    assert error["code"] == "rule.yoy_change"
    assert "同比变动 60.0%" in error["message"] and "情况说明" in error["message"]
    assert "规上工业总产值（industrial_output_above_scale）" in error["message"]

    # Tax also jumped (+66.7 %): one explanation per indicator is needed.
    explained = monthly(industrial_output_above_scale=8000, explanations={"industrial_output_above_scale": "12 英寸新产线 9 月投产"})
    r = await stats.client.post("/reports", json=explained, headers=people.enterprise())
    assert [e["field"] for e in r.json()["errors"]] == ["explanations.total_tax"]

    explained["explanations"]["total_tax"] = "增值税留抵退税结束"
    r = await stats.client.post("/reports", json=explained, headers=people.enterprise())
    assert r.status_code == 201, r.text
    assert r.json()["explanations"] == {"industrial_output_above_scale": "12 英寸新产线 9 月投产", "total_tax": "增值税留抵退税结束"}
    accepted = await stats.client.post(f"/reports/{r.json()['id']}/accept", headers=people.officer())
    assert accepted.status_code == 200
    summary = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())).json()
    output = next(i for i in summary["indicators"] if i["code"] == "industrial_output_above_scale")
    assert (output["value"], output["last_year_value"], output["year_on_year_percent"]) == (8000, 5000, 60.0)


async def test_an_explanation_for_an_indicator_not_filed_is_refused(stats, people):
    r = await stats.client.post("/reports", json=monthly(explanations={"employees": "说明"}), headers=people.enterprise())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "explanations.employees"


BAD_REPORTS = [
    ({"uscc": "91510100MA6DGXQ12X"}, "uscc"),
    ({"period": "2026-13"}, "period"),
    ({"period": "2026-Q3"}, "values.industrial_output_above_scale"),  # a monthly indicator on a quarterly form
    ({"zone_id": "no-such-zone"}, "zone_id"),
    ({"values": {}}, "values"),
    ({"values": {"total_tax": "lots"}}, "values.total_tax"),
    ({"values": {"total_tax": 1.23456}}, "values.total_tax"),
    ({"values": {"total_tax": 1e30}}, "values.total_tax"),
    ({"values": {"approvals_completed": 3}}, "values.approvals_completed"),  # derived from events, not filed
    ({"values": {"BAD CODE": 1}}, "values.BAD CODE.[key]"),
    ({"explanations": {"total_tax": "x" * 501}}, "explanations.total_tax"),
]


async def test_invalid_input_is_a_problem_naming_the_field_and_writes_nothing(stats, people):
    for change, field in BAD_REPORTS:
        body = {**monthly(), **change}
        r = await stats.client.post("/reports", json=body, headers={**people.enterprise(), "Idempotency-Key": "once"})
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (change, r.json())
    await nothing_written(stats)
    async with stats.ctx.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(idempotency_key))).scalar_one() == 0


async def test_the_idempotency_key_returns_the_first_report_on_a_retry(stats, people):
    headers = {**people.enterprise(), "Idempotency-Key": "oct-report"}
    first = await stats.client.post("/reports", json=monthly(), headers=headers)
    again = await stats.client.post("/reports", json=monthly(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"


async def test_indicators_are_listed_and_managed_by_the_stats_admin(stats, people):
    listed = await stats.client.get("/indicators", params={"source": "direct_report"}, headers=people.enterprise())
    assert [i["code"] for i in listed.json()][:3] == ["fixed_asset_investment", "industrial_output_above_scale", "main_business_revenue"]
    assert all(i["source_label"] == "联网直报" for i in listed.json())
    new = {
        "code": "rd_expenditure",
        "name": "研发经费支出",
        "unit": "万元",
        "period_type": "quarter",
        "aggregation": "sum",
        "source": "direct_report",
        "dimension": "industry_development",
    }
    r = await stats.client.post("/indicators", json=new, headers=people.stats_admin(None))
    assert r.status_code == 201, r.text
    assert (r.json()["period_type_label"], r.json()["aggregation_label"], r.json()["dimension_label"]) == ("季度", "累加", "产业发展")
    assert (await stats.client.post("/indicators", json=new, headers=people.stats_admin(None))).status_code == 409
    bad = await stats.client.post(
        "/indicators", json={**new, "code": "ytd_thing", "cumulative": True}, headers=people.stats_admin(None)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "aggregation"
    quarterly = await stats.client.post(
        "/reports",
        json={"uscc": PACKAGING, "zone_id": XINGU, "period": "2026-Q3", "values": {"rd_expenditure": 320.5, "talent_count": 300}},
        headers=people.enterprise(PACKAGING),
    )
    assert quarterly.status_code == 201, quarterly.text
    assert quarterly.json()["form_label"] == "季报"
    assert CHIP_DESIGN != PACKAGING

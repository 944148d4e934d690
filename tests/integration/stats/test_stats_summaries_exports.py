"""Zone summaries (value, 同比, 环比, year to date, target progress, partner shares), chart series,
zone-collected values, and the CSV / Excel exports read back with csv and openpyxl."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from services.stats.models import IndicatorAggregate
from tests.integration.stats.stats_support import (
    BIOTECH,
    BIOTOWN,
    CHIP_DESIGN,
    PACKAGING,
    XINGU,
    file_and_accept,
    monthly,
)


async def history(svc: Any, people: Any) -> None:
    """Chip design: 2025-10, 2026-08, 2026-09, 2026-10; packaging: 2026-10."""
    for period, output, tax in (("2025-10", 6000, 400), ("2026-08", 7000, 420), ("2026-09", 7500, 450), ("2026-10", 8000, 500)):
        await file_and_accept(
            svc, people, monthly(period=period, industrial_output_above_scale=output, main_business_revenue=output + 500, total_tax=tax,
                                 explanations={"industrial_output_above_scale": "增长"} if period == "2026-10" else {})
        )
    await file_and_accept(svc, people, monthly(uscc=PACKAGING, industrial_output_above_scale="1000.25", total_tax=100))


def row(summary: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in summary["indicators"] if i["code"] == code)


async def test_a_monthly_summary_compares_with_last_month_last_year_and_the_target(stats, people):
    await history(stats, people)
    await stats.client.post(
        "/targets", json={"zone_id": XINGU, "year": 2026, "indicator_code": "industrial_output_above_scale", "target_value": 47002}, headers=people.stats_admin()
    )
    r = await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["zone_name"], s["zone_type"], s["period_label"], s["partners"]) == ("成都芯谷", "产业新城", "2026年10月", [])
    output = row(s, "industrial_output_above_scale")
    assert output["value"] == 9000.25
    assert (output["previous_period"], output["previous_value"], output["period_on_period_percent"]) == ("2026-09", 7500, 20.0)
    assert (output["same_period_last_year"], output["last_year_value"], output["year_on_year_percent"]) == ("2025-10", 6000, 50.0)
    assert output["year_to_date"] == 23500.25  # Aug + Sep + Oct
    assert (output["target"], output["target_progress_percent"]) == (47002, 50.0)
    assert output["partner_shares"] is None
    # A monthly summary lists monthly indicators only; quarterly ones appear from the quarter up.
    assert "talent_count" not in {i["code"] for i in s["indicators"]}


async def test_a_quarter_sums_its_months_and_lists_quarterly_indicators(stats, people):
    await history(stats, people)
    await stats.client.post(
        "/reports",
        json={"uscc": CHIP_DESIGN, "zone_id": XINGU, "period": "2026-Q3", "values": {"talent_count": 230, "high_level_talent_count": 19}},
        headers=people.enterprise(),
    )
    s = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-Q3"}, headers=people.officer())).json()
    assert row(s, "industrial_output_above_scale")["value"] == 14500  # Aug + Sep
    assert row(s, "talent_count")["value"] is None  # filed but not yet accepted
    year = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026"}, headers=people.officer())).json()
    assert row(year, "industrial_output_above_scale")["value"] == 23500.25
    assert row(year, "industrial_output_above_scale")["year_on_year_percent"] == round((23500.25 - 6000) / 6000 * 100, 1)


async def test_a_co_built_zone_credits_each_partner_by_share_and_the_shares_add_up(stats, people):
    await file_and_accept(stats, people, monthly(uscc=BIOTECH, zone=BIOTOWN, industrial_output_above_scale="1000.05", main_business_revenue=1200, total_tax=33))
    s = (await stats.client.get(f"/zones/{BIOTOWN}/summary", params={"period": "2026-10"}, headers=people.leader(None))).json()
    assert s["partners"] == [{"district": "高新区", "share_percent": 70.0}, {"district": "双流区", "share_percent": 30.0}]
    output = row(s, "industrial_output_above_scale")
    assert output["partner_shares"] == [
        {"district": "高新区", "share_percent": 70.0, "value": 700.04},  # 700.035 → the larger remainder tie goes to the larger share
        {"district": "双流区", "share_percent": 30.0, "value": 300.01},
    ]
    assert sum(p["value"] for p in output["partner_shares"]) == 1000.05
    tax = row(s, "total_tax")
    assert [p["value"] for p in tax["partner_shares"]] == [23.1, 9.9]


async def test_zone_collected_values_are_entered_by_zone_staff(stats, people):
    r = await stats.client.post(
        f"/zones/{XINGU}/values", json={"period": "2026-Q3", "values": {"standard_factory_area": 7.5, "building_occupancy_rate": 72.4}}, headers=people.officer()
    )
    assert r.status_code == 201, r.text
    again = await stats.client.post(f"/zones/{XINGU}/values", json={"period": "2026-Q3", "values": {"standard_factory_area": 8}}, headers=people.officer())
    assert again.status_code == 201
    s = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-Q3"}, headers=people.leader())).json()
    assert row(s, "standard_factory_area")["value"] == 8  # replaced, not added
    assert row(s, "building_occupancy_rate")["value"] == 72.4
    wrong = await stats.client.post(f"/zones/{XINGU}/values", json={"period": "2026-10", "values": {"total_tax": 1}}, headers=people.officer())
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "values.total_tax"
    foreign = await stats.client.post(f"/zones/{BIOTOWN}/values", json={"period": "2026-Q3", "values": {"standard_factory_area": 1}}, headers=people.officer())
    assert foreign.status_code == 403


async def test_a_series_for_charts_by_month_or_coarser(stats, people):
    await history(stats, people)
    r = await stats.client.get(
        f"/zones/{XINGU}/series", params={"indicator": "industrial_output_above_scale", "from": "2026-07", "to": "2026-10"}, headers=people.leader()
    )
    assert r.status_code == 200, r.text
    assert [(p["period"], p["value"]) for p in r.json()["points"]] == [
        ("2026-07", None),
        ("2026-08", 7000),
        ("2026-09", 7500),
        ("2026-10", 9000.25),
    ]
    quarters = await stats.client.get(
        f"/zones/{XINGU}/series", params={"indicator": "industrial_output_above_scale", "from": "2025-Q4", "to": "2026-Q4"}, headers=people.leader()
    )
    assert [p["value"] for p in quarters.json()["points"]] == [6000, None, None, 14500, 9000.25]
    too_fine = await stats.client.get(
        f"/zones/{XINGU}/series", params={"indicator": "talent_count", "from": "2026-01", "to": "2026-03"}, headers=people.leader()
    )
    assert too_fine.status_code == 422 and too_fine.json()["errors"][0]["field"] == "from"
    too_long = await stats.client.get(
        f"/zones/{XINGU}/series", params={"indicator": "total_tax", "from": "2000-01", "to": "2026-01"}, headers=people.leader()
    )
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "to"


async def test_a_bad_period_is_a_problem_naming_it(stats, people):
    r = await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-Q9"}, headers=people.leader())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"
    r = await stats.client.get(f"/zones/{XINGU}/summary", headers=people.leader())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"


async def test_the_csv_export_has_a_bom_chinese_headers_and_the_summarys_numbers(stats, people):
    await file_and_accept(stats, people, monthly(uscc=BIOTECH, zone=BIOTOWN, industrial_output_above_scale="1000.05", main_business_revenue=1200, total_tax=33))
    r = await stats.client.get(f"/zones/{BIOTOWN}/summary/export", params={"period": "2026-10", "format": "csv"}, headers=people.leader(None))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''tf-biotown_2026-10_" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:5] == ["指标代码", "指标名称", "单位", "数据来源", "本期值"]
    assert header[-2:] == ["高新区分成（70%）", "双流区分成（30%）"]
    output = next(r for r in rows[1:] if r[0] == "industrial_output_above_scale")
    assert output[1] == "规上工业总产值" and output[2] == "万元" and output[3] == "联网直报"
    assert float(output[4]) == 1000.05
    assert (float(output[-2]), float(output[-1])) == (700.04, 300.01)
    empty = next(r for r in rows[1:] if r[0] == "approvals_completed")
    assert empty[4] == ""


async def test_the_xlsx_export_reads_back_with_openpyxl(stats, people):
    await history(stats, people)
    r = await stats.client.get(f"/zones/{XINGU}/summary/export", params={"period": "2026-10", "format": "xlsx"}, headers=people.officer())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["汇总"]
    assert ws["A1"].value == "成都芯谷（产业新城） 2026年10月 统计汇总"
    header = [c.value for c in ws[2]]
    assert header[:12] == ["指标代码", "指标名称", "单位", "数据来源", "本期值", "上期值", "环比(%)", "上年同期值", "同比(%)", "本年累计", "年度目标", "目标完成率(%)"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    output = rows["industrial_output_above_scale"]
    assert output[4:10] == (9000.25, 7500, 20.0, 6000, 50.0, 23500.25)
    assert rows["approvals_completed"][4] is None
    assert len(rows) == len((await stats.client.get(f"/zones/{XINGU}/summary?period=2026-10", headers=people.officer())).json()["indicators"])
    bad = await stats.client.get(f"/zones/{XINGU}/summary/export", params={"period": "2026-10", "format": "pdf"}, headers=people.officer())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"


async def test_rebuilding_the_pre_aggregates_from_raw_data_reproduces_them(stats, people):
    await history(stats, people)
    await stats.client.post(f"/zones/{XINGU}/values", json={"period": "2026-Q3", "values": {"building_occupancy_rate": 71}}, headers=people.officer())
    before = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())).json()
    async with stats.ctx.db.session() as s:
        await s.execute(IndicatorAggregate.__table__.delete())  # type: ignore[attr-defined]
        await s.commit()
    emptied = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())).json()
    assert row(emptied, "industrial_output_above_scale")["value"] is None

    r = await stats.client.post("/admin/aggregates/rebuild", params={"zone_id": XINGU}, headers=people.stats_admin())
    assert r.status_code == 200, r.text
    assert r.json()["aggregates"] > 0
    after = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-10"}, headers=people.leader())).json()
    assert after == before
    q3 = (await stats.client.get(f"/zones/{XINGU}/summary", params={"period": "2026-Q3"}, headers=people.leader())).json()
    assert row(q3, "building_occupancy_rate")["value"] == 71
    assert (await stats.client.post("/admin/aggregates/rebuild", headers=people.officer())).status_code == 403

"""Zone summaries, chart series and exports, read from the pre-aggregates only.

A summary for any period needs the zone's aggregate rows of two years (this one and the one
before: 同比, 环比 across a year boundary, year-to-date): one indexed query on
``indicator_aggregate (zone_id, year)`` returning at most 2 × 17 periods × the indicators — never
the raw report values, however many enterprises filed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.audit import record_audit
from chassis.auth import Principal, scoped_zone, scoped_zones
from chassis.errors import FieldError, NotFound, Unprocessable
from services.stats import repository as repo
from services.stats.domain import (
    SOURCE_LABELS,
    Aggregation,
    IndicatorDef,
    percent_change,
    split_value,
    target_progress,
    value_over,
    year_to_date,
)
from services.stats.models import Zone
from services.stats.periods import PeriodError, period_range
from services.stats.schemas import (
    IndicatorSummaryOut,
    PartnerOut,
    PartnerShareOut,
    SeriesOut,
    SeriesPointOut,
    SummaryByZoneOut,
    SummaryOut,
)
from services.stats.service import fmt, known_zone, parse_period


async def _zone_for_reader(session: AsyncSession, principal: Principal, zone_id: str) -> Zone:
    scoped_zone(principal, zone_id)  # a zone's staff read only their own zone
    return await known_zone(session, zone_id, invalid=False)


async def zone_summary(
    session: AsyncSession,
    principal: Principal,
    zone_id: str,
    period_text: str,
    *,
    defs: dict[str, IndicatorDef] | None = None,
) -> SummaryOut:
    """One zone's summary for a period: value, 环比, 同比, year to date, target progress, partner shares.

    ``defs`` are the indicator definitions (:func:`repo.indicator_defs`) when the caller has read them
    already in this session (several zones in one request); otherwise they are read here.
    """
    zone = await _zone_for_reader(session, principal, zone_id)
    period = parse_period(period_text)
    if defs is None:
        defs = await repo.indicator_defs(session)
    applicable = [d for d in defs.values() if d.period_type.rank <= period.type.rank]
    previous, last_year = period.previous(), period.same_period_last_year()
    cells = await repo.cells_for(session, zone.zone_id, {period.year, period.year - 1}, [d.code for d in applicable])
    targets = await repo.targets_for(session, zone.zone_id, period.year)
    partners = list(zone.partners or [])
    shares = [Decimal(str(p["share_percent"])) for p in partners]

    rows: list[IndicatorSummaryOut] = []
    for ind in applicable:
        own = cells.get(ind.code, {})
        value = value_over(ind, period, own)
        prev_value = value_over(ind, previous, own)
        ly_value = value_over(ind, last_year, own)
        ytd = year_to_date(ind, period, own)
        target = targets.get(ind.code)
        partner_shares = None
        # Rates and means are not credited by share; quantities are (seed 001: 按约定比例分配).
        if partners and value is not None and ind.aggregation is not Aggregation.AVERAGE:
            parts = split_value(value, ind.decimals, shares)
            partner_shares = [
                PartnerShareOut(district=p["district"], share_percent=float(p["share_percent"]), value=float(part))
                for p, part in zip(partners, parts, strict=True)
            ]
        rows.append(
            IndicatorSummaryOut(
                code=ind.code,
                name=ind.name,
                unit=ind.unit,
                period_type=ind.period_type.value,
                aggregation=ind.aggregation.value,
                source=ind.source.value,
                source_label=SOURCE_LABELS[ind.source],
                value=fmt(value, ind.decimals),
                previous_period=str(previous),
                previous_value=fmt(prev_value, ind.decimals),
                period_on_period_percent=fmt(percent_change(value, prev_value), 1),
                same_period_last_year=str(last_year),
                last_year_value=fmt(ly_value, ind.decimals),
                year_on_year_percent=fmt(percent_change(value, ly_value), 1),
                year_to_date=fmt(ytd, ind.decimals),
                target=fmt(target, ind.decimals),
                target_progress_percent=fmt(target_progress(ind, ytd, target), 1),
                partner_shares=partner_shares,
            )
        )
    return SummaryOut(
        zone_id=zone.zone_id,
        zone_name=zone.name,
        zone_type=zone.type,
        period=str(period),
        period_label=period.label,
        period_type=period.type.value,
        period_closed=await repo.is_closed(session, zone.zone_id, str(period)),
        partners=[PartnerOut(district=p["district"], share_percent=float(p["share_percent"])) for p in partners],
        indicators=rows,
    )


async def zone_summaries(session: AsyncSession, principal: Principal, zone_ids: Sequence[str], period_text: str) -> SummaryByZoneOut:
    """Several zones' summaries for one period in one request, for the city dashboard.

    Repeated zones collapse, keeping the order they were first named. Every zone is scoped before
    anything is read, so a zone's staff naming any other zone is refused (403) for the whole request;
    then the period is checked once (422 naming ``period``). Each item is exactly what
    :func:`zone_summary` answers for its zone alone; the indicator definitions, the same for every
    zone, are read once. A zone the single summary would answer 404 for (no zone record here) is
    listed in ``missing`` instead of failing the others.
    """
    zones = scoped_zones(principal, zone_ids)
    parse_period(period_text)
    defs = await repo.indicator_defs(session)
    items: list[SummaryOut] = []
    missing: list[str] = []
    for zone_id in zones:
        try:
            items.append(await zone_summary(session, principal, zone_id, period_text, defs=defs))
        except NotFound:
            missing.append(zone_id)
    return SummaryByZoneOut(items=items, missing=missing)


async def zone_series(
    session: AsyncSession, principal: Principal, zone_id: str, indicator: str, from_text: str, to_text: str, max_points: int
) -> SeriesOut:
    zone = await _zone_for_reader(session, principal, zone_id)
    start, end = parse_period(from_text, "from"), parse_period(to_text, "to")
    defs = await repo.indicator_defs(session)
    ind = defs.get(indicator)
    if ind is None:
        raise Unprocessable(f"指标 {indicator} 不存在", "Unknown indicator", errors=[FieldError("indicator", "指标不存在", "unknown indicator", code="unknown_indicator")])
    if start.type.rank < ind.period_type.rank:
        raise Unprocessable(
            f"{ind.label} 为{ind.period_type.label}指标，不能按更细的{start.type.label}展示",
            f"{ind.code} is {ind.period_type.value}: the series cannot be finer",
            errors=[FieldError("from", "报告期比指标更细", "finer than the indicator", code="wrong_period_type")],
        )
    try:
        periods = list(period_range(start, end, limit=max_points))
    except PeriodError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise Unprocessable(zh, en, errors=[FieldError("to", zh, en, code="invalid_range")]) from exc
    cells = (await repo.cells_for(session, zone.zone_id, range(start.year, end.year + 1), [ind.code])).get(ind.code, {})
    return SeriesOut(
        zone_id=zone.zone_id,
        indicator_code=ind.code,
        indicator_name=ind.name,
        unit=ind.unit,
        points=[SeriesPointOut(period=str(p), value=fmt(value_over(ind, p, cells), ind.decimals)) for p in periods],
    )


# --- exports (government staff work in Excel) ------------------------------------------------------------

HEADERS = [
    "指标代码",
    "指标名称",
    "单位",
    "数据来源",
    "本期值",
    "上期值",
    "环比(%)",
    "上年同期值",
    "同比(%)",
    "本年累计",
    "年度目标",
    "目标完成率(%)",
]


def _table(summary: SummaryOut) -> tuple[list[str], list[list[Any]]]:
    headers = HEADERS + [f"{p.district}分成（{p.share_percent:g}%）" for p in summary.partners]
    rows: list[list[Any]] = []
    for i in summary.indicators:
        row: list[Any] = [
            i.code,
            i.name,
            i.unit,
            i.source_label,
            i.value,
            i.previous_value,
            i.period_on_period_percent,
            i.last_year_value,
            i.year_on_year_percent,
            i.year_to_date,
            i.target,
            i.target_progress_percent,
        ]
        shares = {s.district: s.value for s in i.partner_shares or []}
        row += [shares.get(p.district) for p in summary.partners]
        rows.append(row)
    return headers, rows


def summary_csv(summary: SummaryOut) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese headers correctly."""
    headers, rows = _table(summary)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def summary_xlsx(summary: SummaryOut) -> bytes:
    headers, rows = _table(summary)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    ws.append([_cell(f"{summary.zone_name}（{summary.zone_type}） {summary.period_label} 统计汇总")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([_cell(h) for h in headers])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for row in rows:
        ws.append([_cell(v) for v in row])
    for col, width in zip("ABCDEFGHIJKLMNOP", [28, 26, 10, 12] + [14] * 12, strict=False):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "C3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def export_summary(
    session: AsyncSession, principal: Principal, zone_id: str, period_text: str, fmt_name: str
) -> tuple[bytes, str, str]:
    summary = await zone_summary(session, principal, zone_id, period_text)
    filename = f"{summary.zone_id}_{summary.period}_统计汇总.{fmt_name}"
    if fmt_name == "csv":
        body, media = summary_csv(summary), "text/csv; charset=utf-8"
    else:
        body, media = summary_xlsx(summary), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await record_audit(
        session,
        principal,
        "summary.export",
        entity_type="zone_summary",
        entity_id=f"{summary.zone_id}:{summary.period}",
        zone_id=summary.zone_id,
        after={"format": fmt_name, "indicators": len(summary.indicators)},
    )
    return body, media, filename


def _cell(value: object) -> object:
    """XLSX cannot hold control characters (a name may contain them); drop them rather than fail."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

"""HTTP routes of the statistics service (thin: parse, authorise, call the use case, answer).

Access: an enterprise files and reads only its own reports; statistics staff (``stats``) review in
their zone; ``stats-admin`` manages indicators, rules, targets, closing and assessments; leaders
(``leader``) read summaries; a zone's staff see only their zone, city-level staff all zones.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from chassis.auth import Caller, Principal, ZoneIds, require
from chassis.idempotency import Idempotency
from chassis.pagination import Page, Pagination
from chassis.service import Ctx, Session
from services.stats import assessments, reports, service, summaries
from services.stats.schemas import (
    AcceptIn,
    AssessmentOut,
    CloseIn,
    DueOut,
    IndicatorIn,
    IndicatorOut,
    ObligationIn,
    ObligationOut,
    PeriodClosureOut,
    ReportDetailOut,
    ReportIn,
    ReportOut,
    ResubmitIn,
    ReturnIn,
    ReviseIn,
    RuleIn,
    RuleOut,
    SeriesOut,
    SummaryByZoneOut,
    SummaryOut,
    TargetIn,
    TargetOut,
    ZoneOut,
    ZoneValuesIn,
    ZoneValuesOut,
)
from services.stats.settings import StatsSettings

STATS, ADMIN, LEADER = service.ROLE_STATS, service.ROLE_STATS_ADMIN, service.ROLE_LEADER

Staff = Annotated[Principal, Depends(require())]
StatsStaff = Annotated[Principal, Depends(require(STATS, ADMIN))]
StatsAdmin = Annotated[Principal, Depends(require(ADMIN))]
SummaryReader = Annotated[Principal, Depends(require(LEADER, STATS, ADMIN))]
Filer = Annotated[Principal, Depends(require(STATS, ADMIN, kinds=("enterprise", "staff", "admin")))]
ReportReader = Annotated[Principal, Depends(require(STATS, ADMIN, LEADER, kinds=("enterprise", "staff", "admin")))]
ReportId = Annotated[str, Path(max_length=36, description="报表编号")]
ZONE_ID_MAX_LENGTH = 64
ZonePath = Annotated[str, Path(max_length=ZONE_ID_MAX_LENGTH, description="功能区编号")]
Year = Annotated[int, Path(ge=2000, le=2100, description="考核年度")]
PeriodQuery = Annotated[str, Query(max_length=7, description="报告期：2026-10、2026-Q3 或 2026")]

T_ZONES = "功能区 zones"
T_INDICATORS = "指标体系 indicators"
T_RULES = "审核规则 validation rules"
T_REPORTS = "企业报表 reports"
T_PERIODS = "关账 periods"
T_TARGETS = "目标分解 targets"
T_OBLIGATIONS = "报送义务 obligations"
T_SUMMARIES = "汇总与导出 summaries"
T_ASSESSMENTS = "差异化考核 assessments"

router = APIRouter()


def _settings(ctx: Any) -> StatsSettings:
    return cast(StatsSettings, ctx.settings)


# --- zones, indicators, rules -------------------------------------------------------------------------


@router.get("/zones", tags=[T_ZONES], summary="功能区名录（来自平台目录的投影）", response_model=list[ZoneOut])
async def list_zones(session: Session, caller: Caller) -> list[ZoneOut]:
    return await service.list_zones(session, caller)


# Declared before every /zones/{zone_id}… route, so that "summaries" is never taken for a zone ID.
@router.get(
    "/zones/summaries",
    tags=[T_SUMMARIES],
    summary="多个功能区的统计汇总（市级工作台一次取全）",
    description=(
        "一次请求取多个功能区同一报告期的统计汇总，每项与 GET /zones/{zone_id}/summary?period=… 对该功能区的回答相同，"
        "按请求顺序排列。调用权限与单区汇总相同，逐个功能区核对：本功能区用户只能指定本功能区（指定其他功能区则整个请求 403），"
        "市级用户可指定任意功能区。missing 列出统计服务没有记录、单区汇总会答 404 的功能区。"
    ),
    response_model=SummaryByZoneOut,
)
async def zone_summaries(
    session: Session,
    caller: SummaryReader,
    zone_id: ZoneIds,
    period: PeriodQuery,
) -> SummaryByZoneOut:
    return await summaries.zone_summaries(session, caller, zone_id, period)


@router.get("/indicators", tags=[T_INDICATORS], summary="指标体系", response_model=list[IndicatorOut])
async def list_indicators(
    session: Session,
    _: Caller,
    source: Literal["direct_report", "zone_collected", "platform_event"] | None = None,
    period_type: Literal["month", "quarter", "year"] | None = None,
) -> list[IndicatorOut]:
    return await service.list_indicators(session, source=source, period_type=period_type)


@router.post("/indicators", status_code=201, tags=[T_INDICATORS], summary="新增指标", response_model=IndicatorOut)
async def create_indicator(body: IndicatorIn, session: Session, caller: StatsAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: service.create_indicator(session, caller, body))


@router.get("/rules", tags=[T_RULES], summary="审核规则", response_model=list[RuleOut])
async def list_rules(
    session: Session,
    _: Caller,
    indicator_code: str | None = Query(None, max_length=64),
    kind: Literal["required", "range", "comparison", "cumulative", "yoy_change"] | None = None,
    active: bool | None = None,
) -> list[RuleOut]:
    return await service.list_rules(session, indicator_code=indicator_code, kind=kind, active=active)


@router.post("/rules", status_code=201, tags=[T_RULES], summary="新增审核规则", response_model=RuleOut)
async def create_rule(body: RuleIn, session: Session, caller: StatsAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: service.create_rule(session, caller, body))


class RulePatch(BaseModel):
    active: bool


@router.patch("/rules/{rule_id}", tags=[T_RULES], summary="启用或停用审核规则", response_model=RuleOut)
async def patch_rule(rule_id: int, body: RulePatch, session: Session, caller: StatsAdmin) -> RuleOut:
    return await service.set_rule_active(session, caller, rule_id, body.active)


# --- reports ------------------------------------------------------------------------------------------


@router.post("/reports", status_code=201, tags=[T_REPORTS], summary="企业报送报表", response_model=ReportDetailOut)
async def submit_report(body: ReportIn, session: Session, caller: Filer, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: reports.submit_report(session, caller, body))


@router.get("/reports", tags=[T_REPORTS], summary="报表列表（企业仅见本企业）", response_model=Page[ReportOut])
async def list_reports(
    session: Session,
    caller: ReportReader,
    page: Pagination,
    uscc: str | None = Query(None, max_length=18),
    zone_id: str | None = Query(None, max_length=64),
    period: str | None = Query(None, max_length=7),
    status: Literal["submitted", "accepted", "returned"] | None = None,
) -> dict[str, Any]:
    items, total = await reports.list_reports(session, caller, page, uscc=uscc, zone_id=zone_id, period=period, status=status)
    return {"items": items, "total": total, "page": page.page, "size": page.size}


@router.get("/reports/due", tags=[T_REPORTS], summary="应报未报及退回待重报的报表", response_model=DueOut)
async def reports_due(
    session: Session,
    ctx: Ctx,
    caller: ReportReader,
    uscc: str | None = Query(None, max_length=18),
    zone_id: str | None = Query(None, max_length=64),
    as_of: date | None = Query(None, description="按此日期计算（缺省为今天，北京时间）"),
) -> DueOut:
    return await reports.reports_due(
        session, caller, uscc=uscc, zone_id=zone_id, as_of=as_of, due_day=_settings(ctx).report_due_day
    )


@router.get("/reports/{report_id}", tags=[T_REPORTS], summary="报表详情（含审核轨迹与修订记录）", response_model=ReportDetailOut)
async def get_report(report_id: ReportId, session: Session, caller: ReportReader) -> ReportDetailOut:
    return await reports.get_report(session, caller, report_id)


@router.post("/reports/{report_id}/accept", tags=[T_REPORTS], summary="审核通过", response_model=ReportDetailOut)
async def accept_report(report_id: ReportId, session: Session, caller: StatsStaff, body: AcceptIn | None = None) -> ReportDetailOut:
    return await reports.accept_report(session, caller, report_id, body.note if body else None)


@router.post("/reports/{report_id}/return", tags=[T_REPORTS], summary="退回修改（须说明原因）", response_model=ReportDetailOut)
async def return_report(report_id: ReportId, body: ReturnIn, session: Session, caller: StatsStaff) -> ReportDetailOut:
    return await reports.return_report(session, caller, report_id, body)


@router.post("/reports/{report_id}/resubmit", tags=[T_REPORTS], summary="重报（报告期未关账时）", response_model=ReportDetailOut)
async def resubmit_report(report_id: ReportId, body: ResubmitIn, session: Session, caller: Filer) -> ReportDetailOut:
    return await reports.resubmit_report(session, caller, report_id, body)


@router.post(
    "/reports/{report_id}/revise", status_code=201, tags=[T_REPORTS], summary="数据修订（记录修订前后、修订人与原因）", response_model=ReportDetailOut
)
async def revise_report(report_id: ReportId, body: ReviseIn, session: Session, caller: StatsStaff, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: reports.revise_report(session, caller, report_id, body))


# --- periods, targets, obligations, zone-collected values ----------------------------------------------------


@router.post("/periods/{period}/close", status_code=201, tags=[T_PERIODS], summary="报告期关账", response_model=PeriodClosureOut)
async def close_period(
    session: Session,
    caller: StatsAdmin,
    idem: Idempotency,
    period: str = Path(max_length=7, description="报告期：2026-10、2026-Q3 或 2026"),
    body: CloseIn | None = None,
) -> Any:
    return await idem.run(session, lambda: service.close_period(session, caller, period, body.zone_id if body else None))


@router.get("/periods/closed", tags=[T_PERIODS], summary="已关账的报告期", response_model=list[PeriodClosureOut])
async def list_closed(session: Session, caller: Staff, zone_id: str | None = Query(None, max_length=64)) -> list[PeriodClosureOut]:
    return await service.list_closures(session, caller, zone_id)


@router.get("/targets", tags=[T_TARGETS], summary="目标分解表", response_model=list[TargetOut])
async def list_targets(
    session: Session,
    caller: Staff,
    zone_id: str | None = Query(None, max_length=64),
    year: int | None = Query(None, ge=2000, le=2100),
) -> list[TargetOut]:
    return await service.list_targets(session, caller, zone_id, year)


@router.post("/targets", status_code=201, tags=[T_TARGETS], summary="设定年度目标（覆盖原值并留痕）", response_model=TargetOut)
async def set_target(body: TargetIn, session: Session, caller: StatsAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: service.set_target(session, caller, body))


@router.get("/obligations", tags=[T_OBLIGATIONS], summary="报送义务名录", response_model=Page[ObligationOut])
async def list_obligations(
    session: Session,
    caller: StatsStaff,
    page: Pagination,
    zone_id: str | None = Query(None, max_length=64),
    uscc: str | None = Query(None, max_length=18),
) -> dict[str, Any]:
    items, total = await service.list_obligations(session, caller, page, zone_id, uscc)
    return {"items": items, "total": total, "page": page.page, "size": page.size}


@router.post("/obligations", status_code=201, tags=[T_OBLIGATIONS], summary="登记或更新企业报送义务", response_model=ObligationOut)
async def set_obligation(body: ObligationIn, session: Session, caller: StatsStaff, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: service.set_obligation(session, caller, body))


@router.post(
    "/zones/{zone_id}/values", status_code=201, tags=[T_ZONES], summary="录入功能区采集指标", response_model=ZoneValuesOut
)
async def enter_zone_values(zone_id: ZonePath, body: ZoneValuesIn, session: Session, caller: StatsStaff, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: service.enter_zone_values(session, caller, zone_id, body))


# --- summaries, series, exports ------------------------------------------------------------------------------


@router.get("/zones/{zone_id}/summary", tags=[T_SUMMARIES], summary="功能区统计汇总（同比、环比、目标完成、共建分成）", response_model=SummaryOut)
async def zone_summary(
    zone_id: ZonePath,
    session: Session,
    caller: SummaryReader,
    period: PeriodQuery,
) -> SummaryOut:
    return await summaries.zone_summary(session, caller, zone_id, period)


@router.get(
    "/zones/{zone_id}/summary/export",
    tags=[T_SUMMARIES],
    summary="导出统计汇总（CSV 或 Excel）",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
async def export_summary(
    zone_id: ZonePath,
    session: Session,
    caller: SummaryReader,
    period: str = Query(max_length=7, description="报告期"),
    format: Literal["csv", "xlsx"] = Query("xlsx", description="csv（UTF-8 带 BOM）或 xlsx"),
) -> Response:
    body, media, filename = await summaries.export_summary(session, caller, zone_id, period, format)
    ascii_name = filename.encode("ascii", "ignore").decode() or f"summary.{format}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("/zones/{zone_id}/series", tags=[T_SUMMARIES], summary="指标时间序列（图表用）", response_model=SeriesOut)
async def zone_series(
    zone_id: ZonePath,
    session: Session,
    ctx: Ctx,
    caller: SummaryReader,
    indicator: str = Query(max_length=64, description="指标代码"),
    from_: str = Query(alias="from", max_length=7, description="起始报告期（含）"),
    to: str = Query(max_length=7, description="截止报告期（含）"),
) -> SeriesOut:
    return await summaries.zone_series(session, caller, zone_id, indicator, from_, to, _settings(ctx).series_max_points)


class RebuildOut(BaseModel):
    zone_id: str | None
    aggregates: int


@router.post(
    "/admin/aggregates/rebuild", tags=[T_SUMMARIES], summary="由原始数据重建汇总（批量导入或修复后）", response_model=RebuildOut
)
async def rebuild_aggregates(session: Session, caller: StatsAdmin, zone_id: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    return await service.rebuild_aggregates(session, caller, zone_id)


# --- assessments ---------------------------------------------------------------------------------------------


@router.post("/assessments/{year}", status_code=201, tags=[T_ASSESSMENTS], summary="开展年度差异化考核并发布结果", response_model=AssessmentOut)
async def run_assessment(year: Year, session: Session, ctx: Ctx, caller: StatsAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: assessments.run_assessment(session, caller, year, _settings(ctx)))


@router.get("/assessments/{year}", tags=[T_ASSESSMENTS], summary="年度考核排名与考核系数", response_model=AssessmentOut)
async def get_assessment(year: Year, session: Session, ctx: Ctx, _: Staff) -> AssessmentOut:
    return await assessments.get_assessment(session, year, _settings(ctx))

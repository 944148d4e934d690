"""Request and response models of the statistics API (table models never leak).

Numbers in responses are JSON numbers rounded to the indicator's decimals (money in 万元, 2 dp);
numbers in requests are exact decimals with at most 4 places.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from chassis.validators import USCC

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
ZoneId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
PeriodText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")]
# Years as periods.Period accepts them (2000–2100): a month stored outside that range could not be read back.
MonthText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$")]
Value = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=18, decimal_places=4)]
PeriodTypeName = Literal["month", "quarter", "year"]
AggregationName = Literal["sum", "average", "latest"]
SourceName = Literal["direct_report", "zone_collected", "platform_event"]
DimensionName = Literal["industry_development", "supporting_functions", "policy_delivery"]
RuleKindName = Literal["required", "range", "comparison", "cumulative", "yoy_change"]
StatusName = Literal["submitted", "accepted", "returned"]

# --- zones ----------------------------------------------------------------------------------------


class PartnerOut(BaseModel):
    district: str = Field(description="共建方（区县）")
    share_percent: float = Field(description="分成比例（%）")


class ZoneOut(BaseModel):
    zone_id: str
    name: str
    type: str = Field(description="产业新城 / 特色街区 / 特色小镇")
    district: str
    partners: list[PartnerOut] = Field(description="合作共建各方及分成比例（非共建为空）")
    active: bool
    updated_at: datetime


# --- indicators and rules -------------------------------------------------------------------------


class IndicatorIn(BaseModel):
    code: Code = Field(description="指标代码（小写字母、数字、下划线）")
    name: str = Field(min_length=1, max_length=100, description="指标名称")
    unit: str = Field(min_length=1, max_length=20, description="计量单位，如 万元、个、%")
    period_type: PeriodTypeName = Field(description="报告期类型：month 月 / quarter 季 / year 年")
    aggregation: AggregationName = Field(description="汇总方式：sum 累加 / average 平均 / latest 取最新")
    source: SourceName = Field(description="来源：direct_report 联网直报 / zone_collected 功能区采集 / platform_event 平台事件派生")
    cumulative: bool = Field(False, description="是否为本年累计值（须按“取最新”汇总）")
    decimals: int = Field(2, ge=0, le=4, description="小数位数")
    higher_is_better: bool = Field(True, description="是否越高越好（平均办理时长等为否）")
    dimension: DimensionName | None = Field(None, description="计入的考核维度（不参与考核为空）")
    description: str | None = Field(None, max_length=500)


class IndicatorOut(BaseModel):
    code: str
    name: str
    unit: str
    period_type: PeriodTypeName
    period_type_label: str
    aggregation: AggregationName
    aggregation_label: str
    source: SourceName
    source_label: str
    cumulative: bool
    decimals: int
    higher_is_better: bool
    dimension: DimensionName | None
    dimension_label: str | None
    description: str | None


class RuleIn(BaseModel):
    indicator_code: Code = Field(description="规则所属指标")
    kind: RuleKindName = Field(
        description="required 必填 / range 取值范围 / comparison 指标间比较 / cumulative 累计不得小于上期 / yoy_change 同比超阈值须说明"
    )
    name: str | None = Field(None, max_length=100, description="规则名称（缺省为类型名）")
    min: Value | None = Field(None, description="range：最小值")
    max: Value | None = Field(None, description="range：最大值")
    operator: Literal["<=", "<", ">=", ">", "=="] | None = Field(None, description="comparison：本指标 与 系数×参照指标 的关系")
    other_indicator: Code | None = Field(None, description="comparison：参照指标代码")
    factor: Value | None = Field(None, description="comparison：参照指标的系数，缺省 1")
    threshold_percent: Value | None = Field(None, description="yoy_change：同比变动阈值（%），超过须填情况说明")


class RuleOut(BaseModel):
    id: int
    indicator_code: str
    indicator_name: str
    kind: RuleKindName
    kind_label: str
    name: str | None
    params: dict[str, Any]
    active: bool
    created_at: datetime


# --- reports --------------------------------------------------------------------------------------


class ReportIn(BaseModel):
    uscc: USCC = Field(description="填报企业统一社会信用代码")
    zone_id: ZoneId = Field(description="功能区编号")
    period: PeriodText = Field(description="报告期：2026-10（月报）、2026-Q3（季报）或 2026（年报）")
    values: dict[Code, Value] = Field(min_length=1, max_length=100, description="填报值，按指标代码")
    explanations: dict[Code, Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=dict, description="情况说明，按指标代码（同比大幅变动时必填）"
    )


class ResubmitIn(BaseModel):
    values: dict[Code, Value] = Field(min_length=1, max_length=100, description="重报的完整填报值")
    explanations: dict[Code, Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=dict)


class ReturnReasonIn(BaseModel):
    indicator_code: Code | None = Field(None, description="针对的指标（整张报表时为空）")
    reason: str = Field(min_length=1, max_length=500, description="退回原因")


class ReturnIn(BaseModel):
    reasons: list[ReturnReasonIn] = Field(min_length=1, max_length=50, description="退回原因（至少一条）")


class AcceptIn(BaseModel):
    note: str | None = Field(None, max_length=500, description="审核意见")


class ReviseIn(BaseModel):
    values: dict[Code, Value] = Field(min_length=1, max_length=100, description="要更正的指标及更正后的值")
    reason: str = Field(min_length=1, max_length=500, description="修订原因")


class ReturnReasonOut(BaseModel):
    indicator_code: str | None
    reason: str


class ReportOut(BaseModel):
    id: str
    zone_id: str
    uscc: str
    period: str
    period_label: str
    period_type: PeriodTypeName
    form_label: str = Field(description="月报 / 季报 / 年报")
    status: StatusName
    status_label: str
    version: int
    values: dict[str, float]
    explanations: dict[str, str]
    return_reasons: list[ReturnReasonOut] | None
    revision_count: int
    period_closed: bool
    submitted_at: datetime
    submitted_by: str
    reviewed_at: datetime | None
    reviewed_by: str | None


class TrailEntryOut(BaseModel):
    action: str = Field(description="submitted 报送 / resubmitted 重报 / accepted 通过 / returned 退回 / revised 修订")
    action_label: str
    version: int
    actor: str
    actor_kind: str
    at: datetime
    reasons: list[ReturnReasonOut] | None
    note: str | None


class RevisionOut(BaseModel):
    revision_no: int
    before: dict[str, float | None]
    after: dict[str, float | None]
    reason: str
    period_closed: bool
    revised_by: str
    revised_at: datetime


class ReportDetailOut(ReportOut):
    trail: list[TrailEntryOut]
    revisions: list[RevisionOut]


class DueItemOut(BaseModel):
    zone_id: str
    uscc: str
    enterprise_name: str | None
    period: str
    period_label: str
    form: PeriodTypeName
    form_label: str
    indicator_codes: list[str]
    status: Literal["missing", "returned"] = Field(description="missing 应报未报 / returned 已退回待重报")
    status_label: str
    due_date: date
    overdue: bool
    period_closed: bool
    report_id: str | None
    return_reasons: list[ReturnReasonOut]


class DueOut(BaseModel):
    as_of: date
    items: list[DueItemOut]


# --- obligations, targets, zone-collected values, periods ------------------------------------------


class ObligationIn(BaseModel):
    zone_id: ZoneId
    uscc: USCC
    enterprise_name: str | None = Field(None, max_length=200)
    indicator_codes: list[Code] = Field(min_length=1, max_length=100, description="应报指标")
    from_period: MonthText = Field(description="自哪个月起应报，如 2026-01")
    active: bool = True


class ObligationOut(BaseModel):
    id: int
    zone_id: str
    uscc: str
    enterprise_name: str | None
    indicator_codes: list[str]
    forms: list[str] = Field(description="应报表种：月报 / 季报 / 年报")
    from_period: str
    active: bool
    updated_at: datetime
    updated_by: str


class TargetIn(BaseModel):
    zone_id: ZoneId
    year: int = Field(ge=2000, le=2100)
    indicator_code: Code
    target_value: Value = Field(description="年度目标值（指标单位）")
    note: str | None = Field(None, max_length=500)


class TargetOut(BaseModel):
    zone_id: str
    year: int
    indicator_code: str
    indicator_name: str
    unit: str
    target_value: float
    note: str | None
    updated_at: datetime
    updated_by: str


class ZoneValuesIn(BaseModel):
    period: PeriodText
    values: dict[Code, Value] = Field(min_length=1, max_length=100, description="功能区采集指标的值")


class ZoneValuesOut(BaseModel):
    zone_id: str
    period: str
    values: dict[str, float]


class CloseIn(BaseModel):
    zone_id: ZoneId | None = Field(None, description="功能区（本区人员可省略）")


class PeriodClosureOut(BaseModel):
    zone_id: str
    period: str
    period_type: PeriodTypeName
    reports_accepted: int
    reports_returned: int
    closed_at: datetime
    closed_by: str


# --- summaries and series -------------------------------------------------------------------------


class PartnerShareOut(BaseModel):
    district: str
    share_percent: float
    value: float = Field(description="计入该共建方的值（最大余额法分配，合计等于总值）")


class IndicatorSummaryOut(BaseModel):
    code: str
    name: str
    unit: str
    period_type: PeriodTypeName
    aggregation: AggregationName
    source: SourceName
    source_label: str
    value: float | None = Field(description="本期值")
    previous_period: str
    previous_value: float | None = Field(description="上期值")
    period_on_period_percent: float | None = Field(description="环比（%）")
    same_period_last_year: str
    last_year_value: float | None = Field(description="上年同期值")
    year_on_year_percent: float | None = Field(description="同比（%）")
    year_to_date: float | None = Field(description="本年累计（截至本期末）")
    target: float | None = Field(description="年度目标")
    target_progress_percent: float | None = Field(description="目标完成率（%）")
    partner_shares: list[PartnerShareOut] | None = Field(description="共建各方分成（非共建或平均类指标为空）")


class SummaryOut(BaseModel):
    zone_id: str
    zone_name: str
    zone_type: str
    period: str
    period_label: str
    period_type: PeriodTypeName
    period_closed: bool
    partners: list[PartnerOut]
    indicators: list[IndicatorSummaryOut]


class SummaryByZoneOut(BaseModel):
    """Several zones' summaries for one period in one answer (the city dashboard asks once, not once per zone)."""

    items: list[SummaryOut] = Field(
        description="各功能区的统计汇总，按请求顺序（重复的功能区只出现一次）；每项与 GET /zones/{zone_id}/summary 对该功能区的回答相同"
    )
    missing: list[str] = Field(description="统计服务没有记录的功能区（单区汇总会答 404 的），按请求顺序")


class SeriesPointOut(BaseModel):
    period: str
    value: float | None


class SeriesOut(BaseModel):
    zone_id: str
    indicator_code: str
    indicator_name: str
    unit: str
    points: list[SeriesPointOut]


# --- assessments ----------------------------------------------------------------------------------


class IndicatorScoreOut(BaseModel):
    code: str
    value: float | None
    target: float | None
    basis: Literal["target", "best_zone", "no_data"] = Field(description="target 对照目标 / best_zone 对照最优功能区 / no_data 无数据")
    score: float


class ZoneAssessmentOut(BaseModel):
    zone_id: str
    zone_name: str
    zone_type: str
    score: float
    rank: int
    zones_ranked: int
    coefficient: float
    dimensions: dict[str, float]
    weights: dict[str, float]
    indicators: list[IndicatorScoreOut]
    computed_at: datetime
    computed_by: str


class AssessmentOut(BaseModel):
    year: int
    coefficient_rule: str
    zones: list[ZoneAssessmentOut]

"""The events the statistics service publishes on topic ``zone.stats`` (its public contract).

Values are JSON numbers in the indicator's unit (money in 万元), rounded to the indicator's
decimals. Every event carries ``zone_id``; report events are keyed by report id, a period closing
by ``<zone_id>:<period>``, an assessment by ``<zone_id>:<year>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chassis.events import EventCatalog

PeriodTypeName = Literal["month", "quarter", "year"]


class ReturnReason(BaseModel):
    indicator_code: str | None = Field(None, description="退回原因针对的指标代码（整张报表时为空）")
    reason: str = Field(description="退回原因")


class ValueChange(BaseModel):
    indicator_code: str = Field(description="指标代码")
    before: float | None = Field(description="修订前的值（原无此值时为空）")
    after: float | None = Field(description="修订后的值")


class ReportSubmitted(BaseModel):
    report_id: str = Field(description="报表编号")
    zone_id: str = Field(description="功能区编号")
    uscc: str = Field(description="填报企业统一社会信用代码")
    period: str = Field(description="报告期：2026-10、2026-Q3 或 2026")
    period_type: PeriodTypeName = Field(description="报告期类型（月报/季报/年报）")
    version: int = Field(description="报送版本，首报为 1，每次重报加 1")
    resubmission: bool = Field(description="是否为重报")
    values: dict[str, float] = Field(description="填报值，按指标代码")
    explanations: dict[str, str] = Field(description="情况说明，按指标代码")
    submitted_at: datetime = Field(description="报送时间")
    submitted_by: str = Field(description="报送账户")


class ReportAccepted(BaseModel):
    report_id: str = Field(description="报表编号")
    zone_id: str = Field(description="功能区编号")
    uscc: str = Field(description="填报企业统一社会信用代码")
    period: str = Field(description="报告期")
    period_type: PeriodTypeName = Field(description="报告期类型")
    version: int = Field(description="通过审核的版本")
    values: dict[str, float] = Field(description="通过审核的值，按指标代码（计入汇总）")
    accepted_at: datetime = Field(description="审核通过时间")
    accepted_by: str = Field(description="审核人")


class ReportReturned(BaseModel):
    report_id: str = Field(description="报表编号")
    zone_id: str = Field(description="功能区编号")
    uscc: str = Field(description="填报企业统一社会信用代码")
    period: str = Field(description="报告期")
    period_type: PeriodTypeName = Field(description="报告期类型")
    version: int = Field(description="被退回的版本")
    reasons: list[ReturnReason] = Field(description="退回原因")
    returned_at: datetime = Field(description="退回时间")
    returned_by: str = Field(description="审核人")


class ReportRevised(BaseModel):
    report_id: str = Field(description="报表编号")
    zone_id: str = Field(description="功能区编号")
    uscc: str = Field(description="填报企业统一社会信用代码")
    period: str = Field(description="报告期")
    period_type: PeriodTypeName = Field(description="报告期类型")
    revision_no: int = Field(description="第几次修订")
    changes: list[ValueChange] = Field(description="修订前后的值")
    reason: str = Field(description="修订原因")
    period_closed: bool = Field(description="修订时报告期是否已关账")
    revised_at: datetime = Field(description="修订时间")
    revised_by: str = Field(description="修订人")


class PeriodClosed(BaseModel):
    zone_id: str = Field(description="功能区编号")
    period: str = Field(description="关账的报告期")
    period_type: PeriodTypeName = Field(description="报告期类型")
    reports_accepted: int = Field(description="该期已审核通过的报表数")
    reports_returned: int = Field(description="该期仍处于退回状态的报表数")
    closed_at: datetime = Field(description="关账时间")
    closed_by: str = Field(description="关账人")


class AssessmentDimensions(BaseModel):
    industry_development: float = Field(description="产业发展维度得分（0–100）：主导产业和企业培育")
    supporting_functions: float = Field(description="功能配套维度得分（0–100）：生活配套和设施保障")
    policy_delivery: float = Field(description="政策保障维度得分（0–100）：政策导向和实际效率")


class AssessmentPublished(BaseModel):
    zone_id: str = Field(description="功能区编号")
    year: int = Field(description="考核年度")
    zone_type: Literal["产业新城", "特色街区", "特色小镇"] = Field(description="功能区类型（决定维度权重）")
    score: float = Field(description="加权总分（0–100）")
    rank: int = Field(description="名次（并列同名次）")
    zones_ranked: int = Field(description="参与排名的功能区数")
    coefficient: float = Field(description="园区考核系数（用于绩效薪酬，按名次在 0.8–1.2 间线性取值）")
    dimensions: AssessmentDimensions = Field(description="各维度得分")


EVENTS = EventCatalog("stats")

REPORT_SUBMITTED = EVENTS.define(
    "zone.stats.report.submitted.v1",
    ReportSubmitted,
    aggregate="report",
    description="企业报表已报送（首报或重报），待统计人员审核 / An enterprise filed or refiled a report",
)
REPORT_ACCEPTED = EVENTS.define(
    "zone.stats.report.accepted.v1",
    ReportAccepted,
    aggregate="report",
    description="报表审核通过，数据计入功能区汇总 / A report was accepted and counts in the zone's figures",
)
REPORT_RETURNED = EVENTS.define(
    "zone.stats.report.returned.v1",
    ReportReturned,
    aggregate="report",
    description="报表被退回修改，附退回原因 / A report was returned to the enterprise with reasons",
)
REPORT_REVISED = EVENTS.define(
    "zone.stats.report.revised.v1",
    ReportRevised,
    aggregate="report",
    description="已通过的报表被修订（含修订前后值、修订人与原因） / An accepted report was corrected",
)
PERIOD_CLOSED = EVENTS.define(
    "zone.stats.period.closed.v1",
    PeriodClosed,
    aggregate="period",
    description="功能区某报告期已关账，此后更正须走修订 / A zone's reporting period was closed",
)
ASSESSMENT_PUBLISHED = EVENTS.define(
    "zone.stats.assessment.published.v1",
    AssessmentPublished,
    aggregate="assessment",
    description="功能区年度差异化考核结果（得分、名次、考核系数） / A zone's yearly assessment result",
)

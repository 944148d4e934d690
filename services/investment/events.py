"""The events the investment service publishes on topic ``zone.investment`` (key = project id).

Every event carries ``zone_id`` in its data and as the CloudEvents ``zoneid`` attribute. Money is in
万元 as a JSON number with at most two decimals. Imports only pydantic, the standard library and
``chassis.events``: the gateway and the AsyncAPI generator import this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chassis.events import EventCatalog

StageName = Literal[
    "lead",
    "contacting",
    "negotiating",
    "signed",
    "registered",
    "land_secured",
    "under_construction",
    "in_operation",
    "dropped",
]
ChainRoleName = Literal["补链", "强链", "扩链"]
FundingSourceName = Literal["domestic_outside_city", "foreign", "local"]
FundsSourceName = Literal["domestic_outside_city", "foreign"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectSnapshot(_Data):
    """A project as it stands after a create or an update."""

    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    name: str = Field(description="项目名称")
    stage: StageName = Field(description="当前阶段")
    investor: str = Field(description="投资方")
    uscc: str | None = Field(description="项目企业统一社会信用代码（注册落地后才有）")
    chain_code: str | None = Field(description="所属产业链代码")
    node_id: str | None = Field(None, description="所属产业链环节 ID")
    chain_role: ChainRoleName | None = Field(description="链上作用：补链 / 强链 / 扩链")
    sector_code: str | None = Field(None, description="所属细分行业代码（准入目录）")
    agreed_investment_wan: float | None = Field(description="协议投资额（万元）")
    funding_source: FundingSourceName | None = Field(None, description="资金来源：市外内资 / 外资 / 本地")
    land_area_mu: float | None = Field(None, description="用地面积（亩）")
    key_project: bool = Field(description="是否重点项目")
    leader: str | None = Field(None, description="联系领导")


class ProjectCreated(ProjectSnapshot):
    created_at: datetime = Field(description="录入时间")


class ProjectUpdated(ProjectSnapshot):
    changed_fields: list[str] = Field(description="本次修改的字段")
    updated_at: datetime = Field(description="修改时间")


class ProjectStageChanged(_Data):
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    name: str = Field(description="项目名称")
    from_stage: StageName = Field(description="原阶段")
    to_stage: StageName = Field(description="新阶段")
    changed_at: datetime = Field(description="进入新阶段的时间（可为补录的日期 00:00，北京时间）")
    effective_on: date = Field(description="进入新阶段的日期（北京时间）")
    previous_stage_entered_at: datetime = Field(description="进入原阶段的时间")
    days_in_previous_stage: int = Field(description="在原阶段停留的天数（自然日）")
    reason: str | None = Field(None, description="终止原因（仅终止时）")


class ProjectSigned(_Data):
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    name: str = Field(description="项目名称")
    investor: str = Field(description="投资方")
    uscc: str | None = Field(None, description="项目企业统一社会信用代码（如已知）")
    agreed_investment_wan: float = Field(description="协议投资额（万元）")
    funding_source: FundingSourceName = Field(description="资金来源：市外内资 / 外资 / 本地")
    signed_on: date = Field(description="签约日期")
    chain_code: str | None = Field(description="所属产业链代码")
    chain_role: ChainRoleName | None = Field(None, description="链上作用")
    key_project: bool = Field(description="是否重点项目")


class ProjectDropped(_Data):
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    name: str = Field(description="项目名称")
    from_stage: StageName = Field(description="终止前所处阶段")
    reason: str = Field(description="终止原因")
    dropped_on: date = Field(description="终止日期")
    agreed_investment_wan: float | None = Field(description="协议投资额（万元）")
    chain_code: str | None = Field(description="所属产业链代码")
    key_project: bool = Field(description="是否重点项目")


class AdmissionCriterion(_Data):
    criterion: str = Field(description="准入指标代码，如 investment_intensity")
    label: str = Field(description="指标名称，如 投资强度")
    unit: str = Field(description="单位，如 万元/亩")
    comparison: Literal["min", "max", "listed"] = Field(description="min：实际值不低于要求；max：不高于要求；listed：须列入目录")
    required: float | None = Field(description="要求值")
    actual: float | None = Field(description="实际值（缺少数据时为空）")
    passed: bool = Field(description="是否达标")
    reason: str | None = Field(description="未达标原因（缺少数据时说明缺什么）")


class AdmissionChecked(_Data):
    check_id: str = Field(description="评估记录 ID")
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    uscc: str | None = Field(description="项目企业统一社会信用代码")
    sector_code: str = Field(description="评估所依据的细分行业代码")
    catalog_entry_id: str | None = Field(description="所依据的准入目录条目 ID（行业未列入目录时为空）")
    passed: bool = Field(description="是否符合准入条件（符合者可适用备案承诺制）")
    criteria: list[AdmissionCriterion] = Field(description="逐项评估结果")
    checked_at: datetime = Field(description="评估时间")


class FundsRecorded(_Data):
    record_id: str = Field(description="到位资金记录 ID")
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    period: str = Field(description="统计期 YYYY-MM", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    amount_wan: float = Field(description="到位金额（万元）", gt=0)
    source: FundsSourceName = Field(description="来源：domestic_outside_city 市外内资 / foreign 外资")
    uscc: str | None = Field(None, description="项目企业统一社会信用代码（如已注册）")
    recorded_at: datetime = Field(description="录入时间")


#: Added to the three issue events after v1 was published: optional, so earlier events (without it)
#: still match the schema; ``null`` when the issue was raised without a code.
DEPARTMENT_CODE_DESCRIPTION = "责任部门代码（功能区人事部门代码，即该部门工作人员令牌的 dept；未指定为空）"


class IssueRaised(_Data):
    issue_id: str = Field(description="调度事项 ID")
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    title: str = Field(description="问题概要")
    department: str = Field(description="责任部门（吹哨对象）名称")
    department_code: str | None = Field(None, description=DEPARTMENT_CODE_DESCRIPTION)
    due_date: date = Field(description="办结期限")
    raised_by: str = Field(description="提出人")
    raised_at: datetime = Field(description="提出时间")


class IssueResolved(_Data):
    issue_id: str = Field(description="调度事项 ID")
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    department: str = Field(description="责任部门名称")
    department_code: str | None = Field(None, description=DEPARTMENT_CODE_DESCRIPTION)
    resolution: str = Field(description="解决情况")
    due_date: date = Field(description="办结期限")
    resolved_at: datetime = Field(description="解决时间")
    on_time: bool = Field(description="是否在期限内解决")


class IssueEscalated(_Data):
    issue_id: str = Field(description="调度事项 ID")
    project_id: str = Field(description="项目 ID")
    zone_id: str = Field(description="所属功能区 ID")
    department: str = Field(description="原责任部门名称")
    department_code: str | None = Field(None, description=DEPARTMENT_CODE_DESCRIPTION)
    escalated_to: str = Field(description="升级至（如 分管领导、区级部门）")
    reason: str = Field(description="升级原因")
    escalation_level: int = Field(description="升级层级（第几次升级）", ge=1)
    due_date: date = Field(description="办结期限")
    overdue: bool = Field(description="升级时是否已超期")
    escalated_at: datetime = Field(description="升级时间")


EVENTS = EventCatalog("investment")

PROJECT_CREATED = EVENTS.define(
    "zone.investment.project.created.v1",
    ProjectCreated,
    aggregate="project",
    description="招商项目已录入 / An investment project was recorded (stage lead).",
)
PROJECT_UPDATED = EVENTS.define(
    "zone.investment.project.updated.v1",
    ProjectUpdated,
    aggregate="project",
    description="招商项目信息已修改 / An investment project's details changed.",
)
PROJECT_STAGE_CHANGED = EVENTS.define(
    "zone.investment.project.stage_changed.v1",
    ProjectStageChanged,
    aggregate="project",
    description="招商项目进入新阶段（含终止） / A project moved to its next stage (or was dropped), with the days spent in the previous one.",
)
PROJECT_SIGNED = EVENTS.define(
    "zone.investment.project.signed.v1",
    ProjectSigned,
    aggregate="project",
    description="招商项目已签约 / A project was signed: counts toward newly signed projects and agreed investment.",
)
PROJECT_DROPPED = EVENTS.define(
    "zone.investment.project.dropped.v1",
    ProjectDropped,
    aggregate="project",
    description="招商项目已终止 / A project was dropped, with the reason.",
)
PROJECT_ADMISSION_CHECKED = EVENTS.define(
    "zone.investment.project.admission_checked.v1",
    AdmissionChecked,
    aggregate="project",
    description="项目准入评估已完成 / A project was checked against the zone's admission catalog; passing qualifies it for filing with commitment (备案承诺制).",
)
FUNDS_RECORDED = EVENTS.define(
    "zone.investment.funds.recorded.v1",
    FundsRecorded,
    aggregate="project",
    description="实际到位资金已录入 / Funds in place were recorded for a period (实际到位市外内资 / 实际利用外资); keyed by project id.",
)
ISSUE_RAISED = EVENTS.define(
    "zone.investment.issue.raised.v1",
    IssueRaised,
    aggregate="project",
    description="项目调度事项已提出（开发区吹哨） / A blocker on a project was raised to a department; keyed by project id.",
)
ISSUE_RESOLVED = EVENTS.define(
    "zone.investment.issue.resolved.v1",
    IssueResolved,
    aggregate="project",
    description="项目调度事项已解决 / A coordination issue was resolved; keyed by project id.",
)
ISSUE_ESCALATED = EVENTS.define(
    "zone.investment.issue.escalated.v1",
    IssueEscalated,
    aggregate="project",
    description="项目调度事项已升级 / A coordination issue was escalated; keyed by project id.",
)

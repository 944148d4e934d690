"""Request and response models of the investment API (table models never leak, never take input).

Money is in 万元: requests take a decimal with at most two decimals (a JSON number or string),
responses give a JSON number rounded to two decimals. Areas are in 亩, energy in 吨标准煤 (tce).
Unknown request fields are refused (422 naming the field).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from chassis.validators import USCC
from services.investment.domain import (
    ChainRole,
    FundingSource,
    FundsSource,
    IssueAction,
    IssueStatus,
    NodePosition,
    NodeStatus,
    Stage,
    parse_period,
)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能包含空字符 / must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)

ZoneId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", max_length=64)
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
]
#: A department of the zone, by the HR service's department code — the code its staff's tokens carry
#: as the ``dept`` claim (e.g. ``planning``). The pattern is HR's ``CODE_PATTERN``
#: (services/hr/schemas.py), copied rather than imported because a service never imports another:
#: every code HR accepts can be named here, and nothing else.
DEPARTMENT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
DepartmentCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=DEPARTMENT_CODE_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), NoNul]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoNul]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=36), NoNul]
Wan = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2, description="万元，最多两位小数")]
Mu = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, description="亩，最多两位小数")]
Tce = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, description="吨标准煤，最多两位小数")]
EnergyRatio = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=4, description="吨标准煤/万元，最多四位小数")]


def _period(value: str) -> str:
    parse_period(value)
    return value


Period = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_period)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_duplicates(values: list[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


# --- chains ---------------------------------------------------------------------------------------


class NodeIn(_In):
    code: Code = Field(description="环节代码，链内唯一，如 ic.design")
    name: ShortText = Field(description="环节名称，如 集成电路设计")
    position: NodePosition = Field(description="产业链位置：upstream 上游 / midstream 中游 / downstream 下游")
    description: Text | None = Field(None, description="说明")
    sort_order: int = Field(0, ge=0, le=10_000, description="展示顺序")


class ChainIn(_In):
    code: Code = Field(description="产业链代码，全市唯一，如 ic")
    name: ShortText = Field(description="产业链名称，如 电子信息（集成电路）")
    description: Text | None = Field(None, description="说明")
    nodes: list[NodeIn] = Field(default_factory=list, max_length=200, description="产业链环节")

    @field_validator("nodes")
    @classmethod
    def _unique_codes(cls, nodes: list[NodeIn]) -> list[NodeIn]:
        codes = [n.code for n in nodes]
        if len(codes) != len(set(codes)):
            raise ValueError("环节代码不能重复 / node codes must be unique within a chain")
        return nodes


class NodeStatusIn(_In):
    status: NodeStatus = Field(description="本功能区在该环节的情况：present 已有 / weak 薄弱 / missing 缺失")
    zone_id: ZoneId | None = Field(None, description="功能区（功能区工作人员默认本区；市级人员必填）")
    note: Text | None = Field(None, description="说明，如 现有企业")


class NodeStatusOut(BaseModel):
    zone_id: str
    status: NodeStatus
    status_label: str
    derived_chain_role: ChainRole | None = Field(description="在该环节招引项目的链上作用")
    note: str | None
    updated_at: datetime


class NodeOut(BaseModel):
    id: str
    chain_id: str
    code: str
    name: str
    position: NodePosition
    position_label: str
    description: str | None
    sort_order: int
    statuses: list[NodeStatusOut] = Field(description="各功能区在该环节的情况（功能区工作人员只看本区）")


class ChainOut(BaseModel):
    id: str
    code: str
    name: str
    description: str | None
    created_at: datetime
    nodes: list[NodeOut]


# --- target companies -----------------------------------------------------------------------------


class TargetIn(_In):
    node_id: RecordId = Field(description="产业链环节 ID")
    company_name: Name = Field(description="企业名称")
    kind: Literal["key", "supporting"] = Field(description="key 重点企业 / supporting 配套企业")
    uscc: USCC | None = Field(None, description="统一社会信用代码（如已知）")
    headquarters: ShortText | None = Field(None, description="总部所在地")
    note: Text | None = Field(None, description="招引思路、联系情况")
    zone_id: ZoneId | None = Field(None, description="功能区（功能区工作人员默认本区；市级人员必填）")


class TargetOut(BaseModel):
    id: str
    zone_id: str
    chain_code: str
    node_id: str
    node_name: str
    company_name: str
    kind: Literal["key", "supporting"]
    kind_label: str
    uscc: str | None
    headquarters: str | None
    note: str | None
    created_at: datetime


# --- admission catalog ----------------------------------------------------------------------------


class _Thresholds(_In):
    min_total_investment_wan: Wan | None = Field(None, description="最低协议投资额（万元）")
    min_investment_intensity_wan_per_mu: Wan | None = Field(None, description="最低投资强度（万元/亩）")
    min_output_per_mu_wan: Wan | None = Field(None, description="最低亩均产值（万元/亩·年）")
    min_tax_per_mu_wan: Wan | None = Field(None, description="最低亩均税收（万元/亩·年）")
    max_energy_per_output_tce_per_wan: EnergyRatio | None = Field(None, description="最高单位产值能耗（吨标准煤/万元）")


THRESHOLD_FIELDS = tuple(_Thresholds.model_fields)


class CatalogEntryIn(_Thresholds):
    sector_code: Code = Field(description="细分行业代码，如 ic_design")
    sector_name: ShortText = Field(description="细分行业名称，如 集成电路设计")
    chain_code: Code | None = Field(None, description="所属产业链代码（主导产业）")
    note: Text | None = Field(None, description="说明")
    zone_id: ZoneId | None = Field(None, description="功能区（功能区工作人员默认本区；市级人员必填）")

    @model_validator(mode="after")
    def _some_threshold(self) -> CatalogEntryIn:
        if all(getattr(self, f) is None for f in THRESHOLD_FIELDS):
            raise ValueError("至少设置一项准入门槛 / set at least one threshold")
        return self


class CatalogEntryPatch(_Thresholds):
    sector_name: ShortText | None = None
    chain_code: Code | None = None
    note: Text | None = None


class CatalogEntryOut(BaseModel):
    id: str
    zone_id: str
    sector_code: str
    sector_name: str
    chain_code: str | None
    min_total_investment_wan: float | None
    min_investment_intensity_wan_per_mu: float | None
    min_output_per_mu_wan: float | None
    min_tax_per_mu_wan: float | None
    max_energy_per_output_tce_per_wan: float | None
    note: str | None
    updated_at: datetime


# --- projects -------------------------------------------------------------------------------------


class _ProjectFields(_In):
    uscc: USCC | None = Field(None, description="项目企业统一社会信用代码（注册落地时必填）")
    chain_code: Code | None = Field(None, description="所属产业链代码（给了环节时可省略）")
    node_id: RecordId | None = Field(None, description="所属产业链环节 ID")
    chain_role: ChainRole | None = Field(None, description="链上作用 补链/强链/扩链；不填则按本区该环节情况推定")
    sector_code: Code | None = Field(None, description="细分行业代码（准入评估依据）")
    agreed_investment_wan: Wan | None = Field(None, description="协议投资额（万元）")
    funding_source: FundingSource | None = Field(None, description="资金来源：domestic_outside_city 市外内资 / foreign 外资 / local 本地")
    land_area_mu: Mu | None = Field(None, description="用地面积（亩）")
    expected_annual_output_wan: Wan | None = Field(None, description="达产后预计年产值（万元）")
    expected_annual_tax_wan: Wan | None = Field(None, description="达产后预计年税收（万元）")
    expected_annual_energy_tce: Tce | None = Field(None, description="达产后预计年综合能耗（吨标准煤）")
    leader: ShortText | None = Field(None, description="联系领导（领导联系制）")
    agency: Name | None = Field(None, description="第三方招商机构")
    note: LongText | None = Field(None, description="备注")


class ProjectIn(_ProjectFields):
    name: Name = Field(description="项目名称")
    investor: Name = Field(description="投资方")
    key_project: bool = Field(False, description="是否重点项目")
    task_team: list[ShortText] = Field(default_factory=list, max_length=30, description="专班成员")
    policy_measures: list[Text] = Field(default_factory=list, max_length=50, description="一企一策措施")
    zone_id: ZoneId | None = Field(None, description="功能区（功能区工作人员默认本区；市级人员必填）")
    lead_on: date | None = Field(None, description="获取线索日期（补录历史项目时填写，默认今天）")

    _dedupe = field_validator("task_team", "policy_measures")(_no_duplicates)


class ProjectPatch(_ProjectFields):
    """Only the fields sent change; ``null`` clears an optional field."""

    name: Name | None = None
    investor: Name | None = None
    key_project: bool | None = None
    task_team: list[ShortText] | None = Field(None, max_length=30)
    policy_measures: list[Text] | None = Field(None, max_length=50)


class TransitionIn(_In):
    to_stage: Stage = Field(description="目标阶段：下一阶段，或 dropped 终止")
    reason: Text | None = Field(None, description="终止原因（终止时必填）")
    effective_on: date | None = Field(None, description="进入新阶段的日期（默认今天；不早于进入当前阶段的日期）")
    uscc: USCC | None = Field(None, description="注册落地时登记的统一社会信用代码")
    land_area_mu: Mu | None = Field(None, description="供地时确定的用地面积（亩）")


class StageChangeOut(BaseModel):
    from_stage: Stage | None
    to_stage: Stage
    to_stage_label: str
    changed_at: datetime
    effective_on: date
    days_in_previous_stage: int | None
    reason: str | None
    actor: str


class ProjectOut(BaseModel):
    id: str
    zone_id: str
    name: str
    investor: str
    uscc: str | None
    chain_code: str | None
    node_id: str | None
    chain_role: ChainRole | None
    chain_role_derived: bool = Field(description="链上作用是否按环节情况推定")
    sector_code: str | None
    agreed_investment_wan: float | None
    funding_source: FundingSource | None
    land_area_mu: float | None
    expected_annual_output_wan: float | None
    expected_annual_tax_wan: float | None
    expected_annual_energy_tce: float | None
    key_project: bool
    leader: str | None
    task_team: list[str]
    policy_measures: list[str]
    agency: str | None
    note: str | None
    stage: Stage
    stage_label: str
    stage_entered_at: datetime
    days_in_stage: int = Field(description="在当前阶段已停留的天数")
    allowed_next_stages: list[Stage]
    signed_on: date | None
    dropped_from_stage: Stage | None
    drop_reason: str | None
    admission_passed: bool | None = Field(description="最近一次准入评估是否通过（未评估为空）")
    admission_checked_at: datetime | None
    stage_dates: dict[str, date] = Field(description="进入各阶段的日期（北京时间）")
    stage_history: list[StageChangeOut]
    created_at: datetime
    updated_at: datetime


class TransitionOut(BaseModel):
    project: ProjectOut
    transition: StageChangeOut


# --- admission check ------------------------------------------------------------------------------


class CriterionOut(BaseModel):
    criterion: str
    label: str
    unit: str
    comparison: Literal["min", "max", "listed"]
    required: float | None
    actual: float | None
    passed: bool
    reason: str | None


class AdmissionCheckOut(BaseModel):
    id: str
    project_id: str
    zone_id: str
    sector_code: str
    catalog_entry_id: str | None
    passed: bool
    criteria: list[CriterionOut]
    checked_at: datetime
    checked_by: str


# --- funds in place -------------------------------------------------------------------------------


class FundsIn(_In):
    period: Period = Field(description="统计期 YYYY-MM（不晚于本月）")
    amount_wan: Wan = Field(description="到位金额（万元，大于 0）")
    source: FundsSource = Field(description="domestic_outside_city 市外内资 / foreign 外资")
    note: Text | None = Field(None, description="说明")


class FundsOut(BaseModel):
    id: str
    project_id: str
    zone_id: str
    period: str
    amount_wan: float
    source: FundsSource
    source_label: str
    note: str | None
    recorded_at: datetime
    recorded_by: str


class FundsListOut(BaseModel):
    items: list[FundsOut]
    total_wan: float
    by_source: dict[str, float]


# --- coordination issues --------------------------------------------------------------------------


class IssueIn(_In):
    title: Name = Field(description="问题概要")
    description: LongText | None = Field(None, description="问题详情")
    department: ShortText = Field(description="责任部门（吹哨对象）名称，用于显示，如 芯谷规划建设局")
    department_code: DepartmentCode | None = Field(
        None,
        description="责任部门代码（人事服务中的本功能区部门代码，如 planning）：该部门工作人员（令牌 dept 相同）可报到、解决、升级；"
        "不填则只有招商人员可办理",
    )
    due_date: date = Field(description="办结期限（不早于今天）")


class IssueAcknowledgeIn(_In):
    note: Text | None = Field(None, description="报到说明")


class IssueResolveIn(_In):
    resolution: LongText = Field(description="解决情况")


class IssueEscalateIn(_In):
    escalated_to: ShortText = Field(description="升级至，如 分管领导、区政府")
    reason: Text = Field(description="升级原因")
    due_date: date | None = Field(None, description="新的办结期限（不填则沿用）")


class IssueOut(BaseModel):
    id: str
    project_id: str
    project_name: str
    zone_id: str
    title: str
    description: str | None
    department: str = Field(description="责任部门名称")
    department_code: str | None = Field(description="责任部门代码（令牌 dept 与之相同的工作人员可办理）；未指定为空")
    due_date: date
    status: IssueStatus
    status_label: str
    overdue: bool
    days_overdue: int
    escalation_level: int
    escalated_to: str | None
    escalation_reason: str | None
    resolution: str | None
    allowed_actions: list[IssueAction]
    raised_by: str
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None


# --- pipeline summary -----------------------------------------------------------------------------


class PipelineStageOut(BaseModel):
    stage: Stage
    label: str
    count: int = Field(description="当前处于该阶段的项目数")
    agreed_investment_wan: float = Field(description="当前处于该阶段项目的协议投资额合计（万元）")
    reached: int = Field(description="曾到达该阶段的项目数（含已进入后续阶段或在此后终止的）")
    median_days: float | None = Field(description="已结束的停留的天数中位数")
    finished_stays: int = Field(description="计算中位数所用的已结束停留次数")


class ConversionOut(BaseModel):
    from_stage: Stage
    to_stage: Stage
    reached_from: int
    reached_to: int
    rate: float | None = Field(description="转化率 = reached_to / reached_from（无基数时为空）")


class GroupOut(BaseModel):
    key: str | None = Field(description="产业链代码或链上作用；未归类为空")
    label: str
    count: int
    agreed_investment_wan: float
    by_stage: dict[str, int]


class PipelineSummaryOut(BaseModel):
    zone_id: str | None = Field(description="统计范围：功能区 ID；全市为空")
    as_of: datetime
    filters: dict[str, Any]
    total_projects: int = Field(description="项目总数（含已终止）")
    total_agreed_investment_wan: float = Field(description="协议投资额合计（万元，含已终止）")
    active_projects: int = Field(description="在推进的项目数（不含已终止）")
    active_agreed_investment_wan: float = Field(description="在推进项目的协议投资额合计（万元）")
    stages: list[PipelineStageOut]
    conversions: list[ConversionOut]
    by_chain: list[GroupOut]
    by_chain_role: list[GroupOut]


class PipelineSummaryByZoneOut(BaseModel):
    """Several zones' pipeline summaries in one answer (the city dashboard reads them all at once)."""

    items: list[PipelineSummaryOut] = Field(
        description="各功能区的汇总，按请求顺序（重复的功能区只出现一次）；每项与单个功能区的汇总相同"
    )
    missing: list[str] = Field(
        description="单个功能区汇总会答 404 的功能区（招商服务不维护功能区名录，始终为空；为与其他服务的批量接口一致而保留）"
    )

"""Request and response models of the HR API. Table models never leak and never take input.

Money is in 万元, a JSON number with 2 decimals (``Wan``); weights and scores are percentages
(0–100) with up to 2 decimals; dates are ``YYYY-MM-DD`` (Asia/Shanghai); times are ISO 8601 with
their offset. National ID numbers are masked (first 6 + last 4) unless the caller is an HR
administrator (``national_id_masked`` says which).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from chassis.pagination import Page
from chassis.validators import NationalId
from services.hr.domain import Category, CycleKind, EndReason, Grade, Identity

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
GRADE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_float(value: Decimal) -> float:
    return float(value)


UtcDateTime = Annotated[datetime, AfterValidator(_aware)]
#: An amount in 万元 (2 decimals), a JSON number.
Wan = Annotated[Decimal, PlainSerializer(_as_float, return_type=float)]
#: A weight, score or coefficient, a JSON number.
Number = Annotated[Decimal, PlainSerializer(_as_float, return_type=float)]

WanIn = Annotated[Decimal, Field(ge=0, le=100000, max_digits=12, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Coefficient = Annotated[Decimal, Field(ge=0, le=5, max_digits=6, decimal_places=3)]
#: An input date, within the years the platform deals with (no term or contract runs past them).
Day = Annotated[date, Field(ge=date(1949, 10, 1), le=date(2099, 12, 31))]
Code = Annotated[str, Field(pattern=CODE_PATTERN, description="代码：字母、数字、-、_，最长 32 位")]
Text = Annotated[str, Field(min_length=1, max_length=100)]


def _never_crash(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # python-stdnum raises KeyError (not a ValidationError) for region codes without a county, e.g.
    # 510109…; that must be a 422 naming the field, not a 500.
    try:
        return handler(value)
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(
            "居民身份证号码无效（地区码无法识别） / invalid resident identity card number: unknown region"
        ) from exc


NationalIdIn = Annotated[NationalId, WrapValidator(_never_crash)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- departments and quota ----------------------------------------------------------------------


class DepartmentIn(Input):
    code: Code = Field(description="部门代码（部门负责人令牌的 dept 声明即为此代码）")
    name: Text = Field(description="部门名称，如 规划建设部")
    allocation: int = Field(0, ge=0, le=100000, description="分配的员额")
    coefficient: Coefficient = Field(Decimal("1.000"), description="部门考核系数（绩效工资）")


class DepartmentPatch(Input):
    name: Text | None = None
    coefficient: Coefficient | None = Field(None, description="部门考核系数")


class DepartmentOut(BaseModel):
    id: str
    zone_id: str
    code: str
    name: str
    allocation: int = Field(description="员额")
    posts: int = Field(description="本部门岗位职数之和")
    filled: int = Field(description="在聘人数")
    vacancies: int = Field(description="空缺员额（员额 − 在聘）")
    coefficient: Number = Field(description="部门考核系数")
    created_at: UtcDateTime


class AllocationIn(Input):
    department_id: str = Field(min_length=1, max_length=36)
    allocation: int = Field(ge=0, le=100000)


class QuotaIn(Input):
    total: int = Field(ge=0, le=100000, description="员额总数")
    allocations: list[AllocationIn] = Field(
        default_factory=list, max_length=500, description="各部门员额；未列出的部门保持原值"
    )

    @field_validator("allocations")
    @classmethod
    def _unique_departments(cls, value: list[AllocationIn]) -> list[AllocationIn]:
        ids = [a.department_id for a in value]
        if len(ids) != len(set(ids)):
            raise ValueError("同一部门不能重复分配 / a department appears twice")
        return value


class QuotaDepartment(BaseModel):
    department_id: str
    code: str
    name: str
    allocation: int
    posts: int
    filled: int
    vacancies: int
    posts_over_allocation: int = Field(description="岗位职数超出员额的数量（员额核减后可能出现，此时不能再聘任）")


class QuotaOut(BaseModel):
    zone_id: str
    total: int = Field(description="员额总数")
    allocated: int = Field(description="已分配到部门的员额")
    unallocated: int = Field(description="未分配的员额")
    filled: int = Field(description="在聘总人数")
    departments: list[QuotaDepartment]
    updated_at: UtcDateTime | None
    updated_by: str | None


class DepartmentHeadcountOut(BaseModel):
    department_id: str
    code: str
    name: str
    allocation: int
    posts: int
    filled: int
    vacancies: int


class HeadcountOut(BaseModel):
    zone_id: str
    as_of: UtcDateTime
    total_quota: int
    total_filled: int
    total_vacancies: int
    departments: list[DepartmentHeadcountOut]


class HeadcountByZoneOut(BaseModel):
    """Several zones' headcount in one answer, for the city dashboard (one request instead of one per zone)."""

    items: list[HeadcountOut] = Field(
        description="各功能区的员额、在聘与空缺，按请求顺序（重复的功能区只出现一次）；每项与 GET /headcount 对该功能区的回答相同"
    )
    missing: list[str] = Field(
        description="单个查询（GET /headcount）会答 404 的功能区；目前总为空：未设员额的功能区按 0 作答"
    )


# --- pay bands and positions ---------------------------------------------------------------------


class PayBandIn(Input):
    label: Text = Field(description="职级名称，如 三级主管")
    monthly_min_wan: WanIn = Field(description="月岗位工资下限（万元）")
    monthly_max_wan: WanIn = Field(description="月岗位工资上限（万元）")
    annual_performance_base_wan: WanIn = Field(description="年度绩效工资基数（万元；季度考核取四分之一）")

    @model_validator(mode="after")
    def _band_is_ordered(self) -> PayBandIn:
        if self.monthly_max_wan < self.monthly_min_wan:
            raise ValueError("薪酬带上限不能低于下限 / the band's maximum is below its minimum")
        return self


class PayBandOut(BaseModel):
    zone_id: str
    grade: str = Field(description="职级代码")
    label: str
    monthly_min_wan: Wan
    monthly_max_wan: Wan
    annual_performance_base_wan: Wan
    updated_at: UtcDateTime


class PositionIn(Input):
    department_id: str = Field(min_length=1, max_length=36)
    title: Text = Field(description="岗位名称")
    category: Category = Field(description="岗位类别：management 管理类 / professional 专业技术类 / support 综合辅助类")
    grade: str = Field(pattern=GRADE_PATTERN, description="职级代码（须已设薪酬带）")
    posts: int = Field(ge=1, le=1000, description="职数")


class PositionPatch(Input):
    title: Text | None = None
    grade: str | None = Field(None, pattern=GRADE_PATTERN)
    posts: int | None = Field(None, ge=1, le=1000)


class PayBandBrief(BaseModel):
    grade: str
    label: str
    monthly_min_wan: Wan
    monthly_max_wan: Wan


class PositionOut(BaseModel):
    id: str
    zone_id: str
    department_id: str
    department_code: str
    department_name: str
    title: str
    category: Category
    category_label: str
    grade: str
    pay_band: PayBandBrief
    posts: int
    filled: int
    vacancies: int = Field(description="空缺职数")
    created_at: UtcDateTime
    updated_at: UtcDateTime


# --- staff and appointments ------------------------------------------------------------------------


class StaffIn(Input):
    name: str = Field(min_length=1, max_length=50, description="姓名")
    national_id: NationalIdIn = Field(description="居民身份证号码（18 位，校验位正确）")
    identity: Identity = Field(
        description="身份：civil_servant 公务员 / institution 事业人员（均为锁定身份）/ contract 社会化聘用 / seconded 派驻"
    )
    original_establishment: str | None = Field(None, max_length=200, description="原编制单位（锁定身份人员必填）")
    contract_start: Day | None = Field(None, description="劳动合同起始（社会化聘用必填）")
    contract_end: Day | None = Field(None, description="劳动合同截止（社会化聘用必填）")
    sending_unit: str | None = Field(None, max_length=200, description="派出单位（派驻人员必填）")
    secondment_end: Day | None = Field(None, description="派驻期满日（可选）")
    account: str | None = Field(None, min_length=1, max_length=255, description="平台账户名（本人据此查看自己的档案）")


class StaffPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=50)
    original_establishment: str | None = Field(None, max_length=200)
    contract_start: Day | None = None
    contract_end: Day | None = None
    sending_unit: str | None = Field(None, max_length=200)
    secondment_end: Day | None = None
    account: str | None = Field(None, min_length=1, max_length=255)


class AppointmentBrief(BaseModel):
    id: str
    position_id: str
    position_title: str
    department_id: str
    department_name: str
    grade: str
    term_start: date
    term_end: date


class StaffOut(BaseModel):
    id: str
    zone_id: str
    name: str
    national_id: str = Field(description="身份证号；非人事管理员看到的是脱敏值（前 6 后 4）")
    national_id_masked: bool
    identity: Identity
    identity_label: str
    identity_locked: bool = Field(description="锁定身份（公务员、事业人员）")
    original_establishment: str | None
    contract_start: date | None
    contract_end: date | None
    sending_unit: str | None
    secondment_end: date | None
    account: str | None
    current_appointment: AppointmentBrief | None
    created_at: UtcDateTime


class AppointmentIn(Input):
    staff_id: str = Field(min_length=1, max_length=36)
    position_id: str = Field(min_length=1, max_length=36)
    term_start: Day
    term_end: Day


class EndAppointmentIn(Input):
    reason: EndReason = Field(
        description="term_end 任期届满 / evaluation 考核不合格解聘 / transfer 调任 / resignation 辞职 / "
        "contract_end 合同期满 / secondment_end 派驻期满 / other 其他"
    )
    ended_on: Day | None = Field(None, description="最后在岗日（默认今天）")
    note: str | None = Field(None, max_length=500)


class AppointmentOut(BaseModel):
    id: str
    zone_id: str
    staff_id: str
    staff_name: str
    position_id: str
    position_title: str
    department_id: str
    department_name: str
    grade: str
    opening_id: str | None
    identity: Identity
    identity_label: str
    original_establishment: str | None = Field(description="锁定身份人员的原编制单位（留档）")
    term_start: date
    term_end: date
    status: Literal["active", "ended"]
    ended_on: date | None
    end_reason: EndReason | None
    end_reason_label: str | None
    end_note: str | None
    created_at: UtcDateTime


class ExpiringAppointmentOut(AppointmentOut):
    """An active appointment whose term (聘期) ends soon: time to renew it or open a new 竞聘."""

    days_left: int = Field(description="距聘期最后一天的天数：0 为今天是最后一天，负数为已届满但尚未结束")
    expiry_label: str = Field(description="剩余聘期的中文说明，如“聘期还剩 12 天”")


class ExpiringAppointmentsPage(Page[ExpiringAppointmentOut]):
    """One page of appointments ending within ``within_days`` of ``as_of``, the soonest first."""

    as_of: date = Field(description="计算所依据的日期（北京时间今天）")
    within_days: int = Field(description="查询的天数范围")


# --- competitive appointment ---------------------------------------------------------------------


class OpeningIn(Input):
    position_id: str = Field(min_length=1, max_length=36)
    title: str | None = Field(None, min_length=1, max_length=200, description="公告标题（默认：岗位名称 + 竞聘）")
    term_months: int = Field(ge=1, le=120, description="聘期（月）")
    weights: dict[Code, Percent] = Field(
        description="各评分项权重（%），合计 100，如 {\"written\": 40, \"interview\": 40, \"performance\": 20}",
        max_length=20,
    )
    posts_to_fill: int = Field(1, ge=1, le=1000, description="本次竞聘拟聘人数")


class OpeningOut(BaseModel):
    id: str
    zone_id: str
    position_id: str
    position_title: str
    department_id: str
    title: str
    term_months: int
    weights: dict[str, Number]
    tie_break_order: list[str] = Field(description="同分时依次比较的项目（权重高者优先），再比报名时间")
    posts_to_fill: int
    appointed: int
    status: Literal["open", "filled", "exhausted"]
    created_at: UtcDateTime


class CandidateIn(Input):
    staff_id: str | None = Field(
        None, min_length=1, max_length=36, description="报名人员；本人报名可省略（按账户关联的档案）"
    )


class ScoresIn(Input):
    scores: dict[Code, Percent] = Field(min_length=1, max_length=50, description="各项得分（0–100）")


class CandidateOut(BaseModel):
    id: str
    opening_id: str
    staff_id: str
    staff_name: str
    source: Literal["internal", "external"] = Field(description="internal 内部（在聘人员）/ external 外部")
    applied_at: UtcDateTime
    scores: dict[str, Number]
    total: Number | None = Field(description="加权总分（全部项目评分后）")
    status: Literal["applied", "offered", "declined", "appointed"]
    offered_at: UtcDateTime | None
    responded_at: UtcDateTime | None
    decline_reason: str | None
    appointment_id: str | None


class RankingEntry(BaseModel):
    rank: int
    candidate_id: str
    staff_id: str
    staff_name: str
    source: str
    status: str
    total: Number
    scores: dict[str, Number]
    tied_on_total: bool = Field(description="是否与他人总分相同（已按规则决出先后）")
    decided_by: str | None = Field(description="与下一名同分时决出先后的依据，如 component:interview、applied_at")


class RankingOut(BaseModel):
    opening_id: str
    weights: dict[str, Number]
    tie_break_order: list[str] = Field(
        description="排序规则：加权总分高者在前；同分依次比较权重最高的项目、次高的项目……；再比报名时间（早者在前）；最后比候选人 ID"
    )
    ranking: list[RankingEntry]
    unscored: list[str] = Field(description="尚未完成评分的候选人 ID")


class AcceptIn(Input):
    term_start: Day | None = Field(None, description="聘期起（默认今天）")


class DeclineIn(Input):
    reason: str = Field(min_length=1, max_length=500, description="放弃原因")


class OfferOut(BaseModel):
    opening_id: str
    rank: int
    candidate: CandidateOut


class DeclineOut(BaseModel):
    declined: CandidateOut
    next_offer: OfferOut | None = Field(description="自动递补的下一位；排名已无人时为 null")
    opening_status: str


class AcceptOut(BaseModel):
    appointment: AppointmentOut
    ended_appointment_id: str | None = Field(description="因调任而结束的原聘任")
    opening_status: str


# --- evaluation ----------------------------------------------------------------------------------


class KpiIn(Input):
    code: Code
    name: Text
    weight: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]


class ThresholdsIn(Input):
    excellent: Percent = Field(description="优秀 最低分")
    good: Percent = Field(description="良好 最低分")
    pass_: Percent = Field(alias="pass", description="合格 最低分")


class CoefficientsIn(Input):
    excellent: Coefficient
    good: Coefficient
    pass_: Coefficient = Field(alias="pass")
    fail: Coefficient


class CycleIn(Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: CycleKind = Field(description="quarter 季度 / year 年度")
    year: int = Field(ge=2000, le=2100)
    quarter: int | None = Field(None, ge=1, le=4)
    kpis: dict[Category, Annotated[list[KpiIn], Field(min_length=1, max_length=30)]] = Field(
        min_length=1, description="各岗位类别的 KPI 项目及权重（每类合计 100）"
    )
    thresholds: ThresholdsIn | None = Field(None, description="等次分数线（默认取服务配置）")
    bottom_share: Annotated[Decimal, Field(ge=0, le=Decimal("0.5"), max_digits=5, decimal_places=4)] | None = Field(
        None, description="末位比例（默认取服务配置）"
    )
    individual_coefficients: CoefficientsIn | None = Field(None, description="各等次个人考核系数（默认取服务配置）")
    pay_period: str | None = Field(None, pattern=MONTH_PATTERN, description="绩效工资发放月份（默认考核期结束的次月）")

    @field_validator("kpis")
    @classmethod
    def _unique_codes(cls, value: dict[Category, list[KpiIn]]) -> dict[Category, list[KpiIn]]:
        for category, items in value.items():
            codes = [i.code for i in items]
            if len(codes) != len(set(codes)):
                raise ValueError(f"{category.value} 的 KPI 代码重复 / duplicate KPI codes in {category.value}")
        return value


class KpiOut(BaseModel):
    code: str
    name: str
    weight: Number


class CycleOut(BaseModel):
    id: str
    zone_id: str
    name: str
    kind: CycleKind
    year: int
    quarter: int | None
    period: str
    start_date: date
    end_date: date
    pay_period: str
    kpis: dict[str, list[KpiOut]]
    thresholds: dict[str, Number]
    bottom_share: Number
    individual_coefficients: dict[str, Number]
    status: Literal["open", "finalized"]
    zone_coefficient: Number | None = Field(description="定档时使用的园区考核系数")
    zone_coefficient_source: str | None = Field(description="default（无考核结果，取 1.0）或 assessment:<zone>:<year>")
    created_at: UtcDateTime
    finalized_at: UtcDateTime | None


class ExemptionIn(Input):
    staff_id: str = Field(min_length=1, max_length=36)
    kpi_code: Code
    reason: str = Field(min_length=2, max_length=1000, description="容错理由（记录在案）")


class ExemptionOut(BaseModel):
    id: str
    cycle_id: str
    staff_id: str
    kpi_code: str
    reason: str
    approved_by: str
    approved_at: UtcDateTime


class ResultOut(BaseModel):
    cycle_id: str
    staff_id: str
    staff_name: str
    department_id: str
    position_id: str
    category: Category
    job_grade: str = Field(description="职级")
    scores: dict[str, Number]
    exempt_items: list[str] = Field(description="容错豁免的 KPI 项目（不计入加权得分，其余权重重新归一）")
    score: Number | None = Field(description="加权得分；定档前为按现有评分的预览")
    grade: Grade | None = Field(description="考核等次（定档后）")
    grade_label: str | None
    bottom_flag: bool = Field(description="末位")
    base_pay_wan: Wan | None = Field(description="绩效工资基数（万元）")
    zone_coefficient: Number | None
    department_coefficient: Number | None
    individual_coefficient: Number | None
    performance_pay_wan: Wan | None = Field(description="绩效工资 = 基数 × 园区系数 × 部门系数 × 个人系数")


class FinalizeOut(BaseModel):
    cycle: CycleOut
    grade_counts: dict[str, int]
    results: list[ResultOut]


# --- payroll -------------------------------------------------------------------------------------


class PayrollPolicyIn(Input):
    reference_average_wan: Annotated[Decimal, Field(gt=0, le=1000, max_digits=10, decimal_places=2)] = Field(
        description="参照年平均薪酬（万元），如上一年度区机关事业单位人员平均水平（seed 004）"
    )
    multiple: Annotated[Decimal, Field(gt=0, le=10, max_digits=5, decimal_places=2)] = Field(
        description="倍数（seed 004：1.5—2 倍）"
    )
    basis: str | None = Field(None, max_length=300, description="依据")


class PayrollPolicyOut(BaseModel):
    zone_id: str
    year: int
    reference_average_wan: Wan
    multiple: Number
    basis: str | None
    source: Literal["policy", "settings"] = Field(description="policy 本年度已设政策 / settings 服务默认值")
    cap_headcount: int = Field(description="员额总数")
    annual_cap_wan: Wan = Field(description="年度工资总控额度 = 倍数 × 参照年均 × 员额")
    paid_this_year_wan: Wan


class PayrollLineOut(BaseModel):
    staff_id: str
    staff_name: str
    department_id: str | None
    position_id: str | None
    job_grade: str | None
    evaluation_grade: Grade | None
    band_position: Number = Field(description="在职级薪酬带中的位置（0 下限 — 1 上限），由最近一次考核等次决定")
    days_served: int
    post_pay_wan: Wan = Field(description="岗位工资（按在岗天数折算）")
    performance_pay_wan: Wan = Field(description="本月发放的绩效工资")
    total_wan: Wan


class PayrollOut(BaseModel):
    id: str
    zone_id: str
    period: str
    headcount_paid: int
    total_wan: Wan
    year_to_date_wan: Wan
    annual_cap_wan: Wan
    cap_multiple: Number
    reference_average_wan: Wan
    cap_headcount: int
    policy_source: str
    computed_at: UtcDateTime
    computed_by: str
    lines: list[PayrollLineOut]

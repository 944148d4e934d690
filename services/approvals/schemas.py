"""Request and response models of the approval API (table models never leak and never take input).

Conventions: times are ISO 8601 in Asia/Shanghai; dates are Shanghai calendar dates; working days are
counted on the official calendar; fees are in yuan (元) with two decimals — item fees are small amounts,
unlike the 万元 of investment figures.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chassis.validators import USCC
from services.approvals.domain import ITEM_CODE_PATTERN, ITEM_TYPES, item_type_code

MATERIAL_CODE = r"^[a-z][a-z0-9_]{1,63}$"
ZONE_ID = r"^[a-z0-9][a-z0-9-]{1,63}$"
PHONE = r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- catalog -------------------------------------------------------------------------------------------


class MaterialSpec(Strict):
    code: str = Field(pattern=MATERIAL_CODE, description="材料编码（小写字母、数字、下划线）", examples=["business_licence"])
    name: str = Field(min_length=1, max_length=200, description="材料名称")
    mandatory: bool = Field(True, description="是否必须提交")


class ItemTermsIn(Strict):
    """What every version of an item states (办事指南要素)."""

    name: str = Field(min_length=2, max_length=200, description="事项名称")
    category: str | None = Field(None, description="事项类型（由编码中的类型代码决定，可省略）", examples=["行政许可"])
    competent_department: str = Field(min_length=2, max_length=100, description="主管部门")
    implementing_body: str = Field(min_length=2, max_length=100, description="实施机关")
    delegating_authority: str | None = Field(None, max_length=100, description="赋权机关（默认为主管部门）")
    legal_basis: str = Field(min_length=2, max_length=4000, description="设定依据")
    conditions: str | None = Field(None, max_length=4000, description="受理条件")
    statutory_days: int = Field(ge=0, le=365, description="法定时限（工作日）")
    promised_days: int = Field(ge=0, le=365, description="承诺时限（工作日），不得超过法定时限；0 为即办件")
    on_site_visits: int = Field(0, ge=0, le=5, description="到现场次数（最多跑一次：0 或 1）")
    fee_yuan: Decimal = Field(Decimal("0"), ge=0, le=Decimal("10000000"), decimal_places=2, description="收费标准（元）")
    fee_note: str | None = Field(None, max_length=200, description="收费说明")
    commitment_allowed: bool = Field(False, description="是否可适用告知承诺制")
    verification_window_days: int | None = Field(
        None, ge=1, le=365, description="告知承诺核查期限（工作日，适用告知承诺制时必填）"
    )
    materials: list[MaterialSpec] = Field(min_length=1, max_length=60, description="申请材料")

    @model_validator(mode="after")
    def _rules(self) -> ItemTermsIn:
        if self.promised_days > self.statutory_days:
            raise ValueError("承诺时限不得超过法定时限 / promised_days may not exceed statutory_days")
        if self.commitment_allowed and self.verification_window_days is None:
            raise ValueError(
                "适用告知承诺制的事项必须规定核查期限 / verification_window_days is required when commitment is allowed"
            )
        codes = [m.code for m in self.materials]
        if len(codes) != len(set(codes)):
            raise ValueError("材料编码不能重复 / material codes must be unique")
        return self


class ItemCreate(ItemTermsIn):
    code: str = Field(
        pattern=ITEM_CODE_PATTERN,
        description="事项编码：实施机关编码 + 类型代码 + 顺序号",
        examples=["51011600ZJ-XK-0001"],
    )
    effective_from: date | None = Field(None, description="生效日期（默认今天）")

    @model_validator(mode="after")
    def _category_matches_code(self) -> ItemCreate:
        expected = ITEM_TYPES.get(item_type_code(self.code) or "")
        if self.category is not None and self.category != expected:
            raise ValueError(f"事项类型应为「{expected}」（由编码决定） / category must be {expected} for this code")
        return self


class ItemUpdate(ItemTermsIn):
    """A new version of an item, in force from ``effective_from``."""

    effective_from: date | None = Field(None, description="新版本生效日期（默认今天）")
    status: Literal["active", "abolished"] = Field("active", description="active 在用；abolished 取消（自生效日起不再受理）")
    change_note: str | None = Field(None, max_length=500, description="变更说明")


class ItemOut(BaseModel):
    code: str
    version: int
    effective_from: date
    status: str
    name: str
    type_code: str
    category: str
    handling_kind: Literal["immediate", "promised"]
    handling_kind_label: str
    competent_department: str
    implementing_body: str
    delegating_authority: str
    legal_basis: str
    conditions: str | None
    statutory_days: int
    promised_days: int
    on_site_visits: int
    fee_yuan: Decimal
    fee_note: str | None
    commitment_allowed: bool
    verification_window_days: int | None
    materials: list[MaterialSpec]
    change_note: str | None
    created_at: datetime
    created_by: str


class ItemVersionSummary(BaseModel):
    version: int
    effective_from: date
    status: str
    promised_days: int
    statutory_days: int
    change_note: str | None
    created_at: datetime
    created_by: str


class ItemDetail(ItemOut):
    versions: list[ItemVersionSummary] = Field(description="全部版本（新在前）")


# --- delegations -----------------------------------------------------------------------------------------


class DelegationCreate(Strict):
    zone_id: str = Field(pattern=ZONE_ID, description="功能区")
    item_code: str = Field(pattern=ITEM_CODE_PATTERN, description="事项编码")
    authority: str | None = Field(None, min_length=2, max_length=100, description="赋权机关（默认事项的赋权机关）")
    document_no: str | None = Field(None, max_length=100, description="赋权文件")
    valid_from: date = Field(description="生效日期")
    valid_until: date | None = Field(None, description="截止日期（含），空为长期")
    note: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _window(self) -> DelegationCreate:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("截止日期不能早于生效日期 / valid_until may not precede valid_from")
        return self


class DelegationEnd(Strict):
    valid_until: date = Field(description="赋权截止日期（含）")
    note: str | None = Field(None, max_length=500, description="说明（如收回赋权的文件）")


class DelegationOut(BaseModel):
    id: str
    zone_id: str
    item_code: str
    item_name: str | None
    authority: str
    document_no: str | None
    valid_from: date
    valid_until: date | None
    in_force_today: bool
    note: str | None
    created_at: datetime
    created_by: str


# --- calendar ---------------------------------------------------------------------------------------------


class CalendarDayIn(Strict):
    kind: Literal["workday", "holiday"] = Field(description="workday 上班；holiday 放假")
    note: str | None = Field(None, max_length=200, description="说明，如“2027年春节调休上班”")


class CalendarDayOut(BaseModel):
    date: date
    kind: Literal["workday", "holiday"]
    source: Literal["official", "override", "weekday_rule"]
    name: str | None


class CalendarOverrideOut(BaseModel):
    date: date
    kind: Literal["workday", "holiday"]
    note: str | None


class CalendarYearOut(BaseModel):
    year: int
    provisional: bool = Field(description="既无官方数据也无管理员维护：按周一至周五暂估")
    has_official_data: bool
    working_days: int
    exceptions: list[CalendarDayOut] = Field(description="节假日、调休上班日及管理员调整的日期")
    overrides: list[CalendarOverrideOut]


class CalendarDayChange(BaseModel):
    day: CalendarDayOut
    year_provisional: bool
    applications_rescheduled: int = Field(description="因此重新计算到期日的在办件数")


# --- applications -----------------------------------------------------------------------------------------


class ApplicantIn(Strict):
    uscc: USCC = Field(description="统一社会信用代码")
    name: str = Field(min_length=2, max_length=200, description="企业名称")
    contact_person: str = Field(min_length=1, max_length=50, description="联系人")
    contact_phone: str = Field(pattern=PHONE, description="联系电话（手机或座机）")


class MaterialProvided(Strict):
    code: str = Field(pattern=MATERIAL_CODE, description="材料编码")
    note: str | None = Field(None, max_length=200, description="说明（如纸质材料已在窗口提交、电子证照）")


class ApplicationCreate(Strict):
    zone_id: str = Field(pattern=ZONE_ID, description="申请办理的功能区")
    applicant: ApplicantIn
    item_codes: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=20, description="事项编码；多项即“一件事”打包办理"
    )
    project_id: str | None = Field(None, min_length=1, max_length=64, description="关联的招商项目")
    commitment: bool = Field(False, description="选择告知承诺制（当场决定，事后核查）")
    materials: list[MaterialProvided] = Field(default_factory=list, max_length=100, description="已提供的材料")

    @field_validator("item_codes")
    @classmethod
    def _unique_codes(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if len(cleaned) != len(set(cleaned)):
            raise ValueError("事项编码不能重复 / item codes must be unique")
        return cleaned


class ActionNote(Strict):
    note: str | None = Field(None, max_length=2000, description="说明")


class ReasonIn(Strict):
    reason: str = Field(min_length=2, max_length=2000, description="理由（须告知申请人）")


class CorrectionItemIn(Strict):
    material_code: str = Field(pattern=MATERIAL_CODE, description="材料编码")
    reason: str = Field(min_length=2, max_length=500, description="补正要求")


class CorrectionRequest(Strict):
    items: list[CorrectionItemIn] = Field(min_length=1, max_length=100, description="一次性告知的全部补正内容")
    note: str | None = Field(None, max_length=2000)


class ResubmitIn(Strict):
    materials: list[MaterialProvided] = Field(default_factory=list, max_length=100, description="本次补正提供的材料")
    note: str | None = Field(None, max_length=2000)


class CompleteIn(Strict):
    certificate_no: str = Field(min_length=2, max_length=100, description="证照/批文编号")
    note: str | None = Field(None, max_length=2000)


class AssignIn(Strict):
    role: Literal["agent", "first_inquiry"] = Field(description="agent 帮办代办员；first_inquiry 首问负责人")
    staff: str = Field(min_length=1, max_length=100, description="工作人员账号")
    staff_name: str | None = Field(None, max_length=50, description="工作人员姓名")


class VerifyIn(Strict):
    outcome: Literal["confirmed", "revoked"] = Field(description="confirmed 核查属实；revoked 违诺撤销")
    note: str | None = Field(None, max_length=2000, description="核查说明；撤销时为违诺情形（必填）")

    @model_validator(mode="after")
    def _reason_when_revoked(self) -> VerifyIn:
        if self.outcome == "revoked" and not (self.note and len(self.note) >= 2):
            raise ValueError("违诺撤销必须说明违诺情形 / a revocation needs the broken commitment in note")
        return self


class EvaluationDimensions(Strict):
    overall: int | None = Field(None, ge=1, le=5, description="整体满意度")
    efficiency: int | None = Field(None, ge=1, le=5, description="办事效率")
    guide_accuracy: int | None = Field(None, ge=1, le=5, description="办事指南准确性")
    convenience: int | None = Field(None, ge=1, le=5, description="便利程度")


class EvaluateIn(Strict):
    score: int = Field(ge=1, le=5, description="5 非常满意、4 满意、3 基本满意、2 不满意、1 非常不满意")
    comment: str | None = Field(None, max_length=2000, description="评价内容")
    dimensions: EvaluationDimensions | None = None


class ApplicantOut(BaseModel):
    uscc: str
    name: str
    contact_person: str
    contact_phone: str


class ApplicationItemOut(BaseModel):
    code: str
    version: int
    name: str
    promised_days: int
    statutory_days: int


class MaterialOut(BaseModel):
    code: str
    name: str
    mandatory: bool
    provided: bool
    provided_at: datetime | None
    source: str | None


class DocumentOut(BaseModel):
    id: str
    application_id: str
    material_code: str | None
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class CorrectionOut(BaseModel):
    notice_no: int
    phase: Literal["intake", "review"]
    clock_paused: bool
    requested_at: datetime
    requested_by: str
    items: list[dict[str, Any]]
    resubmitted_at: datetime | None


class ReferralOut(BaseModel):
    item_code: str
    authority: str
    reason: str


class ClockOut(BaseModel):
    state: Literal["not_started", "running", "paused", "stopped"]
    state_label: str
    promised_days: int
    statutory_days: int
    accepted_on: date | None
    due_date: date | None = Field(description="承诺办结日期；补正暂停期间未知")
    due_date_provisional: bool
    working_days_elapsed: int
    working_days_paused: int
    working_days_remaining: int | None
    alert_level: Literal["none", "yellow", "red"]
    alert_label: str
    on_time: bool | None


class StaffRef(BaseModel):
    username: str
    name: str | None


class VerificationOut(BaseModel):
    status: Literal["pending", "confirmed", "revoked"]
    due_date: date | None
    overdue: bool
    verified_at: datetime | None
    note: str | None


class EvaluationOut(BaseModel):
    score: int
    level: str
    level_label: str
    comment: str | None
    dimensions: dict[str, Any] | None
    evaluated_at: datetime
    follow_up_id: str | None


class TimelineOut(BaseModel):
    at: datetime
    actor: str
    actor_kind: str
    actor_name: str | None
    action: str
    action_label: str
    from_status: str | None
    to_status: str | None
    note: str | None
    details: dict[str, Any] | None


class ApplicationSummaryOut(BaseModel):
    """One row of a list (work queues, the gateway's one-enterprise file)."""

    id: str
    zone_id: str
    uscc: str
    applicant_name: str
    item_codes: list[str]
    status: str
    status_label: str
    commitment: bool
    submitted_at: datetime
    due_date: date | None
    due_date_provisional: bool
    alert_level: Literal["none", "yellow", "red"]
    working_days_remaining: int | None
    agent: str | None
    first_inquiry: str | None


class ApplicationOut(BaseModel):
    id: str
    zone_id: str
    status: str
    status_label: str
    applicant: ApplicantOut
    item_codes: list[str]
    items: list[ApplicationItemOut]
    project_id: str | None
    commitment: bool
    submitted_at: datetime
    accepted_at: datetime | None
    decided_at: datetime | None
    concluded_at: datetime | None
    certificate_no: str | None
    reason: str | None = Field(description="不予受理或不予许可的理由")
    referrals: list[ReferralOut]
    due_date: date | None
    due_date_provisional: bool
    working_days_elapsed: int
    working_days_paused: int
    working_days_remaining: int | None
    alert_level: Literal["none", "yellow", "red"]
    clock: ClockOut
    materials: list[MaterialOut]
    missing_mandatory_materials: list[str]
    documents: list[DocumentOut]
    corrections: list[CorrectionOut]
    agent: StaffRef | None
    first_inquiry: StaffRef | None
    verification: VerificationOut | None
    evaluation: EvaluationOut | None
    allowed_actions: list[str] = Field(description="当前状态下可执行的操作")
    timeline: list[TimelineOut]


class EligibilityReasonOut(BaseModel):
    code: str
    field: str
    message: str


class EligibilityOut(BaseModel):
    eligible: bool
    reasons: list[EligibilityReasonOut]


# --- follow-ups and summary -----------------------------------------------------------------------------------


class FollowUpOut(BaseModel):
    id: str
    application_id: str
    zone_id: str
    uscc: str
    score: int
    level_label: str
    comment: str | None
    opened_at: datetime
    due_date: date
    overdue: bool
    status: Literal["open", "closed"]
    closed_at: datetime | None
    closed_by: str | None
    callback_note: str | None
    rectification: str | None


class FollowUpClose(Strict):
    callback_note: str = Field(min_length=2, max_length=2000, description="回访记录（与评价人联系的情况）")
    rectification: str | None = Field(None, max_length=2000, description="整改情况")


class AlertCounts(BaseModel):
    yellow: int
    red: int


class SummaryOut(BaseModel):
    zone_id: str | None
    date_from: date | None
    date_to: date | None
    by_status: dict[str, int] = Field(description="按状态统计（提交日期在区间内的办件）")
    alerts: AlertCounts = Field(description="当前预警（提交日期在区间内的在办件）")
    backlog: int = Field(description="在办件数（待受理、审查中、待补正、待办结）")
    completed: int = Field(description="区间内办结件数")
    completed_on_time: int
    on_time_rate: float | None = Field(description="按时办结率（区间内办结件，0–1）")
    average_working_days: float | None = Field(description="区间内办结件平均用时（工作日，不含补正）")
    referred: int
    commitment_applications: int
    evaluations: int
    average_score: float | None
    satisfaction_rate: float | None = Field(description="满意率：评分 3 分及以上的占比")
    open_follow_ups: int


class SummaryByZoneOut(BaseModel):
    """Several zones' summaries in one answer (the city dashboard asks once, not once per zone)."""

    items: list[SummaryOut] = Field(description="各功能区的审批汇总，按请求顺序（重复的功能区只出现一次）")
    missing: list[str] = Field(
        default_factory=list,
        description="本服务无记录的功能区（单区汇总会答 404 的）；审批服务没有功能区名录，总是为空",
    )

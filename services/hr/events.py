"""The HR service's published events (topic ``zone.hr``), keyed by their aggregate's id.

Money is in 万元 (ten thousand yuan) as JSON numbers with two decimals. No event carries a
national ID number (居民身份证号) or any other identity-document data: people appear only by their
opaque ``staff_id``.

This module imports only pydantic, the standard library and :mod:`chassis.events`: the gateway and
the AsyncAPI generator import it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from chassis.events import EventCatalog

Category = Literal["management", "professional", "support"]
Identity = Literal["civil_servant", "institution", "contract", "seconded"]
GradeCode = Literal["excellent", "good", "pass", "fail"]


class PositionData(BaseModel):
    position_id: str = Field(description="岗位 ID")
    zone_id: str = Field(description="功能区 ID")
    department_id: str = Field(description="所属部门（内设机构）ID")
    department_code: str = Field(description="部门代码")
    title: str = Field(description="岗位名称")
    category: Category = Field(description="岗位类别：management 管理类 / professional 专业技术类 / support 综合辅助类")
    grade: str = Field(description="职级代码")
    posts: int = Field(description="岗位职数（可聘人数）")
    pay_band_min_wan: float = Field(description="该职级月岗位工资下限（万元）")
    pay_band_max_wan: float = Field(description="该职级月岗位工资上限（万元）")


class PositionCreated(PositionData):
    created_at: datetime = Field(description="设岗时间")


class PositionChanged(PositionData):
    changed: list[str] = Field(description="本次变更的字段")
    changed_at: datetime = Field(description="变更时间")


class StaffAppointed(BaseModel):
    appointment_id: str = Field(description="聘任记录 ID")
    staff_id: str = Field(description="人员 ID（不含任何证件信息）")
    zone_id: str = Field(description="功能区 ID")
    position_id: str = Field(description="岗位 ID")
    department_id: str = Field(description="部门 ID")
    category: Category = Field(description="岗位类别")
    grade: str = Field(description="职级代码")
    identity: Identity = Field(
        description="人员身份：civil_servant 公务员（锁定身份）/ institution 事业人员（锁定身份）/ "
        "contract 社会化聘用 / seconded 派驻"
    )
    term_start: date = Field(description="聘期起")
    term_end: date = Field(description="聘期止")
    opening_id: str | None = Field(description="经竞聘产生时的竞聘公告 ID；直接聘任为 null")
    appointed_at: datetime = Field(description="聘任时间")


class AppointmentEnded(BaseModel):
    appointment_id: str = Field(description="聘任记录 ID")
    staff_id: str = Field(description="人员 ID")
    zone_id: str = Field(description="功能区 ID")
    position_id: str = Field(description="岗位 ID")
    department_id: str = Field(description="部门 ID")
    reason: str = Field(
        description="解聘原因：term_end 任期届满 / evaluation 考核不合格解聘 / transfer 调任 / "
        "resignation 辞职 / contract_end 合同期满 / secondment_end 派驻期满 / other 其他"
    )
    ended_on: date = Field(description="解聘日期")
    ended_at: datetime = Field(description="记录时间")


class EvaluationResultData(BaseModel):
    staff_id: str = Field(description="人员 ID")
    department_id: str = Field(description="部门 ID")
    score: float = Field(description="加权得分（0–100，容错豁免项已剔除并重新归一）")
    grade: GradeCode = Field(description="考核等次：excellent 优秀 / good 良好 / pass 合格 / fail 不合格")
    bottom_flag: bool = Field(description="是否为本部门末位")
    department_coefficient: float = Field(description="部门考核系数")
    individual_coefficient: float = Field(description="个人考核系数")
    performance_pay_wan: float = Field(description="绩效工资（万元）")


class EvaluationFinalized(BaseModel):
    cycle_id: str = Field(description="考核周期 ID")
    zone_id: str = Field(description="功能区 ID")
    kind: Literal["quarter", "year"] = Field(description="周期类型：quarter 季度 / year 年度")
    period: str = Field(description="考核期，例如 2025Q1 或 2025")
    pay_period: str = Field(description="绩效工资发放月份 YYYY-MM")
    zone_coefficient: float = Field(description="园区考核系数")
    zone_coefficient_source: str = Field(
        description="园区系数来源：default（尚无考核结果，取 1.0）或 assessment:<zone_id>:<year>"
    )
    grade_counts: dict[str, int] = Field(description="各等次人数")
    bottom_flagged: int = Field(description="被标记末位的人数")
    total_performance_pay_wan: float = Field(description="绩效工资合计（万元）")
    results: list[EvaluationResultData] = Field(description="每人结果")
    finalized_at: datetime = Field(description="定档时间")


class PayrollComputed(BaseModel):
    payroll_id: str = Field(description="工资核算 ID（<zone_id>:<YYYY-MM>）")
    zone_id: str = Field(description="功能区 ID")
    period: str = Field(description="核算月份 YYYY-MM")
    headcount_paid: int = Field(description="计发人数")
    total_wan: float = Field(description="本月工资合计（万元）")
    year_to_date_wan: float = Field(description="含本月的本年度工资累计（万元）")
    annual_cap_wan: float = Field(description="本年度工资总控额度（万元）")
    cap_multiple: float = Field(description="工资总控倍数")
    reference_average_wan: float = Field(description="参照年平均薪酬（万元）")
    cap_headcount: int = Field(description="计算总控所用的员额数")
    computed_at: datetime = Field(description="核算时间")


class DepartmentHeadcount(BaseModel):
    department_id: str = Field(description="部门 ID")
    code: str = Field(description="部门代码")
    name: str = Field(description="部门名称")
    allocation: int = Field(description="分配给本部门的员额")
    posts: int = Field(description="本部门各岗位职数之和")
    filled: int = Field(description="在聘人数")
    vacancies: int = Field(description="空缺员额（员额 − 在聘）")


class HeadcountChanged(BaseModel):
    zone_id: str = Field(description="功能区 ID")
    as_of: datetime = Field(description="统计时点")
    total_quota: int = Field(description="员额总数（员额总控）")
    total_filled: int = Field(description="在聘总人数")
    total_vacancies: int = Field(description="空缺员额总数")
    departments: list[DepartmentHeadcount] = Field(description="各部门员额、在聘与空缺")


EVENTS = EventCatalog("hr")
POSITION_CREATED = EVENTS.define(
    "zone.hr.position.created.v1",
    PositionCreated,
    aggregate="position",
    description="设立了一个岗位 / A position was created (因事设岗、以岗定级).",
)
POSITION_CHANGED = EVENTS.define(
    "zone.hr.position.changed.v1",
    PositionChanged,
    aggregate="position",
    description="岗位的名称、职级或职数发生变化 / A position's title, grade or number of posts changed.",
)
STAFF_APPOINTED = EVENTS.define(
    "zone.hr.staff.appointed.v1",
    StaffAppointed,
    aggregate="staff",
    description="人员被聘任到岗位（竞聘或直接聘任）/ A staff member was appointed to a position for a term.",
)
APPOINTMENT_ENDED = EVENTS.define(
    "zone.hr.appointment.ended.v1",
    AppointmentEnded,
    aggregate="appointment",
    description="聘任结束（任期届满、考核解聘、调任等）/ An appointment ended, with the reason.",
)
EVALUATION_FINALIZED = EVENTS.define(
    "zone.hr.evaluation.finalized.v1",
    EvaluationFinalized,
    aggregate="evaluation",
    description="考核周期定档：等次、末位与绩效工资 / An evaluation cycle was finalized: grades, 末位 flags, "
    "performance pay.",
)
PAYROLL_COMPUTED = EVENTS.define(
    "zone.hr.payroll.computed.v1",
    PayrollComputed,
    aggregate="payroll",
    description="月度工资核算完成（未超过工资总控）/ A month's payroll was computed within the annual cap.",
)
HEADCOUNT_CHANGED = EVENTS.define(
    "zone.hr.headcount.changed.v1",
    HeadcountChanged,
    aggregate="zone",
    description="员额、岗位或聘任变化后的员额与空缺 / Headcount quota, filled posts and vacancies after a change.",
)

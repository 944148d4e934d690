"""The HR service's HTTP surface: thin routes that parse, call a use case and return its result.

Zone staff act in their own zone; city-level callers add ``?zone_id=``. Writes need the ``hr-admin``
role; who reads what is described in :mod:`services.hr.access`. Every creating (or acting) POST
accepts an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query

from chassis.auth import Principal, ZoneIds, require
from chassis.clock import clock_of, local_date
from chassis.idempotency import Idempotency
from chassis.pagination import Page, Pagination
from chassis.service import Ctx, Session
from services.hr import competition, evaluation, org, payroll, people
from services.hr.access import DEPT_HEAD, HR_ADMIN, LEADER, STATS, acting_zone
from services.hr.domain import EXPIRY_WINDOW_DEFAULT_DAYS, EXPIRY_WINDOW_MAX_DAYS, Category, Identity
from services.hr.schemas import (
    AcceptIn,
    AcceptOut,
    AppointmentIn,
    AppointmentOut,
    CandidateIn,
    CandidateOut,
    CycleIn,
    CycleOut,
    DeclineIn,
    DeclineOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    EndAppointmentIn,
    ExemptionIn,
    ExemptionOut,
    ExpiringAppointmentsPage,
    FinalizeOut,
    HeadcountByZoneOut,
    HeadcountOut,
    OfferOut,
    OpeningIn,
    OpeningOut,
    PayBandIn,
    PayBandOut,
    PayrollOut,
    PayrollPolicyIn,
    PayrollPolicyOut,
    PositionIn,
    PositionOut,
    PositionPatch,
    QuotaIn,
    QuotaOut,
    RankingOut,
    ResultOut,
    ScoresIn,
    StaffIn,
    StaffOut,
    StaffPatch,
)
from services.hr.settings import HrSettings

AnyStaff = Annotated[Principal, Depends(require())]
HrAdmin = Annotated[Principal, Depends(require(HR_ADMIN))]
HeadcountReader = Annotated[Principal, Depends(require(LEADER, HR_ADMIN, DEPT_HEAD, STATS))]
PayrollReader = Annotated[Principal, Depends(require(HR_ADMIN, LEADER, DEPT_HEAD))]
ZoneParam = Annotated[str | None, Query(min_length=1, max_length=64, description="功能区（市级用户必填；本功能区用户可省略）")]
Id = Annotated[str, Path(min_length=1, max_length=36)]
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份 YYYY-MM")]
Year = Annotated[int, Path(ge=2000, le=2100)]
Grade = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$", description="职级代码")]

ORG = "组织与员额 organisation"
POSITIONS = "岗位 positions"
STAFF = "人员 staff"
COMPETITION = "竞聘 competitive appointment"
APPOINTMENTS = "聘任 appointments"
EVALUATION = "绩效考核 evaluation"
PAY = "工资 payroll"

router = APIRouter()


def settings_of(ctx: Ctx) -> HrSettings:
    return cast(HrSettings, ctx.settings)


# --- organisation -------------------------------------------------------------------------------------


@router.get("/departments", tags=[ORG], summary="部门（内设机构）列表", response_model=Page[DepartmentOut])
async def list_departments(session: Session, caller: AnyStaff, page: Pagination, zone_id: ZoneParam = None) -> Any:
    return await org.list_departments(session, acting_zone(caller, zone_id), page)


@router.post("/departments", tags=[ORG], summary="设立部门", status_code=201, response_model=DepartmentOut)
async def create_department(
    body: DepartmentIn, session: Session, caller: HrAdmin, idem: Idempotency, zone_id: ZoneParam = None
) -> Any:
    zone = acting_zone(caller, zone_id)
    return await idem.run(session, lambda: org.create_department(session, caller, zone, body), status_code=201)


@router.get("/departments/{department_id}", tags=[ORG], summary="部门详情", response_model=DepartmentOut)
async def get_department(department_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await org.get_department(session, caller, department_id)


@router.patch("/departments/{department_id}", tags=[ORG], summary="修改部门名称或部门考核系数", response_model=DepartmentOut)
async def patch_department(department_id: Id, body: DepartmentPatch, session: Session, caller: HrAdmin) -> Any:
    return await org.patch_department(session, caller, department_id, body)


@router.get("/quota", tags=[ORG], summary="员额总控：总数与各部门分配", response_model=QuotaOut)
async def get_quota(session: Session, caller: AnyStaff, zone_id: ZoneParam = None) -> Any:
    return await org.get_quota(session, acting_zone(caller, zone_id))


@router.put("/quota", tags=[ORG], summary="设置员额总数与部门分配（合计不得超过总数）", response_model=QuotaOut)
async def put_quota(body: QuotaIn, session: Session, caller: HrAdmin, zone_id: ZoneParam = None) -> Any:
    return await org.put_quota(session, caller, acting_zone(caller, zone_id), body)


@router.get("/headcount", tags=[ORG], summary="员额、在聘与空缺（按部门）", response_model=HeadcountOut)
async def get_headcount(session: Session, caller: HeadcountReader, zone_id: ZoneParam = None) -> Any:
    return await org.read_headcount(session, caller, acting_zone(caller, zone_id))


@router.get(
    "/headcount/zones", tags=[ORG], summary="多个功能区的员额、在聘与空缺（市级工作台一次取全）",
    description=(
        "一次请求取多个功能区的员额数据，每项与 GET /headcount?zone_id=… 对该功能区的回答相同，按请求顺序排列。"
        "调用权限与单个查询相同，逐个功能区核对：本功能区用户只能指定本功能区（指定其他功能区则整个请求 403），"
        "市级用户可指定任意功能区。missing 列出单个查询会答 404 的功能区。"
    ),
    response_model=HeadcountByZoneOut,
)
async def get_headcount_by_zone(session: Session, caller: HeadcountReader, zone_id: ZoneIds) -> Any:
    zones = [acting_zone(caller, requested) for requested in zone_id]  # every zone allowed before any is read
    return await org.read_headcounts(session, caller, zones)


@router.get("/pay-bands", tags=[ORG], summary="职级薪酬带", response_model=list[PayBandOut])
async def list_pay_bands(session: Session, caller: AnyStaff, zone_id: ZoneParam = None) -> Any:
    return await org.list_pay_bands(session, acting_zone(caller, zone_id))


@router.put("/pay-bands/{grade}", tags=[ORG], summary="设置职级薪酬带", response_model=PayBandOut)
async def put_pay_band(grade: Grade, body: PayBandIn, session: Session, caller: HrAdmin, zone_id: ZoneParam = None) -> Any:
    return await org.put_pay_band(session, caller, acting_zone(caller, zone_id), grade, body)


# --- positions -------------------------------------------------------------------------------------


@router.get("/positions", tags=[POSITIONS], summary="岗位列表", response_model=Page[PositionOut])
async def list_positions(
    session: Session,
    caller: AnyStaff,
    page: Pagination,
    zone_id: ZoneParam = None,
    department_id: Annotated[str | None, Query(max_length=36)] = None,
    category: Category | None = None,
    vacant_only: bool = False,
) -> Any:
    return await org.list_positions(
        session, acting_zone(caller, zone_id), page, department_id=department_id, category=category, vacant_only=vacant_only
    )


@router.post("/positions", tags=[POSITIONS], summary="设岗（不得超出部门员额）", status_code=201, response_model=PositionOut)
async def create_position(
    body: PositionIn, session: Session, caller: HrAdmin, idem: Idempotency, zone_id: ZoneParam = None
) -> Any:
    zone = acting_zone(caller, zone_id)
    return await idem.run(session, lambda: org.create_position(session, caller, zone, body), status_code=201)


@router.get("/positions/{position_id}", tags=[POSITIONS], summary="岗位详情", response_model=PositionOut)
async def get_position(position_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await org.get_position(session, caller, position_id)


@router.patch("/positions/{position_id}", tags=[POSITIONS], summary="调整岗位（名称、职级、职数）", response_model=PositionOut)
async def patch_position(position_id: Id, body: PositionPatch, session: Session, caller: HrAdmin) -> Any:
    return await org.patch_position(session, caller, position_id, body)


# --- staff -----------------------------------------------------------------------------------------


@router.get("/staff", tags=[STAFF], summary="人员列表（按权限范围）", response_model=Page[StaffOut])
async def list_staff(
    session: Session,
    caller: AnyStaff,
    page: Pagination,
    zone_id: ZoneParam = None,
    department_id: Annotated[str | None, Query(max_length=36)] = None,
    identity: Identity | None = None,
    name: Annotated[str | None, Query(max_length=50)] = None,
    appointed: bool | None = None,
) -> Any:
    return await people.list_staff(
        session, caller, acting_zone(caller, zone_id), page,
        department_id=department_id, identity=identity, name=name, appointed=appointed,
    )


@router.post("/staff", tags=[STAFF], summary="登记人员", status_code=201, response_model=StaffOut)
async def create_staff(body: StaffIn, session: Session, caller: HrAdmin, idem: Idempotency, zone_id: ZoneParam = None) -> Any:
    zone = acting_zone(caller, zone_id)
    return await idem.run(session, lambda: people.create_staff(session, caller, zone, body), status_code=201)


@router.get("/staff/me", tags=[STAFF], summary="本人档案", response_model=StaffOut)
async def my_record(session: Session, caller: AnyStaff, zone_id: ZoneParam = None) -> Any:
    return await people.get_my_record(session, caller, acting_zone(caller, zone_id))


@router.get("/staff/{staff_id}", tags=[STAFF], summary="人员详情", response_model=StaffOut)
async def get_staff(staff_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await people.get_staff(session, caller, staff_id)


@router.patch("/staff/{staff_id}", tags=[STAFF], summary="修改人员信息（合同、派驻、账户）", response_model=StaffOut)
async def patch_staff(staff_id: Id, body: StaffPatch, session: Session, caller: HrAdmin) -> Any:
    return await people.patch_staff(session, caller, staff_id, body)


# --- appointments -----------------------------------------------------------------------------------


@router.get("/appointments", tags=[APPOINTMENTS], summary="聘任记录", response_model=Page[AppointmentOut])
async def list_appointments(
    session: Session,
    caller: AnyStaff,
    page: Pagination,
    zone_id: ZoneParam = None,
    staff_id: Annotated[str | None, Query(max_length=36)] = None,
    position_id: Annotated[str | None, Query(max_length=36)] = None,
    department_id: Annotated[str | None, Query(max_length=36)] = None,
    status: Annotated[str | None, Query(pattern="^(active|ended)$")] = None,
) -> Any:
    return await people.list_appointments(
        session, caller, acting_zone(caller, zone_id), page,
        staff_id=staff_id, position_id=position_id, department_id=department_id, status=status,
    )


@router.post("/appointments", tags=[APPOINTMENTS], summary="直接聘任", status_code=201, response_model=AppointmentOut)
async def create_appointment(
    body: AppointmentIn, session: Session, caller: HrAdmin, idem: Idempotency, zone_id: ZoneParam = None
) -> Any:
    zone = acting_zone(caller, zone_id)
    return await idem.run(session, lambda: people.create_appointment(session, caller, zone, body), status_code=201)


# Declared before /appointments/{appointment_id}, which would otherwise take "expiring" for an id.
@router.get(
    "/appointments/expiring", tags=[APPOINTMENTS], summary="聘期即将届满的聘任（到期提醒，按届满日期排序）",
    description=(
        "在聘且聘期在今后 days 天内（含今天）届满的聘任，最早届满的在前，供续聘或组织新一轮竞聘；"
        "已届满但尚未结束的也列出（days_left 为负）。查看范围与“聘任记录”相同：人事管理员看全部，"
        "部门负责人看本部门，其他人看本人。"
    ),
    response_model=ExpiringAppointmentsPage,
)
async def list_expiring_appointments(
    session: Session,
    caller: AnyStaff,
    ctx: Ctx,
    page: Pagination,
    zone_id: ZoneParam = None,
    days: Annotated[
        int, Query(ge=1, le=EXPIRY_WINDOW_MAX_DAYS, description="查看今后多少天内届满（默认 30）")
    ] = EXPIRY_WINDOW_DEFAULT_DAYS,
    department_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Any:
    return await people.list_expiring_appointments(
        session, caller, acting_zone(caller, zone_id), page,
        today=local_date(clock_of(ctx.extras).now()), within_days=days, department_id=department_id,
    )


@router.get("/appointments/{appointment_id}", tags=[APPOINTMENTS], summary="聘任详情", response_model=AppointmentOut)
async def get_appointment(appointment_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await people.get_appointment(session, caller, appointment_id)


@router.post(
    "/appointments/{appointment_id}/end", tags=[APPOINTMENTS], summary="结束聘任（任期届满、考核解聘、调任等）",
    response_model=AppointmentOut,
)
async def end_appointment(
    appointment_id: Id, body: EndAppointmentIn, session: Session, caller: HrAdmin, idem: Idempotency
) -> Any:
    return await idem.run(session, lambda: people.end_appointment(session, caller, appointment_id, body), status_code=200)


# --- competitive appointment -----------------------------------------------------------------------


@router.get("/openings", tags=[COMPETITION], summary="竞聘公告列表", response_model=Page[OpeningOut])
async def list_openings(
    session: Session,
    caller: AnyStaff,
    page: Pagination,
    zone_id: ZoneParam = None,
    status: Annotated[str | None, Query(pattern="^(open|filled|exhausted)$")] = None,
    position_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Any:
    return await competition.list_openings(session, acting_zone(caller, zone_id), page, status=status, position_id=position_id)


@router.post("/openings", tags=[COMPETITION], summary="发布竞聘", status_code=201, response_model=OpeningOut)
async def create_opening(body: OpeningIn, session: Session, caller: HrAdmin, idem: Idempotency, zone_id: ZoneParam = None) -> Any:
    zone = acting_zone(caller, zone_id)
    return await idem.run(session, lambda: competition.create_opening(session, caller, zone, body), status_code=201)


@router.get("/openings/{opening_id}", tags=[COMPETITION], summary="竞聘公告详情", response_model=OpeningOut)
async def get_opening(opening_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await competition.get_opening(session, caller, opening_id)


@router.get("/openings/{opening_id}/candidates", tags=[COMPETITION], summary="候选人", response_model=list[CandidateOut])
async def list_candidates(opening_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await competition.list_candidates(session, caller, opening_id)


@router.post(
    "/openings/{opening_id}/candidates", tags=[COMPETITION], summary="报名竞聘（内部或外部人员）", status_code=201,
    response_model=CandidateOut,
)
async def add_candidate(opening_id: Id, body: CandidateIn, session: Session, caller: AnyStaff, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: competition.add_candidate(session, caller, opening_id, body), status_code=201)


@router.put(
    "/openings/{opening_id}/candidates/{candidate_id}/scores", tags=[COMPETITION], summary="录入候选人各项得分",
    response_model=CandidateOut,
)
async def put_candidate_scores(opening_id: Id, candidate_id: Id, body: ScoresIn, session: Session, caller: HrAdmin) -> Any:
    return await competition.put_scores(session, caller, opening_id, candidate_id, body)


@router.get("/openings/{opening_id}/ranking", tags=[COMPETITION], summary="竞聘排名（含同分规则）", response_model=RankingOut)
async def get_ranking(opening_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await competition.get_ranking(session, caller, opening_id)


@router.post(
    "/openings/{opening_id}/appoint", tags=[COMPETITION], summary="按排名向下一位候选人发出录用通知", status_code=201,
    response_model=OfferOut,
)
async def appoint_from_ranking(opening_id: Id, session: Session, caller: HrAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: competition.offer(session, caller, opening_id), status_code=201)


@router.post(
    "/openings/{opening_id}/candidates/{candidate_id}/accept", tags=[COMPETITION], summary="候选人接受录用（聘任）",
    status_code=201, response_model=AcceptOut,
)
async def accept_offer(
    opening_id: Id, candidate_id: Id, session: Session, caller: AnyStaff, idem: Idempotency, body: AcceptIn | None = None
) -> Any:
    return await idem.run(
        session, lambda: competition.accept(session, caller, opening_id, candidate_id, body or AcceptIn()), status_code=201
    )


@router.post(
    "/openings/{opening_id}/candidates/{candidate_id}/decline", tags=[COMPETITION],
    summary="候选人放弃录用（自动递补下一位）", response_model=DeclineOut,
)
async def decline_offer(
    opening_id: Id, candidate_id: Id, body: DeclineIn, session: Session, caller: AnyStaff, idem: Idempotency
) -> Any:
    return await idem.run(
        session, lambda: competition.decline(session, caller, opening_id, candidate_id, body), status_code=200
    )


# --- evaluation ------------------------------------------------------------------------------------


@router.get("/evaluation-cycles", tags=[EVALUATION], summary="考核周期列表", response_model=Page[CycleOut])
async def list_cycles(session: Session, caller: AnyStaff, page: Pagination, zone_id: ZoneParam = None) -> Any:
    return await evaluation.list_cycles(session, acting_zone(caller, zone_id), page)


@router.post("/evaluation-cycles", tags=[EVALUATION], summary="建立考核周期（KPI 与权重）", status_code=201, response_model=CycleOut)
async def create_cycle(
    body: CycleIn, session: Session, caller: HrAdmin, ctx: Ctx, idem: Idempotency, zone_id: ZoneParam = None
) -> Any:
    zone = acting_zone(caller, zone_id)
    settings = settings_of(ctx)
    return await idem.run(session, lambda: evaluation.create_cycle(session, caller, zone, body, settings), status_code=201)


@router.get("/evaluation-cycles/{cycle_id}", tags=[EVALUATION], summary="考核周期详情", response_model=CycleOut)
async def get_cycle(cycle_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await evaluation.get_cycle(session, caller, cycle_id)


@router.put(
    "/evaluation-cycles/{cycle_id}/scores/{staff_id}", tags=[EVALUATION], summary="录入个人 KPI 得分", response_model=ResultOut
)
async def put_kpi_scores(cycle_id: Id, staff_id: Id, body: ScoresIn, session: Session, caller: HrAdmin) -> Any:
    return await evaluation.put_scores(session, caller, cycle_id, staff_id, body)


@router.post(
    "/evaluation-cycles/{cycle_id}/exemptions", tags=[EVALUATION], summary="容错豁免（单项 KPI，记录理由）",
    status_code=201, response_model=ExemptionOut,
)
async def add_exemption(cycle_id: Id, body: ExemptionIn, session: Session, caller: HrAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: evaluation.add_exemption(session, caller, cycle_id, body), status_code=201)


@router.get(
    "/evaluation-cycles/{cycle_id}/exemptions", tags=[EVALUATION], summary="容错豁免记录", response_model=list[ExemptionOut]
)
async def list_exemptions(cycle_id: Id, session: Session, caller: AnyStaff) -> Any:
    return await evaluation.list_exemptions(session, caller, cycle_id)


@router.get("/evaluation-cycles/{cycle_id}/results", tags=[EVALUATION], summary="考核结果（按权限范围）", response_model=Page[ResultOut])
async def list_results(cycle_id: Id, session: Session, caller: AnyStaff, page: Pagination) -> Any:
    return await evaluation.list_results(session, caller, cycle_id, page)


@router.post(
    "/evaluation-cycles/{cycle_id}/finalize", tags=[EVALUATION], summary="定档：等次、末位、绩效工资", response_model=FinalizeOut
)
async def finalize_cycle(cycle_id: Id, session: Session, caller: HrAdmin, idem: Idempotency) -> Any:
    return await idem.run(session, lambda: evaluation.finalize(session, caller, cycle_id), status_code=200)


# --- payroll ---------------------------------------------------------------------------------------


@router.get("/payroll-policies/{year}", tags=[PAY], summary="年度工资总控政策与额度", response_model=PayrollPolicyOut)
async def get_payroll_policy(year: Year, session: Session, caller: PayrollReader, ctx: Ctx, zone_id: ZoneParam = None) -> Any:
    return await payroll.get_policy(session, acting_zone(caller, zone_id), year, settings_of(ctx))


@router.put("/payroll-policies/{year}", tags=[PAY], summary="设置年度工资总控（倍数 × 参照年均）", response_model=PayrollPolicyOut)
async def put_payroll_policy(
    year: Year, body: PayrollPolicyIn, session: Session, caller: HrAdmin, ctx: Ctx, zone_id: ZoneParam = None
) -> Any:
    return await payroll.put_policy(session, caller, acting_zone(caller, zone_id), year, body, settings_of(ctx))


@router.post("/payroll/{period}", tags=[PAY], summary="核算月度工资（不得超过工资总控）", status_code=201, response_model=PayrollOut)
async def compute_payroll(
    period: Period, session: Session, caller: HrAdmin, ctx: Ctx, idem: Idempotency, zone_id: ZoneParam = None
) -> Any:
    zone = acting_zone(caller, zone_id)
    settings = settings_of(ctx)
    return await idem.run(session, lambda: payroll.compute_payroll(session, caller, zone, period, settings), status_code=201)


@router.get("/payroll/{period}", tags=[PAY], summary="月度工资核算结果", response_model=PayrollOut)
async def get_payroll(period: Period, session: Session, caller: PayrollReader, zone_id: ZoneParam = None) -> Any:
    return await payroll.get_payroll(session, caller, acting_zone(caller, zone_id), period)

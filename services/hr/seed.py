"""Demo data for 成都芯谷 (cd-xingu) and 天府国际生物城 (tf-biotown), only for a zone that has none yet.

Drawn from the seeds:

- 成都芯谷发展服务局 (seed 004) is a statutory body with six internal departments it set up itself —
  规划建设部, 战略研究部 and others — under 员额总控 + 岗位管理: it resettled 20 civil-service and
  public-institution staff (locked identity), selected 3 deputy directors, and recruited 25
  specialists on the market; pay is capped at 1.5—2× the district's average.
- 天府国际生物城 (seed 001) is run by a committee of cadres seconded (派驻) from 成都高新区生物产业局 and
  双流区大健康办, with 投资促进、规划建设、企业服务 among its duties and a position + grade (岗位+职级) model.

The data goes through the same use cases as requests do (so every rule holds and the events are
in the outbox): departments, quota, pay bands, positions, staff of every identity — several linked
to the gateway's demo accounts (``xingu.hr``, ``xingu.leader``, …) — appointments, a payroll policy,
an open competitive appointment and an open evaluation cycle. Demo national ID numbers are generated
with a valid check digit (``chassis.validators.national_id_with_check_digit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from chassis.auth import Principal
from chassis.service import ServiceContext
from chassis.validators import national_id_with_check_digit
from services.hr import competition, evaluation, org, payroll, people, personal_data
from services.hr.access import today
from services.hr.domain import Category, CycleKind, Identity, add_months, term_end_for
from services.hr.models import Department
from services.hr.schemas import (
    AppointmentIn,
    CandidateIn,
    CycleIn,
    DepartmentIn,
    KpiIn,
    OpeningIn,
    PayBandIn,
    PayrollPolicyIn,
    PositionIn,
    QuotaIn,
    StaffIn,
)
from services.hr.settings import HrSettings

D = Decimal

PAY_BANDS = [
    # grade, label, monthly min, monthly max, annual performance base (万元)
    ("M5", "局领导", D("2.80"), D("3.60"), D("10.00")),
    ("M4", "部长", D("2.20"), D("2.80"), D("8.00")),
    ("M3", "副部长", D("1.80"), D("2.30"), D("6.50")),
    ("M2", "主管", D("1.40"), D("1.90"), D("5.00")),
    ("M1", "主办", D("1.10"), D("1.50"), D("4.00")),
    ("P4", "首席专家", D("2.00"), D("2.80"), D("7.00")),
    ("P3", "高级专员", D("1.50"), D("2.10"), D("5.50")),
    ("P2", "专员", D("1.10"), D("1.60"), D("4.00")),
    ("P1", "助理专员", D("0.85"), D("1.20"), D("3.00")),
    ("S2", "高级辅助", D("0.80"), D("1.10"), D("2.50")),
    ("S1", "辅助", D("0.60"), D("0.85"), D("2.00")),
]

KPIS = {
    Category.MANAGEMENT: [("goals", "目标任务完成", D("50")), ("team", "团队管理", D("30")), ("integrity", "廉洁履职", D("20"))],
    Category.PROFESSIONAL: [("output", "专业产出", D("60")), ("service", "企业服务评价", D("25")), ("learning", "学习创新", D("15"))],
    Category.SUPPORT: [("duty", "岗位职责", D("70")), ("cooperation", "协作配合", D("30"))],
}


@dataclass(frozen=True)
class PositionSeed:
    key: str
    department: str
    title: str
    category: Category
    grade: str
    posts: int


@dataclass(frozen=True)
class PersonSeed:
    name: str
    id_body: str  # the first 17 digits: region code, birth date, sequence
    identity: Identity
    position: str | None
    account: str | None = None
    establishment: str | None = None
    sending_unit: str | None = None


@dataclass(frozen=True)
class ZoneSeed:
    zone_id: str
    quota: int
    departments: list[tuple[str, str, int]]
    positions: list[PositionSeed]
    people: list[PersonSeed]
    opening: str | None
    external_candidate: str | None
    internal_candidate: str | None


XINGU = ZoneSeed(
    zone_id="cd-xingu",
    quota=60,
    departments=[
        ("general", "综合管理部", 10),
        ("planning", "规划建设部", 10),
        ("strategy", "战略研究部", 8),
        ("investment", "招商部", 12),
        ("enterprise", "企业服务部", 8),
        ("approvals", "政务服务部", 8),
    ],
    positions=[
        PositionSeed("deputy", "general", "副局长", Category.MANAGEMENT, "M5", 3),
        PositionSeed("general-head", "general", "综合管理部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("hr", "general", "人力资源主管", Category.MANAGEMENT, "M2", 1),
        PositionSeed("finance", "general", "财务专员", Category.PROFESSIONAL, "P2", 2),
        PositionSeed("admin-aide", "general", "行政辅助", Category.SUPPORT, "S1", 2),
        PositionSeed("planning-head", "planning", "规划建设部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("planner", "planning", "规划设计高级专员", Category.PROFESSIONAL, "P3", 3),
        PositionSeed("builder", "planning", "建设管理专员", Category.PROFESSIONAL, "P2", 4),
        PositionSeed("strategy-head", "strategy", "战略研究部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("researcher", "strategy", "产业研究首席专家", Category.PROFESSIONAL, "P4", 2),
        PositionSeed("statistician", "strategy", "统计分析专员", Category.PROFESSIONAL, "P2", 3),
        PositionSeed("investment-head", "investment", "招商部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("investment-manager", "investment", "招商经理", Category.PROFESSIONAL, "P3", 5),
        PositionSeed("investment-officer", "investment", "招商专员", Category.PROFESSIONAL, "P2", 4),
        PositionSeed("enterprise-head", "enterprise", "企业服务部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("enterprise-officer", "enterprise", "企业服务专员", Category.PROFESSIONAL, "P2", 5),
        PositionSeed("approvals-head", "approvals", "政务服务部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("approvals-officer", "approvals", "审批服务专员", Category.PROFESSIONAL, "P2", 5),
        PositionSeed("window-aide", "approvals", "窗口辅助", Category.SUPPORT, "S2", 2),
    ],
    people=[
        PersonSeed("王建国", "51012219750308101", Identity.CIVIL_SERVANT, "deputy", "xingu.leader",
                   establishment="双流区发展和改革局（行政编制）"),
        PersonSeed("李敏", "51012219860917202", Identity.INSTITUTION, "hr", "xingu.hr",
                   establishment="双流区人才服务中心（事业编制）"),
        PersonSeed("张磊", "51010719900402303", Identity.CONTRACT, "investment-manager", "xingu.investment"),
        PersonSeed("陈静", "51012219880625404", Identity.SECONDED, "approvals-officer", "xingu.approvals",
                   sending_unit="双流区行政审批局"),
        PersonSeed("刘洋", "51010419920114505", Identity.INSTITUTION, "statistician", "xingu.stats",
                   establishment="双流区统计局下属统计调查队（事业编制）"),
        PersonSeed("赵强", "51012219790811606", Identity.CIVIL_SERVANT, "planning-head",
                   establishment="双流区住房和城乡建设局（行政编制）"),
        PersonSeed("孙悦", "51010719930305707", Identity.CONTRACT, "planner"),
        PersonSeed("周杰", "51012419870219808", Identity.CONTRACT, "researcher"),
        PersonSeed("吴芳", "51012219910723909", Identity.INSTITUTION, "enterprise-officer",
                   establishment="双流区投资促进服务中心（事业编制）"),
        PersonSeed("郑浩", "51010719951130012", Identity.CONTRACT, None),
    ],
    opening="investment-manager",
    external_candidate="郑浩",
    internal_candidate="刘洋",
)

BIOTOWN = ZoneSeed(
    zone_id="tf-biotown",
    quota=55,
    departments=[
        ("general", "综合管理部", 8),
        ("planning", "规划建设部", 10),
        ("investment", "投资促进局", 12),
        ("enterprise", "企业服务部", 10),
        ("approvals", "政务服务部", 8),
    ],
    positions=[
        PositionSeed("general-head", "general", "综合管理部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("admin-aide", "general", "行政辅助", Category.SUPPORT, "S1", 2),
        PositionSeed("planning-head", "planning", "规划建设部部长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("builder", "planning", "建设管理专员", Category.PROFESSIONAL, "P2", 4),
        PositionSeed("investment-head", "investment", "投资促进局局长", Category.MANAGEMENT, "M4", 1),
        PositionSeed("investment-manager", "investment", "生物医药招商经理", Category.PROFESSIONAL, "P3", 4),
        PositionSeed("enterprise-officer", "enterprise", "企业服务专员", Category.PROFESSIONAL, "P2", 5),
        PositionSeed("approvals-officer", "approvals", "审批服务专员", Category.PROFESSIONAL, "P2", 4),
    ],
    people=[
        PersonSeed("马超", "51012219800516111", Identity.SECONDED, "investment-head", sending_unit="成都高新区生物产业局"),
        PersonSeed("黄丽", "51012219890209212", Identity.SECONDED, "approvals-officer", "biotown.approvals",
                   sending_unit="双流区大健康办"),
        PersonSeed("林峰", "51012219770927313", Identity.CIVIL_SERVANT, "general-head",
                   establishment="双流区人民政府办公室（行政编制）"),
        PersonSeed("何晓", "51010719940812414", Identity.CONTRACT, "investment-manager"),
        PersonSeed("高雪", "51012219900330515", Identity.INSTITUTION, "enterprise-officer",
                   establishment="成都高新区企业服务中心（事业编制）"),
    ],
    opening=None,
    external_candidate=None,
    internal_candidate=None,
)

ZONES = [XINGU, BIOTOWN]


def demo_national_id(body: str) -> str:
    return national_id_with_check_digit(body)


async def seed(session: AsyncSession, ctx: ServiceContext) -> None:
    settings = cast(HrSettings, ctx.settings)
    # The seed runs before the app's own start-up step has installed the cipher, and on a session opened before.
    personal_data.install(ctx, session)
    for zone in ZONES:
        exists = (await session.execute(select(Department.id).where(Department.zone_id == zone.zone_id).limit(1))).first()
        if exists is None:
            async with org.deferred_headcount(session):
                await seed_zone(session, zone, settings)


async def seed_zone(session: AsyncSession, zone: ZoneSeed, settings: HrSettings) -> None:
    actor = Principal(subject="hr-seed", kind="admin", roles=frozenset({"admin"}), zone_id=zone.zone_id)
    z = zone.zone_id
    await org.put_quota(session, actor, z, QuotaIn(total=zone.quota))
    departments = {}
    for code, name, allocation in zone.departments:
        departments[code] = await org.create_department(
            session, actor, z, DepartmentIn(code=code, name=name, allocation=allocation)
        )
    for grade, label, low, high, base in PAY_BANDS:
        await org.put_pay_band(
            session, actor, z, grade,
            PayBandIn(label=label, monthly_min_wan=low, monthly_max_wan=high, annual_performance_base_wan=base),
        )
    positions = {}
    for p in zone.positions:
        positions[p.key] = await org.create_position(
            session, actor, z,
            PositionIn(department_id=departments[p.department].id, title=p.title, category=p.category, grade=p.grade, posts=p.posts),
        )
    start = date(today().year, 1, 1)
    staff = {}
    for person in zone.people:
        contract = person.identity is Identity.CONTRACT
        record = await people.create_staff(
            session, actor, z,
            StaffIn(
                name=person.name,
                national_id=demo_national_id(person.id_body),
                identity=person.identity,
                original_establishment=person.establishment,
                contract_start=start if contract else None,
                contract_end=add_months(start, 36) if contract else None,
                sending_unit=person.sending_unit,
                secondment_end=add_months(start, 36) if person.identity is Identity.SECONDED else None,
                account=person.account,
            ),
        )
        staff[person.name] = record
        if person.position is not None:
            await people.create_appointment(
                session, actor, z,
                AppointmentIn(
                    staff_id=record.id, position_id=positions[person.position].id, term_start=start,
                    term_end=term_end_for(start, 36),
                ),
            )
    await payroll.put_policy(
        session, actor, z, start.year,
        PayrollPolicyIn(
            reference_average_wan=D("12.00"),
            multiple=D("1.80"),
            basis="以双流区机关事业单位人员薪酬平均水平的 1.5—2 倍计算年度薪酬基数（成都芯谷法定机构改革，seed 004）",
        ),
        settings,
    )
    quarter = (today().month - 1) // 3 + 1
    await evaluation.create_cycle(
        session, actor, z,
        CycleIn(
            kind=CycleKind.QUARTER, year=start.year, quarter=quarter,
            kpis={cat: [KpiIn(code=c, name=n, weight=w) for c, n, w in items] for cat, items in KPIS.items()},
        ),
        settings,
    )
    if zone.opening:
        opening = await competition.create_opening(
            session, actor, z,
            OpeningIn(
                position_id=positions[zone.opening].id, term_months=36,
                weights={"written": D("40"), "interview": D("40"), "performance": D("20")},
            ),
        )
        for candidate in (zone.internal_candidate, zone.external_candidate):
            if candidate:
                await competition.add_candidate(session, actor, opening.id, CandidateIn(staff_id=staff[candidate].id))

"""Demo data, only into an empty database: the city-wide catalog, the delegation lists of 成都芯谷 and
天府国际生物城 (most items delegated, a couple not — those get referred), and a handful of applications
from the demo enterprises in various states, made through the same use cases users go through (so
their timelines, audit trail and events are real), dated relative to today.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from chassis.auth import Principal
from chassis.clock import SHANGHAI, clock_of, local_date
from chassis.service import ServiceContext
from services.approvals import applications as uc
from services.approvals.calendar import WorkingCalendar
from services.approvals.catalog_data import (
    CATALOG_EFFECTIVE_FROM,
    DELEGATION_DOCUMENTS,
    MATERIALS,
    NOT_DELEGATED,
    SEED_ITEMS,
    SeedItem,
)
from services.approvals.clocks import load_calendar
from services.approvals.domain import ITEM_TYPES, item_type_code
from services.approvals.models import ApprovalItemVersion, Delegation
from services.approvals.schemas import (
    ActionNote,
    ApplicantIn,
    ApplicationCreate,
    AssignIn,
    CompleteIn,
    CorrectionItemIn,
    CorrectionRequest,
    EvaluateIn,
    MaterialProvided,
)
from services.approvals.settings import ApprovalsSettings

SEEDER = "seed"

ENTERPRISES = {
    "91510100MA6DGXQ125": "成都芯谷集成电路设计有限公司",
    "91510116MA68N7WB32": "天府生物医药科技有限公司",
    "91510100MA6C8U4P5L": "蓉芯封装测试有限公司",
    "91510122MA6ABCD116": "双流精密制造有限公司",
}

STAFF = {
    "cd-xingu": Principal(subject="xingu.approvals", kind="staff", roles=frozenset({"approvals"}), zone_id="cd-xingu", name="芯谷政务服务窗口"),
    "tf-biotown": Principal(subject="biotown.approvals", kind="staff", roles=frozenset({"approvals"}), zone_id="tf-biotown", name="生物城政务服务窗口"),
}


def item_row(item: SeedItem, now: dt.datetime) -> ApprovalItemVersion:
    type_code = item_type_code(item.code) or ""
    return ApprovalItemVersion(
        code=item.code, version=1, effective_from=CATALOG_EFFECTIVE_FROM, status="active", name=item.name,
        type_code=type_code, category=ITEM_TYPES[type_code], handling_kind=item.handling_kind,
        competent_department=item.competent_department, implementing_body=item.implementing_body,
        delegating_authority=item.competent_department, legal_basis=item.legal_basis, conditions=item.conditions,
        statutory_days=item.statutory_days, promised_days=item.promised_days, on_site_visits=item.on_site_visits,
        fee_fen=int(item.fee_yuan * 100), fee_note=item.fee_note, commitment_allowed=item.commitment_allowed,
        verification_window_days=item.verification_window_days,
        materials=[{"code": c, "name": MATERIALS[c], "mandatory": m} for c, m in item.materials],
        change_note="初始版本（事项清单梳理）", created_at=now, created_by=SEEDER,
    )


def _enterprise(uscc: str) -> Principal:
    return Principal(subject=f"ent-{uscc}", kind="enterprise", uscc=uscc, name=ENTERPRISES[uscc])


def _working_days_before(calendar: WorkingCalendar, day: dt.date, n: int) -> dt.date:
    found, cursor = 0, day
    for _ in range(400):
        if found == n:
            break
        cursor -= dt.timedelta(days=1)
        if calendar.is_workday(cursor):
            found += 1
    return cursor


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _mandatory(codes: list[str]) -> list[MaterialProvided]:
    seen: dict[str, bool] = {}
    for item in SEED_ITEMS:
        if item.code in codes:
            for code, mandatory in item.materials:
                seen[code] = seen.get(code, False) or mandatory
    return [MaterialProvided(code=c) for c, m in seen.items() if m]


async def seed(session: AsyncSession, ctx: ServiceContext) -> None:
    if (await session.execute(select(ApprovalItemVersion.id).limit(1))).first() is not None:
        return
    settings = ctx.settings
    assert isinstance(settings, ApprovalsSettings)
    now = clock_of(ctx.extras).now()
    await seed_reference_data(session, now)
    await _seed_applications(session, settings, now)


async def seed_reference_data(session: AsyncSession, now: dt.datetime) -> None:
    """The catalog and the two demo zones' delegation lists (also used by the tests)."""
    for item in SEED_ITEMS:
        session.add(item_row(item, now))
    for zone_id, (document_no, valid_from) in DELEGATION_DOCUMENTS.items():
        for item in SEED_ITEMS:
            if item.code in NOT_DELEGATED[zone_id]:
                continue
            session.add(
                Delegation(
                    id=str(uuid.uuid4()), zone_id=zone_id, item_code=item.code, authority=item.competent_department,
                    document_no=document_no, valid_from=valid_from, valid_until=None, created_at=now, created_by=SEEDER,
                )
            )
    await session.flush()


async def _seed_applications(session: AsyncSession, settings: ApprovalsSettings, now: dt.datetime) -> None:
    calendar = await load_calendar(session)
    today = local_date(now)

    def env(days_ago: int, hour: int) -> uc.Env:
        return uc.Env(now=min(_at(_working_days_before(calendar, today, days_ago), hour), now), settings=settings)

    async def file(zone: str, uscc: str, codes: list[str], days_ago: int, *, commitment: bool = False, hour: int = 9) -> str:
        body = ApplicationCreate(
            zone_id=zone,
            applicant=ApplicantIn(uscc=uscc, name=ENTERPRISES[uscc], contact_person="王经理", contact_phone="13800028001"),
            item_codes=codes, commitment=commitment, materials=_mandatory(codes),
        )
        out = await uc.file_application(session, _enterprise(uscc), body, env(days_ago, hour))
        return out.id

    xingu, biotown = STAFF["cd-xingu"], STAFF["tf-biotown"]
    chip, pack = "91510100MA6DGXQ125", "91510100MA6C8U4P5L"
    bio, precision = "91510116MA68N7WB32", "91510122MA6ABCD116"

    # 1. 一件事: planning + construction permits, completed on time and rated 非常满意.
    a = await file("cd-xingu", chip, ["51011600GZ-XK-0003", "51011600ZJ-XK-0001"], 20)
    await uc.assign(session, xingu, a, AssignIn(role="agent", staff="xingu.approvals", staff_name="帮办代办员"), env(20, 10))
    await uc.accept(session, xingu, a, ActionNote(note="材料齐全，予以受理"), env(20, 11))
    await uc.approve(session, xingu, a, ActionNote(), env(15, 15))
    await uc.complete(session, xingu, a, CompleteIn(certificate_no="建字第510116202600371号"), env(14, 10))
    await uc.evaluate(session, _enterprise(chip), a, EvaluateIn(score=5, comment="帮办代办很贴心，一次办成"), env(13, 9))

    # 2. EIA report form: accepted 13 working days ago, promise 15 → yellow.
    b = await file("cd-xingu", pack, ["51011600HB-XK-0001"], 13)
    await uc.accept(session, xingu, b, ActionNote(), env(13, 14))

    # 3. Public-place hygiene licence: promise 5, accepted 7 working days ago → overdue (red).
    c = await file("cd-xingu", chip, ["51011600WJ-XK-0001"], 7)
    await uc.accept(session, xingu, c, ActionNote(), env(7, 10))

    # 4. Food business licence: a correction during review stops the clock.
    d = await file("cd-xingu", pack, ["51011600SJ-XK-0001"], 4)
    await uc.accept(session, xingu, d, ActionNote(), env(4, 10))
    await uc.request_correction(
        session, xingu, d,
        CorrectionRequest(items=[
            CorrectionItemIn(material_code="premises_layout", reason="平面布局图未标明食品处理区与非食品处理区"),
            CorrectionItemIn(material_code="food_safety_staff", reason="缺少食品安全管理人员培训考核合格证明"),
        ]),
        env(2, 16),
    )

    # 5. Pollutant discharge permit: waiting at the window.
    await file("cd-xingu", pack, ["51011600HB-XK-0003"], 0, hour=9)

    # 6. Food production licence is not delegated to 成都芯谷: referred to 双流区市场监督管理局.
    await file("cd-xingu", chip, ["51011600SJ-XK-0002"], 1)

    # 7. Energy-saving review under notify-and-commit: decided at once, verification pending.
    await file("cd-xingu", chip, ["51011600FG-XK-0002"], 3, commitment=True)

    # 8. Project filing (即办件) in 天府国际生物城: completed the same day.
    h = await file("tf-biotown", bio, ["51011600FG-BA-0001"], 9, hour=9)
    await uc.accept(session, biotown, h, ActionNote(), env(9, 10))
    await uc.approve(session, biotown, h, ActionNote(), env(9, 10))
    await uc.complete(session, biotown, h, CompleteIn(certificate_no="川投资备【2026-510116-27-03-000187】FGQB-0412号"), env(9, 11))

    # 9. Construction-works planning permit, running.
    i = await file("tf-biotown", precision, ["51011600GZ-XK-0003"], 2)
    await uc.accept(session, biotown, i, ActionNote(), env(2, 11))

    # 10. EIA report book is not delegated to 天府国际生物城: referred.
    await file("tf-biotown", bio, ["51011600HB-XK-0002"], 1)

    # 11. Talent apartment: completed, rated 不满意 → a follow-up is open.
    k = await file("tf-biotown", precision, ["51011600ZJ-GG-0001"], 16)
    await uc.accept(session, biotown, k, ActionNote(), env(16, 10))
    await uc.approve(session, biotown, k, ActionNote(), env(6, 10))
    await uc.complete(session, biotown, k, CompleteIn(certificate_no="双流人才公寓配租〔2026〕第0093号"), env(5, 10))
    await uc.evaluate(session, _enterprise(precision), k, EvaluateIn(score=2, comment="配租房源离厂区太远，等待时间长"), env(4, 15))

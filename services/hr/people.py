"""Use cases of people: staff records (with their identity and national ID number) and appointments (聘任).

National ID numbers (居民身份证号) are personal data. They are validated with python-stdnum
(``chassis.validators.NationalId``), stored once and encrypted, unique per zone by a keyed blind index
(``services.hr.personal_data``), shown in full only to HR administrators — and each such read writes
an audit row (``staff.national_id.read``) — and masked (first 6 + last 4) for everyone else. Audit
rows only ever hold the masked form; events never hold either form; nothing here logs them.

A person holds at most one position at a time (also a partial unique index). Identity decides the
rules: contract staff are not appointed beyond their contract, seconded staff not beyond their
secondment, and locked-identity staff keep their original establishment on every appointment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, func, select

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import Page, PageParams, paginate
from chassis.validators import mask_national_id
from services.hr import domain, personal_data
from services.hr.access import (
    PersonalScope,
    can_unmask,
    now,
    personal_scope,
    require_hr_admin,
    today,
    use_case,
)
from services.hr.domain import (
    END_REASON_LABELS,
    IDENTITY_LABELS,
    LOCKED_IDENTITIES,
    EndReason,
    Identity,
    IdentityRecord,
)
from services.hr.events import APPOINTMENT_ENDED, STAFF_APPOINTED
from services.hr.models import (
    Appointment,
    Department,
    EvaluationCycle,
    EvaluationEntry,
    Position,
    Staff,
    ZoneQuota,
    new_id,
)
from services.hr.org import department_in_zone, lock_zone, publish_headcount
from services.hr.personal_data import NationalIds
from services.hr.schemas import (
    AppointmentBrief,
    AppointmentIn,
    AppointmentOut,
    EndAppointmentIn,
    ExpiringAppointmentOut,
    ExpiringAppointmentsPage,
    StaffIn,
    StaffOut,
    StaffPatch,
)


def identity_record(s: Staff) -> IdentityRecord:
    return IdentityRecord(
        identity=Identity(s.identity),
        original_establishment=s.original_establishment,
        contract_start=s.contract_start,
        contract_end=s.contract_end,
        sending_unit=s.sending_unit,
        secondment_end=s.secondment_end,
    )


def staff_audit_view(s: Staff, ids: NationalIds) -> dict[str, Any]:
    """A staff record as the audit trail may hold it: masked, no ciphertext, no blind index."""
    data = s.model_dump(exclude={"national_id", "national_id_digest"})
    data["national_id"] = mask_national_id(ids.reveal(s))
    return data


def _identity_problem(errors: list[tuple[str, str, str]]) -> Unprocessable:
    return Unprocessable(
        "身份信息不完整或不一致：" + "；".join(zh for _, zh, _ in errors),
        "Identity details are incomplete or inconsistent",
        errors=[FieldError(f, zh, en) for f, zh, en in errors],
    )


# --- reading staff ----------------------------------------------------------------------------------


async def current_appointments(session: AsyncSession, staff_ids: list[str]) -> dict[str, AppointmentBrief]:
    if not staff_ids:
        return {}
    rows = (
        await session.execute(
            select(Appointment, Position, Department)
            .join(Position, col(Position.id) == col(Appointment.position_id))
            .join(Department, col(Department.id) == col(Appointment.department_id))
            .where(col(Appointment.staff_id).in_(staff_ids), Appointment.status == "active")
        )
    ).tuples().all()
    return {
        a.staff_id: AppointmentBrief(
            id=a.id, position_id=p.id, position_title=p.title, department_id=d.id, department_name=d.name,
            grade=p.grade, term_start=a.term_start, term_end=a.term_end,
        )
        for a, p, d in rows
    }


def _staff_out(s: Staff, number: str, unmasked: bool, appointment: AppointmentBrief | None) -> StaffOut:
    identity = Identity(s.identity)
    return StaffOut(
        id=s.id,
        zone_id=s.zone_id,
        name=s.name,
        national_id=number if unmasked else (mask_national_id(number) or ""),
        national_id_masked=not unmasked,
        identity=identity,
        identity_label=IDENTITY_LABELS[identity],
        identity_locked=identity in LOCKED_IDENTITIES,
        original_establishment=s.original_establishment,
        contract_start=s.contract_start,
        contract_end=s.contract_end,
        sending_unit=s.sending_unit,
        secondment_end=s.secondment_end,
        account=s.account,
        current_appointment=appointment,
        created_at=s.created_at,
    )


async def staff_out(
    session: AsyncSession, caller: Principal, people: list[Staff], *, via: str
) -> list[StaffOut]:
    """Staff records as this caller may see them; unmasked reads are audited one row per person."""
    unmasked = can_unmask(caller)
    appointments = await current_appointments(session, [s.id for s in people])
    ids = personal_data.of(session)
    numbers = {s.id: ids.reveal(s) for s in people}
    if unmasked:
        for s in people:
            await record_audit(
                session, caller, "staff.national_id.read", entity_type="staff", entity_id=s.id, zone_id=s.zone_id,
                after={"national_id": mask_national_id(numbers[s.id]), "via": via},
            )
    return [_staff_out(s, numbers[s.id], unmasked, appointments.get(s.id)) for s in people]


def _scoped(query: Select[Any], scope: PersonalScope) -> Select[Any]:
    query = query.where(col(Staff.zone_id) == scope.zone_id)
    if scope.everyone:
        return query
    own = col(Staff.account) == scope.account
    if scope.department_code:
        in_department = (
            select(Appointment.staff_id)
            .join(Department, col(Department.id) == col(Appointment.department_id))
            .where(Appointment.status == "active", Department.code == scope.department_code, Department.zone_id == scope.zone_id)
        )
        return query.where(or_(col(Staff.id).in_(in_department), own))
    return query.where(own)


async def list_staff(
    session: AsyncSession,
    caller: Principal,
    zone_id: str,
    page: PageParams,
    *,
    department_id: str | None = None,
    identity: Identity | None = None,
    name: str | None = None,
    appointed: bool | None = None,
) -> Page[StaffOut]:
    query = _scoped(select(Staff), personal_scope(caller, zone_id))
    active = select(Appointment.staff_id).where(Appointment.status == "active")
    if department_id:
        query = query.where(col(Staff.id).in_(active.where(Appointment.department_id == department_id)))
    if identity:
        query = query.where(col(Staff.identity) == identity.value)
    if name:
        query = query.where(col(Staff.name).contains(name))
    if appointed is True:
        query = query.where(col(Staff.id).in_(active))
    elif appointed is False:
        query = query.where(col(Staff.id).not_in(active))
    query = query.order_by(col(Staff.created_at), col(Staff.id))
    rows, total = await paginate(session, query, page)
    items = await staff_out(session, caller, rows, via="GET /staff")
    await record_audit(
        session, caller, "staff.list.read", entity_type="staff", entity_id="*", zone_id=zone_id,
        after={"count": len(items), "page": page.page},
    )
    return Page(items=items, total=total, page=page.page, size=page.size)


async def visible_staff(session: AsyncSession, caller: Principal, staff_id: str) -> Staff:
    """One staff record, if this caller may read it (else 404, hiding whether it exists)."""
    s = await session.get(Staff, staff_id)
    if s is None:
        raise NotFound("人员不存在", "Staff member not found")
    ensure_zone(caller, s.zone_id)
    visible = (await session.execute(_scoped(select(Staff.id), personal_scope(caller, s.zone_id)).where(col(Staff.id) == s.id))).first()
    if visible is None:
        raise NotFound("人员不存在", "Staff member not found")
    return s


async def get_staff(session: AsyncSession, caller: Principal, staff_id: str) -> StaffOut:
    s = await visible_staff(session, caller, staff_id)
    await record_audit(session, caller, "staff.read", entity_type="staff", entity_id=s.id, zone_id=s.zone_id)
    return (await staff_out(session, caller, [s], via="GET /staff/{id}"))[0]


async def own_staff_record(session: AsyncSession, caller: Principal, zone_id: str) -> Staff:
    s = (
        await session.execute(select(Staff).where(Staff.zone_id == zone_id, Staff.account == caller.subject))
    ).scalar_one_or_none()
    if s is None:
        raise NotFound("您的账户尚未关联人事档案", "Your account is not linked to a staff record")
    return s


async def get_my_record(session: AsyncSession, caller: Principal, zone_id: str) -> StaffOut:
    s = await own_staff_record(session, caller, zone_id)
    await record_audit(session, caller, "staff.read_own", entity_type="staff", entity_id=s.id, zone_id=zone_id)
    return (await staff_out(session, caller, [s], via="GET /staff/me"))[0]


# --- writing staff ----------------------------------------------------------------------------------


async def _check_account_free(session: AsyncSession, zone_id: str, account: str, staff_id: str | None) -> None:
    taken = (
        await session.execute(select(Staff.id).where(Staff.zone_id == zone_id, Staff.account == account))
    ).scalar_one_or_none()
    if taken is not None and taken != staff_id:
        raise Conflict(
            f"账户 {account} 已关联其他人员", f"Account {account} is linked to another staff member",
            errors=[FieldError("account", "该账户已关联其他人员", "account already linked")],
        )


@use_case
async def create_staff(session: AsyncSession, caller: Principal, zone_id: str, body: StaffIn) -> StaffOut:
    require_hr_admin(caller)
    record = IdentityRecord(
        identity=body.identity,
        original_establishment=body.original_establishment,
        contract_start=body.contract_start,
        contract_end=body.contract_end,
        sending_unit=body.sending_unit,
        secondment_end=body.secondment_end,
    )
    if errors := domain.identity_errors(record):
        raise _identity_problem(errors)
    ids = personal_data.of(session)
    digest = ids.index(body.national_id)
    existing = (
        await session.execute(select(Staff).where(Staff.zone_id == zone_id, Staff.national_id_digest == digest))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"该身份证号码已登记（人员 ID {existing.id}）",
            f"This national ID number is already on record (staff {existing.id})",
            errors=[FieldError("national_id", "该身份证号码已登记", "already on record", code="duplicate")],
            staff_id=existing.id,
        )
    if body.account:
        await _check_account_free(session, zone_id, body.account, None)
    at = now()
    staff_id = new_id()  # before sealing: the ciphertext is bound to its row
    s = Staff(
        id=staff_id,
        zone_id=zone_id,
        name=body.name,
        national_id=ids.seal(staff_id, body.national_id),
        national_id_digest=digest,
        identity=body.identity.value,
        original_establishment=body.original_establishment,
        contract_start=body.contract_start,
        contract_end=body.contract_end,
        sending_unit=body.sending_unit,
        secondment_end=body.secondment_end,
        account=body.account,
        created_at=at,
        updated_at=at,
    )
    session.add(s)
    await session.flush()
    await record_audit(
        session, caller, "staff.create", entity_type="staff", entity_id=s.id, zone_id=zone_id, after=staff_audit_view(s, ids)
    )
    return (await staff_out(session, caller, [s], via="POST /staff"))[0]


@use_case
async def patch_staff(session: AsyncSession, caller: Principal, staff_id: str, body: StaffPatch) -> StaffOut:
    require_hr_admin(caller)
    s = await visible_staff(session, caller, staff_id)
    ids = personal_data.of(session)
    before = staff_audit_view(s, ids)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("account"):
        await _check_account_free(session, s.zone_id, changes["account"], s.id)
    for name, value in changes.items():
        setattr(s, name, value)
    if errors := domain.identity_errors(identity_record(s)):
        raise _identity_problem(errors)
    active = await active_appointment(session, s.id)
    if active is not None and {"contract_start", "contract_end", "secondment_end"} & changes.keys():
        domain.check_term_fits_identity(identity_record(s), active.term_start, active.term_end)
    s.updated_at = now()
    session.add(s)
    await session.flush()
    await record_audit(
        session, caller, "staff.update", entity_type="staff", entity_id=s.id, zone_id=s.zone_id,
        before=before, after=staff_audit_view(s, ids),
    )
    return (await staff_out(session, caller, [s], via="PATCH /staff/{id}"))[0]


# --- appointments ----------------------------------------------------------------------------------


async def active_appointment(session: AsyncSession, staff_id: str) -> Appointment | None:
    return (
        await session.execute(
            select(Appointment).where(Appointment.staff_id == staff_id, Appointment.status == "active")
        )
    ).scalar_one_or_none()


async def _count_active(session: AsyncSession, *conditions: Any) -> int:
    return int(
        (await session.execute(select(func.count()).where(Appointment.status == "active", *conditions))).scalar_one()
    )


async def capacity(
    session: AsyncSession, position: Position, department: Department, quota: ZoneQuota, vacating: Appointment | None
) -> domain.Capacity:
    """The counts one more appointment is checked against, not counting the appointment it vacates."""

    def minus(vacated: bool) -> int:
        return 1 if vacating is not None and vacated else 0

    return domain.Capacity(
        position_title=position.title,
        position_posts=position.posts,
        position_filled=await _count_active(session, Appointment.position_id == position.id)
        - minus(vacating is not None and vacating.position_id == position.id),
        department_name=department.name,
        department_allocation=department.allocation,
        department_filled=await _count_active(session, Appointment.department_id == department.id)
        - minus(vacating is not None and vacating.department_id == department.id),
        total_quota=quota.total,
        total_filled=await _count_active(session, Appointment.zone_id == position.zone_id) - minus(True),
    )


class AppointmentAlreadyEnded(Conflict):
    """The appointment is no longer active: someone (HR, or the term-end job) ended it first."""

    def __init__(self) -> None:
        super().__init__(
            "该聘任已结束", "This appointment has already ended",
            errors=[FieldError("appointment_id", "聘任已结束", "already ended", code="already_ended")],
        )


async def end(
    session: AsyncSession,
    actor: Principal | str,
    appointment: Appointment,
    reason: EndReason,
    ended_on: date,
    note: str | None,
    *,
    at: datetime | None = None,
) -> None:
    """End an appointment and record ``zone.hr.appointment.ended.v1`` (headcount is the caller's to publish).

    ``actor`` is the person ending it, or the name of the system job that does (audited as a system
    actor). The change is a compare-and-set on ``status = 'active'``: of two transactions ending the same
    appointment at once (HR by hand and the term-end job, or the job on two replicas) exactly one
    writes the end, its audit row and its event; the other gets :class:`AppointmentAlreadyEnded`.
    """
    if ended_on < appointment.term_start - timedelta(days=1):
        raise Unprocessable(
            "解聘日期不能早于聘期开始", "An appointment cannot end before it started",
            errors=[FieldError("ended_on", "解聘日期不能早于聘期开始", "before the term started")],
        )
    before = appointment.model_dump()
    changes = {
        "status": "ended", "ended_on": ended_on, "end_reason": reason.value, "end_note": note, "ended_at": at or now(),
    }
    claimed = await session.execute(
        update(Appointment)
        .where(col(Appointment.id) == appointment.id, col(Appointment.status) == "active")
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise AppointmentAlreadyEnded()
    # The loaded row now says what the database holds, without a second UPDATE at the next flush.
    for name, value in changes.items():
        set_committed_value(appointment, name, value)
    await record_audit(
        session, actor, "appointment.end", entity_type="appointment", entity_id=appointment.id,
        zone_id=appointment.zone_id, before=before, after=appointment.model_dump(),
    )
    await record_event(
        session,
        APPOINTMENT_ENDED,
        {
            "appointment_id": appointment.id,
            "staff_id": appointment.staff_id,
            "zone_id": appointment.zone_id,
            "position_id": appointment.position_id,
            "department_id": appointment.department_id,
            "reason": reason.value,
            "ended_on": ended_on,
            "ended_at": appointment.ended_at,
        },
        subject=appointment.id,
        zone_id=appointment.zone_id,
    )


async def appoint(
    session: AsyncSession,
    caller: Principal,
    staff: Staff,
    position: Position,
    term_start: date,
    term_end: date,
    *,
    opening_id: str | None = None,
    transfer: bool = False,
) -> tuple[Appointment, str | None]:
    """Appoint a person to a position for a term; returns the appointment and any one it ended.

    Checks, in order: the term fits the person's identity (contract, secondment); they hold no other
    position (unless ``transfer``: a competitive appointment moves them, ending the old one the day
    before); one more appointment fits the position's posts, the department's allocation and the total
    quota, not counting the post they vacate. Records ``zone.hr.staff.appointed.v1``.
    """
    quota = await lock_zone(session, position.zone_id, caller.subject)
    department = await department_in_zone(session, position.zone_id, position.department_id)
    domain.check_term_fits_identity(identity_record(staff), term_start, term_end)
    current = await active_appointment(session, staff.id)
    if current is not None and not transfer:
        raise Conflict(
            "该人员已在聘，一人同一时间只能聘任一个岗位，请先结束原聘任",
            "This person already holds a position; end that appointment first",
            errors=[FieldError("staff_id", "已在聘其他岗位", "already appointed", code="already_appointed")],
            current_appointment_id=current.id,
        )
    domain.check_appointment_capacity(await capacity(session, position, department, quota, current))
    ended_id = None
    if current is not None:
        await end(session, caller, current, EndReason.TRANSFER, max(term_start - timedelta(days=1), current.term_start), "竞聘调任")
        ended_id = current.id
    appointment = Appointment(
        zone_id=position.zone_id,
        staff_id=staff.id,
        position_id=position.id,
        department_id=department.id,
        opening_id=opening_id,
        identity=staff.identity,
        original_establishment=staff.original_establishment,
        term_start=term_start,
        term_end=term_end,
        created_at=now(),
    )
    session.add(appointment)
    await session.flush()
    await record_audit(
        session, caller, "appointment.create", entity_type="appointment", entity_id=appointment.id,
        zone_id=appointment.zone_id, after=appointment.model_dump(),
    )
    await record_event(
        session,
        STAFF_APPOINTED,
        {
            "appointment_id": appointment.id,
            "staff_id": staff.id,
            "zone_id": appointment.zone_id,
            "position_id": position.id,
            "department_id": department.id,
            "category": position.category,
            "grade": position.grade,
            "identity": staff.identity,
            "term_start": term_start,
            "term_end": term_end,
            "opening_id": opening_id,
            "appointed_at": appointment.created_at,
        },
        subject=staff.id,
        zone_id=appointment.zone_id,
    )
    return appointment, ended_id


async def staff_in_zone(session: AsyncSession, zone_id: str, staff_id: str, *, field: str = "staff_id") -> Staff:
    s = await session.get(Staff, staff_id)
    if s is None or s.zone_id != zone_id:
        raise Unprocessable("人员不存在", "No such staff member in this zone", errors=[FieldError(field, "人员不存在", "no such staff")])
    return s


@use_case
async def create_appointment(session: AsyncSession, caller: Principal, zone_id: str, body: AppointmentIn) -> AppointmentOut:
    """Direct appointment (e.g. a seconded cadre placed by the sending units, or initial staffing)."""
    require_hr_admin(caller)
    staff = await staff_in_zone(session, zone_id, body.staff_id)
    position = await session.get(Position, body.position_id)
    if position is None or position.zone_id != zone_id:
        raise Unprocessable("岗位不存在", "No such position", errors=[FieldError("position_id", "岗位不存在", "no such position")])
    appointment, _ = await appoint(session, caller, staff, position, body.term_start, body.term_end)
    await publish_headcount(session, zone_id)
    return (await appointments_out(session, [appointment]))[0]


async def _latest_result(session: AsyncSession, staff_id: str) -> EvaluationEntry | None:
    return (
        await session.execute(
            select(EvaluationEntry)
            .join(EvaluationCycle, col(EvaluationCycle.id) == col(EvaluationEntry.cycle_id))
            .where(EvaluationEntry.staff_id == staff_id, EvaluationCycle.status == "finalized")
            .order_by(col(EvaluationCycle.end_date).desc(), col(EvaluationCycle.finalized_at).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


@use_case
async def end_appointment(session: AsyncSession, caller: Principal, appointment_id: str, body: EndAppointmentIn) -> AppointmentOut:
    require_hr_admin(caller)
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("聘任记录不存在", "Appointment not found")
    ensure_zone(caller, appointment.zone_id)
    if appointment.status != "active":
        raise AppointmentAlreadyEnded()
    if body.reason is EndReason.EVALUATION:
        latest = await _latest_result(session, appointment.staff_id)
        if latest is None or not (latest.grade == domain.Grade.FAIL.value or latest.bottom_flag):
            raise Conflict(
                "考核解聘须以最近一次考核为不合格或末位为依据",
                "Termination after evaluation needs a latest result of 不合格 or a 末位 flag",
                errors=[FieldError("reason", "最近一次考核不是不合格或末位", "latest evaluation does not support it")],
                latest_grade=latest.grade if latest else None,
                latest_bottom_flag=latest.bottom_flag if latest else None,
            )
    await lock_zone(session, appointment.zone_id, caller.subject)
    await end(session, caller, appointment, body.reason, body.ended_on or today(), body.note)
    await publish_headcount(session, appointment.zone_id)
    return (await appointments_out(session, [appointment]))[0]


async def appointments_out(session: AsyncSession, rows: list[Appointment]) -> list[AppointmentOut]:
    if not rows:
        return []
    staff = {
        s.id: s
        for s in (await session.execute(select(Staff).where(col(Staff.id).in_({a.staff_id for a in rows})))).scalars()
    }
    positions = {
        p.id: p
        for p in (await session.execute(select(Position).where(col(Position.id).in_({a.position_id for a in rows})))).scalars()
    }
    departments = {
        d.id: d
        for d in (
            await session.execute(select(Department).where(col(Department.id).in_({a.department_id for a in rows})))
        ).scalars()
    }
    out = []
    for a in rows:
        reason = EndReason(a.end_reason) if a.end_reason else None
        out.append(
            AppointmentOut(
                id=a.id,
                zone_id=a.zone_id,
                staff_id=a.staff_id,
                staff_name=staff[a.staff_id].name,
                position_id=a.position_id,
                position_title=positions[a.position_id].title,
                department_id=a.department_id,
                department_name=departments[a.department_id].name,
                grade=positions[a.position_id].grade,
                opening_id=a.opening_id,
                identity=Identity(a.identity),
                identity_label=IDENTITY_LABELS[Identity(a.identity)],
                original_establishment=a.original_establishment,
                term_start=a.term_start,
                term_end=a.term_end,
                status="active" if a.status == "active" else "ended",
                ended_on=a.ended_on,
                end_reason=reason,
                end_reason_label=END_REASON_LABELS[reason] if reason else None,
                end_note=a.end_note,
                created_at=a.created_at,
            )
        )
    return out


def _appointments_scoped(query: Select[Any], scope: PersonalScope) -> Select[Any]:
    query = query.where(col(Appointment.zone_id) == scope.zone_id)
    if scope.everyone:
        return query
    own = col(Appointment.staff_id).in_(select(Staff.id).where(Staff.zone_id == scope.zone_id, Staff.account == scope.account))
    if scope.department_code:
        department = select(Department.id).where(Department.zone_id == scope.zone_id, Department.code == scope.department_code)
        return query.where(or_(col(Appointment.department_id).in_(department), own))
    return query.where(own)


async def list_appointments(
    session: AsyncSession,
    caller: Principal,
    zone_id: str,
    page: PageParams,
    *,
    staff_id: str | None = None,
    position_id: str | None = None,
    department_id: str | None = None,
    status: str | None = None,
) -> Page[AppointmentOut]:
    query = _appointments_scoped(select(Appointment), personal_scope(caller, zone_id))
    if staff_id:
        query = query.where(col(Appointment.staff_id) == staff_id)
    if position_id:
        query = query.where(col(Appointment.position_id) == position_id)
    if department_id:
        query = query.where(col(Appointment.department_id) == department_id)
    if status:
        query = query.where(col(Appointment.status) == status)
    query = query.order_by(col(Appointment.created_at).desc(), col(Appointment.id))
    rows, total = await paginate(session, query, page)
    await record_audit(
        session, caller, "appointment.list.read", entity_type="appointment", entity_id="*", zone_id=zone_id,
        after={"count": len(rows), "page": page.page},
    )
    return Page(items=await appointments_out(session, rows), total=total, page=page.page, size=page.size)


@use_case
async def list_expiring_appointments(
    session: AsyncSession,
    caller: Principal,
    zone_id: str,
    page: PageParams,
    *,
    today: date,
    within_days: int,
    department_id: str | None = None,
) -> ExpiringAppointmentsPage:
    """Active appointments whose term ends by ``today + within_days``, the soonest first (到期提醒).

    Those already past their term that the term-end job has not yet ended (it runs periodically, or is
    turned off) come first, with a negative ``days_left``. The caller sees what :func:`list_appointments`
    would show them: HR everyone, a department head their department, anyone else their own.
    """
    horizon = domain.expiry_horizon(today, within_days)
    query = _appointments_scoped(select(Appointment), personal_scope(caller, zone_id)).where(
        col(Appointment.status) == "active", col(Appointment.term_end) <= horizon
    )
    if department_id:
        query = query.where(col(Appointment.department_id) == department_id)
    query = query.order_by(col(Appointment.term_end), col(Appointment.id))
    rows, total = await paginate(session, query, page)
    await record_audit(
        session, caller, "appointment.expiring.read", entity_type="appointment", entity_id="*", zone_id=zone_id,
        after={"count": len(rows), "page": page.page, "within_days": within_days, "as_of": today},
    )
    items = []
    for out in await appointments_out(session, rows):
        left = domain.days_left_in_term(out.term_end, today)
        items.append(ExpiringAppointmentOut(**out.model_dump(), days_left=left, expiry_label=domain.term_expiry_label(left)))
    return ExpiringAppointmentsPage(
        items=items, total=total, page=page.page, size=page.size, as_of=today, within_days=within_days
    )


async def get_appointment(session: AsyncSession, caller: Principal, appointment_id: str) -> AppointmentOut:
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("聘任记录不存在", "Appointment not found")
    ensure_zone(caller, appointment.zone_id)
    visible = (
        await session.execute(
            _appointments_scoped(select(Appointment.id), personal_scope(caller, appointment.zone_id)).where(
                col(Appointment.id) == appointment.id
            )
        )
    ).first()
    if visible is None:
        raise NotFound("聘任记录不存在", "Appointment not found")
    await record_audit(
        session, caller, "appointment.read", entity_type="appointment", entity_id=appointment.id, zone_id=appointment.zone_id
    )
    return (await appointments_out(session, [appointment]))[0]


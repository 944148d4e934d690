"""Use cases for applications (办件): filing, uploads and every lifecycle action.

One function per thing a user does. Each takes the session, the caller and the instant ``now`` (from the
service's clock), applies the rules of :mod:`services.approvals.domain`, writes the timeline, the audit
trail and the outbox event on the same session, and never commits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone
from chassis.clock import local_date
from chassis.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from chassis.events import EventType
from chassis.outbox import record_event
from services.approvals import events as ev
from services.approvals import refcache
from services.approvals.access import ensure_approval_staff, is_applicant
from services.approvals.calendar import WorkingCalendar
from services.approvals.catalog import delegation_in_force, terms_of, version_in_force, zone_has_delegations
from services.approvals.clocks import load_calendar, refresh_clock
from services.approvals.deadlines import ClockReading
from services.approvals.domain import (
    ACTION_LABELS,
    APPLICANT_ACTIONS,
    CLOCK_STATUSES,
    STAFF_ACTIONS,
    STATUS_LABELS,
    Action,
    ApplicationFacts,
    CorrectionPhase,
    IllegalTransition,
    MaterialState,
    PreviousNotice,
    ProjectAdmission,
    Status,
    VerificationOutcome,
    check_correction,
    combine,
    commitment_eligibility,
    correction_phase_for,
    evaluation_level,
    missing_mandatory,
    needs_follow_up,
    next_status,
    not_resubmitted,
)
from services.approvals.models import (
    Application,
    ApplicationItem,
    ApplicationMaterial,
    ApprovalItemVersion,
    CorrectionNotice,
    Document,
    Evaluation,
    FollowUp,
    InvestmentProject,
    TimelineEntry,
)
from services.approvals.queries import (
    NewApplicationParts,
    application_detail,
    document_out,
    facts_of,
    follow_up_out,
    item_codes_of,
    load_visible,
)
from services.approvals.schemas import (
    ActionNote,
    ApplicationCreate,
    ApplicationOut,
    AssignIn,
    CompleteIn,
    CorrectionRequest,
    DocumentOut,
    EligibilityOut,
    EligibilityReasonOut,
    EvaluateIn,
    FollowUpClose,
    FollowUpOut,
    ReasonIn,
    ResubmitIn,
    VerifyIn,
)
from services.approvals.settings import ApprovalsSettings
from services.approvals.uploads import (
    UploadRejected,
    safe_filename,
    sha256_hex,
    sniff,
    storage_key,
    store_atomically,
)

_ITEM_TABLE: Any = ApplicationItem.__table__  # type: ignore[attr-defined]
_MATERIAL_TABLE: Any = ApplicationMaterial.__table__  # type: ignore[attr-defined]


@dataclass
class Env:
    """What a use case needs besides the session and the caller."""

    now: dt.datetime
    settings: ApprovalsSettings

    @property
    def today(self) -> dt.date:
        return local_date(self.now)


# --- helpers -----------------------------------------------------------------------------------------------------


async def _emit(session: AsyncSession, app: Application, event_type: EventType, data: BaseModel) -> None:
    await record_event(session, event_type, data, subject=app.id, zone_id=app.zone_id, key=app.id)


async def _ref(session: AsyncSession, app: Application) -> dict[str, Any]:
    codes = (await item_codes_of(session, [app.id]))[app.id]
    return {"application_id": app.id, "zone_id": app.zone_id, "uscc": app.uscc, "item_codes": codes}


async def _timeline(
    session: AsyncSession, app: Application, caller: Principal | None, action: str, at: dt.datetime,
    *, from_status: str | None, to_status: str | None, note: str | None = None, details: dict[str, Any] | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        application_id=app.id, at=at,
        actor=caller.subject[:100] if caller else "system", actor_kind=caller.kind if caller else "system",
        actor_name=_actor_name(caller),
        action=action, from_status=from_status, to_status=to_status, note=note, details=details,
    )
    session.add(entry)
    return entry


def _actor_name(caller: Principal | None) -> str | None:
    if caller is None:
        return "系统"
    return caller.name[:100] if caller.name else None


def _conflict_for(exc: IllegalTransition) -> Conflict:
    allowed_zh = "、".join(f"{ACTION_LABELS[a]}（{a.value}）" for a in exc.allowed) or "无"
    return Conflict(
        f"办件当前状态为「{STATUS_LABELS[exc.status]}」，不能执行「{ACTION_LABELS[exc.action]}」。当前可执行的操作：{allowed_zh}",
        f"action {exc.action.value!r} is not allowed in state {exc.status.value!r}; "
        f"allowed: {', '.join(a.value for a in exc.allowed) or 'none'}",
        state=exc.status.value,
        state_label=STATUS_LABELS[exc.status],
        action=exc.action.value,
        allowed_actions=[a.value for a in exc.allowed],
    )


def _transition(app: Application, action: Action, outcome: VerificationOutcome | None = None) -> Status:
    try:
        return next_status(facts_of(app), action, outcome=outcome)
    except IllegalTransition as exc:
        raise _conflict_for(exc) from exc


def _authorize(caller: Principal, app: Application, action: Action) -> None:
    if caller.is_admin:
        return
    if action in APPLICANT_ACTIONS and is_applicant(caller, app.uscc):
        return
    if action in STAFF_ACTIONS and caller.is_staff:
        ensure_approval_staff(caller)
        ensure_zone(caller, app.zone_id)
        return
    if action is Action.EVALUATE:
        raise Forbidden("只有申请企业本身可以评价", "Only the applicant may rate the service")
    raise Forbidden(f"只有审批人员可以执行「{ACTION_LABELS[action]}」", f"Only approval staff may {action.value}")


async def _materials(session: AsyncSession, app_id: str) -> dict[str, ApplicationMaterial]:
    rows = (
        await session.execute(select(ApplicationMaterial).where(col(ApplicationMaterial.application_id) == app_id))
    ).scalars()
    return {r.material_code: r for r in rows}


def _material_states(rows: dict[str, ApplicationMaterial]) -> dict[str, MaterialState]:
    return {c: MaterialState(c, r.name, r.mandatory, r.provided_at) for c, r in rows.items()}


async def _notices(session: AsyncSession, app_id: str) -> list[CorrectionNotice]:
    return list(
        (
            await session.execute(
                select(CorrectionNotice)
                .where(col(CorrectionNotice.application_id) == app_id)
                .order_by(col(CorrectionNotice.notice_no))
            )
        ).scalars()
    )


async def _refresh(
    session: AsyncSession, app: Application, env: Env, calendar: WorkingCalendar | None = None,
    notices: list[CorrectionNotice] | None = None,
) -> ClockReading:
    calendar = calendar or await load_calendar(session)
    reading = await refresh_clock(session, app, calendar, env.today, env.settings.alert_yellow_percent, notices)
    # ``alert_level`` (the last level notified) is raised only by the alerts job, which emits alert_raised;
    # a concluded application simply has none.
    if Status(app.status) not in CLOCK_STATUSES:
        app.alert_level = "none"
    app.updated_at = env.now
    session.add(app)
    return reading


async def _detail(
    session: AsyncSession, app: Application, env: Env, calendar: WorkingCalendar | None = None,
    new: NewApplicationParts | None = None,
) -> ApplicationOut:
    await session.flush()
    return await application_detail(
        session, app, calendar=calendar, today=env.today, yellow_percent=env.settings.alert_yellow_percent, new=new
    )


def _snapshot(app: Application) -> dict[str, Any]:
    return {
        "status": app.status, "due_date": app.due_date, "agent": app.agent, "first_inquiry": app.first_inquiry,
        "verification_status": app.verification_status, "certificate_no": app.certificate_no, "reason": app.reason,
    }


async def _audit(session: AsyncSession, caller: Principal | None, app: Application, action: str, before: Any) -> None:
    await record_audit(
        session, caller or "system", f"application.{action}", entity_type="application", entity_id=app.id,
        zone_id=app.zone_id, before=before, after=_snapshot(app),
    )


# --- eligibility for notify-and-commit -------------------------------------------------------------------------------


async def project_admission(session: AsyncSession, project_id: str) -> ProjectAdmission | None:
    row = await session.get(InvestmentProject, project_id)
    if row is None:
        return None
    failed = tuple(
        str(c.get("reason") or c.get("criterion"))
        for c in (row.admission_criteria or [])
        if isinstance(c, dict) and c.get("passed") is False
    )
    return ProjectAdmission(
        project_id=row.project_id, zone_id=row.zone_id, uscc=row.uscc, name=row.name,
        passed=row.admission_passed, failed_criteria=failed,
    )


async def check_eligibility(
    session: AsyncSession, caller: Principal, *, zone_id: str, item_codes: list[str], project_id: str | None,
    uscc: str | None, today: dt.date,
) -> EligibilityOut:
    """``GET /commitment-eligibility``: whether notify-and-commit is available, with every reason if not."""
    if caller.is_enterprise:
        uscc = caller.uscc
    versions, errors = await _items_in_force(session, item_codes, today)
    if errors:
        raise Unprocessable("部分事项编码不存在或已取消", "unknown or abolished item codes", errors=errors)
    project = await project_admission(session, project_id) if project_id else None
    result = commitment_eligibility(
        [terms_of(v) for v in versions], project_id=project_id, project=project, applicant_uscc=uscc, zone_id=zone_id
    )
    return EligibilityOut(
        eligible=result.eligible,
        reasons=[EligibilityReasonOut(code=r.code, field=r.field, message=r.zh) for r in result.reasons],
    )


async def _items_in_force(
    session: AsyncSession, codes: list[str], today: dt.date, field: str = "item_codes", *, cache_ttl_s: float = 0
) -> tuple[list[ApprovalItemVersion], list[FieldError]]:
    versions: list[ApprovalItemVersion] = []
    errors: list[FieldError] = []
    for i, code in enumerate(codes):
        version = await refcache.cached(
            session, ("version_in_force", code, today), cache_ttl_s,
            lambda code=code: _detached_version_in_force(session, code, today),  # type: ignore[misc]
        )
        if version is None:
            errors.append(FieldError(f"{field}.{i}", f"事项编码 {code} 不在事项清单中", f"unknown item {code}", code="unknown_item"))
        elif version.status != "active":
            errors.append(FieldError(f"{field}.{i}", f"事项 {code} 已取消", f"item {code} is abolished", code="abolished_item"))
        else:
            versions.append(version)
    return versions, errors


async def _detached_version_in_force(session: AsyncSession, code: str, today: dt.date) -> ApprovalItemVersion | None:
    return refcache.detached(session, await version_in_force(session, code, today))


# --- filing -----------------------------------------------------------------------------------------------------------


async def _delegated(session: AsyncSession, zone_id: str, code: str, day: dt.date) -> bool:
    return await delegation_in_force(session, zone_id, code, day) is not None


async def file_application(session: AsyncSession, caller: Principal, body: ApplicationCreate, env: Env) -> ApplicationOut:
    if caller.is_enterprise:
        if body.applicant.uscc != caller.uscc:
            raise Forbidden(
                "企业只能以本企业的统一社会信用代码提交申请", "An enterprise files only under its own USCC",
                errors=[FieldError("applicant.uscc", "与登录企业不一致", "not your USCC", code="not_own_uscc")],
            )
    elif not caller.is_admin:
        ensure_approval_staff(caller)  # a clerk or agent filing on the applicant's behalf (帮办代办)
        ensure_zone(caller, body.zone_id, not_found=False)

    # Reference data read through the service's cache (:mod:`services.approvals.refcache`).
    ttl = env.settings.reference_cache_ttl_s
    if not await refcache.cached(
        session, ("zone_has_delegations", body.zone_id), ttl, lambda: zone_has_delegations(session, body.zone_id)
    ):
        raise Unprocessable(
            f"功能区 {body.zone_id} 尚未开通审批服务（没有赋权清单）", f"zone {body.zone_id} has no delegation list",
            errors=[FieldError("zone_id", "功能区不存在或未开通审批服务", "unknown zone or no approvals", code="unknown_zone")],
        )
    versions, errors = await _items_in_force(session, body.item_codes, env.today, cache_ttl_s=ttl)
    if errors:
        raise Unprocessable("部分事项编码不存在或已取消", "unknown or abolished item codes", errors=errors)
    terms = [terms_of(v) for v in versions]
    bundle = combine(terms)
    bad_materials = [
        FieldError(f"materials.{i}.code", f"材料 {m.code} 不属于所申请事项", f"material {m.code} is not required", code="unknown_material")
        for i, m in enumerate(body.materials)
        if m.code not in bundle.materials
    ]
    if bad_materials:
        raise Unprocessable("提供的材料不属于所申请事项", "materials not required by these items", errors=bad_materials)

    referrals = []
    for version in versions:
        if not await refcache.cached(
            session, ("delegated", body.zone_id, version.code, env.today), ttl,
            lambda code=version.code: _delegated(session, body.zone_id, code, env.today),  # type: ignore[misc]
        ):
            referrals.append(
                {
                    "item_code": version.code,
                    "authority": version.delegating_authority,
                    "reason": f"「{version.name}」未赋权 {body.zone_id} 办理（{env.today} 无有效赋权），请向{version.delegating_authority}申请",
                }
            )

    eligible_commitment = False
    if body.commitment and not referrals:
        project = await project_admission(session, body.project_id) if body.project_id else None
        result = commitment_eligibility(
            terms, project_id=body.project_id, project=project, applicant_uscc=body.applicant.uscc, zone_id=body.zone_id
        )
        if not result.eligible:
            raise Unprocessable(
                "不符合告知承诺制适用条件：" + "；".join(r.zh for r in result.reasons),
                "notify-and-commit is not available: " + "; ".join(r.en for r in result.reasons),
                errors=[FieldError(r.field, r.zh, r.en, code=r.code) for r in result.reasons],
            )
        eligible_commitment = True

    app = Application(
        id=str(uuid.uuid4()),
        zone_id=body.zone_id,
        uscc=body.applicant.uscc,
        applicant_name=body.applicant.name,
        contact_person=body.applicant.contact_person,
        contact_phone=body.applicant.contact_phone,
        project_id=body.project_id,
        commitment=eligible_commitment,
        status=(Status.REFERRED if referrals else Status.SUBMITTED).value,
        submitted_at=env.now,
        submitted_on=env.today,
        submitted_by=caller.subject,
        referrals=referrals,
        promised_days=bundle.promised_days,
        statutory_days=bundle.statutory_days,
        concluded_at=env.now if referrals else None,
        concluded_on=env.today if referrals else None,
        updated_at=env.now,
    )
    session.add(app)
    # The rows written here are kept (``new``) so that the answer is built without reading them back.
    item_rows: list[dict[str, Any]] = [
        {
            "application_id": app.id, "position": position, "item_code": version.code, "item_version": version.version,
            "item_name": version.name, "promised_days": version.promised_days, "statutory_days": version.statutory_days,
        }
        for position, version in enumerate(versions)
    ]
    declared = {m.code for m in body.materials}
    material_rows: list[dict[str, Any]] = [
        {
            "application_id": app.id, "material_code": code, "name": name, "mandatory": mandatory,
            "provided_at": env.now if code in declared else None,
            "provided_by": caller.subject if code in declared else None,
            "source": "declared" if code in declared else None,
        }
        for code, (name, mandatory) in bundle.materials.items()
    ]
    # The child rows go in as one statement per table (no unit-of-work bookkeeping for rows that are
    # not touched again in this request); the objects are kept (``new``) to build the answer without
    # reading them back.
    await session.execute(insert(_ITEM_TABLE), item_rows)
    await session.execute(insert(_MATERIAL_TABLE), material_rows)
    new = NewApplicationParts(
        items=[ApplicationItem(**row) for row in item_rows],
        materials=[ApplicationMaterial(**row) for row in material_rows],
    )
    ref = {"application_id": app.id, "zone_id": app.zone_id, "uscc": app.uscc, "item_codes": [v.code for v in versions]}
    new.timeline.append(await _timeline(
        session, app, caller, "submit", env.now, from_status=None, to_status=Status.SUBMITTED.value,
        details={"commitment": body.commitment, "bundle": len(versions) > 1},
    ))
    if referrals:
        new.timeline.append(await _timeline(
            session, app, None, "refer", env.now, from_status=Status.SUBMITTED.value, to_status=Status.REFERRED.value,
            note="；".join(r["reason"] for r in referrals), details={"referrals": referrals},
        ))
        await _emit(
            session, app, ev.REFERRED,
            ev.ApplicationReferred(**ref, referred_at=env.now, referrals=[ev.Referral(**r) for r in referrals]),
        )
    else:
        await _emit(
            session, app, ev.SUBMITTED,
            ev.ApplicationSubmitted(
                **ref, submitted_at=env.now, commitment=app.commitment, project_id=app.project_id,
                applicant_name=app.applicant_name,
            ),
        )
    calendar = await refcache.cached(session, ("calendar",), ttl, lambda: load_calendar(session))
    if eligible_commitment:
        await _decide_under_commitment(session, app, bundle.verification_window_days, ref, env, calendar, new.timeline)
    else:
        await _refresh(session, app, env, calendar, notices=[])
    await _audit(session, caller, app, "file", None)
    return await _detail(session, app, env, calendar, new)


async def _decide_under_commitment(
    session: AsyncSession, app: Application, window: int | None, ref: dict[str, Any], env: Env,
    calendar: WorkingCalendar, timeline: list[TimelineEntry],
) -> None:
    """告知承诺制: the signed commitment replaces the review; accepted and approved at once, verified later."""
    app.status = Status.ACCEPTED.value
    app.accepted_at = env.now
    app.accepted_on = env.today
    timeline.append(await _timeline(
        session, app, None, "auto_accept", env.now, from_status=Status.SUBMITTED.value, to_status=Status.ACCEPTED.value,
        note="申请人签署告知承诺书，当场受理",
    ))
    reading = await _refresh(session, app, env, calendar, notices=[])
    await _emit(
        session, app, ev.ACCEPTED,
        ev.ApplicationAccepted(
            **ref, accepted_at=env.now, promised_days=app.promised_days, statutory_days=app.statutory_days,
            due_date=reading.due_date, due_date_provisional=reading.provisional,
        ),
    )
    app.status = Status.APPROVED.value
    app.decided_at = env.now
    app.verification_status = "pending"
    app.verification_due = calendar.nth_working_day_after(env.today, window or 20)
    timeline.append(await _timeline(
        session, app, None, "auto_approve", env.now, from_status=Status.ACCEPTED.value, to_status=Status.APPROVED.value,
        note=f"告知承诺制当场作出准予决定，核查期限 {app.verification_due}",
    ))
    reading = await _refresh(session, app, env, calendar, notices=[])
    await _emit(
        session, app, ev.APPROVED,
        ev.ApplicationApproved(
            **ref, approved_at=env.now, commitment=True, verification_due=app.verification_due,
            working_days_used=reading.elapsed,
        ),
    )


# --- uploads ---------------------------------------------------------------------------------------------------------

UPLOAD_STATUSES = (Status.SUBMITTED, Status.CORRECTION_REQUESTED)


async def upload_document(
    session: AsyncSession, caller: Principal, application_id: str, *, content: bytes, filename: str | None,
    material_code: str | None, env: Env,
) -> DocumentOut:
    app = await load_visible(session, caller, application_id, for_update=True)
    if not (caller.is_admin or is_applicant(caller, app.uscc)):
        if caller.is_enterprise:
            raise NotFound("办件不存在", "application not found")
        ensure_approval_staff(caller)
    if Status(app.status) not in UPLOAD_STATUSES:
        raise Conflict(
            f"办件当前状态为「{STATUS_LABELS[Status(app.status)]}」，只有待受理或待补正的办件可以上传材料",
            f"uploads are accepted only while submitted or awaiting correction (state {app.status!r})",
            state=app.status, allowed_states=[s.value for s in UPLOAD_STATUSES],
        )
    materials = await _materials(session, app.id)
    if material_code is not None and material_code not in materials:
        raise Unprocessable(
            f"材料 {material_code} 不属于所申请事项", f"material {material_code} is not required by this application",
            errors=[FieldError("material_code", "不是本办件的申请材料", "not a material of this application", code="unknown_material")],
        )
    limit = env.settings.upload_max_bytes
    if len(content) > limit:
        raise PayloadTooLarge(
            f"文件超过大小上限 {limit} 字节", f"the file exceeds the limit of {limit} bytes",
            errors=[FieldError("file", f"不能超过 {limit} 字节", f"at most {limit} bytes", code="too_large")],
        )
    try:
        kind = sniff(content, filename)
    except UploadRejected as exc:
        raise UnsupportedMediaType(
            exc.zh, exc.en, errors=[FieldError("file", exc.zh, exc.en, code="unsupported_type")], detected=exc.detected
        ) from exc
    digest = sha256_hex(content)
    key = storage_key(digest, kind)
    await asyncio.to_thread(store_atomically, Path(env.settings.files_dir), key, content)
    doc = Document(
        id=str(uuid.uuid4()), application_id=app.id, zone_id=app.zone_id, material_code=material_code,
        filename=safe_filename(filename, kind), media_type=kind.media_type, size_bytes=len(content), sha256=digest,
        storage_key=key, uploaded_at=env.now, uploaded_by=caller.subject,
    )
    session.add(doc)
    if material_code is not None:
        material = materials[material_code]
        material.provided_at, material.provided_by, material.source = env.now, caller.subject, "uploaded"
        session.add(material)
    await _timeline(
        session, app, caller, "upload", env.now, from_status=app.status, to_status=app.status,
        note=doc.filename, details={"document_id": doc.id, "material_code": material_code, "sha256": digest},
    )
    await session.flush()
    out = document_out(doc)
    await record_audit(
        session, caller, "document.upload", entity_type="application", entity_id=app.id, zone_id=app.zone_id,
        after=out.model_dump(),
    )
    return out


async def document_for_download(
    session: AsyncSession, caller: Principal, application_id: str, document_id: str, settings: ApprovalsSettings
) -> tuple[Document, Path]:
    app = await load_visible(session, caller, application_id)
    doc = await session.get(Document, document_id)
    if doc is None or doc.application_id != app.id:
        raise NotFound("材料文件不存在", "document not found")
    path = Path(settings.files_dir) / doc.storage_key
    if not path.is_file():
        raise NotFound("材料文件已不在存储中", "the stored file is missing")
    return doc, path


# --- lifecycle actions ---------------------------------------------------------------------------------------------------


async def _begin(session: AsyncSession, caller: Principal, application_id: str, action: Action) -> Application:
    app = await load_visible(session, caller, application_id, for_update=True)
    _authorize(caller, app, action)
    return app


async def accept(session: AsyncSession, caller: Principal, application_id: str, body: ActionNote, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.ACCEPT)
    before = _snapshot(app)
    target = _transition(app, Action.ACCEPT)
    materials = _material_states(await _materials(session, app.id))
    missing = missing_mandatory(materials.values())
    if missing:
        raise Conflict(
            "必须提交的材料不齐全，不能受理；请一次性告知补正：" + "、".join(m.name for m in missing),
            "mandatory materials are missing; issue a correction notice instead",
            errors=[FieldError(f"materials.{m.code}", f"缺少「{m.name}」", "missing", code="missing_material") for m in missing],
            state=app.status, allowed_actions=[a.value for a in (Action.REQUEST_CORRECTION, Action.REFUSE)],
        )
    app.status = target.value
    app.accepted_at = env.now
    app.accepted_on = env.today
    if app.first_inquiry is None and caller.is_staff:
        app.first_inquiry, app.first_inquiry_name = caller.subject, caller.name  # 首问负责: the accepting officer
    await _timeline(session, app, caller, Action.ACCEPT.value, env.now, from_status=before["status"], to_status=app.status, note=body.note)
    reading = await _refresh(session, app, env)
    await _emit(
        session, app, ev.ACCEPTED,
        ev.ApplicationAccepted(
            **await _ref(session, app), accepted_at=env.now, promised_days=app.promised_days,
            statutory_days=app.statutory_days, due_date=reading.due_date, due_date_provisional=reading.provisional,
        ),
    )
    await _audit(session, caller, app, "accept", before)
    return await _detail(session, app, env)


async def refuse(session: AsyncSession, caller: Principal, application_id: str, body: ReasonIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.REFUSE)
    before = _snapshot(app)
    app.status = _transition(app, Action.REFUSE).value
    app.reason = body.reason
    app.concluded_at, app.concluded_on, app.correction_phase = env.now, env.today, None
    await _timeline(session, app, caller, Action.REFUSE.value, env.now, from_status=before["status"], to_status=app.status, note=body.reason)
    await _refresh(session, app, env)
    await _emit(session, app, ev.REFUSED, ev.ApplicationRefused(**await _ref(session, app), refused_at=env.now, reason=body.reason))
    await _audit(session, caller, app, "refuse", before)
    return await _detail(session, app, env)


async def request_correction(
    session: AsyncSession, caller: Principal, application_id: str, body: CorrectionRequest, env: Env
) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.REQUEST_CORRECTION)
    before = _snapshot(app)
    phase = correction_phase_for(Status(app.status))
    target = _transition(app, Action.REQUEST_CORRECTION)
    material_rows = await _materials(session, app.id)
    notices = await _notices(session, app.id)
    previous = (
        PreviousNotice(notices[-1].requested_at, frozenset(i["material_code"] for i in notices[-1].items)) if notices else None
    )
    problems = check_correction([i.material_code for i in body.items], _material_states(material_rows), previous)
    if problems:
        errors = [FieldError(f"items.{p.index}.material_code", p.zh, p.en, code=p.kind) for p in problems]
        if any(p.kind == "already_present" for p in problems):
            raise Conflict(
                "违反一次性告知：再次补正不能要求上次告知时已提交的材料", "one-time notice: those materials were already present",
                errors=errors, notice_no=len(notices),
            )
        raise Unprocessable("补正内容有误", "the correction notice is invalid", errors=errors)
    items = [
        {"material_code": i.material_code, "material_name": material_rows[i.material_code].name, "reason": i.reason}
        for i in body.items
    ]
    notice = CorrectionNotice(
        application_id=app.id, notice_no=len(notices) + 1, zone_id=app.zone_id, phase=phase.value,
        requested_at=env.now, requested_on=env.today, requested_by=caller.subject, items=items,
    )
    session.add(notice)
    await session.flush()
    app.status, app.correction_phase = target.value, phase.value
    await _timeline(
        session, app, caller, Action.REQUEST_CORRECTION.value, env.now, from_status=before["status"], to_status=app.status,
        note=body.note, details={"notice_no": notice.notice_no, "items": items, "clock_paused": phase is CorrectionPhase.REVIEW},
    )
    await _refresh(session, app, env)
    await _emit(
        session, app, ev.CORRECTION_REQUESTED,
        ev.ApplicationCorrectionRequested(
            **await _ref(session, app), requested_at=env.now, notice_no=notice.notice_no,
            items=[ev.CorrectionItem(**i) for i in items], clock_paused=phase is CorrectionPhase.REVIEW,
        ),
    )
    await _audit(session, caller, app, "request_correction", before)
    return await _detail(session, app, env)


async def resubmit(session: AsyncSession, caller: Principal, application_id: str, body: ResubmitIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.RESUBMIT)
    before = _snapshot(app)
    target = _transition(app, Action.RESUBMIT)
    material_rows = await _materials(session, app.id)
    bad = [
        FieldError(f"materials.{i}.code", f"材料 {m.code} 不属于本办件", f"material {m.code} is not required", code="unknown_material")
        for i, m in enumerate(body.materials)
        if m.code not in material_rows
    ]
    if bad:
        raise Unprocessable("提供的材料不属于本办件", "materials not required by this application", errors=bad)
    for m in body.materials:
        row = material_rows[m.code]
        row.provided_at, row.provided_by, row.source = env.now, caller.subject, "declared"
        session.add(row)
    notice = (await _notices(session, app.id))[-1]
    still_missing = not_resubmitted(
        [i["material_code"] for i in notice.items], _material_states(material_rows), notice.requested_at
    )
    if still_missing:
        names = "、".join(material_rows[c].name if c in material_rows else c for c in still_missing)
        raise Unprocessable(
            f"补正告知要求的材料尚未全部补正：{names}", "not every material the notice asked for was provided since",
            errors=[FieldError(f"materials.{c}", "尚未补正", "not yet corrected", code="not_corrected") for c in still_missing],
        )
    notice.resubmitted_at, notice.resubmitted_on = env.now, env.today
    session.add(notice)
    await session.flush()
    app.status, app.correction_phase = target.value, None
    await _timeline(
        session, app, caller, Action.RESUBMIT.value, env.now, from_status=before["status"], to_status=app.status,
        note=body.note, details={"notice_no": notice.notice_no},
    )
    reading = await _refresh(session, app, env)
    await _emit(
        session, app, ev.RESUBMITTED,
        ev.ApplicationResubmitted(
            **await _ref(session, app), resubmitted_at=env.now, notice_no=notice.notice_no,
            paused_working_days=reading.paused, due_date=reading.due_date,
        ),
    )
    await _audit(session, caller, app, "resubmit", before)
    return await _detail(session, app, env)


async def approve(session: AsyncSession, caller: Principal, application_id: str, body: ActionNote, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.APPROVE)
    before = _snapshot(app)
    app.status = _transition(app, Action.APPROVE).value
    app.decided_at = env.now
    await _timeline(session, app, caller, Action.APPROVE.value, env.now, from_status=before["status"], to_status=app.status, note=body.note)
    reading = await _refresh(session, app, env)
    await _emit(
        session, app, ev.APPROVED,
        ev.ApplicationApproved(**await _ref(session, app), approved_at=env.now, commitment=False, working_days_used=reading.elapsed),
    )
    await _audit(session, caller, app, "approve", before)
    return await _detail(session, app, env)


async def deny(session: AsyncSession, caller: Principal, application_id: str, body: ReasonIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.DENY)
    before = _snapshot(app)
    app.status = _transition(app, Action.DENY).value
    app.reason = body.reason
    app.decided_at = app.concluded_at = env.now
    app.concluded_on, app.correction_phase = env.today, None
    await _timeline(session, app, caller, Action.DENY.value, env.now, from_status=before["status"], to_status=app.status, note=body.reason)
    reading = await _refresh(session, app, env)
    await _emit(
        session, app, ev.DENIED,
        ev.ApplicationDenied(
            **await _ref(session, app), denied_at=env.now, reason=body.reason, working_days_used=reading.elapsed,
            on_time=bool(reading.on_time),
        ),
    )
    await _audit(session, caller, app, "deny", before)
    return await _detail(session, app, env)


async def complete(session: AsyncSession, caller: Principal, application_id: str, body: CompleteIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.COMPLETE)
    before = _snapshot(app)
    app.status = _transition(app, Action.COMPLETE).value
    app.certificate_no = body.certificate_no
    app.concluded_at, app.concluded_on = env.now, env.today
    await _timeline(
        session, app, caller, Action.COMPLETE.value, env.now, from_status=before["status"], to_status=app.status,
        note=body.note, details={"certificate_no": body.certificate_no},
    )
    reading = await _refresh(session, app, env)
    await _emit(
        session, app, ev.COMPLETED,
        ev.ApplicationCompleted(
            **await _ref(session, app), completed_at=env.now, accepted_at=app.accepted_at, promised_days=app.promised_days,
            working_days_used=reading.elapsed, on_time=bool(reading.on_time), certificate_no=body.certificate_no,
        ),
    )
    await _audit(session, caller, app, "complete", before)
    return await _detail(session, app, env)


async def assign(session: AsyncSession, caller: Principal, application_id: str, body: AssignIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.ASSIGN)
    before = _snapshot(app)
    _transition(app, Action.ASSIGN)
    if body.role == "agent":
        app.agent, app.agent_name = body.staff, body.staff_name
    else:
        app.first_inquiry, app.first_inquiry_name = body.staff, body.staff_name
    app.updated_at = env.now
    session.add(app)
    label = "帮办代办员" if body.role == "agent" else "首问负责人"
    await _timeline(
        session, app, caller, Action.ASSIGN.value, env.now, from_status=app.status, to_status=app.status,
        note=f"{label}：{body.staff_name or body.staff}", details={"role": body.role, "staff": body.staff},
    )
    await _audit(session, caller, app, "assign", before)
    return await _detail(session, app, env)


async def verify(session: AsyncSession, caller: Principal, application_id: str, body: VerifyIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.VERIFY)
    before = _snapshot(app)
    outcome = VerificationOutcome(body.outcome)
    target = _transition(app, Action.VERIFY, outcome)
    ref = await _ref(session, app)
    app.verified_at, app.verification_note = env.now, body.note
    if outcome is VerificationOutcome.CONFIRMED:
        app.verification_status = "confirmed"
        await _timeline(session, app, caller, Action.VERIFY.value, env.now, from_status=app.status, to_status=app.status,
                        note=body.note, details={"outcome": outcome.value})
        await _emit(
            session, app, ev.COMMITMENT_VERIFIED,
            ev.CommitmentVerified(
                **ref, verified_at=env.now, verification_due=app.verification_due, note=body.note,
                within_window=app.verification_due is None or env.today <= app.verification_due,
            ),
        )
    else:
        app.verification_status = "revoked"
        app.status, app.reason = target.value, body.note
        if app.concluded_at is None:
            app.concluded_at, app.concluded_on = env.now, env.today
        await _timeline(session, app, caller, Action.VERIFY.value, env.now, from_status=before["status"], to_status=app.status,
                        note=body.note, details={"outcome": outcome.value})
        await _emit(
            session, app, ev.COMMITMENT_REVOKED,
            ev.CommitmentRevoked(**ref, reason=body.note or "", revoked_at=env.now),
        )
    await _refresh(session, app, env)
    await _audit(session, caller, app, f"verify_{outcome.value}", before)
    return await _detail(session, app, env)


async def evaluate(session: AsyncSession, caller: Principal, application_id: str, body: EvaluateIn, env: Env) -> ApplicationOut:
    app = await _begin(session, caller, application_id, Action.EVALUATE)
    before = _snapshot(app)
    _transition(app, Action.EVALUATE)
    level, label = evaluation_level(body.score)
    session.add(
        Evaluation(
            application_id=app.id, zone_id=app.zone_id, uscc=app.uscc, score=body.score, level=level, comment=body.comment,
            dimensions=body.dimensions.model_dump(exclude_none=True) if body.dimensions else None,
            evaluated_at=env.now, evaluated_by=caller.subject,
        )
    )
    app.evaluated = True
    app.updated_at = env.now
    session.add(app)
    follow_up: FollowUp | None = None
    if needs_follow_up(body.score):
        calendar = await load_calendar(session)
        follow_up = FollowUp(
            id=str(uuid.uuid4()), application_id=app.id, zone_id=app.zone_id, uscc=app.uscc, score=body.score,
            comment=body.comment, opened_at=env.now,
            due_date=calendar.nth_working_day_after(env.today, env.settings.follow_up_working_days),
        )
        session.add(follow_up)
    await _timeline(
        session, app, caller, Action.EVALUATE.value, env.now, from_status=app.status, to_status=app.status,
        note=body.comment, details={"score": body.score, "level": label, "follow_up_id": follow_up.id if follow_up else None},
    )
    await session.flush()
    await _emit(
        session, app, ev.EVALUATED,
        ev.ApplicationEvaluated(
            **await _ref(session, app), evaluated_at=env.now, score=body.score, level=level, level_label=label,
            comment=body.comment, follow_up_id=follow_up.id if follow_up else None,
            follow_up_due=follow_up.due_date if follow_up else None,
        ),
    )
    await _audit(session, caller, app, "evaluate", before)
    return await _detail(session, app, env)


# --- follow-ups -------------------------------------------------------------------------------------------------------


async def close_follow_up(
    session: AsyncSession, caller: Principal, follow_up_id: str, body: FollowUpClose, env: Env
) -> FollowUpOut:
    row = (await session.execute(select(FollowUp).where(col(FollowUp.id) == follow_up_id).with_for_update())).scalar_one_or_none()
    if row is None or caller.is_enterprise:
        raise NotFound("回访单不存在", "follow-up not found")
    ensure_zone(caller, row.zone_id)
    ensure_approval_staff(caller)
    if row.status != "open":
        raise Conflict("该回访单已办结", "the follow-up is already closed", state=row.status, allowed_actions=[])
    before = follow_up_out(row, env.today).model_dump()
    row.status, row.closed_at, row.closed_by = "closed", env.now, caller.subject
    row.callback_note, row.rectification = body.callback_note, body.rectification
    session.add(row)
    app = await session.get(Application, row.application_id)
    if app is not None:
        await _timeline(session, app, caller, "follow_up_close", env.now, from_status=app.status, to_status=app.status,
                        note=body.callback_note, details={"follow_up_id": row.id})
    out = follow_up_out(row, env.today)
    await record_audit(
        session, caller, "follow_up.close", entity_type="follow_up", entity_id=row.id, zone_id=row.zone_id,
        before=before, after=out.model_dump(),
    )
    return out


async def count_applications(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Application))).scalar_one())


__all__ = [
    "Env", "ApplicationFacts", "accept", "approve", "assign", "check_eligibility", "close_follow_up", "complete",
    "deny", "document_for_download", "evaluate", "file_application", "refuse", "request_correction", "resubmit",
    "upload_document", "verify",
]

"""Read side: one application as users see it, lists with filters, the summary the dashboards read,
and the follow-up queue. The clock is read live on the calendar as it stands today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, true
from sqlalchemy import select as sa_select  # sqlmodel.select types at most four columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from chassis.auth import Principal, scoped_zone, scoped_zones
from chassis.clock import local_time
from chassis.errors import Forbidden, NotFound
from chassis.pagination import PageParams, paginate
from services.approvals.access import ensure_can_see
from services.approvals.calendar import WorkingCalendar
from services.approvals.clocks import load_calendar, notices_of, reading_of
from services.approvals.deadlines import CLOCK_STATE_LABELS, AlertLevel, ClockReading
from services.approvals.domain import (
    ACTION_LABELS,
    EVALUATION_LEVELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    Action,
    ApplicationFacts,
    CorrectionPhase,
    Status,
    allowed_actions,
)
from services.approvals.models import (
    Application,
    ApplicationItem,
    ApplicationMaterial,
    CorrectionNotice,
    Document,
    Evaluation,
    FollowUp,
    TimelineEntry,
)
from services.approvals.schemas import (
    AlertCounts,
    ApplicantOut,
    ApplicationItemOut,
    ApplicationOut,
    ApplicationSummaryOut,
    ClockOut,
    CorrectionOut,
    DocumentOut,
    EvaluationOut,
    FollowUpOut,
    MaterialOut,
    ReferralOut,
    StaffRef,
    SummaryByZoneOut,
    SummaryOut,
    TimelineOut,
    VerificationOut,
)

OTHER_ACTION_LABELS = {
    "submit": "提交申请",
    "refer": "转办赋权机关",
    "upload": "上传材料",
    "auto_accept": "告知承诺制当场受理",
    "auto_approve": "告知承诺制当场决定",
    "alert": "超期预警",
    "follow_up_close": "差评回访办结",
}


def action_label(action: str) -> str:
    try:
        return ACTION_LABELS[Action(action)]
    except ValueError:
        return OTHER_ACTION_LABELS.get(action, action)


def facts_of(app: Application) -> ApplicationFacts:
    return ApplicationFacts(
        status=Status(app.status),
        correction_phase=CorrectionPhase(app.correction_phase) if app.correction_phase else None,
        commitment_pending=app.commitment and app.verification_status == "pending",
        evaluated=app.evaluated,
    )


async def item_codes_of(session: AsyncSession, application_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in application_ids}
    if not application_ids:
        return out
    rows = await session.execute(
        select(col(ApplicationItem.application_id), col(ApplicationItem.item_code))
        .where(col(ApplicationItem.application_id).in_(application_ids))
        .order_by(col(ApplicationItem.application_id), col(ApplicationItem.position))
    )
    for app_id, code in rows:
        out[app_id].append(code)
    return out


async def load_visible(session: AsyncSession, caller: Principal, application_id: str, *, for_update: bool = False) -> Application:
    query = select(Application).where(col(Application.id) == application_id)
    if for_update:
        query = query.with_for_update()
    app = (await session.execute(query)).scalar_one_or_none()
    if app is None:
        raise NotFound("办件不存在", "application not found")
    ensure_can_see(caller, app.zone_id, app.uscc)
    return app


def clock_out(app: Application, reading: ClockReading) -> ClockOut:
    return ClockOut(
        state=reading.state.value,
        state_label=CLOCK_STATE_LABELS[reading.state],
        promised_days=app.promised_days,
        statutory_days=app.statutory_days,
        accepted_on=app.accepted_on,
        due_date=reading.due_date,
        due_date_provisional=reading.provisional,
        working_days_elapsed=reading.elapsed,
        working_days_paused=reading.paused,
        working_days_remaining=reading.remaining,
        alert_level=reading.alert.value,
        alert_label=reading.alert.label,
        on_time=reading.on_time,
    )


@dataclass
class NewApplicationParts:
    """The rows of an application created in this very session (held by the use case that wrote them), so
    that its detail is answered without reading them back: a new application has no documents, correction
    notices or evaluation yet."""

    items: list[ApplicationItem]
    materials: list[ApplicationMaterial]
    timeline: list[TimelineEntry] = field(default_factory=list)


async def application_detail(
    session: AsyncSession, app: Application, *, calendar: WorkingCalendar | None, today: dt.date, yellow_percent: int,
    new: NewApplicationParts | None = None,
) -> ApplicationOut:
    calendar = calendar or await load_calendar(session)
    if new is not None:  # flushed already: the same rows, in the same order, as the queries below would return
        items = sorted(new.items, key=lambda i: i.position)
        materials = sorted(new.materials, key=lambda m: m.material_code)
        timeline = sorted(new.timeline, key=lambda t: t.id or 0)
        return _detail_out(app, items, materials, [], [], timeline, None, None, calendar, today, yellow_percent)
    items = list(
        (
            await session.execute(
                select(ApplicationItem).where(col(ApplicationItem.application_id) == app.id).order_by(col(ApplicationItem.position))
            )
        ).scalars()
    )
    materials = list(
        (
            await session.execute(
                select(ApplicationMaterial)
                .where(col(ApplicationMaterial.application_id) == app.id)
                .order_by(col(ApplicationMaterial.material_code))
            )
        ).scalars()
    )
    documents = list(
        (
            await session.execute(
                select(Document).where(col(Document.application_id) == app.id).order_by(col(Document.uploaded_at), col(Document.id))
            )
        ).scalars()
    )
    notices = (await notices_of(session, [app.id]))[app.id]
    timeline = list(
        (
            await session.execute(
                select(TimelineEntry).where(col(TimelineEntry.application_id) == app.id).order_by(col(TimelineEntry.id))
            )
        ).scalars()
    )
    evaluation = await session.get(Evaluation, app.id)
    follow_up_id = None
    if evaluation is not None:
        follow_up_id = (
            await session.execute(select(col(FollowUp.id)).where(col(FollowUp.application_id) == app.id))
        ).scalar_one_or_none()
    return _detail_out(app, items, materials, documents, notices, timeline, evaluation, follow_up_id, calendar, today, yellow_percent)


def _detail_out(
    app: Application, items: list[ApplicationItem], materials: list[ApplicationMaterial], documents: list[Document],
    notices: list[CorrectionNotice], timeline: list[TimelineEntry], evaluation: Evaluation | None, follow_up_id: str | None,
    calendar: WorkingCalendar, today: dt.date, yellow_percent: int,
) -> ApplicationOut:
    reading = reading_of(app, notices, calendar, today, yellow_percent)
    facts = facts_of(app)
    return ApplicationOut(
        id=app.id,
        zone_id=app.zone_id,
        status=app.status,
        status_label=STATUS_LABELS[Status(app.status)],
        applicant=ApplicantOut(
            uscc=app.uscc, name=app.applicant_name, contact_person=app.contact_person, contact_phone=app.contact_phone
        ),
        item_codes=[i.item_code for i in items],
        items=[
            ApplicationItemOut(
                code=i.item_code, version=i.item_version, name=i.item_name,
                promised_days=i.promised_days, statutory_days=i.statutory_days,
            )
            for i in items
        ],
        project_id=app.project_id,
        commitment=app.commitment,
        submitted_at=local_time(app.submitted_at),
        accepted_at=local_time(app.accepted_at),
        decided_at=local_time(app.decided_at),
        concluded_at=local_time(app.concluded_at),
        certificate_no=app.certificate_no,
        reason=app.reason,
        referrals=[ReferralOut(**r) for r in app.referrals],
        due_date=reading.due_date,
        due_date_provisional=reading.provisional,
        working_days_elapsed=reading.elapsed,
        working_days_paused=reading.paused,
        working_days_remaining=reading.remaining,
        alert_level=reading.alert.value,
        clock=clock_out(app, reading),
        materials=[
            MaterialOut(
                code=m.material_code, name=m.name, mandatory=m.mandatory, provided=m.provided_at is not None,
                provided_at=local_time(m.provided_at), source=m.source,
            )
            for m in materials
        ],
        missing_mandatory_materials=[m.material_code for m in materials if m.mandatory and m.provided_at is None],
        documents=[document_out(d) for d in documents],
        corrections=[
            CorrectionOut(
                notice_no=n.notice_no, phase=n.phase, clock_paused=n.phase == "review",
                requested_at=local_time(n.requested_at), requested_by=n.requested_by,
                items=n.items, resubmitted_at=local_time(n.resubmitted_at),
            )
            for n in notices
        ],
        agent=StaffRef(username=app.agent, name=app.agent_name) if app.agent else None,
        first_inquiry=StaffRef(username=app.first_inquiry, name=app.first_inquiry_name) if app.first_inquiry else None,
        verification=(
            VerificationOut(
                status=app.verification_status,
                due_date=app.verification_due,
                overdue=app.verification_status == "pending" and app.verification_due is not None and today > app.verification_due,
                verified_at=local_time(app.verified_at),
                note=app.verification_note,
            )
            if app.verification_status
            else None
        ),
        evaluation=(
            EvaluationOut(
                score=evaluation.score, level=evaluation.level, level_label=EVALUATION_LEVELS[evaluation.score][1],
                comment=evaluation.comment, dimensions=evaluation.dimensions,
                evaluated_at=local_time(evaluation.evaluated_at), follow_up_id=follow_up_id,
            )
            if evaluation
            else None
        ),
        allowed_actions=[a.value for a in allowed_actions(facts)],
        timeline=[
            TimelineOut(
                at=local_time(t.at), actor=t.actor, actor_kind=t.actor_kind, actor_name=t.actor_name,
                action=t.action, action_label=action_label(t.action), from_status=t.from_status,
                to_status=t.to_status, note=t.note, details=t.details,
            )
            for t in timeline
        ],
    )


def document_out(d: Document) -> DocumentOut:
    return DocumentOut(
        id=d.id, application_id=d.application_id, material_code=d.material_code, filename=d.filename,
        media_type=d.media_type, size_bytes=d.size_bytes, sha256=d.sha256,
        uploaded_at=local_time(d.uploaded_at), uploaded_by=d.uploaded_by,
    )


# --- lists ------------------------------------------------------------------------------------------------------


def alert_condition(level: AlertLevel, today: dt.date) -> ColumnElement[bool]:
    """The live alert level in SQL, from the clock facts stored on each application."""
    running = col(Application.clock_state) == "running"
    paused = col(Application.clock_state) == "paused"
    red = or_(and_(running, col(Application.due_date) < today), and_(paused, col(Application.paused_alert) == "red"))
    yellow = or_(
        and_(running, col(Application.yellow_on) <= today, col(Application.due_date) >= today),
        and_(paused, col(Application.paused_alert) == "yellow"),
    )
    if level is AlertLevel.RED:
        return red
    if level is AlertLevel.YELLOW:
        return yellow
    return and_(~red, ~yellow)


def scope_conditions(caller: Principal, zone_id: str | None, uscc: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if caller.is_enterprise:
        conditions.append(col(Application.uscc) == caller.uscc)
        if zone_id:
            conditions.append(col(Application.zone_id) == zone_id)
    else:
        zone = scoped_zone(caller, zone_id)
        if zone is not None:
            conditions.append(col(Application.zone_id) == zone)
    if uscc:
        conditions.append(col(Application.uscc) == uscc.strip().upper())
    return conditions


async def list_applications(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    today: dt.date,
    yellow_percent: int,
    zone_id: str | None = None,
    status: list[Status] | None = None,
    alert: AlertLevel | None = None,
    uscc: str | None = None,
    item: str | None = None,
    agent: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    commitment: bool | None = None,
    verification: str | None = None,
    project_id: str | None = None,
) -> tuple[list[ApplicationSummaryOut], int]:
    query = select(Application).where(*scope_conditions(caller, zone_id, uscc))
    if status:
        query = query.where(col(Application.status).in_([s.value for s in status]))
    if alert is not None:
        query = query.where(alert_condition(alert, today))
    if item:
        query = query.where(
            exists().where(col(ApplicationItem.application_id) == col(Application.id), col(ApplicationItem.item_code) == item)
        )
    if agent:
        query = query.where(or_(col(Application.agent) == agent, col(Application.first_inquiry) == agent))
    if date_from:
        query = query.where(col(Application.submitted_on) >= date_from)
    if date_to:
        query = query.where(col(Application.submitted_on) <= date_to)
    if commitment is not None:
        query = query.where(col(Application.commitment) == commitment)
    if verification:
        query = query.where(col(Application.verification_status) == verification)
    if project_id:
        query = query.where(col(Application.project_id) == project_id)
    query = query.order_by(col(Application.submitted_at).desc(), col(Application.id))
    rows, total = await paginate(session, query, page)
    calendar = await load_calendar(session)
    codes = await item_codes_of(session, [a.id for a in rows])
    notices = await notices_of(session, [a.id for a in rows])
    out = []
    for app in rows:
        reading = reading_of(app, notices.get(app.id, []), calendar, today, yellow_percent)
        out.append(
            ApplicationSummaryOut(
                id=app.id, zone_id=app.zone_id, uscc=app.uscc, applicant_name=app.applicant_name,
                item_codes=codes.get(app.id, []), status=app.status, status_label=STATUS_LABELS[Status(app.status)],
                commitment=app.commitment, submitted_at=local_time(app.submitted_at),
                due_date=reading.due_date, due_date_provisional=reading.provisional,
                alert_level=reading.alert.value,
                working_days_remaining=reading.remaining, agent=app.agent, first_inquiry=app.first_inquiry,
            )
        )
    return out, total


# --- summary ---------------------------------------------------------------------------------------------------


async def summary(
    session: AsyncSession,
    caller: Principal,
    *,
    today: dt.date,
    zone_id: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> SummaryOut:
    """Counts by status, current alerts and the backlog for applications filed in the range; on-time rate
    and average working days for applications completed in the range (dates are Asia/Shanghai)."""
    if caller.is_enterprise:
        raise Forbidden("企业账户不能查看功能区汇总", "Enterprises cannot read zone summaries")
    zone = scoped_zone(caller, zone_id)
    base: list[ColumnElement[bool]] = []
    if zone is not None:
        base.append(col(Application.zone_id) == zone)
    filed = list(base)
    if date_from:
        filed.append(col(Application.submitted_on) >= date_from)
    if date_to:
        filed.append(col(Application.submitted_on) <= date_to)

    # Two statements, not eight: the dashboard asks for this summary on every view, and each round trip
    # costs this process more CPU than the counting does the database.
    def tally(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    by_status = {s.value: 0 for s in Status}
    yellow = red = commitment_count = 0
    for status, count, yellow_n, red_n, commitment_n in await session.execute(
        sa_select(
            col(Application.status), func.count(),
            tally(alert_condition(AlertLevel.YELLOW, today)),
            tally(alert_condition(AlertLevel.RED, today)),
            tally(col(Application.commitment).is_(True)),
        ).where(*filed).group_by(col(Application.status))
    ):
        by_status[status] = int(count)
        yellow, red, commitment_count = yellow + int(yellow_n), red + int(red_n), commitment_count + int(commitment_n)
    backlog = sum(by_status[s.value] for s in OPEN_STATUSES)

    done = [*base, col(Application.status) == Status.COMPLETED.value]
    if date_from:
        done.append(col(Application.concluded_on) >= date_from)
    if date_to:
        done.append(col(Application.concluded_on) <= date_to)
    ev_filter: list[Any] = []
    if zone is not None:
        ev_filter.append(col(Evaluation.zone_id) == zone)
    if date_from:
        ev_filter.append(col(Evaluation.evaluated_at) >= _start_of(date_from))
    if date_to:
        ev_filter.append(col(Evaluation.evaluated_at) < _start_of(date_to + dt.timedelta(days=1)))
    fu_filter: list[Any] = [col(FollowUp.status) == "open"]
    if zone is not None:
        fu_filter.append(col(FollowUp.zone_id) == zone)
    completed_q = select(
        func.count().label("completed"),
        tally(col(Application.on_time).is_(True)).label("on_time"),
        func.avg(col(Application.working_days_used)).label("avg_days"),
    ).where(*done).subquery()
    evaluations_q = select(
        func.count().label("evaluations"),
        func.avg(col(Evaluation.score)).label("avg_score"),
        tally(col(Evaluation.score) >= 3).label("satisfied"),
    ).where(*ev_filter).subquery()
    follow_ups_q = select(func.count().label("open_follow_ups")).select_from(FollowUp).where(*fu_filter).subquery()
    # Each subquery is one aggregate row, so the cross join is one row.
    completed, on_time, avg_days, evaluations, avg_score, satisfied, open_follow_ups = (
        await session.execute(
            sa_select(
                completed_q.c.completed, completed_q.c.on_time, completed_q.c.avg_days,
                evaluations_q.c.evaluations, evaluations_q.c.avg_score, evaluations_q.c.satisfied,
                follow_ups_q.c.open_follow_ups,
            ).select_from(completed_q.join(evaluations_q, true()).join(follow_ups_q, true()))
        )
    ).one()

    return SummaryOut(
        zone_id=zone,
        date_from=date_from,
        date_to=date_to,
        by_status=by_status,
        alerts=AlertCounts(yellow=yellow, red=red),
        backlog=backlog,
        completed=int(completed),
        completed_on_time=int(on_time),
        on_time_rate=round(int(on_time) / int(completed), 4) if completed else None,
        average_working_days=round(float(avg_days), 2) if avg_days is not None else None,
        referred=by_status[Status.REFERRED.value],
        commitment_applications=commitment_count,
        evaluations=int(evaluations),
        average_score=round(float(avg_score), 2) if avg_score is not None else None,
        satisfaction_rate=round(int(satisfied) / int(evaluations), 4) if evaluations else None,
        open_follow_ups=int(open_follow_ups),
    )


async def summary_by_zone(
    session: AsyncSession,
    caller: Principal,
    *,
    today: dt.date,
    zone_ids: list[str],
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> SummaryByZoneOut:
    """The summary of each named zone, in the order first named (repeats collapse), for the city dashboard
    that would otherwise ask once per zone. Each item is exactly what :func:`summary` answers for that zone
    alone; every zone is checked against the caller's scope before anything is counted, so a zone's staff
    naming another zone is refused for the whole request. Approvals keeps no zone registry: no zone is
    missing, and ``missing`` is always empty."""
    if caller.is_enterprise:
        raise Forbidden("企业账户不能查看功能区汇总", "Enterprises cannot read zone summaries")
    zones = scoped_zones(caller, zone_ids)
    items = [
        await summary(session, caller, today=today, zone_id=zone_id, date_from=date_from, date_to=date_to)
        for zone_id in zones
    ]
    return SummaryByZoneOut(items=items, missing=[])


def _start_of(day: dt.date) -> dt.datetime:
    from chassis.clock import day_bounds

    return day_bounds(day)[0]


# --- follow-ups ----------------------------------------------------------------------------------------------------


def follow_up_out(row: FollowUp, today: dt.date) -> FollowUpOut:
    return FollowUpOut(
        id=row.id, application_id=row.application_id, zone_id=row.zone_id, uscc=row.uscc, score=row.score,
        level_label=EVALUATION_LEVELS[row.score][1], comment=row.comment,
        opened_at=local_time(row.opened_at), due_date=row.due_date,
        overdue=row.status == "open" and today > row.due_date,
        status=row.status, closed_at=local_time(row.closed_at), closed_by=row.closed_by,
        callback_note=row.callback_note, rectification=row.rectification,
    )


async def list_follow_ups(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    today: dt.date,
    zone_id: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> tuple[list[FollowUpOut], int]:
    if caller.is_enterprise:
        raise Forbidden("企业账户不能查看回访工作单", "Enterprises cannot read the follow-up queue")
    zone = scoped_zone(caller, zone_id)
    query = select(FollowUp).order_by(col(FollowUp.due_date), col(FollowUp.id))
    if zone is not None:
        query = query.where(col(FollowUp.zone_id) == zone)
    if status:
        query = query.where(col(FollowUp.status) == status)
    if overdue is True:
        query = query.where(col(FollowUp.status) == "open", col(FollowUp.due_date) < today)
    elif overdue is False:
        query = query.where(or_(col(FollowUp.status) != "open", col(FollowUp.due_date) >= today))
    rows, total = await paginate(session, query, page)
    return [follow_up_out(r, today) for r in rows], total

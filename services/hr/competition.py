"""Use cases of competitive appointment (竞聘上岗, 双向选择; seeds 000, 001, 004).

An HR administrator publishes an opening for a position with a term and component weights that add
up to 100 % (e.g. written 40, interview 40, performance 20). People apply — from inside (they hold a
position in the zone now) or from outside (registered as staff records first); a staff member whose
account is linked to their record may apply for themselves. Scores are entered per component; the
ranking (see :func:`services.hr.domain.rank_candidates` for the tie-breaking) decides who is offered
the post first.

Two-way selection: ``POST /openings/{id}/appoint`` offers the post to the best-ranked candidate who
has not yet answered (refused with the figures when one more appointment would exceed the
position's posts, the department's allocation or the total quota). The candidate — or HR on their
behalf — accepts (the appointment is made, checked again) or declines with a reason, whereupon the
next in the ranking is offered at once.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone
from chassis.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from chassis.pagination import Page, PageParams, paginate
from services.hr import domain
from services.hr.access import is_hr_admin, now, personal_scope, require_hr_admin, today, use_case
from services.hr.models import Candidate, Department, Opening, Position, Staff
from services.hr.org import department_in_zone, lock_zone, publish_headcount
from services.hr.people import (
    active_appointment,
    appoint,
    appointments_out,
    capacity,
    own_staff_record,
    staff_in_zone,
)
from services.hr.schemas import (
    AcceptIn,
    AcceptOut,
    CandidateIn,
    CandidateOut,
    DeclineIn,
    DeclineOut,
    OfferOut,
    OpeningIn,
    OpeningOut,
    RankingEntry,
    RankingOut,
    ScoresIn,
)


def weights_of(opening: Opening) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in opening.weights.items()}


def scores_of(candidate: Candidate) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in candidate.scores.items()}


def _total(candidate: Candidate, weights: dict[str, Decimal]) -> Decimal | None:
    scores = scores_of(candidate)
    if any(name not in scores for name in weights):
        return None
    return domain.weighted_score(scores, weights)


async def _opening_out(session: AsyncSession, opening: Opening) -> OpeningOut:
    position = await session.get(Position, opening.position_id)
    assert position is not None
    appointed = int(
        (
            await session.execute(
                select(func.count()).where(Candidate.opening_id == opening.id, Candidate.status == "appointed")
            )
        ).scalar_one()
    )
    weights = weights_of(opening)
    return OpeningOut(
        id=opening.id,
        zone_id=opening.zone_id,
        position_id=position.id,
        position_title=position.title,
        department_id=position.department_id,
        title=opening.title,
        term_months=opening.term_months,
        weights=weights,
        tie_break_order=[f"component:{n}" for n in domain.tie_break_components(weights)] + ["applied_at", "candidate_id"],
        posts_to_fill=opening.posts_to_fill,
        appointed=appointed,
        status=opening.status,  # type: ignore[arg-type]
        created_at=opening.created_at,
    )


def _candidate_out(c: Candidate, staff: Staff, weights: dict[str, Decimal]) -> CandidateOut:
    return CandidateOut(
        id=c.id,
        opening_id=c.opening_id,
        staff_id=c.staff_id,
        staff_name=staff.name,
        source=c.source,  # type: ignore[arg-type]
        applied_at=c.applied_at,
        scores=scores_of(c),
        total=_total(c, weights),
        status=c.status,  # type: ignore[arg-type]
        offered_at=c.offered_at,
        responded_at=c.responded_at,
        decline_reason=c.decline_reason,
        appointment_id=c.appointment_id,
    )


async def _candidate_out_of(session: AsyncSession, c: Candidate, opening: Opening) -> CandidateOut:
    staff = await session.get(Staff, c.staff_id)
    assert staff is not None
    return _candidate_out(c, staff, weights_of(opening))


# --- openings -------------------------------------------------------------------------------------


@use_case
async def create_opening(session: AsyncSession, caller: Principal, zone_id: str, body: OpeningIn) -> OpeningOut:
    require_hr_admin(caller)
    position = await session.get(Position, body.position_id)
    if position is None or position.zone_id != zone_id:
        raise Unprocessable("岗位不存在", "No such position", errors=[FieldError("position_id", "岗位不存在", "no such position")])
    domain.check_weights(dict(body.weights), field="weights")
    if body.posts_to_fill > position.posts:
        raise Unprocessable(
            f"拟聘人数 {body.posts_to_fill} 超过岗位职数 {position.posts}",
            f"{body.posts_to_fill} to fill but the position has {position.posts} posts",
            errors=[FieldError("posts_to_fill", f"不能超过岗位职数 {position.posts}", "more than the position's posts")],
        )
    opening = Opening(
        zone_id=zone_id,
        position_id=position.id,
        title=body.title or f"{position.title} 竞聘",
        term_months=body.term_months,
        weights={name: str(weight) for name, weight in body.weights.items()},
        posts_to_fill=body.posts_to_fill,
        created_at=now(),
    )
    session.add(opening)
    await session.flush()
    await record_audit(
        session, caller, "opening.create", entity_type="opening", entity_id=opening.id, zone_id=zone_id,
        after=opening.model_dump(),
    )
    return await _opening_out(session, opening)


async def opening_visible(session: AsyncSession, caller: Principal, opening_id: str) -> Opening:
    opening = await session.get(Opening, opening_id)
    if opening is None:
        raise NotFound("竞聘公告不存在", "Opening not found")
    ensure_zone(caller, opening.zone_id)
    return opening


async def get_opening(session: AsyncSession, caller: Principal, opening_id: str) -> OpeningOut:
    return await _opening_out(session, await opening_visible(session, caller, opening_id))


async def list_openings(
    session: AsyncSession, zone_id: str, page: PageParams, *, status: str | None = None, position_id: str | None = None
) -> Page[OpeningOut]:
    query = select(Opening).where(Opening.zone_id == zone_id)
    if status:
        query = query.where(Opening.status == status)
    if position_id:
        query = query.where(Opening.position_id == position_id)
    rows, total = await paginate(session, query.order_by(col(Opening.created_at).desc(), col(Opening.id)), page)
    return Page(items=[await _opening_out(session, o) for o in rows], total=total, page=page.page, size=page.size)


async def _require_reader(session: AsyncSession, caller: Principal, opening: Opening) -> None:
    """Candidates and their scores: HR administrators, and the head of the position's department."""
    if is_hr_admin(caller):
        return
    scope = personal_scope(caller, opening.zone_id)
    if scope.department_code:
        position = await session.get(Position, opening.position_id)
        department = await session.get(Department, position.department_id) if position else None
        if department is not None and department.code == scope.department_code:
            return
    raise Forbidden("只有人事管理员和本部门负责人可以查看候选人", "Only HR administrators and the department head see candidates")


# --- candidates and scores -------------------------------------------------------------------------


@use_case
async def add_candidate(session: AsyncSession, caller: Principal, opening_id: str, body: CandidateIn) -> CandidateOut:
    opening = await opening_visible(session, caller, opening_id)
    if is_hr_admin(caller):
        if body.staff_id is None:
            raise Unprocessable(
                "请指定报名人员", "Name the applicant", errors=[FieldError("staff_id", "必填项缺失", "required", code="missing")]
            )
        staff = await staff_in_zone(session, opening.zone_id, body.staff_id)
    else:
        staff = await own_staff_record(session, caller, opening.zone_id)
        if body.staff_id is not None and body.staff_id != staff.id:
            raise Forbidden("只能为本人报名", "You may apply only for yourself")
    if opening.status == "filled":
        raise Conflict(
            "该竞聘已聘满，不再接受报名", "This opening is filled",
            errors=[FieldError("opening_id", "已聘满", "filled", code="filled")],
        )
    duplicate = (
        await session.execute(select(Candidate.id).where(Candidate.opening_id == opening.id, Candidate.staff_id == staff.id))
    ).scalar_one_or_none()
    if duplicate is not None:
        raise Conflict(
            "该人员已报名本次竞聘", "Already a candidate in this opening",
            errors=[FieldError("staff_id", "已报名", "already a candidate", code="duplicate")],
            candidate_id=duplicate,
        )
    current = await active_appointment(session, staff.id)
    candidate = Candidate(
        zone_id=opening.zone_id,
        opening_id=opening.id,
        staff_id=staff.id,
        source="internal" if current is not None else "external",
        applied_at=now(),
    )
    session.add(candidate)
    if opening.status == "exhausted":
        opening.status = "open"
        session.add(opening)
    await session.flush()
    await record_audit(
        session, caller, "candidate.apply", entity_type="candidate", entity_id=candidate.id, zone_id=opening.zone_id,
        after=candidate.model_dump(),
    )
    return _candidate_out(candidate, staff, weights_of(opening))


async def list_candidates(session: AsyncSession, caller: Principal, opening_id: str) -> list[CandidateOut]:
    opening = await opening_visible(session, caller, opening_id)
    await _require_reader(session, caller, opening)
    rows = (
        await session.execute(
            select(Candidate, Staff)
            .join(Staff, col(Staff.id) == col(Candidate.staff_id))
            .where(Candidate.opening_id == opening.id)
            .order_by(col(Candidate.applied_at), col(Candidate.id))
        )
    ).tuples().all()
    await record_audit(
        session, caller, "candidate.list.read", entity_type="opening", entity_id=opening.id, zone_id=opening.zone_id
    )
    weights = weights_of(opening)
    return [_candidate_out(c, s, weights) for c, s in rows]


async def _candidate(session: AsyncSession, opening: Opening, candidate_id: str) -> Candidate:
    candidate = await session.get(Candidate, candidate_id)
    if candidate is None or candidate.opening_id != opening.id:
        raise NotFound("候选人不存在", "Candidate not found")
    return candidate


@use_case
async def put_scores(
    session: AsyncSession, caller: Principal, opening_id: str, candidate_id: str, body: ScoresIn
) -> CandidateOut:
    """Enter (or correct) component scores; only while the candidate has not been offered the post."""
    require_hr_admin(caller)
    opening = await opening_visible(session, caller, opening_id)
    candidate = await _candidate(session, opening, candidate_id)
    if candidate.status != "applied":
        raise Conflict(
            "已发出录用通知或已答复的候选人不能再改分", "Scores are fixed once the candidate was offered the post",
            errors=[FieldError("candidate_id", "候选人状态不允许改分", "candidate no longer scorable", code=candidate.status)],
        )
    weights = weights_of(opening)
    domain.check_scores(dict(body.scores), list(weights))
    before = dict(candidate.scores)
    candidate.scores = {**candidate.scores, **{name: str(value) for name, value in body.scores.items()}}
    session.add(candidate)
    await session.flush()
    await record_audit(
        session, caller, "candidate.score", entity_type="candidate", entity_id=candidate.id, zone_id=opening.zone_id,
        before={"scores": before}, after={"scores": candidate.scores},
    )
    return await _candidate_out_of(session, candidate, opening)


async def _ranking(session: AsyncSession, opening: Opening) -> tuple[list[tuple[domain.RankedCandidate, Candidate, Staff]], list[str]]:
    rows = (
        await session.execute(
            select(Candidate, Staff).join(Staff, col(Staff.id) == col(Candidate.staff_id)).where(Candidate.opening_id == opening.id)
        )
    ).tuples().all()
    by_id = {c.id: (c, s) for c, s in rows}
    ranked, unscored = domain.rank_candidates(
        (domain.CandidateScores(c.id, c.applied_at, scores_of(c)) for c, _ in rows), weights_of(opening)
    )
    return [(r, *by_id[r.candidate_id]) for r in ranked], unscored


async def get_ranking(session: AsyncSession, caller: Principal, opening_id: str) -> RankingOut:
    opening = await opening_visible(session, caller, opening_id)
    await _require_reader(session, caller, opening)
    ranked, unscored = await _ranking(session, opening)
    weights = weights_of(opening)
    await record_audit(session, caller, "ranking.read", entity_type="opening", entity_id=opening.id, zone_id=opening.zone_id)
    return RankingOut(
        opening_id=opening.id,
        weights=weights,
        tie_break_order=[f"component:{n}" for n in domain.tie_break_components(weights)] + ["applied_at", "candidate_id"],
        ranking=[
            RankingEntry(
                rank=r.rank,
                candidate_id=c.id,
                staff_id=s.id,
                staff_name=s.name,
                source=c.source,
                status=c.status,
                total=r.total,
                scores=scores_of(c),
                tied_on_total=r.tied_on_total,
                decided_by=r.decided_by,
            )
            for r, c, s in ranked
        ],
        unscored=unscored,
    )


# --- offers, acceptance, declining -------------------------------------------------------------------


async def _appointed_count(session: AsyncSession, opening: Opening) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(Candidate.opening_id == opening.id, Candidate.status == "appointed")
            )
        ).scalar_one()
    )


async def _check_capacity_for(session: AsyncSession, caller: Principal, opening: Opening, candidate: Candidate) -> None:
    position = await session.get(Position, opening.position_id)
    assert position is not None
    quota = await lock_zone(session, opening.zone_id, caller.subject)
    department = await department_in_zone(session, opening.zone_id, position.department_id)
    current = await active_appointment(session, candidate.staff_id)
    domain.check_appointment_capacity(await capacity(session, position, department, quota, current))


async def _offer_next(session: AsyncSession, caller: Principal, opening: Opening, *, check_capacity: bool) -> OfferOut | None:
    ranked, unscored = await _ranking(session, opening)
    eligible = [(r, c) for r, c, _ in ranked if c.status == "applied"]
    if not eligible:
        if not unscored:
            opening.status = "exhausted"
            session.add(opening)
        return None
    rank, candidate = eligible[0]
    if check_capacity:
        await _check_capacity_for(session, caller, opening, candidate)
    candidate.status = "offered"
    candidate.offered_at = now()
    session.add(candidate)
    await session.flush()
    await record_audit(
        session, caller, "candidate.offer", entity_type="candidate", entity_id=candidate.id, zone_id=opening.zone_id,
        after={"rank": rank.rank, "total": rank.total},
    )
    return OfferOut(opening_id=opening.id, rank=rank.rank, candidate=await _candidate_out_of(session, candidate, opening))


@use_case
async def offer(session: AsyncSession, caller: Principal, opening_id: str) -> OfferOut:
    """Offer the post to the best-ranked candidate who has not answered yet (``POST /openings/{id}/appoint``)."""
    require_hr_admin(caller)
    opening = await opening_visible(session, caller, opening_id)
    if opening.status == "filled" or await _appointed_count(session, opening) >= opening.posts_to_fill:
        raise Conflict(
            "本次竞聘已聘满", "This opening is filled", errors=[FieldError("opening_id", "已聘满", "filled", code="filled")]
        )
    pending = (
        await session.execute(select(Candidate).where(Candidate.opening_id == opening.id, Candidate.status == "offered"))
    ).scalars().first()
    if pending is not None:
        raise Conflict(
            "已有候选人尚未答复录用通知，请待其接受或放弃", "A candidate has not answered an offer yet",
            errors=[FieldError("opening_id", "有待答复的录用通知", "an offer is pending", code="offer_pending")],
            candidate_id=pending.id,
        )
    made = await _offer_next(session, caller, opening, check_capacity=True)
    if made is None:
        raise Conflict(
            "排名中已没有可录用的候选人（请先完成评分或补充报名）", "Nobody left in the ranking to offer the post to",
            errors=[FieldError("opening_id", "排名中无可录用的候选人", "ranking exhausted", code="ranking_exhausted")],
        )
    return made


async def _respondent(session: AsyncSession, caller: Principal, opening_id: str, candidate_id: str) -> tuple[Opening, Candidate]:
    opening = await opening_visible(session, caller, opening_id)
    candidate = await _candidate(session, opening, candidate_id)
    if not is_hr_admin(caller):
        own = await own_staff_record(session, caller, opening.zone_id)
        if own.id != candidate.staff_id:
            raise Forbidden("只有候选人本人或人事管理员可以答复录用通知", "Only the candidate or HR may answer the offer")
    if candidate.status != "offered":
        raise Conflict(
            "该候选人没有待答复的录用通知", "This candidate has no pending offer",
            errors=[FieldError("candidate_id", "没有待答复的录用通知", "no pending offer", code=candidate.status)],
        )
    return opening, candidate


@use_case
async def accept(
    session: AsyncSession, caller: Principal, opening_id: str, candidate_id: str, body: AcceptIn
) -> AcceptOut:
    """The candidate accepts: appointed for the opening's term (an internal candidate is transferred)."""
    opening, candidate = await _respondent(session, caller, opening_id, candidate_id)
    position = await session.get(Position, opening.position_id)
    staff = await session.get(Staff, candidate.staff_id)
    assert position is not None and staff is not None
    term_start = body.term_start or today()
    appointment, ended_id = await appoint(
        session, caller, staff, position, term_start, domain.term_end_for(term_start, opening.term_months),
        opening_id=opening.id, transfer=True,
    )
    candidate.status = "appointed"
    candidate.responded_at = now()
    candidate.appointment_id = appointment.id
    session.add(candidate)
    await session.flush()
    if await _appointed_count(session, opening) >= opening.posts_to_fill:
        opening.status = "filled"
        session.add(opening)
    await record_audit(
        session, caller, "candidate.accept", entity_type="candidate", entity_id=candidate.id, zone_id=opening.zone_id,
        after={"appointment_id": appointment.id},
    )
    await publish_headcount(session, opening.zone_id)
    return AcceptOut(
        appointment=(await appointments_out(session, [appointment]))[0],
        ended_appointment_id=ended_id,
        opening_status=opening.status,
    )


@use_case
async def decline(
    session: AsyncSession, caller: Principal, opening_id: str, candidate_id: str, body: DeclineIn
) -> DeclineOut:
    """The candidate declines (双向选择); the next candidate in the ranking is offered the post at once."""
    opening, candidate = await _respondent(session, caller, opening_id, candidate_id)
    candidate.status = "declined"
    candidate.responded_at = now()
    candidate.decline_reason = body.reason
    session.add(candidate)
    await session.flush()
    await record_audit(
        session, caller, "candidate.decline", entity_type="candidate", entity_id=candidate.id, zone_id=opening.zone_id,
        after={"reason": body.reason},
    )
    # The decline itself always stands; whether the next candidate fits is checked, with the figures,
    # when they accept (their own transfer may free a post the declined candidate's did not).
    next_offer = await _offer_next(session, caller, opening, check_capacity=False)
    return DeclineOut(
        declined=await _candidate_out_of(session, candidate, opening),
        next_offer=next_offer,
        opening_status=opening.status,
    )

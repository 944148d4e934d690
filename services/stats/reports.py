"""Use cases of enterprise reports (报表): file, list, read, accept, return, resubmit, revise, and
what an enterprise still owes.

Acceptance and revision move the pre-aggregates (``indicator_aggregate``) in the same transaction:
each value's change from what was last accepted to what is accepted now. State transitions are
compare-and-set on ``lock_version``, so two reviewers cannot both accept (and double-count) a report.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_owner, ensure_zone, scoped_zone
from chassis.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import PageParams
from services.stats import repository as repo
from services.stats.domain import (
    STATUS_LABELS,
    FiledReport,
    IndicatorDef,
    ReportContext,
    ReportStatus,
    Source,
    Violation,
    check_can_accept,
    check_can_resubmit,
    check_can_return,
    check_can_revise,
    check_form_values,
    due_items,
    from_units,
    implied_obligations,
    to_units,
    validate_report,
)
from services.stats.domain import Obligation as ObligationDef
from services.stats.events import (
    REPORT_ACCEPTED,
    REPORT_RETURNED,
    REPORT_REVISED,
    REPORT_SUBMITTED,
    ReportAccepted,
    ReportReturned,
    ReportRevised,
    ReportSubmitted,
    ReturnReason,
    ValueChange,
)
from services.stats.models import Obligation, Report, ReportRevision, ReportTrail, ReportValue
from services.stats.periods import FORM_LABELS, Period, PeriodType
from services.stats.schemas import (
    DueItemOut,
    DueOut,
    ReportDetailOut,
    ReportIn,
    ReportOut,
    ResubmitIn,
    ReturnIn,
    ReturnReasonOut,
    ReviseIn,
    RevisionOut,
    TrailEntryOut,
)
from services.stats.service import domain_errors, fmt, known_zone, parse_period, staff_zone

SHANGHAI = ZoneInfo("Asia/Shanghai")
TRAIL_LABELS = {"submitted": "报送", "resubmitted": "重报", "accepted": "审核通过", "returned": "退回", "revised": "修订"}


# --- reading ----------------------------------------------------------------------------------------


async def _values_of(session: AsyncSession, report_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Current filed values (units) per report."""
    if not report_ids:
        return {}
    rows = (
        await session.execute(
            select(ReportValue.report_id, ReportValue.indicator_code, ReportValue.value_units).where(
                col(ReportValue.report_id).in_(list(report_ids))
            )
        )
    ).all()
    out: dict[str, dict[str, int]] = {rid: {} for rid in report_ids}
    for rid, code, units in rows:
        if units is not None:
            out[rid][code] = int(units)
    return out


def _decimals(defs: Mapping[str, IndicatorDef], code: str) -> int:
    ind = defs.get(code)
    return ind.decimals if ind else 4


def _report_out(report: Report, values: Mapping[str, int], defs: Mapping[str, IndicatorDef], closed: bool) -> dict[str, Any]:
    period = Period.parse(report.period)
    status = ReportStatus(report.status)
    return {
        "id": report.id,
        "zone_id": report.zone_id,
        "uscc": report.uscc,
        "period": report.period,
        "period_label": period.label,
        "period_type": period.type.value,
        "form_label": FORM_LABELS[period.type],
        "status": status.value,
        "status_label": STATUS_LABELS[status],
        "version": report.version,
        "values": {c: fmt(from_units(u), _decimals(defs, c)) for c, u in sorted(values.items())},
        "explanations": dict(report.explanations),
        "return_reasons": [ReturnReasonOut(**r) for r in report.return_reasons] if report.return_reasons else None,
        "revision_count": report.revision_count,
        "period_closed": closed,
        "submitted_at": repo.aware(report.submitted_at),
        "submitted_by": report.submitted_by,
        "reviewed_at": repo.aware(report.reviewed_at) if report.reviewed_at else None,
        "reviewed_by": report.reviewed_by,
    }


async def _detail(session: AsyncSession, report: Report) -> ReportDetailOut:
    defs = await repo.indicator_defs(session)
    values = (await _values_of(session, [report.id]))[report.id]
    closed = await repo.is_closed(session, report.zone_id, report.period)
    trail = (
        await session.execute(select(ReportTrail).where(ReportTrail.report_id == report.id).order_by(col(ReportTrail.id)))
    ).scalars()
    revisions = (
        await session.execute(
            select(ReportRevision).where(ReportRevision.report_id == report.id).order_by(col(ReportRevision.revision_no))
        )
    ).scalars()
    return ReportDetailOut(
        **_report_out(report, values, defs, closed),
        trail=[
            TrailEntryOut(
                action=t.action,
                action_label=TRAIL_LABELS.get(t.action, t.action),
                version=t.version,
                actor=t.actor,
                actor_kind=t.actor_kind,
                at=repo.aware(t.at),
                reasons=[ReturnReasonOut(**r) for r in t.reasons] if t.reasons else None,
                note=t.note,
            )
            for t in trail
        ],
        revisions=[
            RevisionOut(
                revision_no=r.revision_no,
                before=r.before,
                after=r.after,
                reason=r.reason,
                period_closed=r.period_closed,
                revised_by=r.revised_by,
                revised_at=repo.aware(r.revised_at),
            )
            for r in revisions
        ],
    )


async def _load(session: AsyncSession, principal: Principal, report_id: str) -> Report:
    report = await session.get(Report, report_id)
    if report is None:
        raise NotFound("报表不存在", "Report not found")
    ensure_owner(principal, report.uscc)
    if not principal.is_enterprise:
        ensure_zone(principal, report.zone_id)
    return report


async def get_report(session: AsyncSession, principal: Principal, report_id: str) -> ReportDetailOut:
    return await _detail(session, await _load(session, principal, report_id))


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    uscc: str | None,
    zone_id: str | None,
    period: str | None,
    status: str | None,
) -> tuple[list[ReportOut], int]:
    query = select(Report)
    if principal.is_enterprise:
        if uscc is not None and uscc != principal.uscc:
            return [], 0  # another enterprise's reports look like none at all
        query = query.where(Report.uscc == principal.uscc)
        if zone_id:
            query = query.where(Report.zone_id == zone_id)
    else:
        zone = scoped_zone(principal, zone_id)
        if zone is not None:
            query = query.where(Report.zone_id == zone)
        if uscc:
            query = query.where(Report.uscc == uscc)
    if period:
        query = query.where(Report.period == parse_period(period).__str__())
    if status:
        query = query.where(Report.status == status)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    query = query.order_by(col(Report.period).desc(), col(Report.submitted_at).desc(), Report.id)
    reports = list((await session.execute(query.offset(page.offset).limit(page.size))).scalars())
    values = await _values_of(session, [r.id for r in reports])
    closed = await repo.closures(session, {r.zone_id for r in reports})
    defs = await repo.indicator_defs(session)
    items = [ReportOut(**_report_out(r, values[r.id], defs, (r.zone_id, r.period) in closed)) for r in reports]
    return items, int(total)


# --- validation ---------------------------------------------------------------------------------------


async def _context(session: AsyncSession, zone_id: str, uscc: str, period: Period, codes: Sequence[str]) -> ReportContext:
    """The enterprise's earlier values the rules compare with: the latest earlier period of the same
    year (for cumulative values) and the same period a year before (for year-on-year changes)."""
    earlier = [p for p in Period(period.year, PeriodType.YEAR, 1).sub_periods(period.type) if p.ordinal < period.ordinal]
    last_year = period.same_period_last_year()
    wanted = [str(p) for p in earlier] + [str(last_year)]
    rows = (
        await session.execute(
            select(ReportValue.indicator_code, ReportValue.period, ReportValue.value_units, ReportValue.accepted_units).where(
                ReportValue.uscc == uscc,
                ReportValue.zone_id == zone_id,
                col(ReportValue.indicator_code).in_(list(codes)),
                col(ReportValue.period).in_(wanted),
            )
        )
    ).all()
    previous: dict[str, tuple[int, Decimal]] = {}
    yoy: dict[str, Decimal] = {}
    for code, period_text, value_units, accepted_units in rows:
        units = accepted_units if accepted_units is not None else value_units
        if units is None:
            continue
        if period_text == str(last_year):
            yoy[code] = from_units(units)
            continue
        ordinal = Period.parse(period_text).ordinal
        if code not in previous or previous[code][0] < ordinal:
            previous[code] = (ordinal, from_units(units))
    return ReportContext(previous_period={c: v for c, (_, v) in previous.items()}, last_year=yoy)


def _refuse(violations: Sequence[Violation]) -> Unprocessable:
    first = violations[0]
    return Unprocessable(
        f"报表未通过审核规则（{len(violations)} 项）：{first.zh}",
        f"The report breaks {len(violations)} validation rule(s): {first.en}",
        errors=[FieldError(v.field, v.zh, v.en, code=v.code) for v in violations],
        violations=[
            {
                "indicator_code": v.indicator_code,
                "indicator_name": v.indicator_name,
                "rule_id": v.rule_id,
                "rule_kind": v.rule_kind.value,
                "rule": v.rule_label,
                "field": v.field,
                "message": v.zh,
            }
            for v in violations
        ],
    )


async def _validate(
    session: AsyncSession,
    defs: Mapping[str, IndicatorDef],
    *,
    zone_id: str,
    uscc: str,
    period: Period,
    values: Mapping[str, Decimal],
    explanations: Mapping[str, str],
) -> None:
    with domain_errors():
        check_form_values(period, values, defs, source=Source.DIRECT_REPORT)
    for code in explanations:
        if code not in values:
            raise Unprocessable(
                f"情况说明针对的指标 {code} 未填报",
                f"explanation for {code}, which has no value",
                errors=[FieldError(f"explanations.{code}", "该指标未填报", "no value for this indicator", code="orphan_explanation")],
            )
    form_codes = [c for c, d in defs.items() if d.period_type is period.type]
    rules = await repo.active_rules(session, form_codes)
    context = await _context(session, zone_id, uscc, period, form_codes)
    violations = validate_report(period, values, explanations, rules, defs, context)
    if violations:
        raise _refuse(violations)


def _units(values: Mapping[str, Decimal]) -> dict[str, int]:
    return {c: to_units(v) for c, v in values.items()}


def _floats(units: Mapping[str, int | None], defs: Mapping[str, IndicatorDef]) -> dict[str, float]:
    return {c: fmt(from_units(u), _decimals(defs, c)) or 0.0 for c, u in sorted(units.items()) if u is not None}


async def _trail(
    session: AsyncSession, report: Report, action: str, principal: Principal, *, reasons: list[dict[str, Any]] | None = None, note: str | None = None
) -> None:
    session.add(
        ReportTrail(
            report_id=report.id,
            zone_id=report.zone_id,
            action=action,
            version=report.version,
            actor=principal.subject,
            actor_kind=principal.kind,
            at=repo.now(),
            reasons=reasons,
            note=note,
        )
    )


async def _transition(session: AsyncSession, report: Report, expected: set[ReportStatus], **values: Any) -> None:
    """Compare-and-set the report row: refuse if someone changed it since we read it."""
    result: Any = await session.execute(
        update(Report)
        .where(
            col(Report.id) == report.id,
            col(Report.lock_version) == report.lock_version,
            col(Report.status).in_([s.value for s in expected]),
        )
        .values(lock_version=report.lock_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("报表刚被他人处理，请刷新后重试", "The report changed meanwhile; reload and retry", headers={"Retry-After": "1"})
    await session.refresh(report)


# --- filing ---------------------------------------------------------------------------------------------


def _check_filer(principal: Principal, uscc: str) -> None:
    if principal.is_enterprise and principal.uscc != uscc:
        raise Forbidden(
            "企业只能为本企业填报", "An enterprise files only for its own USCC", errors=[FieldError("uscc", "不是本企业的统一社会信用代码", "not your USCC", code="not_owner")]
        )


async def submit_report(session: AsyncSession, principal: Principal, body: ReportIn) -> ReportDetailOut:
    _check_filer(principal, body.uscc)
    zone_id = body.zone_id if principal.is_enterprise else staff_zone(principal, body.zone_id)
    zone = await known_zone(session, zone_id)
    if not zone.active:
        raise Unprocessable("该功能区已停用", "The zone is inactive", errors=[FieldError("zone_id", "功能区已停用", "zone inactive", code="zone_inactive")])
    period = parse_period(body.period)
    defs = await repo.indicator_defs(session)
    with domain_errors():
        check_form_values(period, body.values, defs, source=Source.DIRECT_REPORT)
    if await repo.is_closed(session, zone_id, str(period)):
        raise Conflict(
            f"{period.label}已关账，不再受理报送", "The period is closed", errors=[FieldError("period", "该报告期已关账", "period closed", code="period_closed")]
        )
    existing = (
        await session.execute(select(Report.id).where(Report.zone_id == zone_id, Report.uscc == body.uscc, Report.period == str(period)))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(
            f"{period.label}{FORM_LABELS[period.type]}已报送，如需修改请重报",
            "This report was already filed; resubmit it instead",
            errors=[FieldError("period", "本期报表已报送", "already filed", code="duplicate")],
            report_id=existing,
        )
    explanations = {c: t.strip() for c, t in body.explanations.items() if t.strip()}
    await _validate(session, defs, zone_id=zone_id, uscc=body.uscc, period=period, values=body.values, explanations=explanations)

    at = repo.now()
    report = Report(
        id=str(uuid.uuid4()),
        zone_id=zone_id,
        uscc=body.uscc,
        period=str(period),
        period_type=period.type.value,
        status=ReportStatus.SUBMITTED.value,
        version=1,
        lock_version=1,
        form_codes=sorted(body.values),
        explanations=explanations,
        submitted_at=at,
        submitted_by=principal.subject,
        created_at=at,
    )
    session.add(report)
    units = _units(body.values)
    for code, u in units.items():
        session.add(ReportValue(report_id=report.id, indicator_code=code, zone_id=zone_id, uscc=body.uscc, period=str(period), value_units=u))
    await session.flush()
    await _trail(session, report, "submitted", principal)
    await _publish_submitted(session, report, units, defs, resubmission=False)
    await record_audit(session, principal, "report.submit", entity_type="report", entity_id=report.id, zone_id=zone_id, after=_floats(units, defs))
    return await _detail(session, report)


async def _publish_submitted(
    session: AsyncSession, report: Report, units: Mapping[str, int], defs: Mapping[str, IndicatorDef], *, resubmission: bool
) -> None:
    await record_event(
        session,
        REPORT_SUBMITTED,
        ReportSubmitted(
            report_id=report.id,
            zone_id=report.zone_id,
            uscc=report.uscc,
            period=report.period,
            period_type=PeriodType(report.period_type).value,
            version=report.version,
            resubmission=resubmission,
            values=_floats(units, defs),
            explanations=dict(report.explanations),
            submitted_at=repo.aware(report.submitted_at),
            submitted_by=report.submitted_by,
        ),
        subject=report.id,
        zone_id=report.zone_id,
    )


async def resubmit_report(session: AsyncSession, principal: Principal, report_id: str, body: ResubmitIn) -> ReportDetailOut:
    report = await _load(session, principal, report_id)
    period = Period.parse(report.period)
    with domain_errors():
        check_can_resubmit(ReportStatus(report.status), await repo.is_closed(session, report.zone_id, report.period))
    defs = await repo.indicator_defs(session)
    explanations = {c: t.strip() for c, t in body.explanations.items() if t.strip()}
    await _validate(session, defs, zone_id=report.zone_id, uscc=report.uscc, period=period, values=body.values, explanations=explanations)

    at = repo.now()
    await _transition(
        session,
        report,
        set(ReportStatus),
        status=ReportStatus.SUBMITTED.value,
        version=report.version + 1,
        form_codes=sorted(body.values),
        explanations=explanations,
        return_reasons=None,
        submitted_at=at,
        submitted_by=principal.subject,
        reviewed_at=None,
        reviewed_by=None,
    )
    units = _units(body.values)
    rows = {
        r.indicator_code: r
        for r in (await session.execute(select(ReportValue).where(ReportValue.report_id == report.id))).scalars()
    }
    for code, row in rows.items():
        if code not in units:
            if row.accepted_units is None:
                await session.delete(row)  # never counted: nothing to take back
            else:
                row.value_units = None  # counted until the new version is accepted
                session.add(row)
    for code, u in units.items():
        row = rows.get(code) or ReportValue(
            report_id=report.id, indicator_code=code, zone_id=report.zone_id, uscc=report.uscc, period=report.period
        )
        row.value_units = u
        session.add(row)
    await session.flush()
    await _trail(session, report, "resubmitted", principal)
    await _publish_submitted(session, report, units, defs, resubmission=True)
    await record_audit(
        session, principal, "report.resubmit", entity_type="report", entity_id=report.id, zone_id=report.zone_id, after=_floats(units, defs)
    )
    return await _detail(session, report)


# --- review -------------------------------------------------------------------------------------------


async def accept_report(session: AsyncSession, principal: Principal, report_id: str, note: str | None) -> ReportDetailOut:
    report = await _load(session, principal, report_id)
    with domain_errors():
        check_can_accept(ReportStatus(report.status), await repo.is_closed(session, report.zone_id, report.period))
    at = repo.now()
    await _transition(
        session, report, {ReportStatus.SUBMITTED}, status=ReportStatus.ACCEPTED.value, reviewed_at=at, reviewed_by=principal.subject
    )
    period = Period.parse(report.period)
    accepted: dict[str, int] = {}
    changes = repo.AggregateChanges()
    for row in (await session.execute(select(ReportValue).where(ReportValue.report_id == report.id))).scalars():
        # The aggregate moves from what was last accepted to what is accepted now.
        changes.add(report.zone_id, row.indicator_code, period, row.accepted_units, row.value_units)
        if row.value_units is None:
            await session.delete(row)
            continue
        row.accepted_units = row.value_units
        accepted[row.indicator_code] = row.value_units
        session.add(row)
    await session.flush()
    await changes.write(session)
    await _trail(session, report, "accepted", principal, note=note)
    defs = await repo.indicator_defs(session)
    await record_event(
        session,
        REPORT_ACCEPTED,
        ReportAccepted(
            report_id=report.id,
            zone_id=report.zone_id,
            uscc=report.uscc,
            period=report.period,
            period_type=period.type.value,
            version=report.version,
            values=_floats(accepted, defs),
            accepted_at=at,
            accepted_by=principal.subject,
        ),
        subject=report.id,
        zone_id=report.zone_id,
    )
    await record_audit(
        session,
        principal,
        "report.accept",
        entity_type="report",
        entity_id=report.id,
        zone_id=report.zone_id,
        before={"status": ReportStatus.SUBMITTED.value},
        after={"status": ReportStatus.ACCEPTED.value, "version": report.version, "note": note},
    )
    return await _detail(session, report)


async def return_report(session: AsyncSession, principal: Principal, report_id: str, body: ReturnIn) -> ReportDetailOut:
    report = await _load(session, principal, report_id)
    with domain_errors():
        check_can_return(ReportStatus(report.status), await repo.is_closed(session, report.zone_id, report.period))
    for i, r in enumerate(body.reasons):
        if r.indicator_code is not None and r.indicator_code not in report.form_codes:
            raise Unprocessable(
                f"退回原因针对的指标 {r.indicator_code} 不在本报表中",
                f"{r.indicator_code} is not on this report",
                errors=[FieldError(f"reasons.{i}.indicator_code", "该指标不在本报表中", "not on this report", code="unknown_indicator")],
            )
    reasons = [{"indicator_code": r.indicator_code, "reason": r.reason.strip()} for r in body.reasons]
    at = repo.now()
    await _transition(
        session,
        report,
        {ReportStatus.SUBMITTED},
        status=ReportStatus.RETURNED.value,
        return_reasons=reasons,
        reviewed_at=at,
        reviewed_by=principal.subject,
    )
    await _trail(session, report, "returned", principal, reasons=reasons)
    await record_event(
        session,
        REPORT_RETURNED,
        ReportReturned(
            report_id=report.id,
            zone_id=report.zone_id,
            uscc=report.uscc,
            period=report.period,
            period_type=PeriodType(report.period_type).value,
            version=report.version,
            reasons=[ReturnReason(**r) for r in reasons],
            returned_at=at,
            returned_by=principal.subject,
        ),
        subject=report.id,
        zone_id=report.zone_id,
    )
    await record_audit(
        session,
        principal,
        "report.return",
        entity_type="report",
        entity_id=report.id,
        zone_id=report.zone_id,
        before={"status": ReportStatus.SUBMITTED.value},
        after={"status": ReportStatus.RETURNED.value, "reasons": reasons},
    )
    return await _detail(session, report)


async def revise_report(session: AsyncSession, principal: Principal, report_id: str, body: ReviseIn) -> ReportDetailOut:
    """A correction of an accepted report (数据修订), open or closed period: the before and after,
    who and why are kept, and the aggregates move by the difference at once."""
    report = await _load(session, principal, report_id)
    with domain_errors():
        check_can_revise(ReportStatus(report.status))
    period = Period.parse(report.period)
    defs = await repo.indicator_defs(session)
    with domain_errors():
        check_form_values(period, body.values, defs, source=Source.DIRECT_REPORT)
    rows = {
        r.indicator_code: r
        for r in (await session.execute(select(ReportValue).where(ReportValue.report_id == report.id))).scalars()
    }
    current = {c: r.accepted_units for c, r in rows.items() if r.accepted_units is not None}
    new_units = _units(body.values)
    changed = {c: u for c, u in new_units.items() if current.get(c) != u}
    if not changed:
        raise Unprocessable(
            "修订值与现值相同，没有需要修订的内容", "Nothing changes", errors=[FieldError("values", "与现值相同", "same as current values", code="no_change")]
        )
    merged = {c: from_units(u) for c, u in {**current, **new_units}.items()}
    reason = body.reason.strip()
    explanations = {**report.explanations, **dict.fromkeys(changed, reason)}
    await _validate(session, defs, zone_id=report.zone_id, uscc=report.uscc, period=period, values=merged, explanations=explanations)

    closed = await repo.is_closed(session, report.zone_id, report.period)
    at = repo.now()
    await _transition(
        session,
        report,
        {ReportStatus.ACCEPTED},
        revision_count=report.revision_count + 1,
        form_codes=sorted(merged),
        explanations=explanations,
    )
    changes = repo.AggregateChanges()
    for code, u in changed.items():
        changes.add(report.zone_id, code, period, current.get(code), u)
        row = rows.get(code) or ReportValue(
            report_id=report.id, indicator_code=code, zone_id=report.zone_id, uscc=report.uscc, period=report.period
        )
        row.value_units = row.accepted_units = u
        session.add(row)
    await changes.write(session)
    before = {c: fmt(from_units(current[c]), _decimals(defs, c)) if c in current else None for c in sorted(changed)}
    after = {c: fmt(from_units(u), _decimals(defs, c)) for c, u in sorted(changed.items())}
    session.add(
        ReportRevision(
            report_id=report.id,
            zone_id=report.zone_id,
            revision_no=report.revision_count,
            before=before,
            after=after,
            reason=reason,
            period_closed=closed,
            revised_by=principal.subject,
            revised_at=at,
        )
    )
    await session.flush()
    await _trail(session, report, "revised", principal, note=reason)
    await record_event(
        session,
        REPORT_REVISED,
        ReportRevised(
            report_id=report.id,
            zone_id=report.zone_id,
            uscc=report.uscc,
            period=report.period,
            period_type=period.type.value,
            revision_no=report.revision_count,
            changes=[ValueChange(indicator_code=c, before=before[c], after=after[c]) for c in sorted(changed)],
            reason=reason,
            period_closed=closed,
            revised_at=at,
            revised_by=principal.subject,
        ),
        subject=report.id,
        zone_id=report.zone_id,
    )
    await record_audit(
        session, principal, "report.revise", entity_type="report", entity_id=report.id, zone_id=report.zone_id, before=before, after={**after, "reason": reason}
    )
    return await _detail(session, report)


# --- what is still owed (应报未报 / 退回待改) ---------------------------------------------------------------


def today_in_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


async def reports_due(
    session: AsyncSession,
    principal: Principal,
    *,
    uscc: str | None,
    zone_id: str | None,
    as_of: date | None,
    due_day: int,
) -> DueOut:
    """Periods and forms still owed, from the obligations registry and from the forms an
    enterprise has filed before (it keeps owing them), plus every returned report."""
    as_of = as_of or today_in_shanghai()
    if principal.is_enterprise:
        if uscc is not None and uscc != principal.uscc:
            return DueOut(as_of=as_of, items=[])
        uscc, zone = principal.uscc, zone_id
    else:
        zone = scoped_zone(principal, zone_id)

    window_start = as_of.year - 2
    periods_in_window: list[str] = []
    for year in range(window_start, as_of.year + 1):
        y = Period(year, PeriodType.YEAR, 1)
        periods_in_window += [str(p) for t in PeriodType for p in y.sub_periods(t)]

    obligation_query = select(Obligation).where(col(Obligation.active).is_(True))
    report_query = select(Report).where(col(Report.period).in_(periods_in_window))
    if zone is not None:
        obligation_query = obligation_query.where(Obligation.zone_id == zone)
        report_query = report_query.where(Report.zone_id == zone)
    if uscc is not None:
        obligation_query = obligation_query.where(Obligation.uscc == uscc)
        report_query = report_query.where(Report.uscc == uscc)
    obligations = list((await session.execute(obligation_query)).scalars())
    reports = list((await session.execute(report_query)).scalars())

    filed = [
        FiledReport(r.id, r.zone_id, r.uscc, Period.parse(r.period), ReportStatus(r.status), tuple(r.return_reasons or ()))
        for r in reports
    ]
    explicit = [
        ObligationDef(o.zone_id, o.uscc, frozenset(o.indicator_codes), Period.parse(o.from_period)) for o in obligations
    ]
    implied = implied_obligations(filed, {r.id: r.form_codes for r in reports})
    defs = await repo.indicator_defs(session)
    closed = await repo.closures(session, {o.zone_id for o in explicit + implied} | {r.zone_id for r in filed})
    names = {(o.zone_id, o.uscc): o.enterprise_name for o in obligations}
    items = due_items(explicit + implied, filed, defs, closed, as_of=as_of, due_day=due_day)
    return DueOut(
        as_of=as_of,
        items=[
            DueItemOut(
                zone_id=d.zone_id,
                uscc=d.uscc,
                enterprise_name=names.get((d.zone_id, d.uscc)),
                period=str(d.period),
                period_label=d.period.label,
                form=d.form.value,
                form_label=FORM_LABELS[d.form],
                indicator_codes=list(d.indicator_codes),
                status="returned" if d.status == "returned" else "missing",
                status_label="已退回待重报" if d.status == "returned" else "应报未报",
                due_date=d.due_date,
                overdue=d.overdue,
                period_closed=d.period_closed,
                report_id=d.report_id,
                return_reasons=[ReturnReasonOut(**r) for r in d.return_reasons],
            )
            for d in items
        ],
    )

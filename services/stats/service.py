"""Use cases of the reference data and the zone's own entries: zones (projection), indicators,
validation rules, targets, obligations, zone-collected values and period closing.

Each function takes the session and the caller; it records audit entries and events on the same
session and never commits (the request's session does).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.audit import record_audit
from chassis.auth import Principal, scoped_zone
from chassis.errors import BadRequest, Conflict, DomainError, FieldError, Forbidden, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import PageParams
from services.stats import repository as repo
from services.stats.domain import (
    AGGREGATION_LABELS,
    DIMENSION_LABELS,
    RULE_KIND_LABELS,
    SOURCE_LABELS,
    Aggregation,
    Dimension,
    DomainViolation,
    IndicatorDef,
    ReportStatus,
    RuleKind,
    Source,
    check_form_values,
    check_indicator_definition,
    from_units,
    normalize_rule_params,
    round_to,
    to_units,
)
from services.stats.events import PERIOD_CLOSED, PeriodClosed
from services.stats.models import (
    Indicator,
    IndicatorFact,
    Obligation,
    PeriodClosure,
    Report,
    Target,
    ValidationRule,
    Zone,
)
from services.stats.periods import FORM_LABELS, Period, PeriodError, PeriodType
from services.stats.schemas import (
    IndicatorIn,
    IndicatorOut,
    ObligationIn,
    ObligationOut,
    PartnerOut,
    PeriodClosureOut,
    RuleIn,
    RuleOut,
    TargetIn,
    TargetOut,
    ZoneOut,
    ZoneValuesIn,
    ZoneValuesOut,
)

ROLE_STATS = "stats"
ROLE_STATS_ADMIN = "stats-admin"
ROLE_LEADER = "leader"


# --- errors and access ------------------------------------------------------------------------------


def http_error(v: DomainViolation) -> DomainError:
    errors = [FieldError(v.field, v.zh, v.en, code=v.code)] if v.field else []
    cls: type[DomainError] = {"conflict": Conflict, "invalid": Unprocessable, "forbidden": Forbidden, "not_found": NotFound}.get(
        v.kind, Unprocessable
    )
    return cls(v.zh, v.en, errors=errors)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn the domain's refusals into problem details."""
    try:
        yield
    except DomainViolation as v:
        raise http_error(v) from v


def parse_period(text: str, field: str = "period") -> Period:
    try:
        return Period.parse(text)
    except PeriodError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise Unprocessable(zh, en or zh, errors=[FieldError(field, zh, en or zh, code="invalid_period")]) from exc


def staff_zone(principal: Principal, requested: str | None, field: str = "zone_id") -> str:
    """The zone a staff action applies to: their own, or the one a city-level user names."""
    zone = scoped_zone(principal, requested)
    if zone is None:
        raise BadRequest(
            "市级账户须指定功能区", "City-level users must name the zone", errors=[FieldError(field, "请指定功能区", "zone required")]
        )
    return zone


async def known_zone(session: AsyncSession, zone_id: str, field: str = "zone_id", *, invalid: bool = True) -> Zone:
    zone = await repo.get_zone(session, zone_id)
    if zone is None:
        if invalid:
            raise Unprocessable(
                f"功能区 {zone_id} 不存在", f"Unknown zone {zone_id}", errors=[FieldError(field, "功能区不存在", "unknown zone", code="unknown_zone")]
            )
        raise NotFound(f"功能区 {zone_id} 不存在", f"Unknown zone {zone_id}")
    return zone


async def require_indicator(session: AsyncSession, code: str, field: str = "indicator_code") -> IndicatorDef:
    row = await session.get(Indicator, code)
    if row is None:
        raise Unprocessable(
            f"指标 {code} 不存在", f"Unknown indicator {code}", errors=[FieldError(field, f"指标 {code} 不存在", "unknown indicator", code="unknown_indicator")]
        )
    return repo.to_def(row)


def fmt(value: Decimal | None, decimals: int) -> float | None:
    rounded = round_to(value, decimals)
    return None if rounded is None else float(rounded)


# --- zones ------------------------------------------------------------------------------------------


def zone_out(z: Zone) -> ZoneOut:
    return ZoneOut(
        zone_id=z.zone_id,
        name=z.name,
        type=z.type,
        district=z.district,
        partners=[PartnerOut(district=p["district"], share_percent=float(p["share_percent"])) for p in z.partners],
        active=z.active,
        updated_at=repo.aware(z.updated_at),
    )


async def list_zones(session: AsyncSession, principal: Principal) -> list[ZoneOut]:
    query = select(Zone).order_by(Zone.zone_id)
    if principal.zone_id is not None and not principal.is_admin and not principal.is_system:
        query = query.where(Zone.zone_id == principal.zone_id)
    return [zone_out(z) for z in (await session.execute(query)).scalars()]


# --- indicators -------------------------------------------------------------------------------------


def indicator_out(row: Indicator) -> IndicatorOut:
    d = repo.to_def(row)
    return IndicatorOut(
        code=row.code,
        name=row.name,
        unit=row.unit,
        period_type=d.period_type.value,
        period_type_label=d.period_type.label,
        aggregation=d.aggregation.value,
        aggregation_label=AGGREGATION_LABELS[d.aggregation],
        source=d.source.value,
        source_label=SOURCE_LABELS[d.source],
        cumulative=row.cumulative,
        decimals=row.decimals,
        higher_is_better=row.higher_is_better,
        dimension=d.dimension.value if d.dimension else None,
        dimension_label=DIMENSION_LABELS[d.dimension] if d.dimension else None,
        description=row.description,
    )


async def list_indicators(
    session: AsyncSession, *, source: str | None = None, period_type: str | None = None
) -> list[IndicatorOut]:
    rows = await repo.indicator_rows(session)
    return [
        indicator_out(r)
        for r in rows
        if (source is None or r.source == source) and (period_type is None or r.period_type == period_type)
    ]


def ensure_city_level(principal: Principal) -> None:
    """The indicator system and its audit rules are city-wide: a zone's stats-admin may not change them
    (that would change every other zone's reporting). Only city-level administrators do."""
    if principal.zone_id is not None and not principal.is_admin:
        raise Forbidden(
            "指标体系和审核规则由市级统计管理员统一维护", "The indicator system and its rules are city-wide: only city-level administrators change them"
        )


async def create_indicator(session: AsyncSession, principal: Principal, body: IndicatorIn) -> IndicatorOut:
    ensure_city_level(principal)
    if await session.get(Indicator, body.code) is not None:
        raise Conflict(
            f"指标代码 {body.code} 已存在", f"Indicator {body.code} exists", errors=[FieldError("code", "指标代码已存在", "code taken", code="duplicate")]
        )
    definition = IndicatorDef(
        code=body.code,
        name=body.name,
        unit=body.unit,
        period_type=PeriodType(body.period_type),
        aggregation=Aggregation(body.aggregation),
        source=Source(body.source),
        cumulative=body.cumulative,
        decimals=body.decimals,
        higher_is_better=body.higher_is_better,
        dimension=Dimension(body.dimension) if body.dimension else None,
    )
    with domain_errors():
        check_indicator_definition(definition)
    last = (await session.execute(select(func.max(Indicator.position)))).scalar_one_or_none() or 0
    row = Indicator(**body.model_dump(), position=int(last) + 1, created_at=repo.now(), created_by=principal.subject)
    session.add(row)
    await session.flush()
    await record_audit(session, principal, "indicator.create", entity_type="indicator", entity_id=row.code, after=body.model_dump())
    return indicator_out(row)


# --- validation rules -------------------------------------------------------------------------------


def rule_out(row: ValidationRule, indicator_name: str) -> RuleOut:
    return RuleOut(
        id=row.id or 0,
        indicator_code=row.indicator_code,
        indicator_name=indicator_name,
        kind=RuleKind(row.kind).value,
        kind_label=RULE_KIND_LABELS[RuleKind(row.kind)],
        name=row.name,
        params=row.params,
        active=row.active,
        created_at=repo.aware(row.created_at),
    )


async def list_rules(
    session: AsyncSession, *, indicator_code: str | None = None, kind: str | None = None, active: bool | None = None
) -> list[RuleOut]:
    query = select(ValidationRule).order_by(col(ValidationRule.id))
    if indicator_code:
        query = query.where(ValidationRule.indicator_code == indicator_code)
    if kind:
        query = query.where(ValidationRule.kind == kind)
    if active is not None:
        query = query.where(col(ValidationRule.active).is_(active))
    names = {r.code: r.name for r in await repo.indicator_rows(session)}
    return [rule_out(r, names.get(r.indicator_code, r.indicator_code)) for r in (await session.execute(query)).scalars()]


async def create_rule(session: AsyncSession, principal: Principal, body: RuleIn) -> RuleOut:
    ensure_city_level(principal)
    indicator = await require_indicator(session, body.indicator_code)
    other = None
    if body.other_indicator:
        other_row = await session.get(Indicator, body.other_indicator)
        other = repo.to_def(other_row) if other_row else None
    with domain_errors():
        params = normalize_rule_params(
            RuleKind(body.kind),
            indicator,
            minimum=body.min,
            maximum=body.max,
            operator=body.operator,
            other=other,
            other_code=body.other_indicator,
            factor=body.factor,
            threshold_percent=body.threshold_percent,
        )
    row = ValidationRule(
        indicator_code=indicator.code,
        kind=body.kind,
        name=body.name,
        params=params,
        active=True,
        created_at=repo.now(),
        created_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    await record_audit(session, principal, "rule.create", entity_type="validation_rule", entity_id=str(row.id), after=rule_out(row, indicator.name))
    return rule_out(row, indicator.name)


async def set_rule_active(session: AsyncSession, principal: Principal, rule_id: int, active: bool) -> RuleOut:
    ensure_city_level(principal)
    row = await session.get(ValidationRule, rule_id)
    if row is None:
        raise NotFound("审核规则不存在", "Rule not found")
    before = row.active
    row.active = active
    session.add(row)
    await session.flush()
    await record_audit(
        session, principal, "rule.update", entity_type="validation_rule", entity_id=str(rule_id), before={"active": before}, after={"active": active}
    )
    indicator = await session.get(Indicator, row.indicator_code)
    return rule_out(row, indicator.name if indicator else row.indicator_code)


# --- targets (目标分解表) ----------------------------------------------------------------------------


def target_out(row: Target, ind: IndicatorDef | None) -> TargetOut:
    return TargetOut(
        zone_id=row.zone_id,
        year=row.year,
        indicator_code=row.indicator_code,
        indicator_name=ind.name if ind else row.indicator_code,
        unit=ind.unit if ind else "",
        target_value=float(round_to(from_units(row.target_units), ind.decimals if ind else 4) or 0),
        note=row.note,
        updated_at=repo.aware(row.updated_at),
        updated_by=row.updated_by,
    )


async def list_targets(session: AsyncSession, principal: Principal, zone_id: str | None, year: int | None) -> list[TargetOut]:
    zone = scoped_zone(principal, zone_id)
    query = select(Target).order_by(Target.zone_id, col(Target.year), Target.indicator_code)
    if zone is not None:
        query = query.where(Target.zone_id == zone)
    if year is not None:
        query = query.where(Target.year == year)
    defs = await repo.indicator_defs(session)
    return [target_out(r, defs.get(r.indicator_code)) for r in (await session.execute(query)).scalars()]


async def set_target(session: AsyncSession, principal: Principal, body: TargetIn) -> TargetOut:
    zone_id = staff_zone(principal, body.zone_id)
    await known_zone(session, zone_id)
    ind = await require_indicator(session, body.indicator_code)
    row = await session.get(Target, (zone_id, body.year, ind.code))
    before = target_out(row, ind).model_dump() if row else None
    if row is None:
        row = Target(zone_id=zone_id, year=body.year, indicator_code=ind.code, target_units=0, updated_by=principal.subject)
    row.target_units = to_units(body.target_value)
    row.note = body.note
    row.updated_at = repo.now()
    row.updated_by = principal.subject
    session.add(row)
    await session.flush()
    out = target_out(row, ind)
    await record_audit(
        session, principal, "target.set", entity_type="target", entity_id=f"{zone_id}:{body.year}:{ind.code}", zone_id=zone_id, before=before, after=out
    )
    return out


# --- obligations (报送义务) --------------------------------------------------------------------------


def obligation_out(row: Obligation, defs: dict[str, IndicatorDef]) -> ObligationOut:
    types = sorted({defs[c].period_type for c in row.indicator_codes if c in defs}, key=lambda t: t.rank)
    return ObligationOut(
        id=row.id or 0,
        zone_id=row.zone_id,
        uscc=row.uscc,
        enterprise_name=row.enterprise_name,
        indicator_codes=list(row.indicator_codes),
        forms=[FORM_LABELS[t] for t in types],
        from_period=row.from_period,
        active=row.active,
        updated_at=repo.aware(row.updated_at),
        updated_by=row.updated_by,
    )


async def list_obligations(
    session: AsyncSession, principal: Principal, page: PageParams, zone_id: str | None, uscc: str | None
) -> tuple[list[ObligationOut], int]:
    zone = scoped_zone(principal, zone_id)
    query = select(Obligation).order_by(Obligation.zone_id, Obligation.uscc)
    if zone is not None:
        query = query.where(Obligation.zone_id == zone)
    if uscc:
        query = query.where(Obligation.uscc == uscc)
    total = (await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    rows = (await session.execute(query.offset(page.offset).limit(page.size))).scalars()
    defs = await repo.indicator_defs(session)
    return [obligation_out(r, defs) for r in rows], int(total)


async def set_obligation(session: AsyncSession, principal: Principal, body: ObligationIn) -> ObligationOut:
    zone_id = staff_zone(principal, body.zone_id)
    await known_zone(session, zone_id)
    defs = await repo.indicator_defs(session)
    for i, code in enumerate(body.indicator_codes):
        ind = defs.get(code)
        if ind is None or ind.source is not Source.DIRECT_REPORT:
            raise Unprocessable(
                f"指标 {code} 不存在或不是联网直报指标",
                f"{code} is not a direct-report indicator",
                errors=[FieldError(f"indicator_codes.{i}", "不是企业填报的指标", "not a direct-report indicator", code="wrong_source")],
            )
    row = (
        await session.execute(select(Obligation).where(Obligation.zone_id == zone_id, Obligation.uscc == body.uscc))
    ).scalar_one_or_none()
    before = obligation_out(row, defs).model_dump() if row else None
    if row is None:
        row = Obligation(zone_id=zone_id, uscc=body.uscc, from_period=body.from_period, updated_by=principal.subject)
    row.enterprise_name = body.enterprise_name
    row.indicator_codes = sorted(set(body.indicator_codes))
    row.from_period = body.from_period
    row.active = body.active
    row.updated_at = repo.now()
    row.updated_by = principal.subject
    session.add(row)
    await session.flush()
    out = obligation_out(row, defs)
    await record_audit(
        session, principal, "obligation.set", entity_type="obligation", entity_id=f"{zone_id}:{body.uscc}", zone_id=zone_id, before=before, after=out
    )
    return out


# --- zone-collected values (功能区采集) ---------------------------------------------------------------


async def enter_zone_values(session: AsyncSession, principal: Principal, zone_id: str, body: ZoneValuesIn) -> ZoneValuesOut:
    zone_id = staff_zone(principal, zone_id)
    await known_zone(session, zone_id, invalid=False)
    period = parse_period(body.period)
    defs = await repo.indicator_defs(session)
    with domain_errors():
        check_form_values(period, body.values, defs, source=Source.ZONE_COLLECTED)
    if await repo.is_closed(session, zone_id, str(period)):
        raise Conflict(
            f"{period.label}已关账，不能再录入", "The period is closed", errors=[FieldError("period", "该报告期已关账", "period closed", code="period_closed")]
        )
    before: dict[str, Any] = {}
    at = repo.now()
    for code, value in body.values.items():
        existing = await session.get(IndicatorFact, (zone_id, code, str(period), "zone"))
        before[code] = fmt(from_units(existing.value_units), defs[code].decimals) if existing else None
        await repo.record_fact(
            session, defs[code], zone_id=zone_id, period=period, contributor="zone", units=to_units(value), as_of=at, origin="zone", recorded_by=principal.subject
        )
    out = ZoneValuesOut(zone_id=zone_id, period=str(period), values={c: fmt(v, defs[c].decimals) or 0.0 for c, v in body.values.items()})
    await record_audit(
        session, principal, "zone_values.enter", entity_type="zone_values", entity_id=f"{zone_id}:{period}", zone_id=zone_id, before=before, after=out.values
    )
    return out


# --- closing a period (关账) --------------------------------------------------------------------------


def closure_out(row: PeriodClosure) -> PeriodClosureOut:
    return PeriodClosureOut(
        zone_id=row.zone_id,
        period=row.period,
        period_type=PeriodType(row.period_type).value,
        reports_accepted=row.reports_accepted,
        reports_returned=row.reports_returned,
        closed_at=repo.aware(row.closed_at),
        closed_by=row.closed_by,
    )


async def list_closures(session: AsyncSession, principal: Principal, zone_id: str | None) -> list[PeriodClosureOut]:
    zone = scoped_zone(principal, zone_id)
    query = select(PeriodClosure).order_by(PeriodClosure.zone_id, PeriodClosure.period)
    if zone is not None:
        query = query.where(PeriodClosure.zone_id == zone)
    return [closure_out(r) for r in (await session.execute(query)).scalars()]


async def close_period(session: AsyncSession, principal: Principal, period_text: str, zone_id: str | None) -> PeriodClosureOut:
    period = parse_period(period_text)
    zone = staff_zone(principal, zone_id)
    await known_zone(session, zone)
    if await repo.is_closed(session, zone, str(period)):
        raise Conflict(
            f"{period.label}已关账", "The period is already closed", errors=[FieldError("period", "已关账", "already closed", code="period_closed")]
        )
    rows = await session.execute(
        select(Report.status, func.count()).where(Report.zone_id == zone, Report.period == str(period)).group_by(Report.status)
    )
    counts = {str(status): int(n) for status, n in rows.all()}
    pending = int(counts.get(ReportStatus.SUBMITTED.value, 0))
    if pending:
        raise Conflict(
            f"{period.label}还有 {pending} 份报表待审核，审核完毕后才能关账",
            f"{pending} report(s) of {period} await review; review them before closing",
            errors=[FieldError("period", f"{pending} 份报表待审核", f"{pending} report(s) pending review", code="reports_pending")],
        )
    row = PeriodClosure(
        zone_id=zone,
        period=str(period),
        period_type=period.type.value,
        reports_accepted=int(counts.get(ReportStatus.ACCEPTED.value, 0)),
        reports_returned=int(counts.get(ReportStatus.RETURNED.value, 0)),
        closed_at=repo.now(),
        closed_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    out = closure_out(row)
    await record_event(
        session,
        PERIOD_CLOSED,
        PeriodClosed(**out.model_dump()),
        subject=f"{zone}:{period}",
        zone_id=zone,
    )
    await record_audit(session, principal, "period.close", entity_type="period", entity_id=f"{zone}:{period}", zone_id=zone, after=out)
    return out


# --- operators: rebuilding the pre-aggregates ------------------------------------------------------


async def rebuild_aggregates(session: AsyncSession, principal: Principal, zone_id: str | None) -> dict[str, Any]:
    """Recompute the pre-aggregates from accepted report values and facts (after a bulk import or
    a repair). A zone's stats-admin rebuilds their zone; a city-level one may rebuild all."""
    zone = scoped_zone(principal, zone_id)
    rows = await repo.rebuild_aggregates(session, zone)
    await record_audit(session, principal, "aggregates.rebuild", entity_type="indicator_aggregate", entity_id=zone or "*", zone_id=zone, after={"rows": rows})
    return {"zone_id": zone, "aggregates": rows}

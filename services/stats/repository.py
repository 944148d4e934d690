"""Queries and writes shared by the use cases: indicator definitions, the pre-aggregate upsert,
facts, period locks. All on the caller's session; nothing here commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Integer, case, cast, delete, func, insert, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.stats.domain import (
    Aggregation,
    Cell,
    Dimension,
    IndicatorDef,
    RuleDef,
    RuleKind,
    Source,
    contribution_change,
    from_units,
)
from services.stats.models import (
    Indicator,
    IndicatorAggregate,
    IndicatorFact,
    PeriodClosure,
    ReportValue,
    Target,
    ValidationRule,
    Zone,
)
from services.stats.periods import Period, PeriodType


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_def(row: Indicator) -> IndicatorDef:
    return IndicatorDef(
        code=row.code,
        name=row.name,
        unit=row.unit,
        period_type=PeriodType(row.period_type),
        aggregation=Aggregation(row.aggregation),
        source=Source(row.source),
        cumulative=row.cumulative,
        decimals=row.decimals,
        higher_is_better=row.higher_is_better,
        dimension=Dimension(row.dimension) if row.dimension else None,
    )


async def indicator_rows(session: AsyncSession) -> list[Indicator]:
    return list((await session.execute(select(Indicator).order_by(col(Indicator.position), Indicator.code))).scalars())


async def indicator_defs(session: AsyncSession) -> dict[str, IndicatorDef]:
    return {row.code: to_def(row) for row in await indicator_rows(session)}


async def active_rules(session: AsyncSession, codes: Iterable[str] | None = None) -> list[RuleDef]:
    query = select(ValidationRule).where(col(ValidationRule.active).is_(True))
    if codes is not None:
        query = query.where(col(ValidationRule.indicator_code).in_(list(codes)))
    rows = (await session.execute(query.order_by(col(ValidationRule.id)))).scalars()
    return [RuleDef(id=r.id or 0, indicator_code=r.indicator_code, kind=RuleKind(r.kind), params=r.params, name=r.name) for r in rows]


async def get_zone(session: AsyncSession, zone_id: str) -> Zone | None:
    return await session.get(Zone, zone_id)


async def is_closed(session: AsyncSession, zone_id: str, period: str) -> bool:
    return await session.get(PeriodClosure, (zone_id, period)) is not None


async def closures(session: AsyncSession, zone_ids: Iterable[str] | None = None) -> set[tuple[str, str]]:
    query = select(PeriodClosure.zone_id, PeriodClosure.period)
    if zone_ids is not None:
        query = query.where(col(PeriodClosure.zone_id).in_(list(zone_ids)))
    return {(z, p) for z, p in (await session.execute(query)).all()}


# --- the pre-aggregate ------------------------------------------------------------------------------


class AggregateChanges:
    """Changes to the pre-aggregate collected during one use case, written in one statement:
    ``INSERT … VALUES (…), (…) ON CONFLICT DO UPDATE SET sum = sum + excluded.sum`` — atomic, so
    concurrent acceptances never lose an update, and one round trip however many values moved."""

    def __init__(self) -> None:
        self._deltas: dict[tuple[str, str, str], list[Any]] = {}

    def add(self, zone_id: str, indicator_code: str, period: Period, old_units: int | None, new_units: int | None) -> None:
        delta_sum, delta_count = contribution_change(old_units, new_units)
        entry = self._deltas.setdefault((zone_id, indicator_code, str(period)), [period, 0, 0])
        entry[1] += delta_sum
        entry[2] += delta_count

    async def write(self, session: AsyncSession) -> None:
        rows = [
            {
                "zone_id": zone_id,
                "indicator_code": code,
                "period": period_text,
                "year": period.year,
                "period_type": period.type.value,
                "sum_units": delta_sum,
                "count": delta_count,
                "updated_at": now(),
            }
            for (zone_id, code, period_text), (period, delta_sum, delta_count) in sorted(self._deltas.items())
            if delta_sum or delta_count
        ]
        self._deltas.clear()
        if not rows:
            return
        table: Any = IndicatorAggregate.__table__  # type: ignore[attr-defined]
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        for i in range(0, len(rows), 500):
            stmt = insert(table).values(rows[i : i + 500])
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.zone_id, table.c.indicator_code, table.c.period],
                set_={
                    "sum_units": table.c.sum_units + stmt.excluded.sum_units,
                    "count": table.c.count + stmt.excluded.count,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            await session.execute(stmt)


async def apply_value_change(
    session: AsyncSession, zone_id: str, indicator_code: str, period: Period, old_units: int | None, new_units: int | None
) -> None:
    changes = AggregateChanges()
    changes.add(zone_id, indicator_code, period, old_units, new_units)
    await changes.write(session)


async def record_fact(
    session: AsyncSession,
    ind: IndicatorDef,
    *,
    zone_id: str,
    period: Period,
    contributor: str,
    units: int,
    as_of: datetime,
    origin: str,
    event_id: str | None = None,
    event_type: str | None = None,
    recorded_by: str | None = None,
    changes: AggregateChanges | None = None,
) -> bool:
    """Record (or replace) one contributor's value for a period and move the aggregate by the
    difference (now, or with ``changes`` when the caller writes them). A ``latest`` value older
    than the one held is ignored. Returns whether it applied."""
    as_of = as_of.astimezone(UTC)  # SQLite keeps no offset: store UTC everywhere
    fact = await session.get(IndicatorFact, (zone_id, ind.code, str(period), contributor))
    old: int | None = None
    if fact is not None:
        if ind.aggregation is Aggregation.LATEST and aware(fact.as_of) > as_of:
            return False
        old = fact.value_units
        fact.value_units, fact.as_of, fact.origin = units, as_of, origin
        fact.event_id, fact.event_type, fact.recorded_by = event_id, event_type, recorded_by
    else:
        fact = IndicatorFact(
            zone_id=zone_id,
            indicator_code=ind.code,
            period=str(period),
            contributor=contributor,
            value_units=units,
            as_of=as_of,
            origin=origin,
            event_id=event_id,
            event_type=event_type,
            recorded_by=recorded_by,
        )
    session.add(fact)
    if changes is not None:
        changes.add(zone_id, ind.code, period, old, units)
    else:
        await apply_value_change(session, zone_id, ind.code, period, old, units)
    return True


async def rebuild_aggregates(session: AsyncSession, zone_id: str | None = None) -> int:
    """Recompute the pre-aggregates from the raw data (accepted report values and facts) in SQL:
    for operators after a bulk import or a repair. Returns how many aggregate rows now exist."""
    agg: Any = IndicatorAggregate.__table__  # type: ignore[attr-defined]
    values: Any = ReportValue.__table__  # type: ignore[attr-defined]
    facts: Any = IndicatorFact.__table__  # type: ignore[attr-defined]
    raw = union_all(
        sa_select(values.c.zone_id, values.c.indicator_code, values.c.period, values.c.accepted_units.label("units")).where(
            values.c.accepted_units.is_not(None), *([values.c.zone_id == zone_id] if zone_id else [])
        ),
        sa_select(facts.c.zone_id, facts.c.indicator_code, facts.c.period, facts.c.value_units.label("units")).where(
            *([facts.c.zone_id == zone_id] if zone_id else [])
        ),
    ).subquery()
    period_type = case(
        (func.length(raw.c.period) == 4, literal(PeriodType.YEAR.value)),
        (raw.c.period.like("%Q%"), literal(PeriodType.QUARTER.value)),
        else_=literal(PeriodType.MONTH.value),
    )
    grouped = sa_select(
        raw.c.zone_id,
        raw.c.indicator_code,
        raw.c.period,
        cast(func.substr(raw.c.period, 1, 4), Integer).label("year"),
        period_type.label("period_type"),
        func.sum(raw.c.units).label("sum_units"),
        func.count().label("count"),
        literal(now(), DateTime(timezone=True)).label("updated_at"),
    ).group_by(raw.c.zone_id, raw.c.indicator_code, raw.c.period)
    await session.execute(delete(agg).where(*([agg.c.zone_id == zone_id] if zone_id else [])))
    await session.execute(
        insert(agg).from_select(["zone_id", "indicator_code", "period", "year", "period_type", "sum_units", "count", "updated_at"], grouped)
    )
    count_query = sa_select(func.count()).select_from(agg).where(*([agg.c.zone_id == zone_id] if zone_id else []))
    return int((await session.execute(count_query)).scalar_one())


async def cells_for(
    session: AsyncSession, zone_id: str, years: Iterable[int], codes: Iterable[str] | None = None
) -> dict[str, dict[Period, Cell]]:
    """The zone's aggregate rows for whole years, by indicator code then period (index on zone, year)."""
    table: Any = IndicatorAggregate.__table__  # type: ignore[attr-defined]
    query = select(table.c.indicator_code, table.c.period, table.c.sum_units, table.c.count).where(
        table.c.zone_id == zone_id, table.c.year.in_(list(years))
    )
    if codes is not None:
        query = query.where(table.c.indicator_code.in_(list(codes)))
    out: dict[str, dict[Period, Cell]] = {}
    for code, period_text, sum_units, count in (await session.execute(query)).all():
        period = Period.parse(period_text)
        out.setdefault(code, {})[period] = Cell(period, int(sum_units), int(count))
    return out


async def targets_for(session: AsyncSession, zone_id: str, year: int) -> dict[str, Decimal]:
    rows = (await session.execute(select(Target).where(Target.zone_id == zone_id, Target.year == year))).scalars()
    return {r.indicator_code: from_units(r.target_units) for r in rows}

"""Column types the investment tables (and their migrations) use on SQLite and PostgreSQL alike.

- :class:`FixedDecimal`: money (万元) and areas (亩) as exact decimals — ``NUMERIC`` on PostgreSQL, a
  scaled integer on SQLite (which has no exact decimal type), so both return exactly what was stored.
- :class:`AwareDateTime`: timestamps that are always timezone-aware (SQLite drops the zone; it is
  restored as UTC on read).

Migrations import this module, so its classes keep their names and arguments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class FixedDecimal(TypeDecorator[Decimal]):
    """An exact decimal with ``places`` decimals: NUMERIC(18, places), or a scaled BIGINT on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, places: int = 2) -> None:
        super().__init__(precision=18, scale=places, asdecimal=True)
        self.places = places
        self._quantum = Decimal(1).scaleb(-places)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, self.places, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(str(value)).quantize(self._quantum)
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.places))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.places).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    def __repr__(self) -> str:
        return f"FixedDecimal({self.places})"


class AwareDateTime(TypeDecorator[datetime]):
    """TIMESTAMP WITH TIME ZONE that always comes back timezone-aware (UTC when SQLite dropped it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    def __repr__(self) -> str:
        return "AwareDateTime()"

"""Settings of the statistics service (environment prefix ``STATS_``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings
from services.stats.domain import DEFAULT_WEIGHTS, check_weights


class StatsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="STATS_", extra="ignore")

    service_name: str = "stats"
    port: int = 8004

    #: Assessment weights per zone type and dimension (each type's weights add up to 1). Seed 000
    #: asks for differentiated weights by zone type; the defaults are documented in domain.py.
    #: Override with JSON, e.g. ``STATS_ASSESSMENT_WEIGHTS='{"产业新城": {...}, ...}'``.
    assessment_weights: dict[str, dict[str, Decimal]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_WEIGHTS.items()},
        description="考核维度权重（按功能区类型）",
    )
    #: Zone coefficient for pay, linear by rank from the first (high) to the last (low).
    coefficient_high: Decimal = Field(Decimal("1.2"), description="排名第一的考核系数")
    coefficient_low: Decimal = Field(Decimal("0.8"), description="排名最后的考核系数")
    #: Reports are due on this day of the month after the period ends (national practice: early month).
    report_due_day: int = Field(10, ge=1, le=28, description="报表截止日（报告期结束后次月几日）")
    #: Longest chart series one request may ask for.
    series_max_points: int = Field(120, ge=1, le=1000)

    @field_validator("assessment_weights")
    @classmethod
    def _weights_add_up(cls, value: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
        check_weights(value)
        return value

"""Settings of the investment service (environment prefix ``INVESTMENT_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class InvestmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INVESTMENT_", extra="ignore")

    service_name: str = "investment"
    port: int = 8001
    issue_max_escalation_level: int = Field(
        3, ge=1, le=10, description="调度事项最多升级几次（如 分管领导 → 主要领导 → 区政府）"
    )

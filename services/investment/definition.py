"""The investment service as the chassis runs it."""

from __future__ import annotations

from pathlib import Path

from chassis.service import ServiceDefinition
from services.investment.api import router
from services.investment.events import EVENTS
from services.investment.models import InvestmentTable
from services.investment.seed import seed
from services.investment.settings import InvestmentSettings

DEFINITION = ServiceDefinition(
    name="investment",
    title="招商引资服务 Investment attraction",
    description=(
        "产业链全景与目标企业名录、项目准入目录与准入评估、招商项目全生命周期、实际到位资金、项目调度（吹哨报到）、"
        "项目储备与转化汇总。 Industry chains, target companies, admission catalog and checks, the project "
        "lifecycle, funds in place, coordination issues and the pipeline summary."
    ),
    routers=[router],
    metadata=InvestmentTable.metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    events=EVENTS,
    settings_class=InvestmentSettings,
    seed=seed,
)

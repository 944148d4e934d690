"""The statistics service as the chassis runs it."""

from __future__ import annotations

from pathlib import Path

from chassis.service import ServiceDefinition
from services.stats.api import router
from services.stats.consumers import CONSUMERS
from services.stats.events import EVENTS
from services.stats.models import StatsTable
from services.stats.seed import seed
from services.stats.settings import StatsSettings

DEFINITION_DESCRIPTION = (
    "统计报表服务：指标体系、企业报表报送与审核、关账与修订、平台事件派生指标、功能区汇总与导出、"
    "目标分解、合作共建分成、差异化考核。 / Statistics reporting: indicators, enterprise reports and "
    "review, period closing and revisions, event-derived indicators, zone summaries and exports, "
    "targets, co-built splits, differentiated assessment."
)



DEFINITION = ServiceDefinition(
    name="stats",
    title="统计报表服务 Statistics reporting",
    description=DEFINITION_DESCRIPTION,
    routers=[router],
    metadata=StatsTable.metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    events=EVENTS,
    settings_class=StatsSettings,
    consumers=CONSUMERS,
    seed=seed,
)

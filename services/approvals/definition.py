"""The approval service as the chassis runs it."""

from __future__ import annotations

from pathlib import Path

from chassis.service import ServiceDefinition
from services.approvals.alerts import alert_job
from services.approvals.api import router
from services.approvals.consumers import CONSUMERS
from services.approvals.events import EVENTS
from services.approvals.models import ApprovalsTable
from services.approvals.seed import seed
from services.approvals.settings import ApprovalsSettings

#: How often the time-limit alert job runs (seconds).
ALERT_SCAN_INTERVAL_S = 60.0

DEFINITION = ServiceDefinition(
    name="approvals",
    title="一站式审批服务 One-stop approval",
    description=(
        "事项清单（版本化）、赋权清单、办件受理与审批、法定工作日计时与超期预警、告知承诺制、帮办代办、好差评。"
        " / Item catalog with versions, delegation lists, applications with working-day clocks and alerts,"
        " notify-and-commit, agent service and evaluations."
    ),
    routers=[router],
    metadata=ApprovalsTable.metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    events=EVENTS,
    settings_class=ApprovalsSettings,
    consumers=CONSUMERS,
    jobs=[("approvals-alerts", ALERT_SCAN_INTERVAL_S, alert_job)],
    seed=seed,
)

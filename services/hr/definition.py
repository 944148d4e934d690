"""The HR service as the chassis runs it: routers, tables, migrations, events, consumers, the term-end job, seed."""

import logging
from pathlib import Path

from chassis.service import ServiceDefinition
from services.hr.api import router
from services.hr.consumers import CONSUMERS
from services.hr.events import EVENTS
from services.hr.models import HrTable
from services.hr.personal_data import router as personal_data_router
from services.hr.seed import seed
from services.hr.settings import HrSettings
from services.hr.term_expiry import TERM_END_ACTOR, TICK_S, term_end_job

# aiosqlite logs every statement with its parameters at DEBUG, national ID numbers included; no log
# line may carry one, whatever the configured level (the chassis's logging setup does not cover it).
logging.getLogger("aiosqlite").setLevel(logging.INFO)

DEFINITION = ServiceDefinition(
    name="hr",
    title="人事服务 HR service",
    description=(
        "岗位管理：员额总控、岗位与职级薪酬带、人员身份（锁定身份 / 社会化聘用 / 派驻）、竞聘上岗与双向选择、"
        "聘任、绩效考核（KPI、容错、末位、园区×部门×个人系数）与工资总控。"
        " Position-based HR: headcount quota, positions and pay bands, staff identities, competitive appointment,"
        " appointments, evaluation with coefficients, payroll within the annual cap."
    ),
    # personal_data_router has no routes: it carries the start-up step that encrypts national ID numbers.
    routers=[router, personal_data_router],
    metadata=HrTable.metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    events=EVENTS,
    settings_class=HrSettings,
    consumers=CONSUMERS,
    # Ticks every minute; scans every HR_TERM_END_SCAN_INTERVAL_S (0: off). See services/hr/term_expiry.py.
    jobs=[(TERM_END_ACTOR, TICK_S, term_end_job)],
    seed=seed,
)

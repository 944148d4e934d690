"""The gateway as a chassis service: its routes, tables, events (topic ``zone.platform``), the
webhook dispatcher's consumer group, its periodic jobs and demo seed."""

from __future__ import annotations

from pathlib import Path

from chassis.service import ServiceDefinition
from gateway.api import ROUTERS
from gateway.dispatcher import WEBHOOK_CONSUMER
from gateway.events import EVENTS
from gateway.models import GatewayTable
from gateway.runtime import prune_event_log, refresh_keys
from gateway.seed import seed
from gateway.settings import GatewaySettings

DESCRIPTION = """产业功能区综合性企业服务平台的统一入口（"企业办事不出园区"，seed 004）。

- **登录**：`POST /auth/token`（OAuth2：人员用 `grant_type=password`，外部系统用 `client_credentials`），
  令牌为 RS256 JWT，公钥见 `/.well-known/jwks.json`。
- **路由**：`/api/investment/…`、`/api/approvals/…`、`/api/hr/…`、`/api/stats/…` 转发到各服务（本文档已汇总其接口）。
- **聚合**：`/api/me/overview`（一企一档）、`/api/dashboard`（工作台）。
- **事件订阅**：`/api/subscriptions`（Webhook，Standard Webhooks 签名），或直接读取 Kafka 主题（见 `/asyncapi.json`）。

The zone platform's front door: accounts and tokens, routing, aggregation and event subscriptions."""

DEFINITION = ServiceDefinition(
    name="platform",
    title="产业功能区企业服务平台 · 网关 (zone platform gateway)",
    description=DESCRIPTION,
    routers=ROUTERS,
    metadata=GatewayTable.metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    events=EVENTS,
    settings_class=GatewaySettings,
    consumers=[WEBHOOK_CONSUMER],
    jobs=[("signing-keys-refresh", 30.0, refresh_keys), ("event-log-prune", 3600.0, prune_event_log)],
    seed=seed,
)

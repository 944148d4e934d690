"""Demo data for the embedded mode (``GATEWAY_SEED_DEMO_DATA=true``): the four demo zones, the demo
staff, one account per demo enterprise and the credit platform's system client, all with one
documented demo password (``GATEWAY_DEMO_PASSWORD``, default ``Demo@2025``). The accounts are written
to ``$ZONE_VAR_DIR/demo-accounts.txt``, which the launcher prints. Idempotent: existing zones and
accounts are left alone.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chassis.audit import record_audit
from chassis.service import ServiceContext
from chassis.settings import VAR_DIR
from gateway.accounts import bootstrap_admin, create_client
from gateway.keys import utcnow
from gateway.models import Account, Zone
from gateway.passwords import Passwords
from gateway.schemas import ClientIn, PartnerIn, ZoneIn
from gateway.settings import GatewaySettings
from gateway.zones import create_zone

DEMO_ZONES: list[dict[str, Any]] = [
    # seed 004: 成都芯谷, statutory body 成都芯谷发展服务局
    {"zone_id": "cd-xingu", "name": "成都芯谷", "type": "产业新城", "district": "双流区"},
    # seed 001: 天府国际生物城, co-built by 高新区 (70%) and 双流区 (30%)
    {
        "zone_id": "tf-biotown", "name": "天府国际生物城", "type": "产业新城", "district": "高新区",
        "partners": [PartnerIn(district="高新区", share_percent=Decimal("70")),
                     PartnerIn(district="双流区", share_percent=Decimal("30"))],
    },
    {"zone_id": "jj-chunxi", "name": "春熙路时尚活力区", "type": "特色街区", "district": "锦江区"},
    {"zone_id": "ar-town", "name": "安仁文博小镇", "type": "特色小镇", "district": "大邑县"},
]

#: (username, name, zone, department, roles); kind staff unless noted by the roles. The department
#: is the HR service's department code of the zone (services/hr/seed.py: general, planning,
#: strategy, investment, enterprise, approvals): it becomes the token's ``dept`` claim, which HR
#: uses to scope a department head to their own department, and investment uses to let a department
#: act on the coordination issues addressed to it. xingu.planning carries no role: any staff member
#: may act on an issue of their own department, and a role would grant more than that.
DEMO_STAFF: list[tuple[str, str, str | None, str | None, list[str]]] = [
    ("xingu.investment", "成都芯谷招商专员", "cd-xingu", "investment", ["investment"]),
    ("xingu.planning", "成都芯谷规划建设局联络员", "cd-xingu", "planning", []),
    ("xingu.approvals", "成都芯谷审批专员", "cd-xingu", "approvals", ["approvals", "approvals-admin"]),
    ("xingu.hr", "成都芯谷人事管理员", "cd-xingu", "general", ["hr-admin"]),
    ("xingu.stats", "成都芯谷统计专员", "cd-xingu", "strategy", ["stats"]),
    ("xingu.leader", "成都芯谷分管领导", "cd-xingu", None, ["leader"]),
    ("biotown.approvals", "天府国际生物城审批专员", "tf-biotown", "approvals", ["approvals", "approvals-admin"]),
    ("city.leader", "市级领导小组", None, None, ["leader"]),
    ("city.stats", "市统计局统计员", None, None, ["stats", "stats-admin"]),
    ("auditor", "审计人员", None, None, ["auditor"]),
]

#: (username, USCC, enterprise name) — usernames are short pinyin of the company names.
DEMO_ENTERPRISES: list[tuple[str, str, str]] = [
    ("xingu.jicheng", "91510100MA6DGXQ125", "成都芯谷集成电路设计有限公司"),
    ("tianfu.shengwu", "91510116MA68N7WB32", "天府生物医药科技有限公司"),
    ("rongxin.fengce", "91510100MA6C8U4P5L", "蓉芯封装测试有限公司"),
    ("shuangliu.jingmi", "91510122MA6ABCD116", "双流精密制造有限公司"),
]

DEMO_CLIENT = ClientIn(
    client_id="credit-platform", name="信用平台", event_types=["zone.approvals.application.commitment_revoked.v1"]
)


async def seed(session: AsyncSession, ctx: ServiceContext) -> None:
    settings = ctx.settings
    assert isinstance(settings, GatewaySettings)
    passwords = Passwords(settings)
    for zone in DEMO_ZONES:
        if await session.get(Zone, zone["zone_id"]) is None:
            await create_zone(session, "seed", ZoneIn(**zone))
    await bootstrap_admin(session, settings, passwords)
    demo_hash = await passwords.hash(settings.demo_password)
    now = utcnow()
    people: list[Account] = []
    if await session.get(Account, "admin") is None:
        people.append(Account(username="admin", kind="admin", name="平台管理员", password_hash=demo_hash, roles=["admin"],
                              event_types=[], created_at=now, updated_at=now))
    for username, name, zone_id, department, roles in DEMO_STAFF:
        if await session.get(Account, username) is None:
            people.append(Account(username=username, kind="staff", name=name, password_hash=demo_hash, roles=roles,
                                  zone_id=zone_id, department=department, event_types=[], created_at=now, updated_at=now))
    for username, uscc, name in DEMO_ENTERPRISES:
        if await session.get(Account, username) is None:
            people.append(Account(username=username, kind="enterprise", name=name, password_hash=demo_hash, roles=[],
                                  uscc=uscc, event_types=[], created_at=now, updated_at=now))
    for account in people:
        session.add(account)
        await record_audit(session, "seed", "account.create", entity_type="account", entity_id=account.username,
                           zone_id=account.zone_id, after={"kind": account.kind, "roles": account.roles, "demo": True})
    if await session.get(Account, DEMO_CLIENT.client_id) is None:
        await create_client(session, "seed", DEMO_CLIENT, passwords, secret=settings.demo_password)
    await session.flush()
    write_demo_accounts(settings)


def demo_accounts_text(settings: GatewaySettings) -> str:
    admin_note = (
        "（密码来自 ZONE_ADMIN_PASSWORD）" if settings.admin_username == "admin" and settings.admin_password else ""
    )
    lines = [
        f"所有演示账户的密码 / password of every demo account: {settings.demo_password}",
        "登录 / log in: POST /auth/token  grant_type=password&username=<账户>&password=<密码>",
        "",
        f"  {'admin':<20} 平台管理员 admin {admin_note}",
    ]
    for username, name, zone_id, department, roles in DEMO_STAFF:
        where = zone_id or "市级 city level"
        lines.append(f"  {username:<20} {name}（{where}{'，' + department if department else ''}；角色 {', '.join(roles) or '无（按部门办理）'}）")
    lines.append("")
    for username, uscc, name in DEMO_ENTERPRISES:
        lines.append(f"  {username:<20} 企业 {name} {uscc}")
    lines.append("")
    lines.append(
        f"  系统客户端 client_credentials: client_id={DEMO_CLIENT.client_id} client_secret={settings.demo_password}"
        f"（{DEMO_CLIENT.name}，可订阅 {', '.join(DEMO_CLIENT.event_types)}）"
    )
    return "\n".join(lines) + "\n"


def write_demo_accounts(settings: GatewaySettings) -> Path:
    path = Path(os.environ.get("ZONE_VAR_DIR", str(VAR_DIR))) / "demo-accounts.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(demo_accounts_text(settings), encoding="utf-8")
    return path

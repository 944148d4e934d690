"""Request and response models of the gateway's own routes (table models never leak)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from chassis.validators import USCC
from gateway.domain import ZONE_ID_PATTERN
from gateway.events import ZoneType

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"


# --- tokens -------------------------------------------------------------------------------------


class TokenResponse(BaseModel):
    access_token: str = Field(description="RS256 签名的 JWT")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="有效期（秒）")
    kind: str = Field(description="账户类型 admin | staff | enterprise | system")


class Me(BaseModel):
    sub: str
    kind: str
    name: str | None
    roles: list[str]
    zone: str | None
    dept: str | None
    uscc: str | None
    event_types: list[str]
    expires_at: datetime


class SigningKeyOut(BaseModel):
    kid: str
    created_at: datetime
    retired_at: datetime | None
    expires_at: datetime | None = Field(description="退出 JWKS 的时间 / when the key leaves the JWKS")
    current: bool
    published: bool


class RotationOut(BaseModel):
    kid: str = Field(description="新的当前密钥")
    retired: list[str] = Field(description="本次退役的密钥（在其令牌过期前仍在 JWKS 中）")


# --- accounts -----------------------------------------------------------------------------------


class AccountIn(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN, description="登录名（小写字母、数字、. _ -）")
    password: str = Field(min_length=8, max_length=128)
    kind: Literal["admin", "staff", "enterprise"]
    name: str = Field(min_length=1, max_length=200, description="姓名或企业名称")
    roles: list[str] = Field(default_factory=list, max_length=20)
    zone_id: str | None = Field(None, max_length=64, description="所属功能区；市级人员为空")
    department: str | None = Field(None, min_length=1, max_length=64, description="部门代码")
    uscc: USCC | None = Field(None, description="企业账户绑定的统一社会信用代码")


class AccountPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    roles: list[str] | None = Field(None, max_length=20)
    zone_id: str | None = Field(None, max_length=64)
    department: str | None = Field(None, min_length=1, max_length=64)
    active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=128, description="重置密码")


class AccountOut(BaseModel):
    username: str
    kind: str
    name: str
    roles: list[str]
    zone_id: str | None
    department: str | None
    uscc: str | None
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class ClientIn(BaseModel):
    client_id: str = Field(pattern=USERNAME_PATTERN, description="客户端标识")
    name: str = Field(min_length=1, max_length=200, description="系统名称，如 信用平台")
    event_types: list[str] = Field(default_factory=list, max_length=100, description="允许接收的事件类型")


class ClientPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    event_types: list[str] | None = Field(None, max_length=100)
    active: bool | None = None


class ClientOut(BaseModel):
    client_id: str
    name: str
    event_types: list[str]
    active: bool
    created_at: datetime


class ClientCreated(ClientOut):
    client_secret: str = Field(description="客户端密钥，只在创建时显示一次")


# --- zones --------------------------------------------------------------------------------------


class PartnerIn(BaseModel):
    district: str = Field(min_length=1, max_length=64)
    share_percent: Decimal = Field(max_digits=5, decimal_places=2, description="分成比例（%），最多两位小数")


class ZoneUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    type: ZoneType
    district: str = Field(min_length=1, max_length=64, description="所在（牵头）区县")
    partners: list[PartnerIn] = Field(
        default_factory=list, max_length=10, description="合作共建各方及分成（合计须为 100%）；非共建为空"
    )
    active: bool = True


class ZoneIn(ZoneUpdate):
    zone_id: str = Field(pattern=ZONE_ID_PATTERN, description="功能区标识，如 cd-xingu")


class PartnerOut(BaseModel):
    district: str
    share_percent: float


class ZoneOut(BaseModel):
    zone_id: str
    name: str
    type: str
    district: str
    partners: list[PartnerOut]
    co_built: bool = Field(description="是否合作共建")
    active: bool
    created_at: datetime
    updated_at: datetime


# --- subscriptions ------------------------------------------------------------------------------


class SubscriptionFilters(BaseModel):
    subject: str | None = Field(None, max_length=255, description="只要此主体（聚合标识）的事件")
    zoneid: str | None = Field(None, max_length=64, description="只要此功能区的事件")
    source: str | None = Field(None, max_length=255, description="只要此来源的事件")
    data: dict[str, str | int | bool] = Field(
        default_factory=dict,
        max_length=10,
        description="数据字段过滤（点号路径 → 值；列表字段包含该值即匹配），如 {\"item_codes\": \"XK-001\"}",
    )


class SubscriptionIn(BaseModel):
    callback_url: str = Field(min_length=8, max_length=2000, description="回调地址（http/https，须通过白名单检查）")
    event_types: list[str] = Field(min_length=1, max_length=50)
    filters: SubscriptionFilters = Field(default_factory=SubscriptionFilters)
    description: str | None = Field(None, max_length=200)
    replay_from: AwareDatetime | None = Field(None, description="从此时间起补发已发生的事件")


class SubscriptionPatch(BaseModel):
    callback_url: str | None = Field(None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=50)
    filters: SubscriptionFilters | None = None
    description: str | None = Field(None, max_length=200)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    id: str
    owner: str
    description: str | None
    callback_url: str
    event_types: list[str]
    filters: dict[str, Any]
    active: bool
    previous_secret_expires_at: datetime | None = Field(
        None, description="轮换密钥后，旧密钥仍同时签名至此时刻（之后只用新密钥）"
    )
    created_at: datetime
    updated_at: datetime


class SecretRotation(BaseModel):
    overlap_hours: int = Field(
        24, ge=0, le=168, description="旧密钥继续并行签名的小时数；密钥泄露时填 0 立即停用旧密钥"
    )


class SubscriptionRotated(SubscriptionOut):
    secret: str = Field(description="新的签名密钥（whsec_…），只显示这一次")


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="签名密钥（whsec_…），只在创建时显示一次")
    replayed: int = Field(0, description="按 replay_from 补发的事件数")


class DeliveryOut(BaseModel):
    id: str = Field(description="即 webhook-id，重试时不变")
    subscription_id: str
    event_id: str
    event_type: str
    event_time: datetime
    status: Literal["pending", "retrying", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    redeliveries: int
    created_at: datetime


# --- aggregation --------------------------------------------------------------------------------


class Overview(BaseModel):
    """一企一档: an enterprise's own file across the services."""

    uscc: str
    name: str | None
    projects: list[Any] = Field(description="招商项目（investment）")
    applications: list[Any] = Field(description="办件及其办结时限、预警（approvals）")
    alerts: dict[str, int] = Field(description="办件预警数 {yellow, red}")
    reports_due: Any = Field(None, description="应报未报的报表（stats）")
    reports_returned: list[Any] = Field(description="被退回的报表（stats）")
    partial: list[str] = Field(description="未能取得的部分（服务名）")


class ZoneFigures(BaseModel):
    zone_id: str
    name: str | None
    type: str | None
    pipeline: Any = Field(None, description="招商项目按阶段（investment /pipeline/summary）")
    approvals: Any = Field(None, description="审批积压、预警与按时办结率（approvals /summary）")
    headcount: Any = Field(None, description="员额与空缺（hr /headcount）")
    statistics: Any = Field(None, description="指标与目标进度（stats /zones/{id}/summary）")
    partial: list[str] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)


class Dashboard(BaseModel):
    scope: Literal["zone", "city"]
    zone_id: str | None
    period: str
    zones: list[ZoneFigures]
    pipeline_total: Any = Field(None, description="市级：全部功能区的招商项目按阶段")
    ranking: Any = Field(None, description="市级：功能区考核排名（stats /assessments/{year}）")
    partial: list[str] = Field(description="未能取得的部分（服务名）")
    forbidden: list[str] = Field(description="当前账户无权查看的部分（服务名）")

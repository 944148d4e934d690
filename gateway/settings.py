"""The gateway's settings: ``GATEWAY_*`` environment variables (plus ``ZONE_ADMIN_*`` for the first administrator).

Lists (CORS origins, allowed webhook networks) are comma-separated strings, the way operators write
them in an environment file.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings

#: The services the gateway routes to, in the order the dashboard lists them.
BACKENDS = ("investment", "approvals", "hr", "stats")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    service_name: str = "gateway"
    port: int = 8000

    # --- backends (the launcher sets GATEWAY_<SERVICE>_URL) ---------------------------------
    investment_url: str = "http://127.0.0.1:8001"
    approvals_url: str = "http://127.0.0.1:8002"
    hr_url: str = "http://127.0.0.1:8003"
    stats_url: str = "http://127.0.0.1:8004"
    backend_timeout_s: float = Field(30.0, description="整个后端请求的超时 / total time allowed for one backend call")
    backend_connect_timeout_s: float = 2.0
    backend_pool_size: int = Field(200, description="每个后端的连接池上限 / connections per backend")
    backend_keepalive_s: float = Field(4.0, description="空闲连接保留时间，须短于后端的 keep-alive（uvicorn 为 5 秒）")
    backend_retries: int = Field(1, ge=0, le=3, description="幂等请求在连接失败时的重试次数")
    breaker_failure_threshold: int = Field(5, ge=1, description="连续失败多少次后熔断")
    breaker_reset_s: float = Field(10.0, gt=0, description="熔断后多久放行一次试探请求")
    max_body_bytes: int = Field(25 * 1024 * 1024, description="请求体大小上限（字节）")
    aggregate_timeout_s: float = Field(5.0, description="聚合接口中每个后端调用的超时")
    openapi_cache_s: float = Field(60.0, description="后端 OpenAPI 文档缓存时间")

    # --- accounts and tokens ----------------------------------------------------------------
    admin_username: str | None = Field(
        None, validation_alias=AliasChoices("GATEWAY_ADMIN_USERNAME", "ZONE_ADMIN_USERNAME")
    )
    admin_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GATEWAY_ADMIN_PASSWORD", "ZONE_ADMIN_PASSWORD")
    )
    access_token_ttl_s: int = Field(3600, ge=60, le=24 * 3600, description="人员令牌有效期（秒）")
    client_token_ttl_s: int = Field(3600, ge=60, le=24 * 3600, description="系统客户端令牌有效期（秒）")
    signing_key_bits: int = Field(2048, ge=2048)
    key_passphrase: SecretStr | None = Field(
        None,
        description="加密签名私钥与 Webhook 密钥的口令；开发模式下缺省时在 $ZONE_VAR_DIR 生成一个 0600 权限的文件",
    )
    login_max_failures: int = Field(5, ge=1, description="连续登录失败多少次后锁定账户")
    login_lockout_s: int = Field(900, ge=1, description="账户锁定时长（秒）")
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    demo_password: str = Field("Demo@2025", description="演示模式下所有演示账户的密码")

    # --- protection -------------------------------------------------------------------------
    rate_limit_per_s: float = Field(100.0, gt=0, description="每个客户端（令牌主体或 IP）每秒请求数")
    rate_limit_burst: int = Field(200, ge=1)
    token_rate_limit_per_s: float = Field(2.0, gt=0, description="每个 IP 调用 /auth/token 的速率")
    token_rate_limit_burst: int = Field(20, ge=1)
    cors_origins: str = Field("", description="允许跨域的来源，逗号分隔；为空则不开放跨域")
    hsts: bool = Field(False, description="在 TLS 之后部署时发送 Strict-Transport-Security")

    # --- webhooks ---------------------------------------------------------------------------
    webhook_allow_private: bool = Field(
        False, description="允许回调到回环、内网地址（仅测试或内嵌模式）；元数据地址始终禁止，除非列入 allowed_networks"
    )
    webhook_allowed_networks: str = Field("", description="额外允许的网段（CIDR，逗号分隔），如政务外网")
    webhook_require_https: bool = False
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = Field(8, ge=1, le=30)
    webhook_backoff_base_s: float = Field(10.0, gt=0)
    webhook_backoff_max_s: float = Field(3600.0, gt=0)
    webhook_poll_interval_s: float = Field(1.0, gt=0)
    webhook_concurrency: int = Field(16, ge=1, le=200)
    webhook_replay_max_events: int = Field(10_000, ge=1)
    event_log_retention_days: int = Field(30, ge=1, description="为回放保留已见事件的天数")

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> GatewaySettings:
        if not self.is_development and self.key_passphrase is None:
            raise ValueError("GATEWAY_KEY_PASSPHRASE must be set outside development and test")
        return self

    @property
    def backend_urls(self) -> dict[str, str]:
        return {name: str(getattr(self, f"{name}_url")).rstrip("/") for name in BACKENDS}

    @property
    def cors_origin_list(self) -> list[str]:
        return _split(self.cors_origins)

    @property
    def webhook_allowed_network_list(self) -> list[str]:
        return _split(self.webhook_allowed_networks)

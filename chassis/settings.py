"""Settings from the environment (12-factor), one prefix per service.

Each service subclasses :class:`ServiceSettings` and sets its own ``env_prefix``
(``APPROVALS_DATABASE_URL``, ``HR_KAFKA_BOOTSTRAP_SERVERS`` …). The OpenTelemetry endpoint keeps
its standard, unprefixed name so collectors are configured the way operators expect.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Where the embedded mode keeps its SQLite files and logs.
VAR_DIR = Path(os.environ.get("ZONE_VAR_DIR", "var"))

DEV_ENVIRONMENTS = {"development", "test"}


class ServiceSettings(BaseSettings):
    """What every service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SERVICE_", extra="ignore")

    service_name: str = "service"
    environment: str = Field("development", description="development | test | production")
    host: str = "127.0.0.1"
    port: int = 8080

    database_url: str = Field("", description="SQLAlchemy async URL; empty means var/<service>.db (SQLite)")
    database_pool_size: int = 10
    database_max_overflow: int = 20
    run_migrations_on_start: bool = True
    seed_demo_data: bool = False

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field("", description="Prepended to every topic, to share one cluster between environments")
    topic_partitions: int = 3
    topic_replication_factor: int = 1
    kafka_idempotent_producer: bool = Field(False, description="True on Apache Kafka; the embedded broker lacks it")
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None

    relay_enabled: bool = True
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 1.0
    relay_send_timeout_s: float = 10.0
    consumers_enabled: bool = True
    consumer_max_retries: int = 3
    consumer_retry_backoff_s: float = 0.2

    jwks_url: str | None = "http://127.0.0.1:8000/.well-known/jwks.json"
    jwks_json: str | None = Field(None, description="Inline JWKS, used instead of jwks_url when set")
    jwt_issuer: str = "zone-platform"
    jwt_audience: str = "zone-platform"

    idempotency_ttl_hours: int = 24
    upload_max_bytes: int = 20 * 1024 * 1024
    log_level: str = "INFO"
    log_json: bool = True
    otel_exporter_otlp_endpoint: str | None = Field(
        default_factory=lambda: os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    )

    @model_validator(mode="after")
    def _default_database(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(VAR_DIR / f'{self.service_name}.db').resolve()}"
        return self

    @property
    def is_development(self) -> bool:
        return self.environment in DEV_ENVIRONMENTS

    def topic(self, service: str) -> str:
        """The topic a service publishes on: ``zone.<service>`` behind the configured prefix."""
        return f"{self.topic_prefix}zone.{service}"

    def dead_letter_topic(self, group: str) -> str:
        return f"{self.topic_prefix}zone.dlq.{group}"

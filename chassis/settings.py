"""Settings from the environment (12-factor), one prefix per service.

Each service subclasses :class:`ServiceSettings` and sets its own ``env_prefix``
(``APPROVALS_DATABASE_URL``, ``HR_KAFKA_BOOTSTRAP_SERVERS`` …). The OpenTelemetry endpoint keeps
its standard, unprefixed name so collectors are configured the way operators expect.

How the apps reach Kafka (TLS, SASL) is checked here, when the settings load, so a wrong protocol
name, a missing password or a CA file that is not there stops the process with one clear line
instead of surfacing later as a relay that never connects.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Where the embedded mode keeps its SQLite files and logs.
VAR_DIR = Path(os.environ.get("ZONE_VAR_DIR", "var"))

DEV_ENVIRONMENTS = {"development", "test"}

#: What aiokafka speaks; ``SSL`` and ``SASL_SSL`` are the ones that encrypt.
KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
KAFKA_SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
#: The SASL mechanisms that authenticate with a username and password (GSSAPI and OAUTHBEARER
#: need credentials this platform has no settings for).
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

_KAFKA_OPTIONAL_TEXT = (
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_cafile",
    "kafka_ssl_certfile",
    "kafka_ssl_keyfile",
    "kafka_ssl_key_password",
)


class ServiceSettings(BaseSettings):
    """What every service reads from its environment."""

    # A refusal names the variables, never echoes the input: it holds passwords and database URLs.
    model_config = SettingsConfigDict(env_prefix="SERVICE_", extra="ignore", hide_input_in_errors=True)

    service_name: str = "service"
    environment: str = Field("development", description="development | test | production")
    host: str = "127.0.0.1"
    port: int = 8080

    database_url: str = Field("", description="SQLAlchemy async URL; empty means var/<service>.db (SQLite)")
    # Overflow connections are opened and closed per checkout: a pool that holds what a busy replica
    # keeps in use (20 concurrent requests) avoids a connect per request; the ceiling (30) is unchanged.
    database_pool_size: int = 20
    database_max_overflow: int = 10
    run_migrations_on_start: bool = True
    seed_demo_data: bool = False

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field("", description="Prepended to every topic, to share one cluster between environments")
    topic_partitions: int = 3
    topic_replication_factor: int = 1
    kafka_idempotent_producer: bool = Field(False, description="True on Apache Kafka; the embedded broker lacks it")
    kafka_security_protocol: str = Field("PLAINTEXT", description="PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL")
    kafka_sasl_mechanism: str | None = Field(None, description="PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 (SASL_* only)")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(
        None, description="PEM file of the CA that signed the brokers' certificates; unset: the system's trust store"
    )
    kafka_ssl_certfile: str | None = Field(None, description="Client certificate (PEM) for brokers that require mutual TLS")
    kafka_ssl_keyfile: str | None = Field(None, description="The client certificate's private key (PEM)")
    kafka_ssl_key_password: SecretStr | None = Field(None, description="Passphrase of an encrypted client key")
    kafka_ssl_check_hostname: bool = Field(
        True, description="Check that a broker's certificate names the host it is reached by; off only for a CA "
        "that issues certificates without the brokers' names (the chain is verified either way)"
    )

    relay_enabled: bool = True
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 1.0
    relay_send_timeout_s: float = 10.0
    consumers_enabled: bool = True
    consumer_max_retries: int = 3
    consumer_retry_backoff_s: float = 0.2
    consumer_fetch_max_wait_ms: int = Field(
        100,
        description=(
            "How long a fetch waits for data. Kafka answers a waiting fetch as soon as data arrives, so "
            "there it is only an upper bound; the embedded broker (Tansu) answers when the wait expires, "
            "so it sets the consumer's latency floor (aiokafka's 500 ms default gave a p99 of 250 ms)."
        ),
    )

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

    @field_validator(*_KAFKA_OPTIONAL_TEXT, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # Environment files write an unset value as ``NAME=``; an empty CA path must not mean ".".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _kafka_security_is_coherent(self) -> ServiceSettings:
        """Normalise the protocol and mechanism names and refuse combinations that cannot connect.

        Every problem is reported at once, by the variable names the operator sets.
        """
        var = _variable_namer(self)
        problems: list[str] = []
        protocol = self.kafka_security_protocol.strip().upper()
        if protocol not in KAFKA_SECURITY_PROTOCOLS:
            problems.append(
                f"{var('kafka_security_protocol')}={self.kafka_security_protocol!r} is not one of "
                + ", ".join(KAFKA_SECURITY_PROTOCOLS)
            )
        self.kafka_security_protocol = protocol

        sasl_set = [f for f in ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password") if getattr(self, f)]
        if protocol in KAFKA_SASL_PROTOCOLS:
            mechanism = (self.kafka_sasl_mechanism or "").strip().upper()
            if not mechanism:
                problems.append(
                    f"{var('kafka_sasl_mechanism')} is required with {var('kafka_security_protocol')}={protocol} "
                    f"(one of {', '.join(KAFKA_SASL_MECHANISMS)})"
                )
            elif mechanism not in KAFKA_SASL_MECHANISMS:
                problems.append(
                    f"{var('kafka_sasl_mechanism')}={self.kafka_sasl_mechanism!r} is not one of "
                    + ", ".join(KAFKA_SASL_MECHANISMS)
                )
            self.kafka_sasl_mechanism = mechanism or None
            missing = [var(f) for f in ("kafka_sasl_username", "kafka_sasl_password") if not getattr(self, f)]
            if missing:
                verb = "are" if len(missing) > 1 else "is"
                problems.append(
                    f"{' and '.join(missing)} {verb} required with {var('kafka_security_protocol')}={protocol}"
                )
        elif sasl_set and protocol in KAFKA_SECURITY_PROTOCOLS:
            # Credentials the client would silently not send: almost always a protocol left at its default.
            problems.append(
                f"{', '.join(var(f) for f in sasl_set)} set but {var('kafka_security_protocol')}={protocol} "
                "does not authenticate with SASL (use SASL_SSL or SASL_PLAINTEXT)"
            )

        ssl_fields = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile", "kafka_ssl_key_password")
        ssl_set = [f for f in ssl_fields if getattr(self, f)]
        if ssl_set and protocol not in KAFKA_TLS_PROTOCOLS and protocol in KAFKA_SECURITY_PROTOCOLS:
            # An operator who named a CA believes the connection is encrypted; it would not be.
            problems.append(
                f"{', '.join(var(f) for f in ssl_set)} set but {var('kafka_security_protocol')}={protocol} "
                "does not use TLS (use SSL or SASL_SSL)"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            problems.append(
                f"{var('kafka_ssl_certfile')} and {var('kafka_ssl_keyfile')} go together (the client certificate and its key)"
            )
        if self.kafka_ssl_key_password and not self.kafka_ssl_keyfile:
            problems.append(f"{var('kafka_ssl_key_password')} set without {var('kafka_ssl_keyfile')}")
        for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                problems.append(f"{var(name)}={path} is not a file")
        if not problems and protocol in KAFKA_TLS_PROTOCOLS:
            problems += _unloadable_tls_files(self, var)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kafka_uses_tls(self) -> bool:
        return self.kafka_security_protocol in KAFKA_TLS_PROTOCOLS

    @property
    def is_development(self) -> bool:
        return self.environment in DEV_ENVIRONMENTS

    def topic(self, service: str) -> str:
        """The topic a service publishes on: ``zone.<service>`` behind the configured prefix."""
        return f"{self.topic_prefix}zone.{service}"

    def dead_letter_topic(self, group: str) -> str:
        return f"{self.topic_prefix}zone.dlq.{group}"


def _variable_namer(settings: BaseSettings) -> Callable[[str], str]:
    """``field → variable`` for messages: ``kafka_ssl_cafile`` → ``STATS_KAFKA_SSL_CAFILE``."""
    prefix = str(settings.model_config.get("env_prefix") or "")
    return lambda field_name: f"{prefix}{field_name}".upper()


def _unloadable_tls_files(settings: ServiceSettings, var: Callable[[str], str]) -> list[str]:
    """Load the CA and the client certificate as the Kafka client will, so a wrong file or passphrase
    stops the start with its name instead of every reconnect failing with OpenSSL's "PEM lib"."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    problems: list[str] = []
    if settings.kafka_ssl_cafile:
        try:
            context.load_verify_locations(cafile=settings.kafka_ssl_cafile)
        except (ssl.SSLError, OSError) as exc:
            problems.append(f"{var('kafka_ssl_cafile')}={settings.kafka_ssl_cafile} holds no PEM CA certificate ({exc})")
    if settings.kafka_ssl_certfile and settings.kafka_ssl_keyfile:
        password = settings.kafka_ssl_key_password
        try:
            context.load_cert_chain(
                settings.kafka_ssl_certfile,
                settings.kafka_ssl_keyfile,
                # Never None: OpenSSL would prompt on the terminal for an encrypted key's passphrase.
                password.get_secret_value() if password is not None else "",
            )
        except (ssl.SSLError, OSError) as exc:
            problems.append(
                f"{var('kafka_ssl_certfile')} and {var('kafka_ssl_keyfile')} do not load as a PEM certificate "
                f"and its private key (a wrong or missing {var('kafka_ssl_key_password')}?) ({exc})"
            )
    return problems

"""How an app reaches a secured Kafka: the TLS and SASL settings are checked when they load
(``chassis.settings``), mapped onto every aiokafka client by ``chassis.kafka.client_options``, and
handed to every app by the launcher when ``make run`` points at a real cluster.

The connection itself, over a real TLS listener, is in tests/integration/chassis/test_kafka_tls.py.
"""

from __future__ import annotations

import ast
import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from chassis.broker import EmbeddedBroker
from chassis.kafka import client_options
from chassis.launcher import APPS, Platform
from chassis.settings import ServiceSettings
from tests.support.certificates import CLIENT_AUTH, Authority, issue_files

ROOT = Path(__file__).resolve().parents[3]
KEY_PASSWORD = "key-passphrase"


class ApprovalsLikeSettings(ServiceSettings):
    """An app's settings: its own prefix, which every message must name."""

    model_config = SettingsConfigDict(env_prefix="APPROVALS_", extra="ignore")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("pki")
    ca = Authority.create("Bureau CA")
    cert, key = issue_files(ca, directory, "svc-approvals", usage=CLIENT_AUTH, password=KEY_PASSWORD)
    plain_cert, plain_key = issue_files(ca, directory, "svc-plain", usage=CLIENT_AUTH)
    not_pem = directory / "not-a-certificate.pem"
    not_pem.write_text("这不是证书 / not a certificate\n", encoding="utf-8")
    return {
        "ca": ca.write(directory / "ca.pem"),
        "other_ca": Authority.create("Other CA").write(directory / "other-ca.pem"),
        "cert": cert,
        "key": key,
        "plain_cert": plain_cert,
        "plain_key": plain_key,
        "not_pem": not_pem,
    }


def settings(**values: Any) -> ApprovalsLikeSettings:
    return ApprovalsLikeSettings(environment="test", kafka_bootstrap_servers="kafka.bureau.example:9093", **values)


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return str(caught.value)


# --- the settings ----------------------------------------------------------------------------------


def test_by_default_the_apps_speak_plaintext_to_the_broker():
    s = settings()
    assert s.kafka_security_protocol == "PLAINTEXT"
    assert s.kafka_ssl_check_hostname is True
    assert client_options(s) == {"bootstrap_servers": "kafka.bureau.example:9093", "security_protocol": "PLAINTEXT"}


def test_protocol_and_mechanism_names_are_accepted_in_any_case():
    s = settings(
        kafka_security_protocol=" sasl_ssl ", kafka_sasl_mechanism="scram-sha-512",
        kafka_sasl_username="svc-approvals", kafka_sasl_password="s3cret",
    )
    assert (s.kafka_security_protocol, s.kafka_sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")


def test_an_unknown_protocol_is_refused_by_the_variable_the_operator_set():
    message = refusal(kafka_security_protocol="TLS")
    assert "APPROVALS_KAFKA_SECURITY_PROTOCOL='TLS' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL" in message


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_sasl_needs_a_mechanism_a_username_and_a_password(protocol):
    message = refusal(kafka_security_protocol=protocol)
    assert f"APPROVALS_KAFKA_SASL_MECHANISM is required with APPROVALS_KAFKA_SECURITY_PROTOCOL={protocol}" in message
    assert "APPROVALS_KAFKA_SASL_USERNAME and APPROVALS_KAFKA_SASL_PASSWORD are required" in message

    only_password_missing = refusal(
        kafka_security_protocol=protocol, kafka_sasl_mechanism="PLAIN", kafka_sasl_username="svc-approvals"
    )
    assert "APPROVALS_KAFKA_SASL_PASSWORD is required" in only_password_missing
    assert "USERNAME" not in only_password_missing


def test_a_mechanism_without_a_password_login_is_refused():
    message = refusal(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="GSSAPI",
        kafka_sasl_username="svc-approvals", kafka_sasl_password="s3cret",
    )
    assert "APPROVALS_KAFKA_SASL_MECHANISM='GSSAPI' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512" in message


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
def test_sasl_credentials_that_the_protocol_would_not_send_are_refused(protocol):
    message = refusal(kafka_security_protocol=protocol, kafka_sasl_username="svc-approvals", kafka_sasl_password="x")
    assert (
        f"APPROVALS_KAFKA_SASL_USERNAME, APPROVALS_KAFKA_SASL_PASSWORD set but "
        f"APPROVALS_KAFKA_SECURITY_PROTOCOL={protocol} does not authenticate with SASL"
    ) in message


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_a_ca_file_with_a_protocol_that_does_not_encrypt_is_refused(protocol, pki):
    extra = {"kafka_sasl_mechanism": "PLAIN", "kafka_sasl_username": "u", "kafka_sasl_password": "p"}
    message = refusal(
        kafka_security_protocol=protocol, kafka_ssl_cafile=str(pki["ca"]), **(extra if "SASL" in protocol else {})
    )
    assert f"APPROVALS_KAFKA_SSL_CAFILE set but APPROVALS_KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS" in message


def test_a_client_certificate_and_its_key_come_together(pki):
    pairing = "APPROVALS_KAFKA_SSL_CERTFILE and APPROVALS_KAFKA_SSL_KEYFILE go together"
    assert pairing in refusal(kafka_security_protocol="SSL", kafka_ssl_certfile=str(pki["plain_cert"]))
    assert pairing in refusal(kafka_security_protocol="SSL", kafka_ssl_keyfile=str(pki["plain_key"]))
    assert "APPROVALS_KAFKA_SSL_KEY_PASSWORD set without APPROVALS_KAFKA_SSL_KEYFILE" in refusal(
        kafka_security_protocol="SSL", kafka_ssl_key_password=KEY_PASSWORD
    )


@pytest.mark.parametrize("field", ["kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"])
def test_a_named_file_that_is_not_there_is_refused(field, pki, tmp_path):
    files = {"kafka_ssl_certfile": str(pki["plain_cert"]), "kafka_ssl_keyfile": str(pki["plain_key"])}
    files[field] = str(tmp_path / "missing.pem")
    message = refusal(kafka_security_protocol="SSL", **files)
    assert f"APPROVALS_{field.upper()}={tmp_path / 'missing.pem'} is not a file" in message


def test_a_ca_file_that_holds_no_certificate_is_refused_at_load(pki):
    message = refusal(kafka_security_protocol="SSL", kafka_ssl_cafile=str(pki["not_pem"]))
    assert f"APPROVALS_KAFKA_SSL_CAFILE={pki['not_pem']} holds no PEM CA certificate" in message


@pytest.mark.parametrize("password", [None, "wrong passphrase"])
def test_an_encrypted_key_without_its_passphrase_is_refused_at_load_instead_of_prompting(password, pki):
    values: dict[str, Any] = {"kafka_ssl_key_password": password} if password else {}
    message = refusal(
        kafka_security_protocol="SSL", kafka_ssl_certfile=str(pki["cert"]), kafka_ssl_keyfile=str(pki["key"]), **values
    )
    assert "do not load as a PEM certificate and its private key" in message
    assert "APPROVALS_KAFKA_SSL_KEY_PASSWORD" in message


def test_every_problem_is_reported_at_once(tmp_path):
    message = refusal(
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_certfile=str(tmp_path / "client.pem"),
    )
    for expected in ("SASL_MECHANISM is required", "SASL_USERNAME and", "go together", "client.pem is not a file"):
        assert expected in message


def test_settings_load_from_the_environment_and_a_blank_value_is_unset(monkeypatch, pki):
    monkeypatch.setenv("APPROVALS_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("APPROVALS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("APPROVALS_KAFKA_SASL_USERNAME", "svc-approvals")
    monkeypatch.setenv("APPROVALS_KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("APPROVALS_KAFKA_SSL_CAFILE", str(pki["ca"]))
    # An environment file's "NAME=" means unset, not the current directory or an empty passphrase.
    monkeypatch.setenv("APPROVALS_KAFKA_SSL_CERTFILE", "")
    monkeypatch.setenv("APPROVALS_KAFKA_SSL_KEYFILE", " ")
    monkeypatch.setenv("APPROVALS_KAFKA_SSL_CHECK_HOSTNAME", "false")
    s = ApprovalsLikeSettings(environment="test")
    assert s.kafka_ssl_cafile == str(pki["ca"])
    assert s.kafka_ssl_certfile is None and s.kafka_ssl_keyfile is None
    assert s.kafka_ssl_check_hostname is False


def test_passwords_are_secrets_kept_out_of_reprs_and_logs(pki):
    s = settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="svc-approvals", kafka_sasl_password="sasl-s3cret",
        kafka_ssl_certfile=str(pki["cert"]), kafka_ssl_keyfile=str(pki["key"]), kafka_ssl_key_password=KEY_PASSWORD,
    )
    assert "sasl-s3cret" not in repr(s) and KEY_PASSWORD not in repr(s)


def test_a_refusal_never_echoes_the_passwords_it_was_given():
    message = refusal(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="KERBEROS",
        kafka_sasl_username="svc-approvals", kafka_sasl_password="sasl-s3cret",
        database_url="postgresql+asyncpg://approvals:db-s3cret@db:5432/approvals",
    )
    assert "KERBEROS" in message
    assert "sasl-s3cret" not in message and "db-s3cret" not in message


# --- the client options ----------------------------------------------------------------------------


def test_sasl_plaintext_sends_the_credentials_without_tls():
    options = client_options(settings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="svc-approvals", kafka_sasl_password="s3cret",
    ))
    assert options == {
        "bootstrap_servers": "kafka.bureau.example:9093",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "svc-approvals",
        "sasl_plain_password": "s3cret",  # aiokafka gets the plain value, never the SecretStr
    }


def ca_names(context: ssl.SSLContext) -> set[str]:
    return {value for cert in context.get_ca_certs() for rdn in cert["subject"] for key, value in rdn if key == "commonName"}


def test_ssl_verifies_the_broker_against_the_named_ca_and_checks_its_name(pki):
    options = client_options(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(pki["ca"])))
    assert options["security_protocol"] == "SSL"
    assert "sasl_mechanism" not in options
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert ca_names(context) == {"Bureau CA"}


def test_sasl_ssl_carries_both_the_credentials_and_the_tls_context(pki):
    options = client_options(settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc-approvals", kafka_sasl_password="s3cret",
        kafka_ssl_cafile=str(pki["ca"]),
        kafka_ssl_certfile=str(pki["cert"]), kafka_ssl_keyfile=str(pki["key"]), kafka_ssl_key_password=KEY_PASSWORD,
    ))
    assert (options["sasl_mechanism"], options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "SCRAM-SHA-512", "svc-approvals", "s3cret",
    )
    assert ca_names(options["ssl_context"]) == {"Bureau CA"}


def test_turning_the_name_check_off_still_verifies_the_chain(pki):
    context = client_options(
        settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(pki["ca"]), kafka_ssl_check_hostname=False)
    )["ssl_context"]
    assert context.check_hostname is False
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_each_client_reads_the_ca_file_anew_so_a_rotated_ca_needs_no_restart(pki, tmp_path):
    mounted = tmp_path / "ca.crt"
    mounted.write_bytes(pki["ca"].read_bytes())
    s = settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(mounted))
    assert ca_names(client_options(s)["ssl_context"]) == {"Bureau CA"}

    mounted.write_bytes(pki["other_ca"].read_bytes())  # the secret volume is updated in place

    assert ca_names(client_options(s)["ssl_context"]) == {"Other CA"}


KAFKA_CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}


def kafka_client_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in KAFKA_CLIENTS
    ]


def test_every_kafka_client_the_platform_creates_takes_its_connection_from_client_options():
    created = 0
    for package in ("chassis", "services", "gateway"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for call in kafka_client_calls(path):
                created += 1
                spread = [k.value for k in call.keywords if k.arg is None]
                assert any(
                    isinstance(v, ast.Call) and getattr(v.func, "id", None) == "client_options" for v in spread
                ), f"{path.relative_to(ROOT)}:{call.lineno} builds a Kafka client without **client_options(settings)"
                assert not {"bootstrap_servers", "security_protocol", "ssl_context"} & {k.arg for k in call.keywords}, (
                    f"{path.relative_to(ROOT)}:{call.lineno} overrides the connection client_options gives"
                )
    assert created >= 3, "the relay's producer, the consumer and the admin client were found"


# --- make run against a secured cluster --------------------------------------------------------------


def test_make_run_gives_every_app_the_clusters_tls_and_sasl_settings_unless_it_has_its_own(monkeypatch, tmp_path):
    monkeypatch.setenv("ZONE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ZONE_KAFKA_SSL_CAFILE", "/etc/zone/kafka-tls/ca.crt")
    monkeypatch.setenv("ZONE_KAFKA_SASL_USERNAME", "zone-platform")
    monkeypatch.setenv("APPROVALS_KAFKA_SASL_USERNAME", "svc-approvals")
    platform = Platform(var_dir=tmp_path, kafka_bootstrap="kafka.bureau.example:9093", apps=list(APPS))

    for spec in APPS:
        env = platform.app_env(spec)
        p = spec.env_prefix
        assert env[f"{p}KAFKA_BOOTSTRAP_SERVERS"] == "kafka.bureau.example:9093"
        assert env[f"{p}KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env[f"{p}KAFKA_SSL_CAFILE"] == "/etc/zone/kafka-tls/ca.crt"
        assert env[f"{p}KAFKA_SASL_USERNAME"] == ("svc-approvals" if spec.name == "approvals" else "zone-platform")


def test_the_embedded_broker_is_plaintext_whatever_zone_kafka_says(monkeypatch, tmp_path):
    monkeypatch.setenv("ZONE_KAFKA_SECURITY_PROTOCOL", "SSL")
    platform = Platform(var_dir=tmp_path, apps=list(APPS), broker=EmbeddedBroker(port=19092))
    env = platform.app_env(APPS[0])
    assert env[f"{APPS[0].env_prefix}KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert f"{APPS[0].env_prefix}KAFKA_SECURITY_PROTOCOL" not in env

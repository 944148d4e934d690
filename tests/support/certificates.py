"""Throwaway X.509 certificates for the TLS tests: a CA made on the spot, the certificates it
signs for brokers and clients, written as PEM files into a test's temporary directory.

EC P-256 keys, because they are made in milliseconds; the extensions are the ones a strict verifier
expects (a CA's basic constraints and key usage, a leaf's extended key usage and subject names).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

#: The names a broker on loopback is reached by.
LOOPBACK_NAMES: list[x509.GeneralName] = [
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.DNSName("localhost"),
]


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def issue(
        self, common_name: str, *, usage: x509.ObjectIdentifier, names: list[x509.GeneralName] | None = None
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A leaf certificate for a server (``SERVER_AUTH``, with ``names``) or a client (``CLIENT_AUTH``)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return key, builder.sign(self.key, hashes.SHA256())

    def write(self, path: Path) -> Path:
        return write_certificate(path, self.certificate)


def write_certificate(path: Path, certificate: x509.Certificate) -> Path:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def write_key(path: Path, key: ec.EllipticCurvePrivateKey, password: str | None = None) -> Path:
    """The key as PKCS#8 PEM, encrypted when a ``password`` is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return path


def issue_files(
    authority: Authority,
    directory: Path,
    stem: str,
    *,
    usage: x509.ObjectIdentifier,
    names: list[x509.GeneralName] | None = None,
    password: str | None = None,
) -> tuple[Path, Path]:
    """Issue a certificate and write ``<stem>.pem`` and ``<stem>-key.pem``; returns (certificate, key)."""
    key, certificate = authority.issue(stem, usage=usage, names=names)
    return (
        write_certificate(directory / f"{stem}.pem", certificate),
        write_key(directory / f"{stem}-key.pem", key, password),
    )

"""Field-level encryption of personal data at rest, and keyed blind indexes to look it up.

A :class:`FieldCipher` seals short strings (a national ID number, a phone number) with AES-256-GCM
and answers "is this value already stored?" with a keyed blind index (HMAC-SHA256), so a database
dump alone reveals neither the values nor — unlike an unsalted hash of an 18-digit number, which a
laptop reverses by brute force — anything that can be reversed without the key.

- **Format.** ``v1:`` + base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag), unpadded: 65
  characters for an 18-character value. The prefix names the format and its key derivation, so a
  stored value is recognisable (a value without it is plaintext from before encryption) and a later
  format can sit beside it while rows are re-encrypted.
- **Context.** ``encrypt``/``decrypt`` take an optional context (authenticated, not stored) — e.g.
  the table, column and row id — so a ciphertext copied into another row or column fails to open.
- **Keys.** One configured secret (at least 32 characters of high entropy, e.g.
  ``python -c "import secrets; print(secrets.token_urlsafe(32))"``) is expanded with HKDF-SHA256
  into two independent keys: one encrypts, one computes blind indexes; neither reveals the other.
  ``previous`` keys still decrypt (key rotation: re-encrypt under the current key, then drop them);
  blind indexes are always computed with the current key.
- **Where the secret comes from**: :func:`load_key` — the setting when it is set; otherwise, in
  development and tests only, a key generated once into ``$ZONE_VAR_DIR/<name>`` with mode 0600 and
  reused (as the gateway does for ``GATEWAY_KEY_PASSPHRASE``); otherwise a clear refusal to start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from chassis.settings import VAR_DIR

log = logging.getLogger("chassis.crypto")

PREFIX = "v1:"
#: The shortest configured secret accepted (characters); a generated one has 43.
MIN_KEY_CHARS = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HKDF_SALT = b"zone-platform/field-cipher"


class CryptoError(Exception):
    """Base of this module's errors; messages never contain the values involved."""


class DecryptionError(CryptoError):
    """A stored value does not open: it was altered, belongs to another context, or another key sealed it."""


class KeyMaterialError(CryptoError):
    """The key material is missing or unusable (the message names the setting to fix)."""


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=f"v1/{purpose}".encode()).derive(secret)


def _material(key: str | bytes) -> bytes:
    material = key.encode() if isinstance(key, str) else key
    if len(material.strip()) < MIN_KEY_CHARS:
        raise KeyMaterialError(f"a field-encryption key needs at least {MIN_KEY_CHARS} characters of random material")
    return material.strip()


class FieldCipher:
    """Authenticated encryption of short strings, and their keyed blind index."""

    def __init__(self, key: str | bytes, *, previous: Sequence[str | bytes] = ()) -> None:
        material = _material(key)
        self._current = AESGCM(_derive(material, "encrypt"))
        self._previous = [AESGCM(_derive(_material(k), "encrypt")) for k in previous]
        self._index_key = _derive(material, "blind-index")

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        """Whether a stored value is in this module's format (else: plaintext from before encryption)."""
        return stored.startswith(PREFIX)

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def decrypt(self, stored: str, *, context: str = "") -> str:
        """The plaintext of ``stored``; :class:`DecryptionError` if it was tampered with or another key sealed it."""
        return self._open(stored, context)[0]

    def is_current(self, stored: str, *, context: str = "") -> bool:
        """Whether ``stored`` is sealed under the current key (False: plaintext, or a previous key's)."""
        return self.is_encrypted(stored) and self._open(stored, context)[1]

    def blind_index(self, value: str) -> str:
        """A keyed digest of ``value`` (64 hex characters) for equality lookups and unique constraints.

        Deterministic — equal values, equal indexes — so it leaks equality, nothing more: without the
        key it cannot be recomputed from a guess. Normalise ``value`` first (case, spaces) as lookups need.
        """
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()

    def _open(self, stored: str, context: str) -> tuple[str, bool]:
        if not self.is_encrypted(stored):
            raise DecryptionError("not an encrypted value (no v1: prefix)")
        body = stored[len(PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("an encrypted value is not valid base64url") from exc
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("an encrypted value is too short")
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        for n, aead in enumerate([self._current, *self._previous]):
            try:
                return aead.decrypt(nonce, sealed, context.encode()).decode(), n == 0
            except InvalidTag:
                continue
        raise DecryptionError("an encrypted value does not open: altered, moved from another record, or sealed under another key")


def generate_secret(nbytes: int = 32) -> str:
    """A random URL-safe secret (a client secret, an initial password) that never starts with ``-``.

    People paste these into command lines (``zonectl --client-secret …``); one starting with ``-`` reads
    as an option there, so such draws are simply drawn again (one in 64 is).
    """
    while True:
        value = secrets.token_urlsafe(nbytes)
        if not value.startswith("-"):
            return value


def var_dir() -> Path:
    """Where the embedded mode keeps its files: ``$ZONE_VAR_DIR`` (the launcher sets it), else ``var``."""
    return Path(os.environ.get("ZONE_VAR_DIR", str(VAR_DIR)))


def load_key(configured: SecretStr | None, *, setting: str, file_name: str, development: bool) -> str:
    """The key material for one purpose.

    The configured secret when set. Otherwise, in development and tests, :func:`development_key`.
    Outside development, no key is a
    :class:`KeyMaterialError` naming ``setting``: starting anyway would write personal data nobody can read back.
    """
    if configured is not None:
        value = configured.get_secret_value().strip()
        if len(value) < MIN_KEY_CHARS:
            raise KeyMaterialError(f"{setting} must hold at least {MIN_KEY_CHARS} characters of random material")
        return value
    if not development:
        raise KeyMaterialError(
            f"{setting} must be set outside development and test "
            f'(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))"; keep it in the secret store)'
        )
    return development_key(setting=setting, file_name=file_name)


def development_key(*, setting: str, file_name: str) -> str:
    """A key generated once into ``var_dir()/file_name`` (mode 0600) and reused on every start, for
    development and tests only. It is written to a temporary file and linked into place, so
    concurrent first starts agree on one key."""
    path = var_dir() / file_name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{file_name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)  # fails if another process linked its key first: use that one
            log.warning("no %s: generated %s (mode 0600); set the variable outside development", setting, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    value = path.read_text().strip()
    if len(value) < MIN_KEY_CHARS:
        raise KeyMaterialError(f"{path} holds no usable key (for {setting}); remove it only if no data was encrypted with it")
    return value

"""chassis.crypto: short personal-data strings sealed with AES-256-GCM behind a ``v1:`` prefix, a keyed
blind index for lookups, and where the key comes from (the setting; in development a 0600 file
generated once; otherwise a refusal to start)."""

from __future__ import annotations

import base64
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from chassis import crypto
from chassis.crypto import PREFIX, DecryptionError, FieldCipher, KeyMaterialError, load_key

KEY = "k" * 8 + "0123456789abcdefghijklmnopqrstuv"  # 40 characters
OTHER_KEY = "another-key-with-plenty-of-characters-0123"
NUMBER = "51012219900101123X"


def test_a_value_round_trips_and_is_stored_version_prefixed_without_any_trace_of_the_plaintext():
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt(NUMBER, context="staff/1")
    assert sealed.startswith(PREFIX) and FieldCipher.is_encrypted(sealed)
    assert NUMBER not in sealed and NUMBER[:6] not in sealed and NUMBER[-4:] not in sealed
    assert len(sealed) == 65  # fits the widened column with room for a later format
    assert cipher.decrypt(sealed, context="staff/1") == NUMBER


def test_the_same_value_encrypts_differently_each_time():
    cipher = FieldCipher(KEY)
    assert cipher.encrypt(NUMBER) != cipher.encrypt(NUMBER)


def test_a_plain_value_is_recognised_by_its_missing_prefix_and_does_not_decrypt():
    cipher = FieldCipher(KEY)
    assert not FieldCipher.is_encrypted(NUMBER)
    with pytest.raises(DecryptionError):
        cipher.decrypt(NUMBER)


@pytest.mark.parametrize("position", [0, 5, 20, 40, -1])
def test_any_altered_byte_is_detected(position):
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt(NUMBER)
    raw = bytearray(base64.urlsafe_b64decode(sealed[len(PREFIX):] + "=="))
    raw[position] ^= 0x01
    tampered = PREFIX + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered)


@pytest.mark.parametrize("garbage", ["v1:", "v1:abc", "v1:!!!!not-base64!!!!", "v1:" + "A" * 20])
def test_a_truncated_or_garbled_value_is_a_decryption_error_not_a_crash(garbage):
    with pytest.raises(DecryptionError):
        FieldCipher(KEY).decrypt(garbage)


def test_a_value_moved_to_another_context_does_not_open():
    cipher = FieldCipher(KEY)
    sealed = cipher.encrypt(NUMBER, context="staff/1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, context="staff/2")


def test_the_wrong_key_is_an_error_whose_message_holds_no_value():
    sealed = FieldCipher(KEY).encrypt(NUMBER)
    with pytest.raises(DecryptionError) as info:
        FieldCipher(OTHER_KEY).decrypt(sealed)
    assert NUMBER not in str(info.value) and sealed not in str(info.value)


def test_a_previous_key_still_decrypts_but_the_value_is_not_current():
    old = FieldCipher(KEY).encrypt(NUMBER, context="c")
    rotated = FieldCipher(OTHER_KEY, previous=[KEY])
    assert rotated.decrypt(old, context="c") == NUMBER
    assert not rotated.is_current(old, context="c")
    assert rotated.is_current(rotated.encrypt(NUMBER, context="c"), context="c")


def test_the_blind_index_is_stable_for_a_value_and_differs_between_values():
    cipher = FieldCipher(KEY)
    index = cipher.blind_index(NUMBER)
    assert index == FieldCipher(KEY).blind_index(NUMBER)
    assert len(index) == 64 and int(index, 16) >= 0
    assert index != cipher.blind_index(NUMBER[:-1] + "1")


def test_the_blind_index_depends_on_the_key_and_is_not_the_unsalted_sha256():
    import hashlib

    assert FieldCipher(KEY).blind_index(NUMBER) != FieldCipher(OTHER_KEY).blind_index(NUMBER)
    assert FieldCipher(KEY).blind_index(NUMBER) != hashlib.sha256(NUMBER.encode()).hexdigest()


def test_short_key_material_is_refused():
    with pytest.raises(KeyMaterialError):
        FieldCipher("too-short")


def test_a_configured_key_is_used_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("ZONE_VAR_DIR", str(tmp_path))
    assert load_key(SecretStr(f" {KEY} "), setting="X_KEY", file_name="x-key", development=True) == KEY
    assert not (tmp_path / "x-key").exists()


def test_a_configured_key_that_is_too_short_names_the_setting():
    with pytest.raises(KeyMaterialError, match="X_KEY"):
        load_key(SecretStr("short"), setting="X_KEY", file_name="x-key", development=False)


def test_without_a_key_development_generates_one_file_with_mode_0600_and_reuses_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ZONE_VAR_DIR", str(tmp_path / "var"))
    first = load_key(None, setting="X_KEY", file_name="x-key", development=True)
    path = tmp_path / "var" / "x-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_key(None, setting="X_KEY", file_name="x-key", development=True) == first
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["x-key"]  # no temporary file left behind


def test_concurrent_first_starts_agree_on_one_generated_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ZONE_VAR_DIR", str(tmp_path))
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_key(None, setting="X_KEY", file_name="x-key", development=True), range(16)))
    assert len(keys) == 1


def test_without_a_key_outside_development_it_refuses_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("ZONE_VAR_DIR", str(tmp_path))
    with pytest.raises(KeyMaterialError, match="X_KEY must be set outside development"):
        load_key(None, setting="X_KEY", file_name="x-key", development=False)
    assert list(tmp_path.iterdir()) == []


def test_generated_secrets_never_read_as_a_command_line_option(monkeypatch):
    # One draw in 64 of token_urlsafe starts with "-"; zonectl --client-secret -abc… would take it for an option.
    draws = iter(["-starts-with-a-dash", "--two", "fine-secret"])
    monkeypatch.setattr(crypto.secrets, "token_urlsafe", lambda nbytes: next(draws))
    assert crypto.generate_secret(32) == "fine-secret"

"""Standard Webhooks signatures: v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed by the decoded secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

from gateway.webhooks import SECRET_PREFIX, new_secret, sign, signature_headers, verify

SECRET = SECRET_PREFIX + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BODY = '{"type":"zone.approvals.application.completed.v1","data":{"企业":"成都芯谷"}}'.encode()


def test_the_signature_is_the_hmac_of_id_timestamp_and_body_with_the_decoded_secret():
    expected = base64.b64encode(
        hmac.new(b"0123456789abcdef0123456789abcdef", b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    ).decode()
    assert sign(SECRET, "msg_1", 1700000000, BODY) == "v1," + expected


def test_headers_carry_id_timestamp_and_signature():
    headers = signature_headers(SECRET, "msg_2", BODY, timestamp=1700000100)
    assert headers == {
        "webhook-id": "msg_2",
        "webhook-timestamp": "1700000100",
        "webhook-signature": sign(SECRET, "msg_2", 1700000100, BODY),
    }


def test_a_receiver_accepts_a_fresh_untampered_delivery():
    headers = signature_headers(SECRET, "msg_3", BODY, timestamp=1700000000)
    assert verify(SECRET, headers, BODY, now=1700000060)


def test_a_tampered_body_or_another_secret_is_rejected():
    headers = signature_headers(SECRET, "msg_4", BODY, timestamp=1700000000)
    assert not verify(SECRET, headers, BODY + b" ", now=1700000000)
    assert not verify(new_secret(), headers, BODY, now=1700000000)


def test_a_stale_timestamp_is_rejected_against_replays():
    headers = signature_headers(SECRET, "msg_5", BODY, timestamp=1700000000)
    assert not verify(SECRET, headers, BODY, now=1700000000 + 301)


def test_any_of_several_space_separated_signatures_may_match_during_secret_rotation():
    headers = signature_headers(SECRET, "msg_6", BODY, timestamp=1700000000)
    headers["webhook-signature"] = "v1,bm90LXRoaXMtb25l " + headers["webhook-signature"]
    assert verify(SECRET, headers, BODY, now=1700000000)


def test_missing_headers_are_rejected():
    assert not verify(SECRET, {"webhook-id": "x"}, BODY)


def test_new_secrets_are_prefixed_and_random():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32

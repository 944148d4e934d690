"""Webhook conventions (Standard Webhooks, https://www.standardwebhooks.com) and the callback allow-list.

Signing: every delivery carries ``webhook-id`` (the delivery id, the same on every retry, so the
receiver deduplicates on it), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">``, keyed with the subscription secret
``whsec_<base64 key>`` (the key is the base64-decoded part), which is shown once when the
subscription is created. A receiver should reject timestamps more than five minutes away.

Allow-list: a callback is a request the platform makes on someone's behalf (SSRF), so its host must
resolve only to public addresses — no loopback, private, link-local (cloud metadata lives at
169.254.169.254), carrier-grade NAT, multicast or reserved ones — unless the operator allows private
networks (tests, the embedded mode) or names extra networks (e.g. the government extranet). The
check runs when a subscription is created and again on every connection (see
:class:`gateway.dispatcher.AllowListResolver`), so a DNS answer that changes later cannot sneak past.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Always refused unless an operator lists them explicitly: cloud metadata endpoints.
METADATA_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one delivery attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secret: str | Sequence[str], message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Headers for one attempt; with several secrets (during a rotation) one signature per secret,
    space-separated as Standard Webhooks specifies, so a receiver holding either secret accepts it."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else list(secret)
    signature = " ".join(sign(k, message_id, ts, body) for k in keys)
    return {"webhook-id": message_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None, tolerance_s: int = TOLERANCE_S) -> bool:
    """What a receiver does: check the timestamp window and any of the space-separated signatures."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
        signatures = lower["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


# --- the allow-list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackPolicy:
    allow_private: bool = False
    require_https: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def build(cls, *, allow_private: bool, require_https: bool, allowed_networks: Iterable[str]) -> CallbackPolicy:
        return cls(
            allow_private=allow_private,
            require_https=require_https,
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks),
        )


def address_refusal(address: str, policy: CallbackPolicy) -> str | None:
    """Why a callback may not connect to ``address`` (None when it may)."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "不是有效的 IP 地址"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in policy.allowed_networks):
        return None
    if any(ip in net for net in METADATA_NETWORKS):
        return "云平台元数据地址"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "保留或组播地址"
    if ip.is_link_local:
        return "链路本地地址"
    if policy.allow_private:
        return None
    if ip.is_loopback:
        return "回环地址"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT) or not ip.is_global:
        return "内网地址"
    return None


def url_refusal(url: str, policy: CallbackPolicy) -> tuple[str | None, str | None, int]:
    """Check a callback URL's shape. Returns (reason or None, host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "网址格式不正确", None, 0
    if parts.scheme not in {"http", "https"}:
        return "只支持 http 或 https 回调地址", None, 0
    if policy.require_https and parts.scheme != "https":
        return "回调地址必须使用 https", None, 0
    if not parts.hostname:
        return "回调地址缺少主机名", None, 0
    if parts.username or parts.password:
        return "回调地址不得包含用户名或密码", None, 0
    return None, parts.hostname, port or (443 if parts.scheme == "https" else 80)

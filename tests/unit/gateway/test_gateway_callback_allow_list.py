"""Callback URLs are requests the platform makes on someone's behalf: the allow-list refuses internal targets."""

from __future__ import annotations

import pytest

from gateway.webhooks import CallbackPolicy, address_refusal, url_refusal

STRICT = CallbackPolicy()
PRIVATE_OK = CallbackPolicy(allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "::1",  # loopback
        "10.1.2.3", "172.16.0.9", "192.168.1.1", "fd12:3456::1",  # private
        "169.254.10.10", "fe80::1",  # link-local
        "169.254.169.254", "100.100.100.200",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0", "224.0.0.1", "240.0.0.1",  # unspecified, multicast, reserved
        "::ffff:127.0.0.1", "::ffff:10.0.0.1",  # IPv4-mapped
    ],
)
def test_internal_addresses_are_refused_by_default(address):
    assert address_refusal(address, STRICT) is not None


@pytest.mark.parametrize("address", ["202.96.134.133", "8.8.8.8", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(address, STRICT) is None


def test_allowing_private_networks_admits_loopback_and_private_but_never_metadata_or_link_local():
    assert address_refusal("127.0.0.1", PRIVATE_OK) is None
    assert address_refusal("10.0.0.5", PRIVATE_OK) is None
    assert address_refusal("169.254.169.254", PRIVATE_OK) is not None
    assert address_refusal("fe80::1", PRIVATE_OK) is not None


def test_an_explicitly_allowed_network_such_as_the_government_extranet_is_admitted():
    policy = CallbackPolicy.build(allow_private=False, require_https=False, allowed_networks=["10.20.0.0/16"])
    assert address_refusal("10.20.3.4", policy) is None
    assert address_refusal("10.21.3.4", policy) is not None


def test_not_an_ip_address_is_refused():
    assert address_refusal("example.com", STRICT) is not None


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/hook", "http:///nohost", "gopher://x"],
)
def test_urls_of_the_wrong_shape_are_refused(url):
    assert url_refusal(url, STRICT)[0] is not None


def test_a_plain_https_url_passes_the_shape_check_with_its_host_and_port():
    assert url_refusal("https://credit.chengdu.gov.cn/hooks/zone", STRICT) == (None, "credit.chengdu.gov.cn", 443)
    assert url_refusal("http://credit.example.cn:8080/x", STRICT) == (None, "credit.example.cn", 8080)


def test_https_can_be_required():
    policy = CallbackPolicy(require_https=True)
    assert url_refusal("http://credit.example.cn/x", policy)[0] is not None
    assert url_refusal("https://credit.example.cn/x", policy)[0] is None

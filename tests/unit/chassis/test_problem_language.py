"""Problem details speak Chinese unless the caller ranks English higher."""

import pytest
from starlette.requests import Request

from chassis.errors import prefers_english


def request_with(accept_language: str | None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "headers": headers, "method": "GET", "path": "/"})


@pytest.mark.parametrize(
    ("header", "english"),
    [
        (None, False),
        ("zh-CN,zh;q=0.9", False),
        ("en-US,en;q=0.9", True),
        ("en;q=0.4,zh-CN;q=0.8", False),
        ("fr-FR", False),
        ("zh;q=0.5, en-GB", True),
        ("en;q=abc", False),
    ],
)
def test_language_negotiation(header, english):
    assert prefers_english(request_with(header)) is english

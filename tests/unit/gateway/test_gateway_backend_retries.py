"""A connect failure is retried a bounded number of times for idempotent requests only, and counts for the breaker."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from gateway.proxy import Backend, BackendUnavailable
from gateway.settings import GatewaySettings


class RefusingSession:
    """Stands in for aiohttp's session: every connection attempt is refused."""

    def __init__(self) -> None:
        self.attempts = 0

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        self.attempts += 1
        raise aiohttp.ClientConnectionError("connection refused")


def backend(**settings: Any) -> tuple[Backend, RefusingSession]:
    b = Backend("approvals", "http://127.0.0.1:9", GatewaySettings(environment="test", key_passphrase="x", **settings))
    session = RefusingSession()
    b._session = session  # type: ignore[assignment]
    return b, session


@pytest.mark.parametrize("retryable, attempts", [(True, 2), (False, 1)])
async def test_only_retryable_requests_are_tried_again(retryable, attempts):
    b, session = backend(backend_retries=1)
    with pytest.raises(BackendUnavailable):
        await b.request("GET", "/applications", headers={}, retryable=retryable)
    assert session.attempts == attempts


async def test_each_failed_request_counts_once_towards_opening_the_circuit():
    b, session = backend(backend_retries=2, breaker_failure_threshold=2)
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            await b.request("GET", "/x", headers={}, retryable=True)
    assert session.attempts == 6 and b.breaker.state == "open"
    with pytest.raises(BackendUnavailable) as info:
        await b.request("GET", "/x", headers={}, retryable=True)
    assert info.value.reason == "circuit open" and session.attempts == 6  # refused without trying
    assert info.value.retry_after_s >= 1

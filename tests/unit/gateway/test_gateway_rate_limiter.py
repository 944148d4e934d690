"""Token buckets per client: a burst is allowed, then requests wait for tokens at the configured rate."""

from __future__ import annotations

from gateway.resilience import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_next_request_must_wait():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.acquire("enterprise:a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("enterprise:a")
    assert wait == 0.5  # one token at 2 per second


def test_tokens_refill_with_time_up_to_the_burst():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=2, clock=clock)
    limiter.acquire("k"), limiter.acquire("k")
    assert limiter.acquire("k") > 0
    clock.now += 1.0
    assert limiter.acquire("k") == 0.0
    clock.now += 100.0
    assert [limiter.acquire("k") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.acquire("k") > 0


def test_clients_have_separate_buckets():
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    assert limiter.acquire("ip:10.0.0.1") == 0.0
    assert limiter.acquire("ip:10.0.0.1") > 0
    assert limiter.acquire("ip:10.0.0.2") == 0.0


def test_the_number_of_buckets_is_bounded():
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_keys=100, clock=Clock())
    for i in range(1000):
        limiter.acquire(f"ip:{i}")
    assert len(limiter._buckets) == 100

"""Protecting the platform and its backends: a circuit breaker per backend and token-bucket rate limits.

Both are in-memory and per process: with several gateway replicas each holds its own breakers and
buckets (a client's effective limit is the per-replica limit times the replicas it reaches). Both
take a clock so their behaviour can be tested without sleeping.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failures; after ``reset_s`` one trial
    request is let through (half-open): its success closes the circuit, its failure opens it again.

    While open, callers are refused at once, so a dead backend costs nothing but a 503.
    """

    def __init__(self, failure_threshold: int = 5, reset_s: float = 10.0, clock: Clock = time.monotonic) -> None:
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self.clock = clock
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self._trial_in_flight = False

    def allow(self) -> bool:
        """May a request go to the backend now? (In half-open state only one trial at a time.)"""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if self.clock() - self.opened_at < self.reset_s:
                return False
            self.state = HALF_OPEN
            self._trial_in_flight = False
        if self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def retry_after_s(self) -> int:
        """Seconds until the breaker will let a trial through (at least 1)."""
        if self.state == OPEN:
            return max(1, math.ceil(self.reset_s - (self.clock() - self.opened_at)))
        return 1

    def record_success(self) -> None:
        self.state = CLOSED
        self.failures = 0
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._trial_in_flight = False
        if self.state == HALF_OPEN:
            self._open()
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        self.state = OPEN
        self.opened_at = self.clock()
        self.failures = 0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client key: ``rate_per_s`` tokens a second, holding at most ``burst``.

    The number of buckets is bounded (least recently used ones are dropped), so a flood of
    distinct keys cannot exhaust memory.
    """

    def __init__(self, rate_per_s: float, burst: int, *, max_keys: int = 100_000, clock: Clock = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until a token is available."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

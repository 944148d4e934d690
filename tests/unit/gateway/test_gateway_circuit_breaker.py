"""A breaker per backend: a dead service is refused at once instead of being waited on."""

from __future__ import annotations

from gateway.resilience import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_up_to_the_threshold_open_the_circuit():
    breaker = CircuitBreaker(failure_threshold=3, reset_s=10, clock=Clock())
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == CLOSED
    breaker.record_failure()
    assert breaker.state == OPEN
    assert not breaker.allow()


def test_a_success_resets_the_failure_count():
    breaker = CircuitBreaker(failure_threshold=2, reset_s=10, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == CLOSED


def test_retry_after_counts_down_to_the_trial():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_s=10, clock=clock)
    breaker.record_failure()
    assert breaker.retry_after_s() == 10
    clock.now = 7.5
    assert breaker.retry_after_s() == 3


def test_after_the_reset_time_one_trial_goes_through_and_its_success_closes_the_circuit():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_s=5, clock=clock)
    breaker.record_failure()
    clock.now = 5.0
    assert breaker.allow()
    assert breaker.state == HALF_OPEN
    assert not breaker.allow()  # only one trial at a time
    breaker.record_success()
    assert breaker.state == CLOSED
    assert breaker.allow() and breaker.allow()


def test_a_failed_trial_opens_the_circuit_again_for_a_full_period():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_s=5, clock=clock)
    breaker.record_failure()
    clock.now = 6.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN
    clock.now = 10.0
    assert not breaker.allow()
    clock.now = 11.0
    assert breaker.allow()

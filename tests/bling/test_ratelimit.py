"""The shared rate limiter on its own: slot spacing, the daily budget, the circuit breaker."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections

from blingsync.bling import ratelimit
from blingsync.bling.errors import BlingCircuitOpen, BlingRateLimited
from blingsync.models import RateLimitBucket


def test_slots_are_spaced_by_the_rate_plus_the_margin(db, settings):
    # Slots are reserved ahead of time: at 5/s a reservation would have to stall 220 ms for a
    # gap to grow past the interval (at 50/s a loaded machine's 22 ms stall was enough).
    settings.BLING_RATE_PER_SECOND = 5
    settings.BLING_RATE_MARGIN = 0.1
    slots = [ratelimit._reserve(ratelimit.DEFAULT_KEY)[0] for _ in range(10)]
    gaps = {b - a for a, b in zip(slots, slots[1:], strict=False)}
    assert gaps == {220_000}  # µs: 1.1 / 5 s


@pytest.mark.django_db(transaction=True)
def test_threads_acquiring_together_leave_one_interval_apart(settings):
    settings.BLING_RATE_PER_SECOND = 40
    settings.BLING_RATE_MARGIN = 0.1
    sent: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(4):
                ratelimit.ratelimit_acquire()
                with lock:
                    sent.append(time.time())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    sent.sort()
    assert len(sent) == 20
    # Any 40 consecutive calls span >= 1 s: here, 20 calls are spread over >= 19 intervals.
    assert sent[-1] - sent[0] >= 19 * (1.1 / 40) - 0.04


def test_the_daily_budget_refuses_without_sending_and_resets_next_day(db, settings):
    settings.BLING_RATE_PER_SECOND = 1000
    settings.BLING_RATE_PER_DAY = 2
    ratelimit.ratelimit_acquire()
    ratelimit.ratelimit_acquire()
    with pytest.raises(BlingRateLimited) as caught:
        ratelimit.ratelimit_acquire()
    assert caught.value.period == "day"
    bucket = RateLimitBucket.objects.get()
    RateLimitBucket.objects.update(day=bucket.day - timedelta(days=1))
    ratelimit.ratelimit_acquire()
    assert RateLimitBucket.objects.get().day_calls == 1


def test_the_circuit_opens_after_failures_in_a_row_and_a_success_closes_it(db, settings):
    settings.BLING_RATE_PER_SECOND = 1000
    settings.BLING_CIRCUIT_FAILURES = 3
    ratelimit.ratelimit_acquire()
    assert ratelimit.circuit_failure() is False
    assert ratelimit.circuit_failure() is False
    assert ratelimit.circuit_failure() is True
    with pytest.raises(BlingCircuitOpen):
        ratelimit.ratelimit_acquire()
    RateLimitBucket.objects.update(circuit_open_until_us=0)  # the open period has passed
    assert ratelimit.ratelimit_acquire() == 3
    ratelimit.circuit_success()
    assert RateLimitBucket.objects.get().consecutive_failures == 0

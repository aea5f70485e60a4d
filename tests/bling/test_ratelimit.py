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


def test_slots_follow_a_window_of_rate_calls_per_second_plus_the_margin(db, settings):
    # Slots are reserved ahead of time: the whole calls of one second go back to back, the
    # next one a window (1 s + margin) after the first of them, and so on.
    settings.BLING_RATE_PER_SECOND = 5
    settings.BLING_RATE_MARGIN = 0.1
    slots, taken_at = [], []
    for _ in range(15):
        slots.append(ratelimit._reserve(ratelimit.DEFAULT_KEY).slot_us)
        taken_at.append(int(time.time() * 1_000_000))
    assert slots == sorted(slots)
    # The first five go at once: none of their slots lies ahead of its reservation.
    assert all(slot <= taken for slot, taken in zip(slots[:5], taken_at, strict=False))
    # Any six in a row span at least the window (µs: 1 s + 10%).
    assert min(b - a for a, b in zip(slots, slots[5:], strict=False)) >= 1_100_000


def test_slowed_down_slots_are_evenly_spaced(db, settings):
    settings.BLING_RATE_PER_SECOND = 5
    settings.BLING_RATE_MARGIN = 0.1
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    now_us = int(time.time() * 1_000_000)
    RateLimitBucket.objects.update(  # 2.5/s after a 429 just now (no climb yet)
        throttled_interval_us=440_000, rate_changed_us=now_us, last_429_us=now_us
    )
    slots = [ratelimit._reserve(ratelimit.DEFAULT_KEY)[0] for _ in range(6)]
    assert {b - a for a, b in zip(slots, slots[1:], strict=False)} == {440_000}


@pytest.mark.django_db(transaction=True)
def test_threads_acquiring_together_never_exceed_the_rate_in_a_window(settings):
    settings.BLING_RATE_PER_SECOND = 40
    settings.BLING_RATE_MARGIN = 0.1
    sent: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(10):
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
    assert len(sent) == 50
    # Any 41 consecutive calls span >= 1.1 s (40 per second, margin 0.1), less the wake-up
    # tolerance: the 41st waited for the 1st to leave the window.
    assert min(b - a for a, b in zip(sent, sent[40:], strict=False)) >= 1.1 - 0.04


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

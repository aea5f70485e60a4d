"""Shared state of the calls to Bling, one row per account: the rate-limit slot schedule, the
adaptive (AIMD) effective rate, the 429s seen, the daily count and the circuit breaker. Every
process reads and moves it inside short transactions that lock the row (see
blingsync/bling/ratelimit.py), so the limits hold across processes."""

from __future__ import annotations

from django.db import models


class RateLimitBucket(models.Model):
    """Times are epoch microseconds (wall clock, shared by the processes of one host)."""

    key = models.CharField(max_length=100, unique=True)
    # The latest call slot handed out; the next call goes at max(now, last_slot + interval).
    last_slot_us = models.BigIntegerField(default=0)
    # Adaptive rate: the slot spacing while slowed down after 429s (0 = the configured rate;
    # the spacing used is never below the configured one). Halved rate on a 429, climbs back
    # step by step after quiet intervals (blingsync/bling/ratelimit.py).
    throttled_interval_us = models.BigIntegerField(default=0)
    # The spacing at which the latest 429 came (0 = none): climbing stops just below it until
    # a long quiet period has passed.
    ceiling_interval_us = models.BigIntegerField(default=0)
    # When the effective rate last went down / last changed (up or down).
    decreased_us = models.BigIntegerField(default=0)
    rate_changed_us = models.BigIntegerField(default=0)
    # 429 "per second" answers: the latest, the total, and their times (epoch seconds) over
    # the last hour (capped list).
    last_429_us = models.BigIntegerField(default=0)
    rate_limited_total = models.PositiveBigIntegerField(default=0)
    recent_429s = models.JSONField(default=list, blank=True)
    # Calls made on `day` (Bling's day, America/Sao_Paulo).
    day = models.DateField(null=True, blank=True)
    day_calls = models.PositiveIntegerField(default=0)
    # Circuit breaker: failed calls in a row; calls are refused until `circuit_open_until_us`.
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_open_until_us = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.day_calls} calls on {self.day}"

"""Shared state of the calls to Bling, one row per account: the rate-limit slot schedule, the
daily count and the circuit breaker. Every process reads and moves it with single conditional
UPDATEs (see blingsync/bling/ratelimit.py), so the limits hold across processes."""

from __future__ import annotations

from django.db import models


class RateLimitBucket(models.Model):
    """Times are epoch microseconds (wall clock, shared by the processes of one host)."""

    key = models.CharField(max_length=100, unique=True)
    # The latest call slot handed out; the next call goes at max(now, last_slot + interval).
    last_slot_us = models.BigIntegerField(default=0)
    # Calls made on `day` (Bling's day, America/Sao_Paulo).
    day = models.DateField(null=True, blank=True)
    day_calls = models.PositiveIntegerField(default=0)
    # Circuit breaker: failed calls in a row; calls are refused until `circuit_open_until_us`.
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_open_until_us = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.day_calls} calls on {self.day}"

"""Counters behind the global Bling rate limit, shared by every process through the database."""

from __future__ import annotations

from django.db import models


class RateLimitBucket(models.Model):
    """One row per (account, window): `calls` made in the window starting at `window_start`."""

    key = models.CharField(max_length=100, unique=True)
    window_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.calls}"

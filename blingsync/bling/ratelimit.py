"""The global Bling rate limit and circuit breaker, shared by every process through the DB.

Slot reservation: each call atomically takes the next free time slot
`slot = max(now, last_slot + interval)` in one UPDATE (then reads it back in the same
transaction: the row stays locked, on SQLite by the IMMEDIATE transaction, on PostgreSQL by
the row lock) and sleeps until it. `interval = (1 + BLING_RATE_MARGIN) / BLING_RATE_PER_SECOND`,
so any `rate` consecutive calls span at least `1 + margin` seconds: Bling's "3 per second"
window never sees a 4th call even when one call reaches it up to `margin` seconds late (clock,
scheduling and network jitter). A caller that wakes up later than `_LATE_SECONDS` after its
slot takes a new one instead of sending late. The same UPDATE counts the day
(`BLING_RATE_PER_DAY`, Bling's day in America/Sao_Paulo) and refuses while the circuit
breaker is open.

Do not call Bling inside an outer `transaction.atomic()`: the row lock would be held until
that transaction commits, stalling every other process's calls.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.functions import Greatest

from blingsync.bling.errors import BlingCircuitOpen, BlingRateLimited
from blingsync.models import RateLimitBucket

logger = logging.getLogger(__name__)

BLING_TZ = zoneinfo.ZoneInfo("America/Sao_Paulo")
DEFAULT_KEY = "bling"
_LATE_SECONDS = 0.04
_BIG = BigIntegerField()


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def _bling_day(now_us: int) -> date:
    return datetime.fromtimestamp(now_us / 1_000_000, BLING_TZ).date()


def _interval_us() -> int:
    rate = max(float(settings.BLING_RATE_PER_SECOND), 0.001)
    margin = max(float(getattr(settings, "BLING_RATE_MARGIN", 0.1)), 0.0)
    return int(1_000_000 * (1.0 + margin) / rate)


def _bucket_ensure(key: str) -> None:
    if not RateLimitBucket.objects.filter(key=key).exists():
        try:
            with transaction.atomic():
                RateLimitBucket.objects.create(key=key)
        except IntegrityError:
            pass  # another process created it first


def _reserve_once(key: str, now_us: int) -> tuple[int, int] | None:
    """One attempt at the conditional UPDATE; None when it matched no row."""
    today = _bling_day(now_us)
    per_day = int(settings.BLING_RATE_PER_DAY)
    with transaction.atomic():
        updated = (
            RateLimitBucket.objects.filter(key=key, circuit_open_until_us__lte=now_us)
            .filter(~Q(day=today) | Q(day__isnull=True) | Q(day_calls__lt=per_day))
            .update(
                last_slot_us=Greatest(
                    Value(now_us, output_field=_BIG),
                    F("last_slot_us") + Value(_interval_us(), output_field=_BIG),
                    output_field=_BIG,
                ),
                day_calls=Case(When(day=today, then=F("day_calls") + 1), default=Value(1)),
                day=today,
            )
        )
        if not updated:
            return None
        return RateLimitBucket.objects.values_list("last_slot_us", "consecutive_failures").get(
            key=key
        )


def _reserve(key: str) -> tuple[int, int]:
    """Reserve the next slot: (slot in epoch µs, failures in a row so far), or raise when the
    daily limit is reached or the circuit is open."""
    while True:
        now_us = _now_us()
        reserved = _reserve_once(key, now_us)
        if reserved is not None:
            return reserved
        # No row matched: find out why from the row as it is now (it may have just been
        # created or changed by another process, in which case we simply try again).
        bucket = RateLimitBucket.objects.filter(key=key).first()
        if bucket is None:
            _bucket_ensure(key)
            continue
        if bucket.circuit_open_until_us > now_us:
            wait = (bucket.circuit_open_until_us - now_us) / 1_000_000
            raise BlingCircuitOpen(
                status=None,
                error_type="circuit_open",
                message=(
                    f"Chamadas ao Bling suspensas por {wait:.0f} s após falhas seguidas "
                    "(protege contra o bloqueio de IP do Bling)."
                ),
            )
        per_day = int(settings.BLING_RATE_PER_DAY)
        if bucket.day == _bling_day(now_us) and bucket.day_calls >= per_day:
            raise BlingRateLimited(
                status=None,
                error_type="TOO_MANY_REQUESTS",
                message=f"Limite diário de {per_day} chamadas ao Bling atingido; continua amanhã.",
                period="day",
            )


def ratelimit_acquire(*, key: str = DEFAULT_KEY) -> int:
    """Wait for this process's turn to send one request to Bling; returns the failures in a
    row counted so far (the caller reports a success with `circuit_success` only then).

    Raises BlingRateLimited(period="day") when today's budget is spent and BlingCircuitOpen
    while the circuit breaker is open; nothing is sent in either case.
    """
    while True:
        slot_us, failures = _reserve(key)
        wait = (slot_us - _now_us()) / 1_000_000
        if wait > 0:
            time.sleep(wait)
        late = (_now_us() - slot_us) / 1_000_000
        if late <= _LATE_SECONDS:
            return failures
        # Woke up too late (busy machine): sending now could crowd the next slots.
        logger.debug("bling rate limit: slot missed by %.3f s, taking a new one", late)


def ratelimit_backoff(*, seconds: float, key: str = DEFAULT_KEY) -> None:
    """Push every process's next slot at least `seconds` into the future (after a 429)."""
    until = _now_us() + int(seconds * 1_000_000)
    RateLimitBucket.objects.filter(key=key, last_slot_us__lt=until).update(last_slot_us=until)


def ratelimit_day_exhausted(*, key: str = DEFAULT_KEY) -> None:
    """Bling said the daily limit is reached: stop every process until tomorrow."""
    today = _bling_day(_now_us())
    RateLimitBucket.objects.filter(key=key).update(
        day=today, day_calls=int(settings.BLING_RATE_PER_DAY)
    )


def circuit_failure(*, key: str = DEFAULT_KEY) -> bool:
    """Count a failed call (5xx, timeout, connection error); opens the circuit for
    BLING_CIRCUIT_OPEN_SECONDS once BLING_CIRCUIT_FAILURES happen in a row. Returns whether
    the circuit is now open."""
    threshold = int(getattr(settings, "BLING_CIRCUIT_FAILURES", 10))
    open_us = int(float(getattr(settings, "BLING_CIRCUIT_OPEN_SECONDS", 60)) * 1_000_000)
    now_us = _now_us()
    RateLimitBucket.objects.filter(key=key).update(
        consecutive_failures=F("consecutive_failures") + 1,
        circuit_open_until_us=Case(
            When(
                consecutive_failures__gte=threshold - 1,
                then=Value(now_us + open_us, output_field=_BIG),
            ),
            default=F("circuit_open_until_us"),
            output_field=_BIG,
        ),
    )
    is_open = RateLimitBucket.objects.filter(key=key, circuit_open_until_us__gt=now_us).exists()
    if is_open:
        logger.warning("bling circuit breaker open after %s failures in a row", threshold)
    return is_open


def circuit_success(*, key: str = DEFAULT_KEY) -> None:
    """A call got an answer from Bling: close the circuit."""
    RateLimitBucket.objects.filter(key=key, consecutive_failures__gt=0).update(
        consecutive_failures=0, circuit_open_until_us=0
    )


def ratelimit_state(*, key: str = DEFAULT_KEY) -> RateLimitBucket | None:
    return RateLimitBucket.objects.filter(key=key).first()

"""The global Bling rate limit and circuit breaker, shared by every process through the DB.

Slot reservation: each call atomically takes the next free time slot in one transaction (a
conditional UPDATE that counts the day and locks the row, on SQLite by the IMMEDIATE
transaction, on PostgreSQL by the row lock; then the slot is computed from the row and stored)
and sleeps until it. Bling counts calls per second, so at the configured rate the slots follow
a window, not an even spacing: with `interval = (1 + BLING_RATE_MARGIN) / BLING_RATE_PER_SECOND`
and `calls` = the whole calls of one second, a call may go at once unless the call `calls`
slots before it is less than `calls x interval` old (3/s, margin 0.1: any 3 calls in 1.1 s,
the 4th 1.1 s after the 1st). So any `rate + 1` consecutive calls span at least `1 + margin`
seconds, as with an even spacing, and Bling's "3 per second" window never sees a 4th call even
when one reaches it up to `margin` seconds late; but a short piece of work (a product event's
five calls) sends its first calls back to back instead of one every 0.37 s. A caller that
wakes up later than `_LATE_SECONDS` after its slot takes a new one instead of sending late.
The same UPDATE counts the day (`BLING_RATE_PER_DAY`, Bling's day in America/Sao_Paulo) and
refuses while the circuit breaker is open. While slowed down by 429s (below), the slots are
evenly spaced at the slowed rate.

Adaptive rate (AIMD). Bling's limits are per ACCOUNT: another integration on the same account
uses part of the 3 calls/s, which our slots cannot see. A 429 `period: second` is the signal,
handled by `ratelimit_throttled` for every process at once through the same row:
- multiplicative decrease: the effective rate is multiplied by BLING_RATE_DECREASE (0.5), not
  below BLING_RATE_FLOOR (0.5/s). Only a call reserved after the latest decrease can decrease
  it again (calls already in flight at the old rate are answered 429 for the same cause);
- a pause: every process's next slot moves at least BLING_RATE_PAUSE_SECONDS (1 s, Bling's
  window) ahead, and a caller whose slot was reserved before the 429 takes a new one;
- additive increase: after each BLING_RATE_QUIET_SECONDS (10 s) without a 429 the rate climbs
  by BLING_RATE_STEP (0.1/s) up to the configured rate, but stays one step below the rate
  that got the latest 429 (the "ceiling") until BLING_RATE_PROBE_SECONDS (300 s) have passed
  without a 429: a neighbour that keeps its share costs one 429 per probe, not one per climb.
The 429s are counted (total, and their times over the last hour) in the row;
`ratelimit_state()` gives the figures for /health/ and the dashboard.

Do not call Bling inside an outer `transaction.atomic()`: the row lock would be held until
that transaction commits, stalling every other process's calls.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When

from blingsync.bling.errors import BlingCircuitOpen, BlingRateLimited
from blingsync.bling.models import RateLimitBucket

logger = logging.getLogger(__name__)

BLING_TZ = zoneinfo.ZoneInfo("America/Sao_Paulo")
DEFAULT_KEY = "bling"
_LATE_SECONDS = 0.04
_BIG = BigIntegerField()
_HOUR_US = 3_600_000_000
_RECENT_429S_KEPT = 1000  # 429 times kept for "in the last hour" (more means an IP block anyway)


class Reservation(NamedTuple):
    """A call slot: when to send (epoch µs), failures in a row so far, when it was reserved."""

    slot_us: int
    failures: int
    reserved_us: int


@dataclass(frozen=True)
class Throttle:
    """What one 429 did: the effective rate before and after, and the 429s in the last hour."""

    rate_before: float
    rate_after: float
    decreased: bool
    pause_seconds: float
    last_hour: int


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def _bling_day(now_us: int) -> date:
    return datetime.fromtimestamp(now_us / 1_000_000, BLING_TZ).date()


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _configured_rate() -> float:
    return max(float(settings.BLING_RATE_PER_SECOND), 0.001)


def _margin() -> float:
    return max(_setting("BLING_RATE_MARGIN", 0.1), 0.0)


def _interval_for(rate: float) -> int:
    """Slot spacing (µs) for a rate in calls/s, margin included."""
    return int(1_000_000 * (1.0 + _margin()) / max(rate, 0.001))


def _rate_for(interval_us: int) -> float:
    """The rate (calls/s) a spacing stands for: the inverse of `_interval_for` (to the
    thousandth, so the µs rounding of spacings does not drift the steps)."""
    return round(1_000_000 * (1.0 + _margin()) / max(interval_us, 1), 3)


def _interval_us() -> int:
    """Spacing at the configured rate (the smallest ever used)."""
    return _interval_for(_configured_rate())


def _floor_rate() -> float:
    return min(_setting("BLING_RATE_FLOOR", 0.5), _configured_rate())


def _effective_rate(throttled_interval_us: int) -> float:
    base = _interval_us()
    if throttled_interval_us <= base:
        return _configured_rate()
    return _rate_for(throttled_interval_us)


def _bucket_ensure(key: str) -> None:
    if not RateLimitBucket.objects.filter(key=key).exists():
        try:
            with transaction.atomic():
                RateLimitBucket.objects.create(key=key)
        except IntegrityError:
            pass  # another process created it first


def _climb(key: str, row: Mapping[str, Any], now_us: int) -> None:
    """Additive increase, in the reserving transaction (row locked): one step per quiet
    interval since the latest 429 or rate change, one step below the ceiling until the probe
    period has passed, up to the configured rate."""
    quiet_us = int(_setting("BLING_RATE_QUIET_SECONDS", 10.0) * 1_000_000)
    quiet_since = max(row["last_429_us"], row["rate_changed_us"])
    steps = (now_us - quiet_since) // max(quiet_us, 1)
    if steps < 1:
        return
    step = _setting("BLING_RATE_STEP", 0.1)
    rate = _effective_rate(row["throttled_interval_us"])
    target = rate + steps * step
    ceiling_us = row["ceiling_interval_us"]
    probe_us = int(_setting("BLING_RATE_PROBE_SECONDS", 300.0) * 1_000_000)
    if ceiling_us and now_us - row["last_429_us"] < probe_us:
        target = min(target, max(rate, _rate_for(ceiling_us) - step))
    else:
        ceiling_us = 0
    interval = 0 if target >= _configured_rate() else _interval_for(target)
    RateLimitBucket.objects.filter(key=key).update(
        throttled_interval_us=interval, ceiling_interval_us=ceiling_us, rate_changed_us=now_us
    )
    if interval != row["throttled_interval_us"]:
        logger.info(
            "bling rate limit: effective rate up %.2f -> %.2f/s",
            rate,
            min(target, _configured_rate()),
        )


def _window_us() -> tuple[int, int]:
    """(calls, span µs): at the configured rate, `calls` = the whole calls of one second may
    go inside any `span` = calls x the spacing (for 3/s with a 10% margin: 3 calls per 1.1 s)."""
    calls = max(int(_configured_rate()), 1)
    return calls, calls * _interval_us()


def _next_slot(row: Mapping[str, Any], now_us: int) -> tuple[int, list[int]]:
    """The slot for a call reserved at `now_us` and the recent slots to store with it.

    At the configured rate (not slowed down by a 429): the call goes at once unless the
    call `calls` slots back is less than one window old (Bling counts calls per second, so
    the five calls of a product event go three back to back, then two a window later, instead
    of one every 0.37 s). Slowed down: one slot every throttled spacing, as before. Never
    before `last_slot_us` (the pause after a 429 moves it ahead)."""
    calls, span = _window_us()
    throttled = row["throttled_interval_us"] > _interval_us()
    if throttled:
        slot = max(now_us, row["last_slot_us"] + row["throttled_interval_us"])
        return slot, [slot]
    recent = [int(t) for t in row["recent_slots_us"] or []][-calls:]
    slot = max(now_us, row["last_slot_us"])
    if len(recent) >= calls:
        slot = max(slot, recent[-calls] + span)
    return slot, [*recent, slot][-calls:]


def _reserve_once(key: str, now_us: int) -> Reservation | None:
    """One attempt: the conditional UPDATE (open circuit, day budget; it counts the call and
    locks the row until commit, on SQLite by the IMMEDIATE transaction), then the slot,
    computed from the locked row and stored; None when the UPDATE matched no row."""
    today = _bling_day(now_us)
    per_day = int(settings.BLING_RATE_PER_DAY)
    with transaction.atomic():
        updated = (
            RateLimitBucket.objects.filter(key=key, circuit_open_until_us__lte=now_us)
            .filter(~Q(day=today) | Q(day__isnull=True) | Q(day_calls__lt=per_day))
            .update(
                day_calls=Case(When(day=today, then=F("day_calls") + 1), default=Value(1)),
                day=today,
            )
        )
        if not updated:
            return None
        row = RateLimitBucket.objects.values(
            "last_slot_us",
            "recent_slots_us",
            "consecutive_failures",
            "throttled_interval_us",
            "ceiling_interval_us",
            "last_429_us",
            "rate_changed_us",
        ).get(key=key)
        # "Now" once the row is ours: the wait for the lock (other processes reserving) must
        # not make this caller late for its own slot (a late caller takes another slot, and
        # the one it leaves still counts in the window).
        slot, recent = _next_slot(row, max(now_us, _now_us()))
        RateLimitBucket.objects.filter(key=key).update(last_slot_us=slot, recent_slots_us=recent)
        if row["throttled_interval_us"] or row["ceiling_interval_us"]:
            _climb(key, row, now_us)
        return Reservation(slot_us=slot, reserved_us=now_us, failures=row["consecutive_failures"])


def _reserve(key: str) -> Reservation:
    """Reserve the next slot, or raise when the daily limit is reached or the circuit is
    open."""
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


def ratelimit_slot_acquire(*, key: str = DEFAULT_KEY) -> Reservation:
    """Wait for this process's turn to send one request to Bling; returns the reservation
    (the client hands it to `ratelimit_throttled` if Bling answers 429).

    Raises BlingRateLimited(period="day") when today's budget is spent and BlingCircuitOpen
    while the circuit breaker is open; nothing is sent in either case.
    """
    while True:
        reservation = _reserve(key)
        wait = (reservation.slot_us - _now_us()) / 1_000_000
        if wait > 0:
            time.sleep(wait)
            # A 429 since we reserved: the slot belongs to the old rate and falls in the pause.
            if RateLimitBucket.objects.filter(
                key=key, last_429_us__gt=reservation.reserved_us
            ).exists():
                logger.debug("bling rate limit: 429 while waiting, taking a new slot")
                continue
        late = (_now_us() - reservation.slot_us) / 1_000_000
        if late <= _LATE_SECONDS:
            return reservation
        # Woke up too late (busy machine): sending now could crowd the next slots.
        logger.debug("bling rate limit: slot missed by %.3f s, taking a new one", late)


def ratelimit_acquire(*, key: str = DEFAULT_KEY) -> int:
    """`ratelimit_slot_acquire`, returning only the failures in a row counted so far (the
    caller reports a success with `circuit_success` only then)."""
    return ratelimit_slot_acquire(key=key).failures


def ratelimit_throttled(*, reserved_us: int, key: str = DEFAULT_KEY) -> Throttle:
    """Bling answered 429 `period: second` to a call reserved at `reserved_us`: count it,
    pause every process and, unless the rate was already lowered after that call was
    reserved, lower the effective rate (multiplicative decrease, floor BLING_RATE_FLOOR)."""
    pause_s = max(_setting("BLING_RATE_PAUSE_SECONDS", 1.0), 1.0)
    _bucket_ensure(key)
    with transaction.atomic():
        row = RateLimitBucket.objects.select_for_update().get(key=key)
        now_us = _now_us()
        current = max(row.throttled_interval_us, _interval_us())
        rate_before = _effective_rate(row.throttled_interval_us)
        recent = [t for t in row.recent_429s or [] if t * 1_000_000 > now_us - _HOUR_US]
        recent = [*recent[-(_RECENT_429S_KEPT - 1) :], round(now_us / 1_000_000, 3)]
        fields: dict = {
            "last_429_us": now_us,
            "rate_limited_total": F("rate_limited_total") + 1,
            "recent_429s": recent,
            "last_slot_us": max(row.last_slot_us, now_us + int(pause_s * 1_000_000)),
        }
        decreased = reserved_us >= row.decreased_us
        rate_after = rate_before
        if decreased:
            factor = min(max(_setting("BLING_RATE_DECREASE", 0.5), 0.1), 0.9)
            rate_after = max(_floor_rate(), rate_before * factor)
            fields.update(
                throttled_interval_us=max(_interval_for(rate_after), current),
                ceiling_interval_us=current,
                decreased_us=now_us,
                rate_changed_us=now_us,
            )
        RateLimitBucket.objects.filter(pk=row.pk).update(**fields)
    return Throttle(
        rate_before=rate_before,
        rate_after=rate_after,
        decreased=decreased,
        pause_seconds=pause_s,
        last_hour=len(recent),
    )


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


def _iso(epoch_us: int) -> str | None:
    return datetime.fromtimestamp(epoch_us / 1_000_000, UTC).isoformat() if epoch_us else None


def ratelimit_state(*, key: str = DEFAULT_KEY) -> dict:
    """The limiter as /health/ and the dashboard show it (JSON-serialisable): configured and
    effective rate (calls/s), whether it is slowed down, 429s in the last hour and in total,
    the latest 429, today's calls, and the circuit breaker."""
    bucket = RateLimitBucket.objects.filter(key=key).first() or RateLimitBucket(key=key)
    now_us = _now_us()
    configured = _configured_rate()
    effective = _effective_rate(bucket.throttled_interval_us)
    today = _bling_day(now_us)
    circuit_open = bucket.circuit_open_until_us > now_us
    return {
        "configured_rate": configured,
        "effective_rate": round(effective, 3),
        "throttled": effective < configured,
        "rate_limited_last_hour": sum(
            1 for t in bucket.recent_429s or [] if t * 1_000_000 > now_us - _HOUR_US
        ),
        "rate_limited_total": bucket.rate_limited_total,
        "last_rate_limited_at": _iso(bucket.last_429_us),
        "day_calls": bucket.day_calls if bucket.day == today else 0,
        "day_limit": int(settings.BLING_RATE_PER_DAY),
        "circuit": "open" if circuit_open else "closed",
        "circuit_open_until": _iso(bucket.circuit_open_until_us) if circuit_open else None,
        "consecutive_failures": bucket.consecutive_failures,
    }

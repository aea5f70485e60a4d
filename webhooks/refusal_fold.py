"""Folding a flood of refused requests: a few rows a minute per address, and their count.

An address that already left `ROWS_PER_MINUTE` refused rows in the last minute gets no more
rows: each further refusal adds one to `repeats` of its latest row. To keep a flood from
writing to the database at all, the decision is remembered in this process for
`FOLD_MEMORY` and the counts are added in one UPDATE per address every `FLUSH_EVERY`
(a refusal's count reaches the database at most that late: the next refusal or a timer
thread writes it). A process that exits normally
(gunicorn's graceful stop) writes what is pending; one that is killed loses at most its
last second of counts: counts of junk, never an event.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import F

from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

ROWS_PER_MINUTE = 10
FOLD_MEMORY = 30.0  # seconds a fold decision is reused before the database is asked again
FLUSH_EVERY = 1.0  # seconds between the UPDATEs that add pending counts


@dataclass
class _Fold:
    pk: int
    until: float  # time.monotonic() after which the database decides again
    pending: int = 0
    flushed_at: float = 0.0


_folds: dict[str | None, _Fold] = {}
_lock = threading.RLock()  # _timer_arm runs with it held
_timer: threading.Timer | None = None


def _rows_last_minute(remote_addr: str | None, now: datetime) -> list[int]:
    recent = WebhookEvent.objects.filter(
        signature_valid=False, received_at__gte=now - timedelta(minutes=1)
    )
    if remote_addr:
        recent = recent.filter(remote_addr=remote_addr)
    else:
        recent = recent.filter(remote_addr__isnull=True)
    return list(recent.order_by("-received_at").values_list("pk", flat=True)[:ROWS_PER_MINUTE])


def _add(pk: int, n: int) -> bool:
    return bool(WebhookEvent.objects.filter(pk=pk).update(repeats=F("repeats") + n))


def refusal_fold(*, remote_addr: str | None, now: datetime) -> bool:
    """True when this refusal is only counted (on the address's latest row); False when it
    gets a row of its own."""
    mono = time.monotonic()
    with _lock:
        fold = _folds.get(remote_addr)
        if fold is not None and mono < fold.until:
            fold.pending += 1
            flush = mono - fold.flushed_at >= FLUSH_EVERY
            if not flush:
                _timer_arm()  # the flood may stop here: its count still reaches the database
                return True
    if fold is not None:
        _flush_one(remote_addr)  # still valid: its time to flush; expired: its last counts
        if mono < fold.until:
            return True
    ids = _rows_last_minute(remote_addr, now)
    if len(ids) < ROWS_PER_MINUTE or not _add(ids[0], 1):
        with _lock:
            _folds.pop(remote_addr, None)
        return False
    with _lock:
        _folds[remote_addr] = _Fold(pk=ids[0], until=mono + FOLD_MEMORY, flushed_at=mono)
    return True


def _flush_one(remote_addr: str | None) -> None:
    with _lock:
        fold = _folds.get(remote_addr)
        if fold is None or not fold.pending:
            return
        pk, n = fold.pk, fold.pending
        fold.pending, fold.flushed_at = 0, time.monotonic()
    try:
        if not _add(pk, n):  # the row is gone (purged): decide afresh next time
            with _lock:
                _folds.pop(remote_addr, None)
    except Exception as exc:  # noqa: BLE001 - counts of junk are not worth an error
        logger.warning("could not add %d folded refusals: %s", n, type(exc).__name__)


def refusals_flush() -> None:
    """Write this process's pending counts now (before counting refusals)."""
    with _lock:
        addresses = [addr for addr, fold in _folds.items() if fold.pending]
    for addr in addresses:
        _flush_one(addr)


def _timer_arm() -> None:
    global _timer
    with _lock:
        if _timer is not None:
            return
        _timer = threading.Timer(FLUSH_EVERY, _timer_fire)
        _timer.daemon = True
        _timer.start()


def _timer_fire() -> None:
    global _timer
    with _lock:
        _timer = None
    try:
        refusals_flush()
    finally:
        connections.close_all()  # this thread's connection only


def refusal_folds_forget() -> None:
    """Drop what this process remembers (tests: each starts from the database's state)."""
    global _timer
    with _lock:
        _folds.clear()
        if _timer is not None:
            _timer.cancel()
            _timer = None


@atexit.register
def _flush_at_exit() -> None:
    try:
        refusals_flush()
    except Exception:  # noqa: BLE001 - the process is going away; nothing to report to
        pass

"""Folding a flood of refused requests: a few rows a minute per network, and their count.

Refusals are counted per sending network (`refusal_network`): an IPv4 address, or the /64
of an IPv6 address (one host or customer line holds a whole /64 and can send from any of
its 2^64 addresses). A network that already left `ROWS_PER_MINUTE` refused rows in the last
minute gets no more rows: each further refusal adds one to `repeats` of its latest row. To
keep a flood from writing to the database at all, the decision is remembered in this
process for `FOLD_MEMORY` and the counts are added in one UPDATE per network every
`FLUSH_EVERY`
(a refusal's count reaches the database at most that late: the next refusal or a timer
thread writes it). A process that exits normally
(gunicorn's graceful stop) writes what is pending; one that is killed loses at most its
last second of counts: counts of junk, never an event.
"""

from __future__ import annotations

import atexit
import ipaddress
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


_folds: dict[str, _Fold] = {}  # by network
_lock = threading.RLock()  # _timer_arm runs with it held
_timer: threading.Timer | None = None


IPV6_NETWORK_PREFIX = 64


def refusal_network(remote_addr: str | None) -> str:
    """The sending network of `remote_addr`: the IPv4 address itself ("203.0.113.9"), the
    /64 of an IPv6 address ("2001:db8:1:2::/64"; an IPv4-mapped one is its IPv4), "" when
    there is no usable address."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_NETWORK_PREFIX}", strict=False))
    return str(address)


def _rows_last_minute(network: str, now: datetime) -> list[int]:
    recent = WebhookEvent.objects.filter(
        signature_valid=False, received_at__gte=now - timedelta(minutes=1), remote_network=network
    )
    return list(recent.order_by("-received_at").values_list("pk", flat=True)[:ROWS_PER_MINUTE])


def _add(pk: int, n: int) -> bool:
    return bool(WebhookEvent.objects.filter(pk=pk).update(repeats=F("repeats") + n))


def refusal_fold(*, network: str, now: datetime) -> bool:
    """True when this refusal is only counted (on its network's latest row); False when it
    gets a row of its own. `network` is `refusal_network` of the sender's address."""
    mono = time.monotonic()
    with _lock:
        fold = _folds.get(network)
        if fold is not None and mono < fold.until:
            fold.pending += 1
            flush = mono - fold.flushed_at >= FLUSH_EVERY
            if not flush:
                _timer_arm()  # the flood may stop here: its count still reaches the database
                return True
    if fold is not None:
        _flush_one(network)  # still valid: its time to flush; expired: its last counts
        if mono < fold.until:
            return True
    ids = _rows_last_minute(network, now)
    if len(ids) < ROWS_PER_MINUTE or not _add(ids[0], 1):
        with _lock:
            _folds.pop(network, None)
        return False
    with _lock:
        _folds[network] = _Fold(pk=ids[0], until=mono + FOLD_MEMORY, flushed_at=mono)
    return True


def _flush_one(network: str) -> None:
    with _lock:
        fold = _folds.get(network)
        if fold is None or not fold.pending:
            return
        pk, n = fold.pk, fold.pending
        fold.pending, fold.flushed_at = 0, time.monotonic()
    try:
        if not _add(pk, n):  # the row is gone (purged): decide afresh next time
            with _lock:
                _folds.pop(network, None)
    except Exception as exc:  # noqa: BLE001 - counts of junk are not worth an error
        logger.warning("could not add %d folded refusals: %s", n, type(exc).__name__)


def refusals_flush() -> None:
    """Write this process's pending counts now (before counting refusals)."""
    with _lock:
        networks = [net for net, fold in _folds.items() if fold.pending]
    for net in networks:
        _flush_one(net)


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

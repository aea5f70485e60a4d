"""Signed webhook deliveries at a fixed rate, with duplicates and bad signatures, timed.

A plan is a list of ``Delivery`` (raw body + signature header or none). ``send_plan`` fires
them at ``rate`` per second from a pool of threads (open-loop: a slow answer does not delay the
next send), bounded by ``max_seconds``, and records status and latency of each. Bodies are the
fake's envelope (``fake.webhook_body``) signed with ``fake.sign`` -- the same HMAC as Bling.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.fakebling import FakeBling

SIGNATURE_HEADER = "X-Bling-Signature-256"


@dataclass
class Delivery:
    kind: str  # "valid", "duplicate", "bad_signature", "missing_signature", "hostile"
    event_id: str
    body: bytes
    signature: str | None
    event: str = ""
    expect: tuple[int, ...] = (200,)
    label: str = ""
    status: int = -1  # -1 not sent, 0 no HTTP answer
    latency_ms: float = 0.0
    lag_ms: float = 0.0  # how late the send started against its slot
    response: bytes = b""


def valid(fake: FakeBling, event: str, data: Any, event_id: str | None = None) -> Delivery:
    eid = event_id or str(uuid.uuid4())
    body = fake.webhook_body(event, data, eid)
    return Delivery("valid", eid, body, fake.sign(body), event=event)


def duplicate_of(original: Delivery) -> Delivery:
    return Delivery(
        "duplicate", original.event_id, original.body, original.signature, event=original.event
    )


def bad_signature(fake: FakeBling, event: str, data: Any) -> Delivery:
    eid = str(uuid.uuid4())
    body = fake.webhook_body(event, data, eid)
    sig = fake.sign(body, secret=fake.client_secret + "-wrong")
    return Delivery("bad_signature", eid, body, sig, event=event, expect=(401,))


def post(
    url: str,
    body: bytes,
    signature: str | None,
    timeout: float = 10,
    extra: dict[str, str] | None = None,
) -> tuple[int, bytes, float]:
    """One POST on a fresh connection (gunicorn's sync workers close after each answer)."""
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", "User-Agent": "blingsync-drill"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    headers.update(extra or {})
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        status = resp.status
    except (OSError, http.client.HTTPException) as exc:
        status, data = 0, str(exc).encode()
    finally:
        conn.close()
    return status, data, (time.perf_counter() - started) * 1000


def send_plan(
    url: str,
    plan: list[Delivery],
    *,
    rate: float,
    max_seconds: float,
    threads: int = 48,
    stop: threading.Event | None = None,
) -> float:
    """Send ``plan`` in order at ``rate``/s; returns the wall time. Unsent ones keep status -1."""
    started = time.monotonic()
    deadline = started + max_seconds

    def fire(item: Delivery, slot: float) -> None:
        item.lag_ms = max(0.0, (time.monotonic() - slot) * 1000)
        item.status, item.response, item.latency_ms = post(url, item.body, item.signature)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="drill-send") as pool:
        for i, item in enumerate(plan):
            slot = started + i / rate
            now = time.monotonic()
            if slot > deadline or now > deadline or (stop is not None and stop.is_set()):
                break
            if slot > now:
                time.sleep(slot - now)
            pool.submit(fire, item, slot)
    return time.monotonic() - started


def percentile(values: Iterable[float], pct: float) -> float:
    data = sorted(values)
    if not data:
        return 0.0
    k = min(len(data) - 1, max(0, round(pct / 100 * (len(data) - 1))))
    return data[k]


def shuffled_with_duplicates(
    originals: list[Delivery], extras: list[Delivery], dup_share: float, seed: int = 7
) -> list[Delivery]:
    """Mix: originals, their duplicates (``dup_share`` of the total), extras; duplicates always
    come after their original in send order, some right after (near-simultaneous copies)."""
    rng = random.Random(seed)
    total_dups = int(round(dup_share * (len(originals) + len(extras)) / (1 - dup_share)))
    plan: list[Delivery] = originals + extras
    rng.shuffle(plan)
    for _ in range(total_dups):
        orig = rng.choice(originals)
        pos = plan.index(orig)
        offset = 1 if rng.random() < 0.3 else rng.randrange(1, max(2, len(plan) - pos))
        plan.insert(min(len(plan), pos + offset), duplicate_of(orig))
    return plan

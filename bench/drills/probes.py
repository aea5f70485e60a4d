"""What the app ended up holding: webhook events, job runs, codes (read through its own ORM).

Each probe is one ``manage.py shell`` run returning JSON, so the drill never depends on the
app's Python objects and can read a checkout other than the one it runs from.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench.drills.stack import Stack


def events_state(stack: Stack) -> dict[str, Any]:
    """Rows per status, signature failures, per-event attempts and audit rows by event."""
    return stack.django(
        """
from django.db.models import Count
from webhooks.models import WebhookEvent as E
fields = ["event_id", "status", "attempts", "signature_valid", "http_status", "next_attempt_at"]
fields += [f for f in ("repeats", "ignore_reason") if f in {x.name for x in E._meta.fields}]
rows = list(E.objects.values(*fields))
result = {"rows": rows, "pending": E.objects.filter(status__in=["pending", "processing"]).count()}
"""
    )


def _settled(row: dict[str, Any] | None) -> bool:
    """Processed, ignored, or failed for good (a failed event with a retry due is not)."""
    if row is None:
        return False
    if row["status"] == "failed":
        return not row.get("next_attempt_at")
    return row["status"] in ("processed", "ignored")


def wait_events_settled(
    stack: Stack, *, expected_ids: set[str], timeout: float, poll: float = 3.0
) -> tuple[dict[str, Any], float]:
    """Poll until every expected event is settled (or the timeout); returns the last state and
    the seconds waited."""
    started = time.monotonic()
    state: dict[str, Any] = {}
    while True:
        state = events_state(stack)
        by_id = {r["event_id"]: r for r in state["rows"] if r["event_id"]}
        open_ = [eid for eid in expected_ids if not _settled(by_id.get(eid))]
        if not open_ or time.monotonic() - started > timeout:
            return state, time.monotonic() - started
        time.sleep(poll)


def audit_by_event(stack: Stack) -> dict[str, Any]:
    """Audit rows written by webhook processing repeated for one (event, action, product)."""
    return stack.django(
        """
from django.db.models import Count
from blingsync.models import AuditLog
qs = AuditLog.objects.filter(source="webhook")
groups = list(qs.values("source_ref", "action", "bling_product_id").annotate(n=Count("id")).filter(n__gt=1))
result = {"total": qs.count(), "repeated": groups[:20], "repeated_count": len(groups)}
"""
    )


def codes_state(stack: Stack) -> dict[str, Any]:
    """Code assignments held by the app: duplicates per code and per product."""
    return stack.django(
        """
from django.db.models import Count
from products.models import CodeAssignment as A
fields = {f.name for f in A._meta.get_fields()}
pid = "bling_product_id" if "bling_product_id" in fields else "product_id"
rows = list(A.objects.values())
dup_codes = list(A.objects.values("code").annotate(n=Count("id")).filter(n__gt=1).values_list("code", flat=True))
dup_products = list(A.objects.values(pid).annotate(n=Count("id")).filter(n__gt=1).values_list(pid, flat=True))
result = {"count": len(rows), "dup_codes": dup_codes, "dup_products": dup_products, "rows": rows, "pid": pid}
"""
    )


def fake_codes(stack: Stack) -> dict[str, Any]:
    """What Bling (the fake) holds: products without code, codes used twice, code writes."""
    fake = stack.fake
    with fake.lock:
        products = {pid: dict(p) for pid, p in fake.products.items()}
    codes = Counter(p.get("codigo") for p in products.values() if p.get("codigo"))
    dup = sorted(c for c, n in codes.items() if n > 1)
    patches = [
        r
        for r in fake.calls(method="PATCH", prefix="/produtos/")
        if not r.path.endswith("situacoes")
    ]
    per_product = Counter(r.path for r in patches)
    values: dict[str, set[str]] = {}
    for r in patches:
        if isinstance(r.json, dict) and "codigo" in r.json and r.status < 300:
            values.setdefault(r.path, set()).add(str(r.json["codigo"]))
    return {
        "products_two_codes": sorted(p for p, v in values.items() if len(v) > 1),
        "without_code": sorted(pid for pid, p in products.items() if not p.get("codigo")),
        "duplicate_codes": dup,
        "code_writes": len(patches),
        "products_written_twice": sorted(p for p, n in per_product.items() if n > 1),
    }


def job_runs(stack: Stack, kind: str) -> list[dict[str, Any]]:
    return stack.django(
        f"""
from blingsync.models import JobRun
result = list(JobRun.objects.filter(kind={kind!r}).order_by("id").values(
    "id", "status", "trigger", "seen", "changed", "skipped", "errors", "api_calls", "error",
    "started_at", "finished_at", "details"))
"""
    )


def wait_run_finished(
    stack: Stack, run_id: int, timeout: float, poll: float = 2.0
) -> dict[str, Any]:
    started = time.monotonic()
    while True:
        row = stack.django(
            f"""
from blingsync.models import JobRun
result = JobRun.objects.filter(pk={run_id}).values(
    "id", "status", "seen", "changed", "skipped", "errors", "api_calls", "error", "details",
    "started_at", "finished_at").first()
"""
        )
        if row and row["status"] in ("succeeded", "failed", "skipped", "interrupted"):
            return row
        if time.monotonic() - started > timeout:
            return row or {}
        time.sleep(poll)


def queue_job(stack: Stack, kind: str, params: dict[str, Any] | None = None) -> int:
    """Queue a run for the qcluster as the admin's "run now" does; returns its id."""
    return stack.django(
        f"""
from blingsync.jobrunner import job_run_queue
run = job_run_queue(kind={kind!r}, trigger="admin", params={params or {}!r}, requested_by="drill")
result = run.pk
"""
    )


def connection_state(stack: Stack) -> dict[str, Any]:
    return stack.django(
        """
from blingsync.models import BlingConnection
c = BlingConnection.objects.order_by("pk").first()
result = None if c is None else {"status": c.status, "last_refresh_ok": c.last_refresh_ok,
    "last_refresh_error": c.last_refresh_error[:300], "expires_at": c.expires_at}
"""
    )


def breaker_state(stack: Stack) -> dict[str, Any]:
    """The shared circuit breaker of the Bling client, read from its database row."""
    return stack.django(
        """
import time
from blingsync.models import RateLimitBucket
rows = list(RateLimitBucket.objects.values())
now_us = int(time.time() * 1_000_000)
result = [{"key": r.get("key"), "consecutive_failures": r.get("consecutive_failures"),
           "open": (r.get("circuit_open_until_us") or 0) > now_us} for r in rows]
"""
    )


def recover_fast_forward(stack: Stack, minutes: int = 11) -> dict[str, Any]:
    """What the `events` job does (re-queue stuck events, run due stock evaluations), with the
    clock moved ``minutes`` ahead so claims held by killed workers count as stale."""
    return stack.django(
        f"""
from datetime import timedelta
from django.utils import timezone
from webhooks.maintenance import events_recover
from products.stock_evaluations import stock_evaluations_run_due
ff = timezone.now() + timedelta(minutes={minutes})
result = {{"events": events_recover(now=ff), "evaluations": stock_evaluations_run_due(now=ff)}}
"""
    )


def wait_evaluations_done(stack: Stack, timeout: float) -> int:
    from bench.drills.scenario import stock_evaluations_open

    deadline = time.monotonic() + timeout
    left = stock_evaluations_open(stack)
    while left and time.monotonic() < deadline:
        time.sleep(5)
        left = stock_evaluations_open(stack)
    return left

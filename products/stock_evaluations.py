"""Debounced sold-out evaluation: a burst of stock events for one product -> one evaluation.

A stock event records its movement in the ledger and then only *asks* for an evaluation of
the product (`stock_evaluation_request`). The first ask creates a `StockEvaluation` row due
`RuntimeSettings.stock_debounce_seconds` later and queues its task for then (the broker holds
it until due: `blingsync.task_queue.task_enqueue_at`); later asks inside the window
bump the row's `requests` counter and cost nothing. When the row is due, one evaluation runs
(`stock_evaluation_run`), which re-reads the product from Bling.

Nothing is lost: the counter doubles as a version. The evaluator remembers the value it saw
when it claimed the row and deletes the row only if it is unchanged afterwards; an ask that
arrived during the evaluation (which may have read Bling before that change) leaves the row
behind for one more evaluation. A claim is a lease (`blingsync.lease`) renewed while the
evaluation runs; a lost schedule or a killed evaluator is found by the recovery tick
(`stock_evaluations_recover`, every minute: rows whose `recover_at` has passed), and the
`events` job runs every due row as a safety net; both are registered in `products.recovery`. The window is fixed at the first ask (not
pushed back by every event), so a product under a steady stream of events is still evaluated
once per window.

Running an evaluation is an entry point: `stock_evaluation_run` resolves the mode
(`runtime.run_mode_resolve`: nothing runs while paused, dry-run as the installation or the
calling job says) and hands `dry_run` to the sold-out service. Webhook processing asks for
evaluations (`stock_evaluation_request`); the tasks are in `products.tasks`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from blingsync.audit import AuditSource, audit_source
from blingsync.lease import lease_end, lease_kept
from blingsync.models import AuditLog, RuntimeSettings
from blingsync.runtime import run_mode_resolve
from blingsync.task_queue import task_enqueue_at, task_queue_now
from products import soldout
from products.models import StockEvaluation

logger = logging.getLogger(__name__)

EVALUATE_TASK = "products.tasks.stock_evaluation_task"

MAX_ATTEMPTS = 5
RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 25, 125)]
# How long past its due time a row waits for its own schedule before recovery queues it,
# and how long recovery waits before queueing the same row again.
SCHEDULE_GRACE = timedelta(seconds=60)
REQUEUE_AGAIN = timedelta(minutes=3)


def _debounce() -> timedelta:
    return timedelta(seconds=RuntimeSettings.load().stock_debounce_seconds)


def stock_evaluation_enqueue(*, product_id: int) -> None:
    """Queue the sold-out evaluation of a product now (recovery of a lost or killed one).

    Best effort: a task that cannot be queued is found again by the recovery tick."""
    try:
        task_queue_now(
            func=EVALUATE_TASK, arg=product_id, task_name=f"stock-evaluation-{product_id}"
        )
    except Exception:
        logger.exception("could not queue the stock evaluation of %s; recovery retries", product_id)


def stock_evaluation_enqueue_at(*, product_id: int, when: datetime) -> None:
    """Queue the debounced sold-out evaluation of a product for `when`: the broker holds it
    until then and a worker takes it within its poll (not at the scheduler's next pass, up
    to 30 s later)."""
    task_enqueue_at(
        func=EVALUATE_TASK, arg=product_id, when=when, task_name=f"stock-evaluation-{product_id}"
    )


def _schedule(product_id: int, when: datetime) -> None:
    transaction.on_commit(lambda: stock_evaluation_enqueue_at(product_id=product_id, when=when))


def stock_evaluation_request(
    *, product_id: int, event_id: str = "", now: datetime | None = None
) -> bool:
    """Ask for a sold-out evaluation of a product within the debounce window.

    Returns True when this ask opened a new window (and scheduled the evaluation), False
    when it joined one already waiting. With a window of 0 seconds the evaluation runs at
    once, in this process.
    """
    now = now or timezone.now()
    delay = _debounce()
    due = now + delay
    for _attempt in range(3):
        try:
            with transaction.atomic():
                StockEvaluation.objects.create(
                    bling_product_id=product_id,
                    due_at=due,
                    recover_at=due + SCHEDULE_GRACE,
                    first_event_id=event_id[:100],
                )
        except IntegrityError:
            joined = StockEvaluation.objects.filter(bling_product_id=product_id).update(
                requests=F("requests") + 1
            )
            if joined:
                return False
            continue  # the row was deleted between our insert and update: try again
        if delay.total_seconds() <= 0:
            stock_evaluation_run(product_id=product_id, now=now)
        else:
            _schedule(product_id, due)
        return True
    raise RuntimeError(f"could not request a stock evaluation of product {product_id}")


def stock_evaluation_forget(*, product_id: int) -> None:
    """Drop the waiting evaluation of a product deleted in Bling (nothing left to evaluate).
    One being evaluated right now is left to finish: its evaluator owns the row."""
    StockEvaluation.objects.filter(bling_product_id=product_id, claimed_at__isnull=True).delete()


def _claimable(now: datetime) -> Q:
    # Unclaimed, or claimed by a worker whose lease ran out (killed: it stopped renewing).
    return Q(due_at__lte=now) & (Q(claimed_at__isnull=True) | Q(recover_at__lte=now))


def stock_evaluation_run(
    *, product_id: int, dry_run: bool | None = None, now: datetime | None = None
) -> str:
    """Run the waiting evaluation of a product if it is due.

    `dry_run`: what the caller asks for (None: nothing; the `events` job passes its run's),
    resolved with the installation's mode by `runtime.run_mode_resolve`.
    Returns "evaluated", "again" (asked again meanwhile: one more evaluation follows),
    "retry" / "failed" (the evaluation raised), "not_due" (not due, taken or gone) or
    "paused".
    """

    now = now or timezone.now()
    mode = run_mode_resolve(dry_run=dry_run)
    if mode.paused:
        return "paused"
    claimed = (
        StockEvaluation.objects.filter(bling_product_id=product_id)
        .filter(_claimable(now))
        .update(claimed_at=now, recover_at=lease_end(now=now))
    )
    if not claimed:
        return "not_due"
    row = StockEvaluation.objects.get(bling_product_id=product_id)
    seen = row.requests
    try:
        with (
            lease_kept(model=StockEvaluation, pk=row.pk, token=now),
            audit_source(AuditSource(source=AuditLog.Source.WEBHOOK, ref=row.first_event_id)),
        ):
            # Looked up on the module at each call (tests patch it there).
            soldout.product_stock_evaluate(product_id=product_id, dry_run=mode.dry_run)
    except Exception as exc:
        return _evaluation_failed(row, exc, now=now)

    deleted, _ = StockEvaluation.objects.filter(pk=row.pk, requests=seen).delete()
    if deleted:
        return "evaluated"
    # Asked again while we were evaluating: evaluate once more after a fresh window.
    delay = _debounce()
    again_at = timezone.now() + delay
    StockEvaluation.objects.filter(pk=row.pk).update(
        claimed_at=None, due_at=again_at, recover_at=again_at + SCHEDULE_GRACE, attempts=0
    )
    if delay.total_seconds() <= 0:
        stock_evaluation_run(product_id=product_id, dry_run=dry_run, now=max(now, again_at))
    else:
        _schedule(product_id, again_at)
    return "again"


def _evaluation_failed(row: StockEvaluation, exc: Exception, *, now: datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:4000]
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        # Giving up here is safe: the `stock` sweep reads every sold-out candidate anyway.
        StockEvaluation.objects.filter(pk=row.pk).delete()
        logger.error(
            "stock evaluation of product %s failed %d times, left to the stock sweep: %s",
            row.bling_product_id,
            attempts,
            error,
        )
        return "failed"
    when = now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    StockEvaluation.objects.filter(pk=row.pk).update(
        claimed_at=None,
        attempts=attempts,
        last_error=error,
        due_at=when,
        recover_at=when + SCHEDULE_GRACE,
    )
    _schedule(row.bling_product_id, when)
    logger.warning(
        "stock evaluation of product %s failed (attempt %d), retry at %s: %s",
        row.bling_product_id,
        attempts,
        when.isoformat(),
        error,
    )
    return "retry"


def stock_evaluations_due(*, now: datetime | None = None) -> list[int]:
    """Product ids whose evaluation is due and not taken by a live worker."""
    now = now or timezone.now()
    return list(
        StockEvaluation.objects.filter(_claimable(now))
        .order_by("due_at")
        .values_list("bling_product_id", flat=True)
    )


def stock_evaluations_run_due(
    *, dry_run: bool | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Run every due evaluation in this process (`dry_run` as for `stock_evaluation_run`);
    returns counts per outcome."""
    counts: dict[str, int] = {}
    for product_id in stock_evaluations_due(now=now):
        outcome = stock_evaluation_run(product_id=product_id, dry_run=dry_run, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def stock_evaluations_recover(*, now: datetime | None = None) -> dict[str, int]:
    """Take back evaluations whose claim's lease ran out and queue every row past its
    `recover_at` (a lost schedule, a killed evaluator); each is queued again at most every
    REQUEUE_AGAIN. Returns {"released": expired claims, "requeued": rows queued}."""
    now = now or timezone.now()
    released = StockEvaluation.objects.filter(recover_at__lte=now, claimed_at__isnull=False).update(
        claimed_at=None
    )
    if released:
        logger.warning("released %d stock evaluation(s) whose worker stopped", released)
    ids = list(
        StockEvaluation.objects.filter(recover_at__lte=now, claimed_at__isnull=True)
        .order_by("due_at")
        .values_list("pk", "bling_product_id")
    )
    StockEvaluation.objects.filter(pk__in=[pk for pk, _ in ids]).update(
        recover_at=now + REQUEUE_AGAIN
    )
    for _pk, product_id in ids:
        stock_evaluation_enqueue(product_id=product_id)
    return {"released": released, "requeued": len(ids)}

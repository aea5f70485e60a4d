"""The safety nets of the products app, registered with the recovery tick
(`blingsync.recovery`):
- stock evaluations: one whose schedule was lost or whose evaluator was killed is queued
  again within minutes, and the hourly `events` job runs every due one;
- write intents (`products.intents`): a situation write or a code write left open by a
  killed process is settled by reading Bling once its intent expired (`situations`,
  `codes`), from the minute tick, a starting cluster and `process_events` alike."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db.models import Max, QuerySet

from blingsync.bling.errors import BlingError
from blingsync.recovery import Recovery, register_recovery
from products.intents import INTENT_EXPIRES, code_claims_settle, stock_intents_settle
from products.models import CodeAssignment, ProductStockState, StockEvaluation
from products.stock_evaluations import stock_evaluations_recover, stock_evaluations_run_due

logger = logging.getLogger(__name__)


def stock_evaluations_waiting(now: datetime) -> QuerySet[Any, Any]:
    """Evaluations past their `recover_at` (partial index), as `values("pk")`."""
    return StockEvaluation.objects.filter(recover_at__lte=now).values("pk")


def stock_evaluations_held_until(now: datetime) -> datetime | None:
    return StockEvaluation.objects.filter(claimed_at__isnull=False, recover_at__gt=now).aggregate(
        m=Max("recover_at")
    )["m"]


register_recovery(
    Recovery(
        name="evaluations",
        waiting=stock_evaluations_waiting,
        recover=stock_evaluations_recover,
        sweep=stock_evaluations_run_due,
        sweep_note="stock_evaluations",
        held_until=stock_evaluations_held_until,
    )
)


def _settled_by_reading_bling(settle: Any, now: datetime) -> dict[str, int]:
    """Run a settlement; Bling unreachable or not connected: the next recovery retries."""
    try:
        return settle(now=now)
    except BlingError as exc:
        logger.warning("open write intents not settled now (Bling: %s); next recovery", exc)
        return {"unsettled": 1}


def situation_intents_waiting(now: datetime) -> QuerySet[Any, Any]:
    """Situation writes whose intent expired (indexed `intent_at`), as `values("pk")`."""
    return (
        ProductStockState.objects.filter(intent_at__lte=now - INTENT_EXPIRES)
        .exclude(intent_situation="")
        .values("pk")
    )


def situation_intents_settle(*, now: datetime) -> dict[str, int]:
    return _settled_by_reading_bling(stock_intents_settle, now)


def situation_intents_held_until(now: datetime) -> datetime | None:
    latest = ProductStockState.objects.exclude(intent_situation="").aggregate(m=Max("intent_at"))
    return latest["m"] + INTENT_EXPIRES if latest["m"] is not None else None


register_recovery(
    Recovery(
        name="situations",
        waiting=situation_intents_waiting,
        recover=situation_intents_settle,
        held_until=situation_intents_held_until,
        reclaim=situation_intents_settle,
    )
)


def code_claims_waiting(now: datetime) -> QuerySet[Any, Any]:
    """Code writes whose claim expired while `reserved` (indexed), as `values("pk")`."""
    return CodeAssignment.objects.filter(
        status=CodeAssignment.Status.RESERVED, write_claimed_until__lte=now
    ).values("pk")


def code_claims_recover(*, now: datetime) -> dict[str, int]:
    return _settled_by_reading_bling(code_claims_settle, now)


def code_claims_held_until(now: datetime) -> datetime | None:
    return CodeAssignment.objects.filter(
        status=CodeAssignment.Status.RESERVED, write_claimed_until__gt=now
    ).aggregate(m=Max("write_claimed_until"))["m"]


register_recovery(
    Recovery(
        name="codes",
        waiting=code_claims_waiting,
        recover=code_claims_recover,
        held_until=code_claims_held_until,
        reclaim=code_claims_recover,
    )
)

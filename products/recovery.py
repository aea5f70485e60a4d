"""The safety net of the stock evaluations, registered with the recovery tick
(`blingsync.recovery`): an evaluation whose schedule was lost or whose evaluator was killed
is queued again within minutes, and the hourly `events` job runs every due one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from blingsync.recovery import Recovery, register_recovery
from products.models import StockEvaluation
from products.stock_evaluations import stock_evaluations_recover, stock_evaluations_run_due


def stock_evaluations_waiting(now: datetime) -> QuerySet[Any, Any]:
    """Evaluations past their `recover_at` (partial index), as `values("pk")`."""
    return StockEvaluation.objects.filter(recover_at__lte=now).values("pk")


register_recovery(
    Recovery(
        name="evaluations",
        waiting=stock_evaluations_waiting,
        recover=stock_evaluations_recover,
        sweep=stock_evaluations_run_due,
        sweep_note="stock_evaluations",
    )
)

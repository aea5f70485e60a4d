"""django-q task entry points of the products app (thin: they call the services)."""

from __future__ import annotations

from blingsync.runtime import run_mode_resolve
from blingsync.write_gate import WriteAuthority, WritesStopped, write_scope
from products.soldout import NOT_SENT, SoldOutResult, product_stock_evaluate
from products.stock_evaluations import stock_evaluation_run


def stock_evaluation_task(product_id: int) -> str:
    """Run the debounced sold-out evaluation of a product once its window has passed."""
    return stock_evaluation_run(product_id=product_id)


def stock_evaluate_task(product_id: int) -> SoldOutResult:
    """Re-evaluate one product now (the admin's "reavaliar agora"), in the installation's
    mode. It reads and decides while paused (staff asked for it), but its write passes the
    brake like any other (`blingsync.write_gate`): paused, nothing is written and the result
    says so."""
    mode = run_mode_resolve(dry_run=None)
    try:
        with write_scope(authority=WriteAuthority.MODE):
            return product_stock_evaluate(product_id=product_id, dry_run=mode.dry_run)
    except WritesStopped as exc:
        return SoldOutResult(
            product_id, "keep", "paused", str(exc), mode.dry_run, error=f"{NOT_SENT}: {exc}"
        )

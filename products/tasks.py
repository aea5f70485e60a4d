"""django-q task entry points of the products app (thin: they call the services)."""

from __future__ import annotations

from blingsync.runtime import run_mode_resolve
from products.soldout import SoldOutResult, product_stock_evaluate
from products.stock_evaluations import stock_evaluation_run


def stock_evaluation_task(product_id: int) -> str:
    """Run the debounced sold-out evaluation of a product once its window has passed."""
    return stock_evaluation_run(product_id=product_id)


def stock_evaluate_task(product_id: int) -> SoldOutResult:
    """Re-evaluate one product now (the admin's "reavaliar agora"), in the installation's
    mode. It does not stop while paused: it never did (the action needs the live
    permission, and staff asked for it); whether it should is a question for SPEC 5.12."""
    mode = run_mode_resolve(dry_run=None)
    return product_stock_evaluate(product_id=product_id, dry_run=mode.dry_run)

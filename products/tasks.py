"""django-q task entry points of the products app (thin: they call the services)."""

from __future__ import annotations

from blingsync.runtime import mode_is_paused
from products.stock_evaluations import stock_evaluation_request, stock_evaluation_run


def stock_evaluation_task(product_id: int) -> str:
    """Run the debounced sold-out evaluation of a product once its window has passed."""
    return stock_evaluation_run(product_id=product_id)


def stock_evaluate_task(product_id: int) -> bool:
    """What the admin's "reavaliar agora" queued before it asked through the debounce row
    (kept: django-q stores the dotted path of a queued task). It asks as a stock event does,
    and nothing while paused."""
    if mode_is_paused():
        return False
    return stock_evaluation_request(product_id=product_id)

"""Job kinds of the products app, registered by importing the modules that define them:
codes, categories and seed_counters (code sweep), stock, orders and invoices (sold-out
sweep), plan and undo (plans)."""

from products import (  # noqa: F401
    category_sync,
    code_sweep,
    invoice_sweep,
    order_sweep,
    plan_apply,
    plan_undo,
    seed_counters,
    stock_sweep,
)

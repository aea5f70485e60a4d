"""Job kinds of the products app, registered by importing the modules that define them:
codes, categories and seed_counters (code sweep) and stock, orders and invoices (sold-out
sweep)."""

from products import (  # noqa: F401
    category_sync,
    code_sweep,
    invoice_sweep,
    order_sweep,
    seed_counters,
    stock_sweep,
)

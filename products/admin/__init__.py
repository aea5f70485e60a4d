"""Admin of the products app, one module per concern."""

from products.admin import categories, codes, evidence, kits, plans, stock_evaluations  # noqa: F401

"""Admin of the products app, one module per concern."""

from products.admin import categories, codes, evidence, kits, stock_evaluations  # noqa: F401

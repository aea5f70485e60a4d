"""Products models: category mirror and rules, code counters and assignments, the sold-out
evidence ledger."""

from products.models.categories import Category, CategoryRule
from products.models.codes import CodeAssignment, CodeCounter
from products.models.evidence import InvoiceRecord, ProductStockState, SaleLine, StockMovement

__all__ = [
    "Category",
    "CategoryRule",
    "CodeAssignment",
    "CodeCounter",
    "InvoiceRecord",
    "ProductStockState",
    "SaleLine",
    "StockMovement",
]

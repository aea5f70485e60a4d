"""Products models: category mirror and rules, code counters and assignments, the sold-out
evidence ledger, the kits (compositions) mirror."""

from products.models.categories import Category, CategoryRule
from products.models.codes import CodeAssignment, CodeCounter
from products.models.compositions import Composition, CompositionPart
from products.models.evidence import InvoiceRecord, ProductStockState, SaleLine, StockMovement

__all__ = [
    "Category",
    "CategoryRule",
    "CodeAssignment",
    "CodeCounter",
    "Composition",
    "CompositionPart",
    "InvoiceRecord",
    "ProductStockState",
    "SaleLine",
    "StockMovement",
]

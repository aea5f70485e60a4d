"""Products models: category mirror and rules, code counters and assignments, the sold-out
evidence ledger, the kits (compositions) mirror, the debounced stock evaluations waiting to run."""

from products.models.categories import Category, CategoryRule
from products.models.codes import CodeAssignment, CodeCounter
from products.models.compositions import Composition, CompositionPart
from products.models.evidence import InvoiceRecord, ProductStockState, SaleLine, StockMovement
from products.models.plans import PlanItem, PlanLeftAlone
from products.models.stock_evaluations import StockEvaluation

__all__ = [
    "Category",
    "CategoryRule",
    "CodeAssignment",
    "CodeCounter",
    "Composition",
    "CompositionPart",
    "InvoiceRecord",
    "PlanItem",
    "PlanLeftAlone",
    "ProductStockState",
    "SaleLine",
    "StockEvaluation",
    "StockMovement",
]

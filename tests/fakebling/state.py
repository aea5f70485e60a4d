"""In-memory state of the fake: catalog, balances, orders, request log records.

Everything mutable lives in one :class:`Catalog` guarded by the single ``FakeBling.lock``
(an RLock): handlers take it for their whole read-modify-write, so concurrent HTTP requests
from several client processes see a consistent catalog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import compositions

# Bling ids are large integers; distinct ranges per resource make mix-ups visible in tests.
PRODUCT_ID_START = 16_000_000_001
CATEGORY_ID_START = 8_000_001
DEPOSIT_ID_START = 14_000_000_001
ORDER_ID_START = 20_000_000_001
POSTING_ID_START = 12_000_000_001
INVOICE_ID_START = 30_000_000_001

SALES_MODULE_ID = 98310
# A situation of the account's own (real accounts: marketplace orders sit in one such as
# 452827 with `valor` 0, "em aberto", even after the goods left and the invoice exists:
# bling-v3.md 9b). The default situation of the fake's orders.
ACCOUNT_SITUATION_ID = 452827
DEFAULT_ORDER_SITUATIONS: dict[int, str] = {
    6: "Em aberto",
    9: "Atendido",
    12: "Cancelado",
    15: "Em andamento",
    ACCOUNT_SITUATION_ID: "Enviado ao marketplace",
}
SITUATION_COLORS: dict[int, str] = {
    6: "#E9DC40",
    9: "#3FB57A",
    12: "#F21D1D",
    15: "#2B9FD9",
    ACCOUNT_SITUATION_ID: "#8E44AD",
}
# A situation of the account's own inherits one of Bling's (`idHerdado`): here "Em aberto".
SITUATION_INHERITS: dict[int, int] = {ACCOUNT_SITUATION_ID: 6}
# `situacao.valor` of an order in those situations (0 em aberto, 1 atendido, 2 cancelado,
# 3 em andamento: the fake's reading; Bling's own table is UNCONFIRMED).
ORDER_SITUATION_VALUES: dict[int, int] = {6: 0, 9: 1, 12: 2, 15: 3, ACCOUNT_SITUATION_ID: 0}
# Marketplace orders carry 16-digit numbers (larger than a 32-bit integer): the fake's
# orders are numbered from here.
ORDER_NUMBER_START = 2_000_009_257_357_562


def bling_number(value: float) -> int | float:
    """A quantity as Bling writes it: whole numbers as integers (``"saldoFisicoTotal":6``)."""
    return int(value) if float(value).is_integer() else value


def now_str() -> str:
    """Bling's datetime format, local time, second resolution."""
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Recorded:
    """One HTTP request served by the fake (path is relative to /Api/v3)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int
    at: float


@dataclass
class TokenCall:
    """One POST /oauth/token request."""

    grant_type: str | None
    at: float
    status: int


@dataclass
class Catalog:
    """The fake account's data. Product records use Bling field names."""

    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    deposits: dict[int, dict[str, Any]] = field(default_factory=dict)
    # balances[product_id][deposit_id] = {"fisico": float, "virtual": float}
    balances: dict[int, dict[int, dict[str, float]]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    order_situations: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_ORDER_SITUATIONS))
    stock_postings: list[dict[str, Any]] = field(default_factory=list)
    # invoices["nfe" | "nfce"][id] = the detail record (Bling field names)
    invoices: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {"nfe": {}, "nfce": {}}
    )
    next_ids: dict[str, int] = field(
        default_factory=lambda: {
            "product": PRODUCT_ID_START,
            "category": CATEGORY_ID_START,
            "deposit": DEPOSIT_ID_START,
            "order": ORDER_ID_START,
            "posting": POSTING_ID_START,
            "invoice": INVOICE_ID_START,
        }
    )

    def allocate(self, kind: str, wanted: int | None = None) -> int:
        """Next id of ``kind``; an explicit ``wanted`` id pushes the counter past it."""
        if wanted is None:
            wanted = self.next_ids[kind]
        self.next_ids[kind] = max(self.next_ids[kind], wanted + 1)
        return wanted

    def default_deposit_id(self) -> int:
        for dep in self.deposits.values():
            if dep["padrao"]:
                return dep["id"]
        raise LookupError("no default deposit")

    def totals(self, product_id: int, deposit_id: int | None = None) -> tuple[float, float]:
        """(fisico, virtual) of one product, all deposits or one.

        A parent with variations holds no stock of its own in Bling; its totals are the sum of
        its variations' (a fake choice: the real parent figure is UNCONFIRMED). A virtual-stock
        kit's are computed from its components (``compositions.virtual_kit_totals``).
        """
        ids = [product_id]
        prod = self.products.get(product_id)
        if prod is not None and prod["formato"] == "E" and compositions.is_virtual_kit(prod):
            return compositions.virtual_kit_totals(self, prod, deposit_id)
        if prod is not None and prod["formato"] == "V":  # only parents need the O(n) scan
            ids += [p["id"] for p in self.products.values() if p.get("idProdutoPai") == product_id]
        fisico = virtual = 0.0
        for pid in ids:
            for dep_id, bal in self.balances.get(pid, {}).items():
                if deposit_id is None or dep_id == deposit_id:
                    fisico += bal["fisico"]
                    virtual += bal["virtual"]
        return fisico, virtual

    def category_of(self, product: dict[str, Any]) -> int:
        """Effective category id; variations use their parent's category."""
        parent_id = product.get("idProdutoPai")
        if parent_id and parent_id in self.products:
            return self.products[parent_id]["categoria"]["id"]
        return product["categoria"]["id"]

    def touch(self, product_id: int) -> None:
        """Every product write moves dataAlteracao (the integration's sweep relies on it)."""
        if product_id in self.products:
            self.products[product_id]["dataAlteracao"] = now_str()

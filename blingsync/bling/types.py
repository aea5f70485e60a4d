"""Plain data the client returns: Bling's Portuguese fields translated once, here.

`codigo` -> code, `situacao` -> situation, `idProdutoPai` -> parent_id,
`categoria.id` -> category_id, `estoque.saldoVirtualTotal` -> available_stock,
`estrutura` -> structure (`tipoEstoque` -> stock_type, `lancamentoEstoque` -> posting,
`componentes[].produto.id` / `quantidade` -> parts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class ProductSituation(StrEnum):
    """`situacao` of a product. A StrEnum: it compares equal to the letter Bling sends."""

    ACTIVE = "A"
    INACTIVE = "I"
    EXCLUDED = "E"


class ProductFormat(StrEnum):
    """`formato` of a product."""

    SIMPLE = "S"
    WITH_VARIATIONS = "V"
    COMPOSITION = "E"


class StockType(StrEnum):
    """`estrutura.tipoEstoque` of a composition."""

    PHYSICAL = "F"
    VIRTUAL = "V"  # computed from the parts


class StockPosting(StrEnum):
    """`estrutura.lancamentoEstoque` of a composition: where a kit's sale posts its stock."""

    PRODUCT_AND_PARTS = "A"
    PARTS_ONLY = "M"
    PRODUCT_ONLY = "P"


@dataclass(frozen=True)
class StructurePart:
    """One component of a composition: `quantidade` units of product `produto.id`."""

    product_id: int
    quantity: Decimal


@dataclass(frozen=True)
class ProductStructure:
    """`estrutura` of a composition (`formato` "E"), only in the product detail."""

    stock_type: str  # tipoEstoque: "F" physical, "V" virtual (computed from the parts)
    posting: str  # lancamentoEstoque: "A" product and parts, "M" parts only, "P" product only
    parts: tuple[StructurePart, ...] = ()


@dataclass(frozen=True)
class BlingProduct:
    id: int
    name: str
    code: str  # "" when the product has no code (Bling may send "", null or nothing)
    situation: str  # "A" active, "I" inactive, "E" excluded
    format: str  # "S" simple, "V" with variations, "E" composition
    parent_id: int | None = None  # set on variations
    category_id: int | None = None  # only known from the detail call (list items lack it)
    available_stock: Decimal | None = None  # estoque.saldoVirtualTotal
    variations: tuple[BlingProduct, ...] = field(default=())
    structure: ProductStructure | None = None  # detail of a composition only

    @property
    def has_code(self) -> bool:
        return bool(self.code.strip())

    @property
    def is_variation(self) -> bool:
        return self.parent_id is not None


@dataclass(frozen=True)
class BlingCategory:
    id: int
    description: str
    parent_id: int | None  # None for a top-level category


@dataclass(frozen=True)
class Deposit:
    id: int
    description: str  # descricao
    default: bool = False  # padrao


@dataclass(frozen=True)
class DepositBalance:
    deposit_id: int
    physical: Decimal
    available: Decimal


@dataclass(frozen=True)
class StockBalance:
    product_id: int
    code: str
    physical_total: Decimal
    available_total: Decimal  # saldoVirtualTotal: physical minus reservations
    deposits: tuple[DepositBalance, ...] = ()


@dataclass(frozen=True)
class OrderSummary:
    id: int
    number: str
    date: date | None
    situation_id: int | None


@dataclass(frozen=True)
class OrderItem:
    product_id: int | None
    code: str
    quantity: Decimal


@dataclass(frozen=True)
class Order:
    id: int
    number: str
    date: date | None
    situation_id: int | None
    items: tuple[OrderItem, ...]
    situation_value: int | None = None  # `situacao.valor`: 0 em aberto, 1 atendido, 2 cancelado
    invoice_id: int | None = None  # `notaFiscal.id`: the NF-e / NFC-e issued from the order
    store_number: str = ""  # `numeroLoja`: the order's number in the store (marketplace)


@dataclass(frozen=True)
class InvoiceSummary:
    """A list item of GET /nfe or /nfce (no items). `kind` is "nfe" or "nfce"."""

    kind: str
    id: int
    number: str
    situation: int | None  # 1 pendente, 2 cancelada, 4 rejeitada, 5 autorizada, 6, 7, ...
    issued_on: date | None  # `dataEmissao`


@dataclass(frozen=True)
class InvoiceItem:
    code: str  # `itens[].codigo`: the SKU (invoices carry no product id)
    quantity: Decimal
    item_type: str = "P"  # `tipo`: P product, S service


@dataclass(frozen=True)
class Invoice:
    kind: str
    id: int
    number: str
    situation: int | None
    issued_on: date | None
    operation_type: int | None  # `tipo`: 0 entrada, 1 saída
    purpose: int | None  # `finalidade`: 1 normal, 4 devolução, ...
    store_order_number: str  # `numeroPedidoLoja`
    items: tuple[InvoiceItem, ...]


@dataclass(frozen=True)
class OrderSituation:
    id: int
    name: str


@dataclass(frozen=True)
class SituationAlert:
    """A per-product failure of a batch situation change (HTTP 200 with `alertas`)."""

    product_id: int
    error_type: str
    message: str


@dataclass(frozen=True)
class Company:
    id: str
    name: str


@dataclass(frozen=True)
class TokenBundle:
    """A token pair as Bling issued it. The tokens never appear in a repr (a log line, a
    traceback's locals, a debugger): `repr=False`."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str = ""

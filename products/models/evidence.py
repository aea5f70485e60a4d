"""The sold-out evidence ledger and the sold-out state of each product.

Bling v3 has no per-product movement history with origins (bling-v3.md 6.4), so blingsync
keeps its own: `StockMovement` rows from `stock.*` / `virtual_stock.updated` webhooks and
`SaleLine` rows from sales orders, NF-e and NFC-e. `ProductStockState` remembers, per Bling product, what the
sold-out rule last decided and why, when the product went to zero (grace period) and whether
blingsync itself deactivated it (only those are ever reactivated).
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class _DecimalSize(TypedDict):
    """A DecimalField's size, typed so that `**_AMOUNT` type-checks field by field."""

    max_digits: int
    decimal_places: int


_AMOUNT: _DecimalSize = {"max_digits": 14, "decimal_places": 4}


class StockMovement(models.Model):
    """One stock event of a product as Bling reported it (balances are *after* the event)."""

    class Operation(models.TextChoices):
        ENTRY = "E", _("entrada")
        EXIT = "S", _("saída")
        BALANCE = "B", _("balanço")
        # virtual_stock.updated and stock.deleted carry balances but no operation.
        NONE = "", _("só saldo")

    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), db_index=True)
    deposit_id = models.BigIntegerField(_("depósito"), null=True, blank=True)
    operation = models.CharField(_("operação"), max_length=1, choices=Operation.choices, blank=True)
    quantity = models.DecimalField(_("quantidade"), null=True, blank=True, **_AMOUNT)
    deposit_physical = models.DecimalField(
        _("saldo físico no depósito"), null=True, blank=True, **_AMOUNT
    )
    deposit_virtual = models.DecimalField(
        _("saldo disponível no depósito"), null=True, blank=True, **_AMOUNT
    )
    physical_total = models.DecimalField(_("saldo físico total"), null=True, blank=True, **_AMOUNT)
    virtual_total = models.DecimalField(
        _("saldo disponível total"), null=True, blank=True, **_AMOUNT
    )
    event_type = models.CharField(_("tipo de evento"), max_length=40, blank=True)
    occurred_at = models.DateTimeField(_("quando"), db_index=True)
    event_id = models.CharField(_("evento"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("registrado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("movimento de estoque")
        verbose_name_plural = _("movimentos de estoque")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["bling_product_id", "occurred_at"])]
        constraints = [
            # A webhook delivered twice (Bling retries, duplicates) is recorded once.
            models.UniqueConstraint(
                fields=["event_id", "bling_product_id"],
                condition=~Q(event_id=""),
                name="stock_movement_once_per_event",
            )
        ]

    def __str__(self) -> str:
        op = self.operation or "~"
        return f"{self.bling_product_id} {op} {self.quantity if self.quantity is not None else ''}"


class SaleLine(models.Model):
    """One item of a sale document: a sales order, an NF-e or an NFC-e.

    `order_id`, `order_number` and `order_date` are the document's Bling id, number and date
    (an order's date, an invoice's emission date); `source` says which kind of document it is.
    Re-reading a document replaces all of its lines. An order and the invoice issued from it
    are one sale: the order's `linked_invoice_id` (its `notaFiscal.id`) or a shared store
    order number (`numeroLoja` / `numeroPedidoLoja`) links them, and the invoice's lines then
    carry the order in `sale_order_id` (the rule counts the pair once). Room for later
    evidence (a component "sold inside a kit") is a new `source` value, not a new table.
    """

    class Source(models.TextChoices):
        ORDER = "order", _("pedido")
        NFE = "nfe", _("NF-e")
        NFCE = "nfce", _("NFC-e")

    source = models.CharField(
        _("origem"), max_length=10, choices=Source.choices, default=Source.ORDER
    )
    order_id = models.BigIntegerField(_("documento"), db_index=True)
    order_number = models.CharField(_("número do documento"), max_length=50, blank=True)
    line = models.PositiveIntegerField(_("item"), default=1)
    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), db_index=True)
    product_code = models.CharField(_("código"), max_length=60, blank=True)
    quantity = models.DecimalField(_("quantidade"), **_AMOUNT)
    situation_id = models.BigIntegerField(_("situação do documento"), null=True, blank=True)
    situation_name = models.CharField(_("nome da situação"), max_length=100, blank=True)
    counted = models.BooleanField(
        _("conta como venda"),
        default=True,
        help_text=_(
            "Pedidos cancelados e notas canceladas, rejeitadas ou ainda não autorizadas não "
            "contam como venda."
        ),
    )
    order_date = models.DateField(_("data do documento"))
    linked_invoice_id = models.BigIntegerField(
        _("nota fiscal do pedido"), null=True, blank=True, db_index=True
    )
    sale_order_id = models.BigIntegerField(
        _("pedido de origem da nota"), null=True, blank=True, db_index=True
    )
    store_order_number = models.CharField(_("número do pedido na loja"), max_length=60, blank=True)
    first_seen_at = models.DateTimeField(_("visto pela primeira vez em"), default=timezone.now)
    recorded_at = models.DateTimeField(_("lido do Bling em"), auto_now=True)

    class Meta:
        verbose_name = _("item vendido")
        verbose_name_plural = _("itens vendidos")
        ordering = ["-order_date", "-order_id", "line"]
        indexes = [models.Index(fields=["bling_product_id", "order_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "order_id", "line"], name="sale_line_once_per_document_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_label}: {self.bling_product_id} x {self.quantity}"

    @property
    def document_label(self) -> str:
        """ "pedido nº 123", "NF-e nº 45", "NFC-e nº 7" (the id when there is no number)."""
        return document_label(self.source, self.order_number or str(self.order_id))


def document_label(source: str, number: str) -> str:
    kind = {"nfe": "NF-e", "nfce": "NFC-e"}.get(source, "pedido")
    return f"{kind} nº {number}"


class InvoiceRecord(models.Model):
    """An NF-e or NFC-e as the invoices sweep last read it (also one without product items),
    so a rerun fetches the detail of new invoices and of those whose situation changed only."""

    source = models.CharField(_("origem"), max_length=10, choices=SaleLine.Source.choices)
    invoice_id = models.BigIntegerField(_("nota fiscal"))
    number = models.CharField(_("número"), max_length=50, blank=True)
    situation = models.IntegerField(_("situação"), null=True, blank=True)
    issued_on = models.DateField(_("emitida em"), null=True, blank=True)
    lines = models.PositiveIntegerField(_("itens de produto"), default=0)
    unresolved_codes = models.PositiveIntegerField(_("códigos não encontrados"), default=0)
    read_at = models.DateTimeField(_("lida do Bling em"), auto_now=True)

    class Meta:
        verbose_name = _("nota fiscal lida")
        verbose_name_plural = _("notas fiscais lidas")
        constraints = [
            models.UniqueConstraint(fields=["source", "invoice_id"], name="invoice_record_once")
        ]

    def __str__(self) -> str:
        return document_label(self.source, self.number or str(self.invoice_id))


class ProductStockState(models.Model):
    """What the sold-out rule knows and last decided about one Bling product."""

    class Verdict(models.TextChoices):
        DEACTIVATE = "deactivate", _("inativar")
        REACTIVATE = "reactivate", _("reativar")
        KEEP = "keep", _("manter")
        WAIT_GRACE = "wait_grace", _("aguardando carência")

    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), unique=True)
    name = models.CharField(_("nome"), max_length=200, blank=True)
    code = models.CharField(_("código"), max_length=60, blank=True)
    category_id = models.BigIntegerField(_("categoria"), null=True, blank=True)
    situation = models.CharField(_("situação no Bling"), max_length=1, blank=True)
    available_stock = models.DecimalField(_("saldo disponível"), null=True, blank=True, **_AMOUNT)
    last_positive_at = models.DateTimeField(
        _("último saldo positivo visto em"), null=True, blank=True
    )
    last_positive_stock = models.DecimalField(
        _("último saldo positivo"), null=True, blank=True, **_AMOUNT
    )
    sold_out_since = models.DateTimeField(_("esgotado desde"), null=True, blank=True)
    deactivated_by_blingsync = models.BooleanField(_("inativado pelo blingsync"), default=False)
    deactivated_at = models.DateTimeField(_("inativado em"), null=True, blank=True)
    reactivated_at = models.DateTimeField(_("reativado em"), null=True, blank=True)
    last_verdict = models.CharField(
        _("última decisão"), max_length=12, choices=Verdict.choices, blank=True
    )
    last_rule = models.CharField(_("regra aplicada"), max_length=30, blank=True)
    # The sentence in Portuguese as written at the time; the admin shows the one made from
    # `last_rule` and `last_reason_data` (the decision's facts) in the reader's language.
    last_reason = models.TextField(_("motivo da última decisão"), blank=True)
    last_reason_data = models.JSONField(_("dados do motivo"), default=dict, blank=True)
    last_evaluated_at = models.DateTimeField(_("avaliado em"), null=True, blank=True)
    last_dry_run = models.BooleanField(_("última avaliação em simulação"), default=False)

    class Meta:
        verbose_name = _("produto esgotado (estado)")
        verbose_name_plural = _("produtos esgotados (estado)")
        ordering = ["-last_evaluated_at", "-id"]

    def __str__(self) -> str:
        label = self.code or self.name
        return f"{self.bling_product_id} {label}".strip()

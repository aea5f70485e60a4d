"""Invoices as sales evidence: NF-e (`/nfe`) and NFC-e (`/nfce`) items as sale lines.

Called by the webhook processing (`invoice.*`, `consumer_invoice.*`) and by the invoices
sweep (`products.invoice_sweep`). Like orders, re-reading an invoice replaces its lines.

- Only sales count: an outgoing invoice (`tipo` 1; every NFC-e) of ordinary purpose
  (`finalidade` 1 or absent, not a return or an adjustment), authorised or registered
  (situação 5 Autorizada, 6 Emitida DANFE, 7 Registrada). A cancelled (2), rejected (4) or
  denied (9) invoice, or one still pending (1, 3, 8, 10), is recorded as not counted, so the
  evidence page shows it; an incoming invoice or a return is not recorded at all.
- Items carry `codigo`, not a product id: codes are resolved through blingsync's own code
  assignments first, then one batched `GET /produtos?codigos[]` lookup (every stock state)
  for the rest; a code nobody has (a service, a free-text item) is no evidence.
- An order and the invoice issued from it are one sale: the invoice's lines carry the order
  (`sale_order_id`) when the order's `notaFiscal.id` names the invoice, or both share the
  store order number; the rule then counts the pair once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.errors import BlingNotFound
from blingsync.bling.types import Invoice
from products.evidence import sale_lines_replace, sale_order_of_invoice
from products.models import CodeAssignment, InvoiceRecord, SaleLine

logger = logging.getLogger(__name__)

INVOICE_SITUATION_NAMES = {
    1: "Pendente",
    2: "Cancelada",
    3: "Aguardando recibo",
    4: "Rejeitada",
    5: "Autorizada",
    6: "Emitida DANFE",
    7: "Registrada",
    8: "Aguardando protocolo",
    9: "Denegada",
    10: "Consulta situação",
    11: "Bloqueada",
}
INVOICE_COUNTED_SITUATIONS = frozenset({5, 6, 7})
INVOICE_CANCELLED = 2
# `tipo` 1 saída; `finalidade` 1 normal (returns, adjustments, credits are no sales).
_OUTGOING = 1
_NORMAL_PURPOSE = 1

# webhook resource -> SaleLine source
INVOICE_EVENT_SOURCES = {"invoice": SaleLine.Source.NFE, "consumer_invoice": SaleLine.Source.NFCE}


@dataclass(frozen=True)
class InvoiceRecorded:
    lines: int
    unresolved: int
    counted: bool
    is_sale: bool


def invoice_is_sale(*, invoice: Invoice) -> bool:
    """An outgoing invoice of ordinary purpose (not an entry, a return or an adjustment)."""
    outgoing = invoice.operation_type in (None, _OUTGOING)
    return outgoing and invoice.purpose in (None, _NORMAL_PURPOSE)


def invoice_situation_name(situation: int | None) -> str:
    if situation is None:
        return ""
    return INVOICE_SITUATION_NAMES.get(situation, f"situação {situation}")


def invoice_codes_resolve(
    *, codes: Iterable[str], known: dict[str, int] | None = None
) -> dict[str, int]:
    """{code: Bling product id} for `codes`: the `known` map (a sweep's cache), then
    blingsync's code assignments, then one batched lookup in Bling for the rest. Codes found
    nowhere are left out. `known` is updated with what was found."""
    known = known if known is not None else {}
    wanted = {str(c).strip() for c in codes if str(c).strip()} - set(known)
    if wanted:
        # A reserved code in an invoice means its write landed (Bling has it).
        assigned = CodeAssignment.objects.filter(
            code__in=wanted,
            status__in=[CodeAssignment.Status.APPLIED, CodeAssignment.Status.RESERVED],
        )
        for code, product_id in assigned.values_list("code", "bling_product_id"):
            known[code] = product_id
        missing = wanted - set(known)
        if missing:
            known.update(catalog.products_by_codes(codes=missing))
    return known


def invoice_lines_replace(*, invoice: Invoice, products: dict[str, int]) -> InvoiceRecorded:
    """Replace the sale lines of `invoice` (already read) with codes resolved in `products`."""
    source = invoice.kind
    is_sale = invoice_is_sale(invoice=invoice)
    counted = invoice.situation in INVOICE_COUNTED_SITUATIONS
    name = invoice_situation_name(invoice.situation)
    store = invoice.store_order_number.strip()
    sale_order = sale_order_of_invoice(invoice_id=invoice.id, store=store) if is_sale else None
    lines: list[SaleLine] = []
    unresolved = 0
    for index, item in enumerate(invoice.items, start=1):
        if not is_sale or item.item_type == "S" or not item.code:
            continue
        product_id = products.get(item.code)
        if product_id is None:
            unresolved += 1
            continue
        lines.append(
            SaleLine(
                order_number=invoice.number[:50],
                line=index,
                bling_product_id=product_id,
                product_code=item.code[:60],
                quantity=item.quantity,
                situation_id=invoice.situation,
                situation_name=name,
                counted=counted,
                order_date=invoice.issued_on or timezone.localdate(),
                sale_order_id=sale_order,
                store_order_number=store[:60],
            )
        )
    count = sale_lines_replace(source=source, document_id=invoice.id, lines=lines)
    InvoiceRecord.objects.update_or_create(
        source=source,
        invoice_id=invoice.id,
        defaults={
            "number": invoice.number[:50],
            "situation": invoice.situation,
            "issued_on": invoice.issued_on,
            "lines": count,
            "unresolved_codes": unresolved,
        },
    )
    if unresolved:
        logger.info("%s %s: %d item code(s) match no product", source, invoice.number, unresolved)
    return InvoiceRecorded(lines=count, unresolved=unresolved, counted=counted, is_sale=is_sale)


def invoice_record(*, source: str, invoice_id: int) -> InvoiceRecorded:
    """Re-read one invoice from Bling and replace its lines (webhook processing). An invoice
    that no longer exists is forgotten."""
    try:
        invoice = catalog.invoice_get(kind=source, invoice_id=invoice_id)
    except BlingNotFound:
        invoice_forget(source=source, invoice_id=invoice_id)
        return InvoiceRecorded(lines=0, unresolved=0, counted=False, is_sale=False)
    products = invoice_codes_resolve(codes=[item.code for item in invoice.items])
    return invoice_lines_replace(invoice=invoice, products=products)


def invoice_cancelled_mark(*, source: str, invoice_id: int) -> int:
    """A recorded invoice listed as cancelled: its lines stop counting (no detail needed)."""
    InvoiceRecord.objects.filter(source=source, invoice_id=invoice_id).update(
        situation=INVOICE_CANCELLED, read_at=timezone.now()
    )
    return SaleLine.objects.filter(source=source, order_id=invoice_id).update(
        counted=False,
        situation_id=INVOICE_CANCELLED,
        situation_name=INVOICE_SITUATION_NAMES[INVOICE_CANCELLED],
        recorded_at=timezone.now(),
    )


def invoice_forget(*, source: str, invoice_id: int) -> int:
    """A deleted invoice: its lines no longer count; returns how many were removed."""
    InvoiceRecord.objects.filter(source=source, invoice_id=invoice_id).delete()
    deleted, _detail = SaleLine.objects.filter(source=source, order_id=invoice_id).delete()
    return deleted

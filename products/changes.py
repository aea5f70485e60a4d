"""What a change reported by Bling means for the catalog: one service per kind of change.

Webhook processing (`webhooks.processing`) claims an event, routes it here by its kind and
records the returned note; these services know nothing about the inbox. Every one re-reads
the current state from Bling (payloads can be stale) and, where the sold-out verdict may have
changed, asks for a debounced evaluation (`products.stock_evaluations`):
- a product created or updated: echo check, else the code service and the kit mirror (one
  detail read for both), and an evaluation when the ledger has evidence of the product;
- a product deleted: its waiting evaluation is dropped;
- a stock movement: the ledger movement and an evaluation of the product and of the
  virtual kits made of it (with `vinculoComplexo`, also the linked products' balances:
  `products.linked_stock`);
- an order or an invoice (NF-e, NFC-e) created or updated: the sales ledger, then an
  evaluation of the document's products (and the parts its kits post on) whose last
  recorded balance is zero or less (a stock event that arrived *before* its order found no
  sales evidence yet; if the balance is still positive, the stock event that brings it to
  zero asks for the evaluation itself); an incoming NF-e (`tipo` 0) is no sale, decided
  without a call;
- an order or an invoice deleted: forgotten.
Each returns a `ChangeHandled` whose `note` says in a few words what was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blingsync.bling import catalog
from products import codes
from products.echo import echo_of_our_write
from products.evidence import order_forget, order_record, stock_movement_from_payload
from products.invoice_evidence import invoice_forget, invoice_record
from products.kits import composition_mirror, virtual_kits_containing
from products.linked_stock import linked_stock_refresh
from products.selectors import product_has_evidence, products_at_zero
from products.stock_evaluations import stock_evaluation_forget, stock_evaluation_request


@dataclass(frozen=True)
class ChangeHandled:
    """What a change led to: a note for staff, whether it was the echo of our own write,
    whether it was nothing for blingsync to act on."""

    note: str
    echo: bool = False
    ignored: bool = False


class ProductBeingWritten(RuntimeError):
    """Another process holds the product's code write right now (it may have died holding
    it): the change is to be handled again shortly, when the write has landed or its claim
    expired (at most `products.codes.WRITE_CLAIM`)."""


def product_change_apply(
    *, product_id: int, data: dict[str, Any], event_id: str, dry_run: bool
) -> ChangeHandled:
    """A product was created or updated in Bling (`data`: the payload Bling sent)."""
    echo = echo_of_our_write(product_id=product_id, data=data)
    if echo:
        return ChangeHandled(echo, echo=True)
    # One detail read serves both: the code service and the kit mirror (`estrutura`).
    product = catalog.product_get(product_id=product_id)
    kit = composition_mirror(product=product)
    # Looked up on the module at each call (tests stand in for it there).
    result = codes.product_code_ensure(product_id=product_id, product=product, dry_run=dry_run)
    if any(item.reason == codes.BEING_WRITTEN for item in result.all()):
        raise ProductBeingWritten("o código do produto está sendo escrito por outro processo")
    note = _code_note(result) + (f"; kit {kit}" if kit else "")
    if product_has_evidence(product_id=product_id):
        stock_evaluation_request(product_id=product_id, event_id=event_id)
        note += "; avaliação de estoque pedida"
    return ChangeHandled(note)


def _code_note(result: codes.CodeResult) -> str:
    """The code service's result in a few words (e.g. "código: coded MEMO00001")."""
    parts = []
    for item in result.all():
        detail = item.code or item.reason or ""
        if item.error:
            detail = f"{detail} ({item.error})".strip()
        parts.append(f"{item.product_id} {item.outcome} {detail}".strip())
    return "código: " + ", ".join(parts)


def product_deletion_apply(*, product_id: int | None) -> ChangeHandled:
    """A product was deleted in Bling (`product_id` None: the event did not say which)."""
    if product_id is not None:
        stock_evaluation_forget(product_id=product_id)
    return ChangeHandled("produto excluído no Bling")


def stock_change_apply(
    *, product_id: int, event_type: str, data: dict[str, Any], occurred_at: datetime, event_id: str
) -> ChangeHandled:
    """A product's stock moved (`event_type`: Bling's `stock.*` / `virtual_stock.updated`)."""
    # Records the movement (once per event and product: a retried event adds nothing).
    stock_movement_from_payload(
        event_type=event_type, data=data, occurred_at=occurred_at, event_id=event_id
    )
    opened = stock_evaluation_request(product_id=product_id, event_id=event_id)
    note = "movimento registrado; avaliação de estoque "
    note += "agendada" if opened else "já agendada"
    # Virtual kits made of this product follow its stock (with `vinculoComplexo` Bling sends
    # no event per kit): evaluate them too.
    kits = virtual_kits_containing(product_id=product_id)
    for kit_id in kits:
        stock_evaluation_request(product_id=kit_id, event_id=event_id)
    if kits:
        note += f"; {len(kits)} kit(s) virtual(is) com esta peça também"
    if event_type == "virtual_stock.updated" and data.get("vinculoComplexo") is True:
        note += "; " + _linked_refresh(product_id, occurred_at=occurred_at, event_id=event_id)
    return ChangeHandled(note)


def _linked_refresh(product_id: int, *, occurred_at: datetime, event_id: str) -> str:
    refreshed = linked_stock_refresh(
        product_id=product_id, occurred_at=occurred_at, event_id=event_id
    )
    for linked_id in refreshed.to_evaluate:
        stock_evaluation_request(product_id=linked_id, event_id=event_id)
    return (
        f"vínculo complexo: {refreshed.linked} produto(s) vinculado(s), "
        f"{refreshed.balances} saldo(s) lido(s), {len(refreshed.to_evaluate)} avaliação(ões) "
        "pedida(s)"
    )


def order_change_apply(*, order_id: int, event_id: str) -> ChangeHandled:
    """A sales order was created or updated in Bling."""
    order_record(order_id=order_id)
    zeroed = products_at_zero(document_id=order_id)
    for product_id in zeroed:
        stock_evaluation_request(product_id=product_id, event_id=event_id)
    note = "pedido registrado"
    if zeroed:
        note += f"; avaliação de estoque pedida para {len(zeroed)} produto(s) zerado(s)"
    return ChangeHandled(note)


def order_deletion_apply(*, order_id: int) -> ChangeHandled:
    """A sales order was deleted in Bling: its lines stop counting."""
    order_forget(order_id=order_id)
    return ChangeHandled("pedido esquecido (excluído no Bling)")


def invoice_change_apply(
    *, source: str, invoice_id: int, data: dict[str, Any], event_id: str
) -> ChangeHandled:
    """An invoice of `source` (NF-e, NFC-e) was created or updated in Bling."""
    if str(data.get("tipo")) == "0":
        # An incoming NF-e (purchase, return from a customer) is no sale: no call needed.
        return ChangeHandled("nota fiscal de entrada: não é venda", ignored=True)
    recorded = invoice_record(source=source, invoice_id=invoice_id)
    if not recorded.is_sale:
        return ChangeHandled("nota fiscal lida: não é uma venda")
    zeroed = products_at_zero(document_id=invoice_id, source=source)
    for product_id in zeroed:
        stock_evaluation_request(product_id=product_id, event_id=event_id)
    note = f"nota fiscal registrada ({recorded.lines} item(ns)"
    note += ", conta como venda)" if recorded.counted else ", não conta como venda)"
    if recorded.unresolved:
        note += f"; {recorded.unresolved} código(s) sem produto"
    if zeroed:
        note += f"; avaliação de estoque pedida para {len(zeroed)} produto(s) zerado(s)"
    return ChangeHandled(note)


def invoice_deletion_apply(*, source: str, invoice_id: int) -> ChangeHandled:
    """An invoice of `source` was deleted in Bling: its lines stop counting."""
    invoice_forget(source=source, invoice_id=invoice_id)
    return ChangeHandled("nota fiscal esquecida (excluída no Bling)")

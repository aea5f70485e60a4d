"""Things that happen in the sandbox's Bling account, each with the webhooks Bling would send.

Used by the sandbox page and command (``make demo``) and by tests. Every action changes the
fake's catalog under its lock, then the fake posts the signed webhooks to ``fake.webhook_url``
in the background (``FakeBling.emit_webhook``; nothing is sent while it is unset):

- ``sale``: an order (``order.created``), an NF-e (``invoice.created``) or an NFC-e
  (``consumer_invoice.created``) of one product, and the stock exits it posts
  (``stock.updated``; a kit's by its ``lancamentoEstoque``, with ``virtual_stock.updated`` of
  the virtual kits that moved). An NF-e or NFC-e names the product by its code, as Bling's do.
- ``restock``: an entry (``E``) into one deposit.
- ``manual_balance``: a balance posting (``B``), e.g. an inventory count that zeroes a product.
- ``new_product``: a product created in Bling (``product.created``), without a code unless
  one is given, with its first entry when it has stock.

Bad input raises ``ActionError`` with a message in Portuguese; nothing changes then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import invoices
from ..compositions import exits_post
from ..products import webhook_data as product_webhook_data
from ..stock import stock_post

if TYPE_CHECKING:
    from ..fake import FakeBling

DOCUMENTS = {"pedido": "order", "nfe": "nfe", "nfce": "nfce"}
DOCUMENT_EVENTS = {"nfe": "invoice.created", "nfce": "consumer_invoice.created"}


class ActionError(ValueError):
    """The action cannot be done as asked (unknown product, bad quantity...)."""


@dataclass
class ActionResult:
    summary: str
    events: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "events": self.events, **self.data}


def _product(fake: FakeBling, product_id: Any) -> dict[str, Any]:
    try:
        pid = int(product_id)
    except (TypeError, ValueError):
        raise ActionError(f"Produto inválido: {product_id!r}.") from None
    prod = fake.catalog.products.get(pid)
    if prod is None or prod["situacao"] == "E":
        raise ActionError(f"Produto {pid} não existe no sandbox.")
    if prod["formato"] == "V":
        raise ActionError(
            f"{prod['nome']} tem variações: escolha uma variação (o estoque é delas)."
        )
    return prod


def _quantity(value: Any, *, allow_zero: bool = False) -> float:
    try:
        qty = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        raise ActionError(f"Quantidade inválida: {value!r}.") from None
    if qty < 0 or (qty == 0 and not allow_zero) or qty > 100_000:
        raise ActionError(f"Quantidade fora do intervalo: {value!r}.")
    return qty


def _deposit(fake: FakeBling, deposit_id: Any) -> int:
    if deposit_id in (None, ""):
        return fake.catalog.default_deposit_id()
    try:
        dep = int(deposit_id)
    except (TypeError, ValueError):
        raise ActionError(f"Depósito inválido: {deposit_id!r}.") from None
    if dep not in fake.catalog.deposits:
        raise ActionError(f"Depósito {dep} não existe no sandbox.")
    return dep


def _names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [event for event, _data in events]


def _balance(fake: FakeBling, pid: int) -> float:
    return fake.catalog.totals(pid)[1]


def sale(
    fake: FakeBling,
    *,
    product_id: Any,
    quantity: Any = 1,
    document: str = "pedido",
    deposit_id: Any = None,
) -> ActionResult:
    """Sell ``quantity`` of one product through an order, an NF-e or an NFC-e."""
    kind = DOCUMENTS.get(document)
    if kind is None:
        raise ActionError(f"Documento inválido: {document!r} (pedido, nfe ou nfce).")
    with fake.lock:
        prod = _product(fake, product_id)
        qty = _quantity(quantity)
        dep = _deposit(fake, deposit_id)
        if kind != "order" and not prod["codigo"]:
            raise ActionError(
                f"{prod['nome']} não tem código: uma nota fiscal identifica o produto pelo "
                "código. Venda por pedido, ou dê um código a ele primeiro."
            )
        if _balance(fake, prod["id"]) < qty:
            raise ActionError(
                f"Saldo insuficiente de {prod['nome']}: {_balance(fake, prod['id']):g} "
                f"disponível, venda de {qty:g}. Simule uma entrada antes."
            )
        if kind == "order":
            order, events = fake.sell([(prod["id"], qty)], deposit_id=dep)
            sent = [("order.created", _order_webhook_data(order))]
            label = f"pedido nº {order['numero']}"
        else:
            inv = fake.add_invoice([(prod["id"], qty)], kind=kind)
            events = exits_post(fake, [(prod["id"], qty)], deposit_id=dep)
            sent = [(DOCUMENT_EVENTS[kind], invoices.webhook_data(inv))]
            label = f"{'NF-e' if kind == 'nfe' else 'NFC-e'} nº {inv['numero']}"
        left = _balance(fake, prod["id"])
    for event, data in sent:
        fake.emit_webhook(event, data)
    return ActionResult(
        summary=f"Venda de {qty:g} × {prod['nome']} ({label}); saldo disponível agora {left:g}.",
        events=_names(sent + events),
        data={"product_id": prod["id"], "available": left},
    )


def restock(
    fake: FakeBling, *, product_id: Any, quantity: Any = 5, deposit_id: Any = None
) -> ActionResult:
    """An entry (``E``) of ``quantity`` into one deposit (the default one if not given)."""
    return _stock_posting(fake, product_id, quantity, deposit_id, operacao="E")


def manual_balance(
    fake: FakeBling, *, product_id: Any, quantity: Any = 0, deposit_id: Any = None
) -> ActionResult:
    """A balance posting (``B``): the deposit's stock of the product becomes ``quantity``."""
    return _stock_posting(fake, product_id, quantity, deposit_id, operacao="B")


def _stock_posting(
    fake: FakeBling, product_id: Any, quantity: Any, deposit_id: Any, *, operacao: str
) -> ActionResult:
    with fake.lock:
        prod = _product(fake, product_id)
        qty = _quantity(quantity, allow_zero=operacao == "B")
        dep = _deposit(fake, deposit_id)
        if operacao == "E":  # kits post on their parts, linked virtual kits follow
            events = exits_post(fake, [(prod["id"], qty)], deposit_id=dep, operacao="E")
        else:
            events = [("stock.updated", stock_post(fake, prod["id"], dep, "B", qty)[1])]
        left = _balance(fake, prod["id"])
        deposit = fake.catalog.deposits[dep]["descricao"]
    what = "Entrada de" if operacao == "E" else "Balanço:"
    return ActionResult(
        summary=(
            f"{what} {qty:g} × {prod['nome']} no depósito {deposit}; "
            f"saldo disponível agora {left:g}."
        ),
        events=_names(events),
        data={"product_id": prod["id"], "available": left},
    )


def new_product(
    fake: FakeBling,
    *,
    name: str,
    category_id: Any,
    price: Any = 99.9,
    stock: Any = 0,
    code: str = "",
    deposit_id: Any = None,
) -> ActionResult:
    """A product created in Bling (by staff, or an integration), with no code by default."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ActionError("Informe um nome de produto (até 120 caracteres).")
    with fake.lock:
        try:
            cid = int(category_id) if category_id not in (None, "") else 0
        except (TypeError, ValueError):
            raise ActionError(f"Categoria inválida: {category_id!r}.") from None
        if cid and cid not in fake.catalog.categories:
            raise ActionError(f"Categoria {cid} não existe no sandbox.")
        qty = _quantity(stock, allow_zero=True)
        dep = _deposit(fake, deposit_id)
        code = (code or "").strip()
        if code and any(p["codigo"] == code for p in fake.catalog.products.values()):
            raise ActionError(f"O código {code} já está cadastrado para outro produto.")
        try:
            preco = round(float(str(price).replace(",", ".")), 2)
        except ValueError:
            raise ActionError(f"Preço inválido: {price!r}.") from None
        prod = fake.add_product(name, codigo=code, categoria_id=cid, preco=preco)
        created = ("product.created", product_webhook_data(fake, prod))
        events: list[tuple[str, dict[str, Any]]] = []
        if qty:
            events = exits_post(fake, [(prod["id"], qty)], deposit_id=dep, operacao="E")
        category = fake.catalog.categories.get(cid, {}).get("descricao", "sem categoria")
    fake.emit_webhook(*created)
    return ActionResult(
        summary=(
            f"Produto novo: {name} (id {prod['id']}, {category}, "
            f"{'código ' + code if code else 'sem código'}, estoque {qty:g})."
        ),
        events=_names([created, *events]),
        data={"product_id": prod["id"]},
    )


def _order_webhook_data(order: dict[str, Any]) -> dict[str, Any]:
    """``data`` of order.created/updated, version 1 (bling-v3.md 8.4): no items."""
    return {
        "id": order["id"],
        "data": order["data"],
        "numero": order["numero"],
        "numeroLoja": order["numeroLoja"],
        "total": order["total"],
        "contato": {"id": order["contato"]["id"]},
        "vendedor": {"id": order["vendedor"]["id"]},
        "loja": {"id": order["loja"]["id"]},
        "situacao": dict(order["situacao"]),
    }


ACTIONS = {
    "venda": sale,
    "entrada": restock,
    "balanco": manual_balance,
    "novo-produto": new_product,
}

"""Compositions (kits): products of ``formato`` "E" with an ``estrutura``, sold in orders
that post their stock exits the way the kit's ``lancamentoEstoque`` says.

- ``estrutura`` = ``{"tipoEstoque": "F"|"V", "lancamentoEstoque": "A"|"M"|"P",
  "componentes": [{"produto": {"id"}, "quantidade"}]}`` (ProdutosEstruturaDTO). It is stored
  on the product record, so the detail returns it; list items carry ``formato`` "E" only
  (``tipo=E`` and ``idComponente`` filter on it, see ``products.list_products``).
- A virtual-stock kit (``tipoEstoque`` V) holds no balance of its own: its balance, in every
  answer that shows one, is how many kits its components can make,
  ``min(floor(component balance / quantidade))`` (per deposit when one is asked for). Fake
  choice: the physical and available figures are computed the same way.
- ``sell``: an order whose items post exits, as an account that posts stock on orders does
  (``lancamentoEstoque`` A: the kit and each component, M: the components only, P: the kit
  only; a virtual kit has no stock of its own to post). Each posting is a ``stock.updated``;
  each virtual kit whose components moved gets a ``virtual_stock.updated`` with its computed
  balances, or, when more than ``fake.complex_link_limit`` (200, Bling's figure) kits are
  linked to the component, one ``virtual_stock.updated`` of the component with
  ``vinculoComplexo: true`` and no per-kit events (bling-v3.md 8.4).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake import FakeBling
    from .state import Catalog

COMPLEX_LINK_LIMIT = 200


def structure_of(prod: dict[str, Any] | None) -> dict[str, Any]:
    if not prod or prod.get("formato") != "E":
        return {}
    value = prod.get("estrutura")
    return value if isinstance(value, dict) else {}


def is_virtual_kit(prod: dict[str, Any] | None) -> bool:
    return structure_of(prod).get("tipoEstoque") == "V"


def parts_of(prod: dict[str, Any] | None) -> list[tuple[int, float]]:
    out = []
    for comp in structure_of(prod).get("componentes") or []:
        pid = (comp.get("produto") or {}).get("id")
        if pid:
            out.append((int(pid), float(comp.get("quantidade") or 0)))
    return out


def virtual_kit_totals(
    cat: Catalog, prod: dict[str, Any], deposit_id: int | None, depth: int = 0
) -> tuple[float, float]:
    """(fisico, virtual) of a virtual kit: how many kits its components make."""
    parts = [(pid, qty) for pid, qty in parts_of(prod) if qty > 0]
    if not parts or depth > 5:
        return 0.0, 0.0
    fisico = virtual = math.inf
    for pid, qty in parts:
        part = cat.products.get(pid)
        if is_virtual_kit(part):
            part_fisico, part_virtual = virtual_kit_totals(cat, part, deposit_id, depth + 1)
        else:
            part_fisico, part_virtual = cat.totals(pid, deposit_id)
        fisico = min(fisico, math.floor(part_fisico / qty))
        virtual = min(virtual, math.floor(part_virtual / qty))
    return float(max(fisico, 0)), float(max(virtual, 0))


def kits_containing(cat: Catalog, component_id: int) -> list[dict[str, Any]]:
    return [
        p
        for pid, p in sorted(cat.products.items())
        if any(part_id == component_id for part_id, _ in parts_of(p))
    ]


def add_kit(
    fake: FakeBling,
    nome: str,
    parts: list[tuple[int, float]],
    *,
    tipo_estoque: str = "V",
    lancamento: str = "M",
    stock: float = 0.0,
    **fields: Any,
) -> dict[str, Any]:
    """Add a composition product; a physical kit (F) may start with its own ``stock``."""
    estrutura = {
        "tipoEstoque": tipo_estoque,
        "lancamentoEstoque": lancamento,
        "componentes": [{"produto": {"id": pid}, "quantidade": qty} for pid, qty in parts],
    }
    with fake.lock:
        rec = fake.add_product(nome, formato="E", estrutura=estrutura, stock=stock, **fields)
        if tipo_estoque == "V":
            fake.catalog.balances.pop(rec["id"], None)  # no balance of its own
        return rec


def _postings(cat: Catalog, items: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """(product id, quantity) exits an order of ``items`` posts."""
    out: list[tuple[int, float]] = []
    for pid, qty in items:
        prod = cat.products.get(pid)
        estrutura = structure_of(prod)
        if not estrutura:
            out.append((pid, qty))
            continue
        posting = estrutura.get("lancamentoEstoque")
        if posting in ("A", "P") and estrutura.get("tipoEstoque") != "V":
            out.append((pid, qty))
        if posting in ("A", "M"):
            out.extend(_postings(cat, [(part, qty * per) for part, per in parts_of(prod)]))
    return out


def sell(
    fake: FakeBling,
    items: list[tuple[int, float]],
    *,
    deposit_id: int | None = None,
    **order_fields: Any,
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Add an order and post the stock exits it causes; returns (order, webhook events)."""
    with fake.lock:
        order = fake.add_order(items=items, **order_fields)
        events = exits_post(fake, items, deposit_id=deposit_id)
    return order, events


def exits_post(
    fake: FakeBling,
    items: list[tuple[int, float]],
    *,
    deposit_id: int | None = None,
    operacao: str = "S",
) -> list[tuple[str, dict[str, Any]]]:
    """Post the stock movements ``items`` cause (``operacao`` S for a sale, E for an entry
    into the same postings, kits by their ``lancamentoEstoque``), emit their webhooks and
    each linked virtual kit's ``virtual_stock.updated``; returns the (event, data) sent."""
    from .stock import stock_post

    events: list[tuple[str, dict[str, Any]]] = []
    with fake.lock:
        cat = fake.catalog
        dep = deposit_id or cat.default_deposit_id()
        moved: list[int] = []
        for pid, qty in _postings(cat, items):
            _posting_id, data = stock_post(fake, pid, dep, operacao, qty)
            events.append(("stock.updated", data))
            moved.append(pid)
        virtual = _virtual_events(fake, moved)
        events.extend(virtual)
    for event, data in virtual:  # stock_post already emitted the stock events
        fake.emit_webhook(event, data)
    return events


def _virtual_events(fake: FakeBling, moved: list[int]) -> list[tuple[str, dict[str, Any]]]:
    cat = fake.catalog
    limit = getattr(fake, "complex_link_limit", COMPLEX_LINK_LIMIT)
    events: list[tuple[str, dict[str, Any]]] = []
    kits: dict[int, dict[str, Any]] = {}
    for pid in dict.fromkeys(moved):
        linked = [k for k in kits_containing(cat, pid) if is_virtual_kit(k)]
        if len(linked) > limit:
            events.append(("virtual_stock.updated", _virtual_data(fake, pid, complex_link=True)))
            continue
        kits.update((k["id"], k) for k in linked)
    events.extend(("virtual_stock.updated", _virtual_data(fake, kid)) for kid in sorted(kits))
    return events


def _virtual_data(fake: FakeBling, pid: int, complex_link: bool = False) -> dict[str, Any]:
    cat = fake.catalog
    fisico, virtual = cat.totals(pid)
    deposits = []
    for dep_id in sorted(cat.deposits):
        dep_fisico, dep_virtual = cat.totals(pid, dep_id)
        deposits.append({"id": dep_id, "saldoFisico": dep_fisico, "saldoVirtual": dep_virtual})
    return {
        "produto": {"id": pid},
        "saldoFisicoTotal": fisico,
        "saldoVirtualTotal": virtual,
        "vinculoComplexo": complex_link,
        "depositos": deposits,
    }

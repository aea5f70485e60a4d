"""Common set-ups of the drills: a retailer-like catalog in the fake, a connected live app.

The catalog uses real-looking category names (so the default rules of SPEC 5.3 derive
prefixes: "Teclado Mouse" -> TEMO, "Memória" -> MEMO, ...); a share of products has no code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from bench.drills.stack import Stack

CATEGORY_NAMES = ("Teclado Mouse", "Memória", "Placa Mãe", "Cabo Rede", "Fonte", "Gabinete")


@dataclass
class Catalog:
    category_ids: list[int] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    uncoded_ids: list[int] = field(default_factory=list)
    in_stock_ids: list[int] = field(default_factory=list)


def catalog_seed(
    stack: Stack, *, products: int, share_without_code: float = 0.3, seed: int = 3
) -> Catalog:
    """Categories and products in the fake; codes of coded ones follow the derived prefixes."""
    rng = random.Random(seed)
    fake = stack.fake
    cat = Catalog()
    prefixes = ["TEMO", "MEMO", "PLMA", "CARE", "FONT", "GABI"]
    for name in CATEGORY_NAMES:
        cat.category_ids.append(fake.add_category(name)["id"])
    for i in range(products):
        k = i % len(cat.category_ids)
        coded = rng.random() >= share_without_code
        codigo = f"{prefixes[k]}{i + 1:05d}" if coded else ""
        stock = float(rng.randint(1, 30))
        rec = fake.add_product(
            f"Produto drill {i + 1:05d}",
            codigo=codigo,
            categoria_id=cat.category_ids[k],
            stock=stock,
        )
        cat.product_ids.append(rec["id"])
        cat.in_stock_ids.append(rec["id"])
        if not coded:
            cat.uncoded_ids.append(rec["id"])
    return cat


def app_bring_up(
    stack: Stack,
    *,
    web: bool = True,
    worker: bool = True,
    mode: str = "live",
    categories: bool = True,
) -> list[str]:
    """Start the app, connect it with live tokens, set the mode, mirror categories and seed
    counters (each step only when its command exists). Returns the steps that were missing."""
    missing: list[str] = []
    if web:
        stack.start_web()
    stack.connect()
    stack.set_mode(mode)
    if categories:
        for command in ("sync_categories", "seed_counters"):
            if stack.has_command(command):
                stack.manage(command, timeout=600, check=True)
            else:
                missing.append(command)
    if worker:
        stack.start_worker()
    return missing


def product_event_data(stack: Stack, product_id: int) -> dict[str, Any]:
    """A product.* payload as Bling sends it, from the fake's current record."""
    with stack.fake.lock:
        p = dict(stack.fake.products[product_id])
    return {
        "id": p["id"],
        "nome": p["nome"],
        "codigo": p.get("codigo", ""),
        "tipo": p.get("tipo", "P"),
        "situacao": p.get("situacao", "A"),
        "preco": p.get("preco", 0),
        "unidade": "UN",
        "formato": p.get("formato", "S"),
        "categoria": {"id": (p.get("categoria") or {}).get("id", 0)},
    }


def stock_event_data(product_id: int, quantity: float, balance: float) -> dict[str, Any]:
    return {
        "produto": {"id": product_id},
        "deposito": {"id": 1, "saldoFisico": balance, "saldoVirtual": balance},
        "operacao": "E",
        "quantidade": quantity,
        "saldoFisicoTotal": balance,
        "saldoVirtualTotal": balance,
    }


def invoice_event_data(n: int) -> dict[str, Any]:
    """An event type blingsync does not handle (stored as ignored, no Bling call)."""
    return {
        "id": 900000 + n,
        "tipo": 1,
        "situacao": 1,
        "numero": str(n),
        "dataEmissao": "2026-11-23 10:00:00",
        "dataOperacao": "2026-11-23 10:00:00",
        "contato": {"id": 1},
        "naturezaOperacao": {"id": 1},
        "loja": {"id": 0},
    }


def opt(args: Any, name: str, full: Any, quick: Any) -> Any:
    """An option's value: given on the command line, else the full or the --quick default."""
    value = getattr(args, name, None)
    if value is not None:
        return value
    return quick if getattr(args, "quick", False) else full


def stock_evaluations_open(stack: Stack) -> int:
    """Debounced stock evaluations still waiting (0 once everything settled)."""
    return stack.django(
        """
try:
    from products.models import StockEvaluation
    result = StockEvaluation.objects.count()
except ImportError:
    result = 0
"""
    )

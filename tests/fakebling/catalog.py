"""Deterministic catalog generator for benchmarks and load tests.

``generate(fake, products=10000, categories=20, share_without_code=0.2, share_sold_out=0.1,
seed=1)`` adds categories (a quarter of them children of the first ones), then simple products
spread over the categories. ``share_without_code`` of them have ``codigo == ""``;
``share_sold_out`` have zero balance; the rest 1-50 units in the default deposit.
dataAlteracao values are spread over the previous 30 days so date-window sweeps have work.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from .products import new_record
from .stock import apply_balance

if TYPE_CHECKING:
    from .fake import FakeBling


def generate(
    fake: FakeBling,
    products: int = 10000,
    categories: int = 20,
    share_without_code: float = 0.2,
    share_sold_out: float = 0.1,
    seed: int = 1,
) -> dict[str, int]:
    rng = random.Random(seed)
    now = dt.datetime.now().replace(microsecond=0)
    with fake.lock:
        cat_ids: list[int] = []
        top = max(1, categories - categories // 4)
        for i in range(categories):
            parent = cat_ids[rng.randrange(top)] if i >= top and cat_ids else 0
            cat_ids.append(fake.add_category(f"Categoria {i + 1:03d}", parent_id=parent)["id"])
        deposit = fake.catalog.default_deposit_id()
        no_code = set(rng.sample(range(products), int(products * share_without_code)))
        sold_out = set(rng.sample(range(products), int(products * share_sold_out)))
        for i in range(products):
            pid = fake.catalog.allocate("product")
            changed = (now - dt.timedelta(seconds=rng.randrange(30 * 86400))).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
            fake.catalog.products[pid] = new_record(
                pid,
                nome=f"Produto {i + 1:06d}",
                codigo="" if i in no_code else f"SKU-{i + 1:06d}",
                preco=round(rng.uniform(5, 500), 2),
                categoria={"id": rng.choice(cat_ids) if cat_ids else 0},
                dataInclusao=changed,
                dataAlteracao=changed,
            )
            apply_balance(
                fake, pid, deposit, 0.0 if i in sold_out else float(rng.randint(1, 50)), None
            )
    return {
        "products": products,
        "categories": categories,
        "without_code": len(no_code),
        "sold_out": len(sold_out),
    }

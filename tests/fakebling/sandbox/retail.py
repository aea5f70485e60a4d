"""A computer retailer's catalog for the sandbox (``make demo``) and the tests that use it.

``retail_catalog_generate(fake, seed=25)`` fills an empty fake with what shows every rule of
SPEC 5.3-5.5 at work; the same seed gives the same catalog (ids, names, codes, balances,
documents), only the dates follow today (so the 30-day windows of the rules hold):

- categories as in SPEC 5.3: Notebook, Mini and SFF (prefix NTB), Monitor, Peças with its
  subcategories (Placa Mãe, Memória, Processador, SSD, Fonte, Placa de Vídeo, SubMaquina),
  Teclado Mouse, Cabos, Acessórios and a top-level SubMaquina;
- a few hundred products, most with a code of their category's prefix (so ``seed_counters``
  has codes to read) and some without one in several categories;
- variations (a keyboard and memory modules), kits (a virtual-stock kit posting on its parts,
  a physical kit posting its own stock);
- stock in two deposits (Geral, the default, and Loja);
- orders (some cancelled), NF-e issued from orders and NFC-e counter sales;
- named cases, in ``RetailCatalog``: a product sold out by sales, one zeroed by hand (a
  balance posting ``B`` to 0, no sale), a sold-out notebook (its category keeps it active),
  one whose only order was cancelled, one that never had stock and one with its last unit
  (to sell in the sandbox); ``fake.showcase`` lists them for the sandbox page.

Nothing here sends webhooks: the catalog is Bling's past. Things that happen afterwards go
through ``tests.fakebling.sandbox.actions``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakebling.fake import FakeBling

COMPANY_NAME = "Loja de Informática Demonstração"
SECOND_DEPOSIT = "Loja"

# category name -> (parent name or "", prefix of existing codes or "" for none)
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("Notebook", "", "NTB"),
    ("Mini", "", "NTB"),
    ("SFF", "", "NTB"),
    ("Monitor", "", "MONI"),
    ("Peças", "", ""),
    ("Placa Mãe", "Peças", "PLMA"),
    ("Memória", "Peças", "MEMO"),
    ("Processador", "Peças", "PROC"),
    ("SSD", "Peças", "SSD"),
    ("Fonte", "Peças", "FONT"),
    ("Placa de Vídeo", "Peças", "PLDE"),
    ("SubMaquina", "Peças", ""),
    ("Teclado Mouse", "", "TEMO"),
    ("Cabos", "", "CABO"),
    ("Acessórios", "", "ACES"),
    ("SubMaquina", "", ""),
)

# category name -> (brands/models, specs): product names are "<model> <spec>"
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Notebook": (
        (
            "Notebook Dell Latitude 5420",
            "Notebook Lenovo ThinkPad T14",
            "Notebook HP EliteBook 840",
        ),
        ("i5 8GB 256GB", "i5 16GB 512GB", "i7 16GB 512GB", "i7 32GB 1TB"),
    ),
    "Mini": (
        ("Mini PC Dell OptiPlex 3080 Micro", "Mini PC Lenovo ThinkCentre M70q"),
        ("i3 8GB 256GB", "i5 8GB 256GB", "i5 16GB 512GB"),
    ),
    "SFF": (
        ("Desktop HP ProDesk 400 SFF", "Desktop Dell OptiPlex 7090 SFF"),
        ("i5 8GB 256GB", "i5 16GB 512GB", "i7 16GB 512GB"),
    ),
    "Monitor": (
        ("Monitor LG", "Monitor Samsung", "Monitor Dell", "Monitor AOC"),
        ('21,5" Full HD', '24" Full HD IPS', '27" QHD IPS'),
    ),
    "Placa Mãe": (
        ("Placa Mãe ASUS", "Placa Mãe Gigabyte", "Placa Mãe MSI"),
        ("B450M AM4", "A520M AM4", "H610M LGA1700", "B660M LGA1700"),
    ),
    "Memória": (
        ("Memória Kingston Fury", "Memória Crucial", "Memória Corsair Vengeance"),
        ("8GB DDR4 3200", "16GB DDR4 3200", "8GB DDR5 4800", "16GB DDR5 5600"),
    ),
    "Processador": (
        ("Processador Intel", "Processador AMD"),
        ("Core i3-12100", "Core i5-12400", "Core i7-12700", "Ryzen 5 5600", "Ryzen 7 5700X"),
    ),
    "SSD": (
        ("SSD Kingston", "SSD WD Green", "SSD Samsung"),
        ("240GB SATA", "480GB SATA", "500GB NVMe", "1TB NVMe"),
    ),
    "Fonte": (
        ("Fonte Corsair", "Fonte EVGA", "Fonte MSI"),
        ("500W 80 Plus", "650W 80 Plus Bronze", "750W 80 Plus Gold"),
    ),
    "Placa de Vídeo": (
        ("Placa de Vídeo ASUS", "Placa de Vídeo Gigabyte"),
        ("GTX 1650 4GB", "RTX 3050 8GB", "RTX 4060 8GB", "RX 6600 8GB"),
    ),
    "Teclado Mouse": (
        ("Teclado Logitech", "Mouse Logitech", "Teclado Redragon", "Mouse Redragon"),
        ("sem fio", "USB", "gamer RGB"),
    ),
    "Cabos": (
        ("Cabo HDMI", "Cabo DisplayPort", "Cabo USB-C", "Cabo de Força"),
        ("1,5 m", "2 m", "3 m"),
    ),
    "Acessórios": (
        ("Mousepad", "Suporte para Notebook", "Hub USB", "Webcam"),
        ("básico", "premium", "Full HD"),
    ),
}
PRICES: dict[str, tuple[int, int]] = {
    "Notebook": (2500, 7500),
    "Mini": (1500, 4000),
    "SFF": (1800, 4500),
    "Monitor": (600, 2500),
    "Placa Mãe": (450, 1400),
    "Memória": (120, 600),
    "Processador": (500, 2200),
    "SSD": (150, 700),
    "Fonte": (250, 900),
    "Placa de Vídeo": (1200, 3500),
    "Teclado Mouse": (60, 450),
    "Cabos": (15, 90),
    "Acessórios": (30, 400),
}
# Products per category: a copy of each model+spec name, numbered when names repeat.
COPIES = 2


@dataclass
class RetailCatalog:
    """What ``retail_catalog_generate`` made: ids of categories, deposits and the named cases."""

    categories: dict[str, int] = field(default_factory=dict)  # "Peças > Memória" style keys
    deposit_main: int = 0
    deposit_store: int = 0
    products: int = 0
    without_code: list[int] = field(default_factory=list)
    sold_out_by_sales: int = 0
    last_unit: int = 0
    zeroed_by_hand: int = 0
    sold_out_notebook: int = 0
    cancelled_only: int = 0
    never_stocked: int = 0
    variation_parents: list[int] = field(default_factory=list)
    kits: list[int] = field(default_factory=list)
    orders: int = 0
    nfe: int = 0
    nfce: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "categories": len(self.categories),
            "products": self.products,
            "without_code": len(self.without_code),
            "orders": self.orders,
            "nfe": self.nfe,
            "nfce": self.nfce,
        }


def _stamp(day: dt.datetime) -> str:
    return day.strftime("%Y-%m-%d %H:%M:%S")


class _Builder:
    def __init__(self, fake: FakeBling, seed: int) -> None:
        self.fake = fake
        self.rng = random.Random(seed)
        self.now = dt.datetime.now().replace(microsecond=0)
        self.out = RetailCatalog()
        self.counters: dict[str, int] = {}
        self.stocked: list[int] = []  # coded simple products with stock, for the documents
        self.by_category: dict[str, list[int]] = {}

    def code(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]:05d}"

    def past(self, days_max: int, days_min: int = 0) -> str:
        seconds = self.rng.randrange(days_min * 86400, days_max * 86400)
        return _stamp(self.now - dt.timedelta(seconds=seconds))

    def stock(self, pid: int, main: float, store: float = 0.0) -> None:
        self.fake.set_stock(pid, main, deposit_id=self.out.deposit_main)
        if store:
            self.fake.set_stock(pid, store, deposit_id=self.out.deposit_store)

    def product(
        self, name: str, category: str, *, coded: bool, prefix: str, **fields: Any
    ) -> dict[str, Any]:
        low, high = PRICES.get(category.split(" > ")[-1], (50, 500))
        changed = self.past(60, 1)
        return self.fake.add_product(
            name,
            codigo=self.code(prefix) if coded and prefix else "",
            categoria_id=self.out.categories[category],
            preco=float(self.rng.randrange(low, high)) + 0.9,
            marca=name.split()[1] if len(name.split()) > 1 else "",
            data_alteracao=changed,
            dataInclusao=changed,
        )


def retail_catalog_generate(fake: FakeBling, *, seed: int = 25) -> RetailCatalog:
    """Fill ``fake`` (empty but for its default deposit) with the retailer's catalog."""
    b = _Builder(fake, seed)
    out = b.out
    with fake.lock:
        deposits = list(fake.deposits.values())
        out.deposit_main = deposits[0]["id"]
        out.deposit_store = fake.add_deposit(SECOND_DEPOSIT, padrao=False)["id"]
        parents: dict[str, int] = {}
        for name, parent, _prefix in CATEGORIES:
            key = f"{parent} > {name}" if parent else name
            cat = fake.add_category(name, parent_id=parents.get(parent, 0))
            out.categories[key] = cat["id"]
            if not parent:
                parents[name] = cat["id"]
        prefixes = {(f"{p} > {n}" if p else n): prefix for n, p, prefix in CATEGORIES}
        _simple_products(b, prefixes)
        _variations(b)
        _kits(b)
        _submaquina(b)
        _named_cases(b)
        _documents(b)
        fake.showcase.append(("Kit virtual: vendê-lo baixa o estoque das peças", out.kits[0]))
        out.products = len(fake.products)
        # Every product that holds stock and has no code (the sandbox page counts the same).
        out.without_code = [
            pid
            for pid, p in sorted(fake.products.items())
            if not p["codigo"] and p["formato"] != "V"
        ]
    return out


def _simple_products(b: _Builder, prefixes: dict[str, str]) -> None:
    for key, prefix in prefixes.items():
        leaf = key.split(" > ")[-1]
        if leaf not in NAMES:
            continue
        models, specs = NAMES[leaf]
        for copy in range(COPIES):
            for model in models:
                for spec in specs:
                    name = f"{model} {spec}" + (f" ({copy + 1}ª geração)" if copy else "")
                    # One product in eight arrives without a code, in every category.
                    coded = b.rng.random() >= 0.125
                    prod = b.product(name, key, coded=coded, prefix=prefix)
                    if not coded:
                        b.out.without_code.append(prod["id"])
                    main = b.rng.choice((0, 1, 2, 3, 5, 8, 12, 20))
                    store = b.rng.choice((0, 0, 1, 2, 4))
                    if main + store == 0:
                        main = 3  # zeros are the named cases' business
                    b.stock(prod["id"], main, store)
                    if coded:
                        b.stocked.append(prod["id"])
                        b.by_category.setdefault(leaf, []).append(prod["id"])


def _variations(b: _Builder) -> None:
    fake = b.fake
    keyboard = b.product(
        "Teclado Mecânico Redragon Kumara", "Teclado Mouse", coded=True, prefix="TEMO"
    )
    memory = b.product(
        "Memória Kingston Fury Beast DDR4", "Peças > Memória", coded=False, prefix=""
    )
    b.out.without_code.append(memory["id"])
    for parent, names, coded_prefix in (
        (keyboard, ("ABNT2", "US Internacional", "ABNT2 Branco"), "TEMO"),
        (memory, ("8GB", "16GB", "32GB"), ""),
    ):
        b.out.variation_parents.append(parent["id"])
        for n, label in enumerate(names):
            var = fake.add_variation(
                parent["id"],
                f"{parent['nome']} {label}",
                codigo=b.code(coded_prefix) if coded_prefix and n < 2 else "",
            )
            if not var["codigo"]:
                b.out.without_code.append(var["id"])
            b.stock(var["id"], b.rng.choice((2, 4, 6)), b.rng.choice((0, 1)))


def _kits(b: _Builder) -> None:
    fake = b.fake
    cats = b.out.categories
    ssd = b.product("SSD Kingston NV2 500GB NVMe (kit)", "Peças > SSD", coded=True, prefix="SSD")
    ram = b.product(
        "Memória Crucial 8GB DDR4 3200 (kit)", "Peças > Memória", coded=True, prefix="MEMO"
    )
    b.stock(ssd["id"], 6, 2)
    b.stock(ram["id"], 10)
    upgrade = fake.add_kit(
        "Kit Upgrade SSD 500GB + 8GB RAM",
        [(ssd["id"], 1), (ram["id"], 1)],
        tipo_estoque="V",
        lancamento="M",
        codigo=b.code("ACES"),
        categoria_id=cats["Acessórios"],
        preco=459.9,
    )
    combo = fake.add_kit(
        "Combo Teclado e Mouse Logitech MK270",
        [(b.by_category["Teclado Mouse"][0], 1)],
        tipo_estoque="F",
        lancamento="P",
        stock=7,
        categoria_id=cats["Teclado Mouse"],
        preco=189.9,
    )
    b.out.without_code.append(combo["id"])
    b.out.kits += [upgrade["id"], combo["id"]]


def _submaquina(b: _Builder) -> None:
    """Parts of machines assembled in-house: no code, never deactivated (SPEC 5.3)."""
    for key in ("SubMaquina", "Peças > SubMaquina"):
        for n in range(1, 4):
            what = "Gabinete montado" if key == "SubMaquina" else "Conjunto de peças"
            prod = b.product(f"{what} bancada {n}", key, coded=False, prefix="")
            b.stock(prod["id"], b.rng.choice((0, 1, 2)))


def _named_cases(b: _Builder) -> None:
    fake, out = b.fake, b.out
    sold = b.product("SSD Samsung 980 1TB NVMe", "Peças > SSD", coded=True, prefix="SSD")
    out.sold_out_by_sales = sold["id"]  # stock 2 sold in two orders (see _documents)
    zeroed = b.product("Placa Mãe ASUS Prime B550M", "Peças > Placa Mãe", coded=True, prefix="PLMA")
    out.zeroed_by_hand = zeroed["id"]
    b.stock(zeroed["id"], 4)
    # Inventory counted 0 in the store's system: a balance posting, no sale.
    fake.catalog.stock_postings.append(
        {
            "id": fake.catalog.allocate("posting"),
            "produto": {"id": zeroed["id"]},
            "deposito": {"id": out.deposit_main},
            "operacao": "B",
            "quantidade": 0,
            "observacoes": "Balanço de inventário",
        }
    )
    b.stock(zeroed["id"], 0)
    notebook = b.product("Notebook Lenovo IdeaPad 3 i3 8GB", "Notebook", coded=True, prefix="NTB")
    out.sold_out_notebook = notebook["id"]
    cancelled = b.product("Webcam Logitech C920 Full HD", "Acessórios", coded=True, prefix="ACES")
    out.cancelled_only = cancelled["id"]
    never = b.product(
        "Placa de Vídeo ASUS RTX 4070 12GB", "Peças > Placa de Vídeo", coded=False, prefix=""
    )
    out.never_stocked = never["id"]
    out.without_code.append(never["id"])
    for pid in (sold["id"], notebook["id"], cancelled["id"], never["id"]):
        b.stock(pid, 0)
    last = b.product("Cabo HDMI 2.1 8K 2 m", "Cabos", coded=True, prefix="CABO")
    out.last_unit = last["id"]
    b.stock(last["id"], 1)
    fake.showcase = [
        ("Última unidade: venda-a e o blingsync inativaria (esgotado por vendas)", last["id"]),
        ("Esgotado por vendas (histórico): a simulação de estoque propõe inativar", sold["id"]),
        ("Zerado à mão por balanço, sem venda: fica ativo", zeroed["id"]),
        ("Notebook esgotado: a categoria Notebook não inativa", notebook["id"]),
        ("Só teve pedido cancelado: fica ativo", cancelled["id"]),
        ("Nunca teve estoque e não tem código: a simulação de códigos propõe um", never["id"]),
    ]


def _documents(b: _Builder) -> None:
    """Orders over the last 20 days (some cancelled), NF-e from some orders, NFC-e sales."""
    fake, out, rng = b.fake, b.out, b.rng

    def order(items: list[tuple[int, float]], days_ago: int, situacao: int = 9) -> dict[str, Any]:
        day = b.now - dt.timedelta(days=days_ago, seconds=rng.randrange(3600, 30000))
        out.orders += 1
        return fake.add_order(
            items=items,
            situacao_id=situacao,
            data=day.date().isoformat(),
            data_alteracao=_stamp(day),
            numero=1000 + out.orders,
        )

    # The named cases' history.
    order([(out.sold_out_by_sales, 1)], 6)
    order([(out.sold_out_by_sales, 1)], 2)
    order([(out.sold_out_notebook, 1)], 3)
    order([(out.cancelled_only, 1)], 4, situacao=12)
    order([(out.kits[0], 1)], 5)
    # Everyday sales of products that are still in stock.
    for n in range(24):
        items = [(pid, 1.0) for pid in rng.sample(b.stocked, rng.choice((1, 1, 2, 3)))]
        situacao = 12 if n % 9 == 4 else rng.choice((9, 9, 9, 6))
        placed = order(items, rng.randrange(0, 20), situacao)
        if situacao == 9 and n % 3 == 0:  # an NF-e issued from the order: the same sale
            day = placed["data"] + " 17:00:00"
            fake.add_invoice(
                [(pid, qty) for pid, qty in items],
                kind="nfe",
                order_id=placed["id"],
                data_emissao=day,
                numero=str(5000 + out.nfe + 1),
            )
            out.nfe += 1
    for _n in range(10):  # counter sales: NFC-e without an order
        day = b.now - dt.timedelta(days=rng.randrange(0, 15), seconds=rng.randrange(3600, 30000))
        fake.add_invoice(
            [(rng.choice(b.stocked), 1.0)],
            kind="nfce",
            data_emissao=_stamp(day),
            numero=str(900 + out.nfce + 1),
        )
        out.nfce += 1
    # A B2B NF-e without an order.
    fake.add_invoice(
        [(b.stocked[0], 2.0)], kind="nfe", data_emissao=b.past(10), numero=str(5000 + out.nfe + 1)
    )
    out.nfe += 1

"""A catalog like the retailer's on the fake Bling, for the code tests (not a test module).

Categories: Notebook (> Dell, > SubMaquina), Mini, SFF, Monitor, Peças (> Placa Mãe,
> Memória, > SubMaquina), SubMaquina, Teclado Mouse. Existing codes: NTB00041, MONI00007,
PLMA00010 and a foreign "SKU-0001".
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.core.management import call_command

from blingsync.models import RuntimeSettings


@dataclass
class Retailer:
    cats: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    # product name -> expected prefix ("" = must stay without a code)
    expected: dict[str, str] = field(default_factory=dict)
    existing: dict[str, str] = field(default_factory=dict)


def retailer_catalog(fake) -> Retailer:
    r = Retailer()

    def cat(path: str, parent: str | None = None) -> int:
        name = path.split(" > ")[-1]
        r.cats[path] = fake.add_category(name, parent_id=r.cats[parent] if parent else 0)["id"]
        return r.cats[path]

    for top in ("Notebook", "Mini", "SFF", "Monitor", "Peças", "SubMaquina", "Teclado Mouse"):
        cat(top)
    cat("Notebook > Dell", "Notebook")
    cat("Notebook > SubMaquina", "Notebook")
    for sub in ("Placa Mãe", "Memória", "SubMaquina"):
        cat(f"Peças > {sub}", "Peças")

    def product(name: str, category: str | None, prefix: str, codigo: str = "", **kw) -> int:
        pid = fake.add_product(
            name, codigo=codigo, categoria_id=r.cats[category] if category else None, **kw
        )["id"]
        r.ids[name] = pid
        if codigo:
            r.existing[name] = codigo
        else:
            r.expected[name] = prefix
        return pid

    product("Notebook antigo", "Notebook", "", codigo="NTB00041")
    product("Notebook novo 1", "Notebook", "NTB")
    product("Notebook novo 2", "Notebook", "NTB")
    parent = product("Notebook com variações", "Notebook", "NTB")
    for name in ("Notebook com variações 8GB", "Notebook com variações 16GB"):
        r.ids[name] = fake.add_variation(parent, name)["id"]
        r.expected[name] = "NTB"
    r.ids["Notebook com variações 32GB"] = fake.add_variation(
        parent, "Notebook com variações 32GB", codigo="NTB00040"
    )["id"]
    r.existing["Notebook com variações 32GB"] = "NTB00040"
    product("Notebook excluído", "Notebook", "", situacao="E")
    product("Dell novo", "Notebook > Dell", "NTB")
    product("Mini novo", "Mini", "NTB")
    product("SFF novo", "SFF", "NTB")
    product("SFF inativo", "SFF", "NTB", situacao="I")
    product("Monitor antigo", "Monitor", "", codigo="MONI00007")
    product("Monitor novo", "Monitor", "MONI")
    product("Peça sem subcategoria", "Peças", "")
    product("Placa nova", "Peças > Placa Mãe", "PLMA")
    product("Memória nova", "Peças > Memória", "MEMO")
    product("Memória antiga", "Peças > Memória", "", codigo="PLMA00010")
    product("Peça de submáquina", "Peças > SubMaquina", "")
    product("Submáquina", "SubMaquina", "")
    product("Submáquina de notebook", "Notebook > SubMaquina", "")
    product("Teclado novo", "Teclado Mouse", "TEMO")
    product("Sem categoria", None, "")
    product("Produto estrangeiro", "Teclado Mouse", "", codigo="SKU-0001")
    return r


def go_live() -> None:
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": RuntimeSettings.Mode.LIVE})


def prepare(fake, *, live: bool = True) -> Retailer:
    """The catalog, mirrored categories and seeded counters (what an operator does first)."""
    r = retailer_catalog(fake)
    call_command("sync_categories", stdout=io.StringIO())
    call_command("seed_counters", stdout=io.StringIO())
    if live:
        go_live()
    return r

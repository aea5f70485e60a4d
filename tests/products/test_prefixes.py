"""Prefix derivation from category names (SPEC 5.3), with the edge cases decided in
products/prefixes.py."""

from __future__ import annotations

import pytest

from products.prefixes import name_key, prefix_derive


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        # the examples of the spec
        ("Teclado Mouse", "TEMO"),
        ("Placa Mãe", "PLMA"),
        ("Monitor", "MONI"),
        ("Memória", "MEMO"),
        # any accent, not a fixed table
        ("Áudio e Vídeo", "AUVI"),
        ("Ñandú Øre", "NARE"),
        ("Coração", "CORA"),
        ("ÉCRAN", "ECRA"),
        ("Placa de Vídeo", "PLVI"),
        ("Cabos e Adaptadores de Rede", "CAAD"),
        # only the first two words count
        ("Fonte de Alimentação ATX", "FOAL"),
        # case and spacing
        ("  teclado   MOUSE  ", "TEMO"),
        # single letters and short words
        ("A", "A"),
        ("X Y", "XY"),
        ("TV", "TV"),
        ("E", "E"),
        ("De", "DE"),
        ("Pen Drive", "PEDR"),
        # digits never appear in a prefix; they separate words
        ("Memória DDR4", "MEDD"),
        ("DDR4", "DDR"),
        ("4K", "K"),
        ("Série 3000", "SERI"),
        # punctuation separates words
        ("Placa-Mãe", "PLMA"),
        ("Cabos/Adaptadores", "CAAD"),
        ("Notebook (usado)", "NOUS"),
        # no letters: no prefix
        ("", ""),
        ("   ", ""),
        ("123", ""),
        ("--", ""),
    ],
)
def test_it_derives_the_prefix_of_a_category_name(name, prefix):
    assert prefix_derive(name) == prefix


def test_names_match_case_and_accent_insensitively():
    assert name_key("Peças") == name_key("PECAS") == name_key("  pecas ")
    assert name_key("SubMaquina") == name_key("submáquina")
    assert name_key("Placa  Mãe") == name_key("placa mae")

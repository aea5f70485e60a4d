"""Category rules as pure functions: inheritance, the code decision, code format."""

from __future__ import annotations

import pytest

from products.code_rules import (
    GENERATE,
    NEEDS_SUBCATEGORY,
    NO_CATEGORY,
    NO_PREFIX,
    NOT_MIRRORED,
    POLICY_SKIP,
    REMOVED,
    SKIP,
    SUBCATEGORY,
    CategoryNode,
    RuleSettings,
    category_allows_deactivation,
    category_chain,
    code_decide,
    code_format,
    code_parse,
    rule_effective,
)

NTB = RuleSettings(prefix="NTB", code_policy=GENERATE, deactivate_when_sold_out=False)
KEEP = RuleSettings(deactivate_when_sold_out=False)
SUBCAT = RuleSettings(code_policy=SUBCATEGORY)
SUBMAQUINA = RuleSettings(code_policy=SKIP, deactivate_when_sold_out=False)


def _catalog() -> dict[int, CategoryNode]:
    """A catalog like the retailer's, with the default rules attached."""
    rows = [
        (1, "Notebook", None, NTB),
        (2, "Mini", None, NTB),
        (3, "SFF", None, NTB),
        (4, "Monitor", None, KEEP),
        (5, "Peças", None, SUBCAT),
        (6, "Placa Mãe", 5, None),
        (7, "Memória", 5, None),
        (8, "SubMaquina", 5, SUBMAQUINA),
        (9, "SubMaquina", None, SUBMAQUINA),
        (10, "Dell", 1, None),
        (11, "Teclado Mouse", None, None),
        (12, "DDR4", 6, None),
        (13, "Cabos", None, RuleSettings(prefix="CAB")),
        (14, "HDMI", 13, None),
        (15, "Peças Usadas", None, RuleSettings(prefix="PEC", code_policy=SUBCATEGORY)),
        (16, "Fonte", 15, None),
        (17, "!!!", None, None),
        (18, "Antiga", None, None),
        (19, "Servidor", 1, RuleSettings(prefix="SRV", deactivate_when_sold_out=True)),
        (20, "Peças internas", 9, None),
        (21, "Kits", 5, RuleSettings(code_policy=SKIP)),
        (22, "SubMaquina", 1, SUBMAQUINA),
    ]
    nodes = {
        cid: CategoryNode(id=cid, name=name, parent_id=parent, rule=rule, removed=cid == 18)
        for cid, name, parent, rule in rows
    }
    return nodes


@pytest.mark.parametrize(
    ("category_id", "prefix", "reason"),
    [
        (1, "NTB", ""),  # Notebook
        (2, "NTB", ""),  # Mini shares NTB
        (3, "NTB", ""),  # SFF shares NTB
        (10, "NTB", ""),  # Notebook > Dell inherits the prefix
        (19, "SRV", ""),  # ... unless it sets its own
        (4, "MONI", ""),  # Monitor: derived
        (11, "TEMO", ""),  # no rule at all: derived from its name
        (5, "", NEEDS_SUBCATEGORY),  # directly in Peças: no subcategory, no code
        (6, "PLMA", ""),  # Peças > Placa Mãe: the subcategory's prefix
        (7, "MEMO", ""),  # Peças > Memória
        (12, "DDR", ""),  # Peças > Placa Mãe > DDR4: its own name
        (8, "", POLICY_SKIP),  # SubMaquina as a subcategory of Peças
        (22, "", POLICY_SKIP),  # SubMaquina as a subcategory of Notebook
        (9, "", POLICY_SKIP),  # SubMaquina as a category
        (20, "", POLICY_SKIP),  # below SubMaquina: inherited
        (21, "", POLICY_SKIP),  # Peças > Kits set to skip
        (13, "CAB", ""),  # explicit prefix
        (14, "CAB", ""),  # inherited explicit prefix
        (15, "", NEEDS_SUBCATEGORY),
        (16, "FONT", ""),  # a subcategory-policy parent's prefix does not pass down
        (17, "", NO_PREFIX),  # a name without letters
        (18, "", REMOVED),  # removed from Bling
        (999, "", NOT_MIRRORED),
    ],
)
def test_it_decides_the_code_prefix_of_a_category(category_id, prefix, reason):
    nodes = _catalog()
    decision = code_decide(category_id=category_id, chain=category_chain(category_id, nodes))
    assert (decision.prefix, decision.reason) == (prefix, reason)
    assert decision.generates is bool(prefix)
    assert decision.rule


def test_a_product_without_category_gets_no_code():
    assert code_decide(category_id=None, chain=None).reason == NO_CATEGORY
    assert code_decide(category_id=0, chain=None).reason == NO_CATEGORY


@pytest.mark.parametrize(
    ("category_id", "deactivate"),
    [
        (1, False),  # Notebook
        (2, False),  # Mini
        (3, False),  # SFF
        (4, False),  # Monitor
        (10, False),  # Notebook > Dell inherits
        (19, True),  # Notebook > Servidor overrides
        (9, False),  # SubMaquina never
        (8, False),  # Peças > SubMaquina never
        (22, False),
        (20, False),  # below SubMaquina
        (5, True),  # Peças: default
        (6, True),
        (11, True),  # no rule: default
        (999, False),  # not mirrored: nothing is decided about it
    ],
)
def test_it_decides_whether_sold_out_products_are_deactivated(category_id, deactivate):
    nodes = _catalog()
    assert category_allows_deactivation(category_chain(category_id, nodes)) is deactivate


def test_the_effective_rule_says_which_category_decided():
    nodes = _catalog()
    rule = rule_effective(category_chain(10, nodes))
    assert (rule.prefix, rule.prefix_source) == ("NTB", "Notebook")
    assert rule.deactivation_source == "Notebook"
    assert rule.policy_source == "Notebook"
    derived = rule_effective(category_chain(6, nodes))
    assert derived.policy_source == "Peças" and derived.code_policy == GENERATE
    assert "Placa Mãe" in derived.prefix_source


def test_a_parent_loop_does_not_hang():
    nodes = {
        1: CategoryNode(id=1, name="A", parent_id=2),
        2: CategoryNode(id=2, name="B", parent_id=1),
    }
    assert [n.id for n in category_chain(1, nodes)] == [1, 2]


@pytest.mark.parametrize(
    ("prefix", "number", "code"),
    [
        ("NTB", 1, "NTB00001"),
        ("NTB", 42, "NTB00042"),
        ("PLMA", 99999, "PLMA99999"),
        ("NTB", 100000, "NTB100000"),
        ("A", 1234567, "A1234567"),
    ],
)
def test_it_formats_codes_and_never_wraps(prefix, number, code):
    assert code_format(prefix, number) == code
    assert code_parse(code) == (prefix, number)


@pytest.mark.parametrize("code", ["", "SKU-000123", "ntb00001", "123", "NTB", "ABCDEFGHIJK1"])
def test_it_does_not_read_foreign_codes_as_ours(code):
    assert code_parse(code) is None

"""Reading category rules from the database into the plain data `products.code_rules` works on,
and what the evidence ledger says about a product (for deciding whether to ask for a
sold-out evaluation).

`category_rule_effective(category_id=...)` is the entry point for other features (the
sold-out helper asks it whether a category's sold-out products may be deactivated).
"""

from __future__ import annotations

from decimal import Decimal

from products.code_rules import (
    CategoryNode,
    CodeDecision,
    EffectiveRule,
    RuleSettings,
    category_chain,
    code_decide,
    rule_effective,
    rule_for_unknown,
)
from products.evidence import order_product_ids
from products.kits import order_products_and_parts
from products.models import Category, CategoryRule, SaleLine, StockMovement
from products.prefixes import name_key


def _settings(rule: CategoryRule) -> RuleSettings:
    return RuleSettings(
        prefix=rule.prefix.strip(),
        code_policy=rule.code_policy,
        deactivate_when_sold_out=rule.deactivate_when_sold_out,
    )


def category_nodes_load() -> dict[int, CategoryNode]:
    """Every mirrored category (removed ones too) with the rule that applies to it.

    A category's own rule (by id) wins; a category without one takes a rule by name that is
    not attached to a category yet (e.g. one staff just added), matched case- and
    accent-insensitively.
    """
    by_id: dict[int, RuleSettings] = {}
    by_name: dict[str, RuleSettings] = {}
    for row in CategoryRule.objects.all().order_by("id"):
        if row.category_id is not None:
            by_id[row.category_id] = _settings(row)
        elif row.name_match.strip():
            by_name.setdefault(name_key(row.name_match), _settings(row))
    nodes: dict[int, CategoryNode] = {}
    for cat in Category.objects.all().only(
        "id", "description", "parent_id", "full_path", "removed_at"
    ):
        rule = by_id.get(cat.id) or by_name.get(name_key(cat.description))
        nodes[cat.id] = CategoryNode(
            id=cat.id,
            name=cat.description,
            parent_id=cat.parent_id,
            rule=rule,
            removed=cat.removed_at is not None,
            path=cat.full_path,
        )
    return nodes


def category_rule_effective(
    *, category_id: int | None, nodes: dict[int, CategoryNode] | None = None
) -> EffectiveRule:
    """The effective rule of a category (inheritance applied).

    `category_id` None/0 (no category) gives the defaults; a category that is not mirrored
    gives `known=False`, no code and `deactivate_when_sold_out=False` (see
    `products.code_rules.rule_for_unknown`). Pass `nodes` (from `category_nodes_load`) when asking
    about many categories.
    """
    if not category_id:
        return rule_for_unknown(None)
    nodes = category_nodes_load() if nodes is None else nodes
    chain = category_chain(category_id, nodes)
    if chain is None:
        return rule_for_unknown(category_id)
    return rule_effective(chain)


def category_code_decision(
    *, category_id: int | None, nodes: dict[int, CategoryNode] | None = None
) -> CodeDecision:
    """Whether products of `category_id` get a code, with which prefix, and why."""
    if not category_id:
        return code_decide(category_id=None, chain=None)
    nodes = category_nodes_load() if nodes is None else nodes
    return code_decide(category_id=category_id, chain=category_chain(category_id, nodes))


def categories_generating_codes(
    *, nodes: dict[int, CategoryNode] | None = None
) -> list[tuple[CategoryNode, CodeDecision]]:
    """Mirrored, not removed categories whose products get codes, deepest first (so a
    product listed under a parent and a subcategory is decided by the subcategory)."""
    nodes = category_nodes_load() if nodes is None else nodes
    found = []
    for node in nodes.values():
        if node.removed:
            continue
        chain = category_chain(node.id, nodes)
        decision = code_decide(category_id=node.id, chain=chain)
        if decision.generates:
            found.append((len(chain or ()), node, decision))
    found.sort(key=lambda item: (-item[0], item[1].label))
    return [(node, decision) for _, node, decision in found]


def product_has_evidence(*, product_id: int) -> bool:
    """Whether the ledger holds a sale or a stock movement of the product."""
    return (
        SaleLine.objects.filter(bling_product_id=product_id).exists()
        or StockMovement.objects.filter(bling_product_id=product_id).exists()
    )


def products_at_zero(*, document_id: int, source: str = SaleLine.Source.ORDER) -> list[int]:
    """Products of the sales document (an order, or an invoice of `source`) whose last
    balance in the ledger is zero or less."""
    zeroed = []
    # A kit's sale is also a sale of the parts it posts on (lancamentoEstoque A or M).
    ids = order_product_ids(order_id=document_id, source=source)
    for product_id in order_products_and_parts(product_ids=ids):
        last = (
            StockMovement.objects.filter(bling_product_id=product_id, virtual_total__isnull=False)
            .order_by("-occurred_at", "-id")
            .values_list("virtual_total", flat=True)
            .first()
        )
        if last is not None and Decimal(last) <= 0:
            zeroed.append(product_id)
    return zeroed

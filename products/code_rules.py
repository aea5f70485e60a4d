"""Category rules, chiefly the code rules: what a category's products get (code prefix, code
policy, and the sold-out deactivation setting), and the code format. Pure functions of plain
data: no ORM, no HTTP (the selectors in `products/selectors.py` build the plain data from the
database).

Inheritance (SPEC 4, 5.3), each setting on its own, walking from the category up to the root:
- code policy: the nearest rule that sets one. A parent's "use the subcategory's prefix"
  means "generate" for its subcategories (they are the subcategories); for products placed
  directly in that category it means no code (they have no subcategory). Default: generate.
- prefix: the nearest rule that sets one, but a prefix set on a "use the subcategory's
  prefix" parent does not pass down (the subcategory's prefix is wanted there). Without one,
  the prefix is derived from the name of the product's own category: "Peças > Placa Mãe"
  gives PLMA, a top-level "Monitor" gives MONI; "Notebook > Dell" gets NTB from Notebook's
  rule.
- deactivate when sold out: the nearest rule that sets it. Default: yes.

A product with no category, or whose category is not mirrored (or was removed from Bling),
gets no code, with the reason recorded. Variations are decided with their parent's chain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from products.prefixes import prefix_derive

GENERATE = "generate"
SUBCATEGORY = "subcategory"
SKIP = "skip"
POLICIES = (GENERATE, SUBCATEGORY, SKIP)

DEFAULT_POLICY = GENERATE
DEFAULT_DEACTIVATE = True

# Reasons for not generating a code (keys of the sweep's "skipped by reason" summary).
NO_CATEGORY = "no_category"
NOT_MIRRORED = "category_not_mirrored"
REMOVED = "category_removed"
POLICY_SKIP = "policy_skip"
NEEDS_SUBCATEGORY = "needs_subcategory"
NO_PREFIX = "no_prefix"

# Guards against a parent loop in a corrupt mirror.
MAX_DEPTH = 50

_CODE = re.compile(r"^([A-Z]{1,10})(\d+)$")


@dataclass(frozen=True)
class RuleSettings:
    """What staff set on one category ("" / None = inherit)."""

    prefix: str = ""
    code_policy: str = ""
    deactivate_when_sold_out: bool | None = None


@dataclass(frozen=True)
class CategoryNode:
    id: int
    name: str
    parent_id: int | None = None
    rule: RuleSettings | None = None
    removed: bool = False
    path: str = ""

    @property
    def label(self) -> str:
        return self.path or self.name


@dataclass(frozen=True)
class EffectiveRule:
    """The rule that applies to products placed directly in a category.

    `prefix` is "" when that category's products get no code (skip, needs a subcategory, or
    a name without letters). The `*_source` fields say which category decided (for the admin
    and the audit "reason").
    """

    category_id: int | None
    known: bool
    code_policy: str
    prefix: str
    deactivate_when_sold_out: bool
    policy_source: str = ""
    prefix_source: str = ""
    deactivation_source: str = ""
    # The same as data, for audit reasons: the category whose rule decided ("" = the
    # default), and the category name a derived prefix comes from.
    policy_category: str = ""
    prefix_category: str = ""
    prefix_derived_from: str = ""

    @property
    def generates_codes(self) -> bool:
        return self.code_policy == GENERATE and bool(self.prefix)

    def describe(self) -> str:
        """One line for audit entries: what was decided and by which category."""
        parts = [f"policy={self.code_policy} ({self.policy_source})"]
        if self.prefix:
            parts.append(f"prefix={self.prefix} ({self.prefix_source})")
        return "; ".join(parts)


@dataclass(frozen=True)
class CodeDecision:
    """Whether a product gets a code, with which prefix, and why."""

    prefix: str
    reason: str  # "" when a code is generated, else one of the reason keys above
    rule: str  # what decided, for the audit (text of the time)
    # Why, as data (audit `reason_rule` / `reason_data`): sentences in products/reasons.py.
    reason_rule: str = ""
    reason_data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def generates(self) -> bool:
        return bool(self.prefix)


def category_chain(
    category_id: int, nodes: Mapping[int, CategoryNode]
) -> tuple[CategoryNode, ...] | None:
    """The category and its ancestors (the category first), or None when not mirrored.

    A parent missing from `nodes` ends the chain there (treated as the root).
    """
    node = nodes.get(category_id)
    if node is None:
        return None
    chain = [node]
    seen = {node.id}
    while node.parent_id and node.parent_id in nodes and len(chain) < MAX_DEPTH:
        node = nodes[node.parent_id]
        if node.id in seen:
            break
        seen.add(node.id)
        chain.append(node)
    return tuple(chain)


def rule_effective(chain: Sequence[CategoryNode]) -> EffectiveRule:
    """The effective rule of `chain[0]` given its ancestors `chain[1:]`."""
    category = chain[0]

    policy, policy_source, policy_category = DEFAULT_POLICY, "padrão", ""
    for depth, node in enumerate(chain):
        if node.rule and node.rule.code_policy:
            policy = node.rule.code_policy
            if depth > 0 and policy == SUBCATEGORY:
                policy = GENERATE  # we are one of its subcategories
            policy_source = policy_category = node.label
            break

    prefix, prefix_source, prefix_category, derived_from = "", "", "", ""
    if policy == GENERATE:
        for depth, node in enumerate(chain):
            rule = node.rule
            if depth > 0 and rule and rule.code_policy == SUBCATEGORY:
                break  # its subcategories use their own prefix
            if rule and rule.prefix:
                prefix, prefix_source, prefix_category = rule.prefix, node.label, node.label
                break
        if not prefix:
            prefix = prefix_derive(category.name)
            if prefix:
                prefix_source = f"derivado de “{category.name}”"
                derived_from = category.name

    deactivate, deactivation_source = DEFAULT_DEACTIVATE, "padrão"
    for node in chain:
        if node.rule and node.rule.deactivate_when_sold_out is not None:
            deactivate = node.rule.deactivate_when_sold_out
            deactivation_source = node.label
            break

    return EffectiveRule(
        category_id=category.id,
        known=True,
        code_policy=policy,
        prefix=prefix,
        deactivate_when_sold_out=deactivate,
        policy_source=policy_source,
        prefix_source=prefix_source,
        deactivation_source=deactivation_source,
        policy_category=policy_category,
        prefix_category=prefix_category,
        prefix_derived_from=derived_from,
    )


def rule_for_unknown(category_id: int | None) -> EffectiveRule:
    """The rule of a product without category (defaults) or with an unmirrored one.

    No category: the defaults (no code; sold-out deactivation applies, as for any product no
    rule protects). A category not mirrored yet: nothing is decided about it, so neither a
    code nor a deactivation (it may well be a "Notebook" subcategory); the next category
    sync settles it.
    """
    if not category_id:
        return EffectiveRule(
            category_id=None,
            known=False,
            code_policy=SKIP,
            prefix="",
            deactivate_when_sold_out=DEFAULT_DEACTIVATE,
            policy_source="sem categoria",
            deactivation_source="padrão",
        )
    return EffectiveRule(
        category_id=category_id,
        known=False,
        code_policy=SKIP,
        prefix="",
        deactivate_when_sold_out=False,
        policy_source="categoria não espelhada",
        deactivation_source="categoria não espelhada",
    )


def code_decide(*, category_id: int | None, chain: Sequence[CategoryNode] | None) -> CodeDecision:
    """The code decision for a product in `category_id` (its chain, None when unmirrored)."""
    if not category_id:
        return CodeDecision("", NO_CATEGORY, "produto sem categoria")
    if chain is None:
        return CodeDecision("", NOT_MIRRORED, f"categoria {category_id} não espelhada")
    if chain[0].removed:
        return CodeDecision("", REMOVED, f"categoria {chain[0].label} removida do Bling")
    rule = rule_effective(chain)
    if rule.code_policy == SKIP:
        return CodeDecision("", POLICY_SKIP, rule.describe())
    if rule.code_policy == SUBCATEGORY:
        return CodeDecision("", NEEDS_SUBCATEGORY, rule.describe())
    if not rule.prefix:
        return CodeDecision("", NO_PREFIX, f"“{chain[0].name}” não gera prefixo")
    data = {
        "prefix": rule.prefix,
        "category": chain[0].label,
        "policy_category": rule.policy_category,
    }
    if rule.prefix_derived_from:
        data["derived_from"] = rule.prefix_derived_from
        reason_rule = "code.prefix_derived"
    else:
        data["prefix_category"] = rule.prefix_category
        reason_rule = "code.prefix_rule"
    return CodeDecision(rule.prefix, "", rule.describe(), reason_rule, data)


def category_allows_deactivation(chain: Sequence[CategoryNode] | None) -> bool:
    """Whether a sold-out product of the category `chain[0]` may be deactivated.

    None (category not mirrored) -> False; see `rule_for_unknown`.
    """
    if chain is None:
        return False
    return rule_effective(chain).deactivate_when_sold_out


def code_format(prefix: str, number: int) -> str:
    """`NTB00042`; past 99999 the number simply grows (`NTB100000`), it never wraps."""
    return f"{prefix}{number:05d}"


def code_parse(code: str) -> tuple[str, int] | None:
    """("NTB", 42) for "NTB00042"; None for anything not letters-then-digits."""
    match = _CODE.match(code.strip())
    if not match:
        return None
    return match.group(1), int(match.group(2))

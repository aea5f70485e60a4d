"""The default category rules of SPEC 5.3, seeded once on a new install.

Seeded by the data migration `0004_default_category_rules` (so it happens exactly once: a
rule staff later edit or delete is never put back). Rules are by name (`name_match`) until the
category sync attaches them to the mirrored category ids.
"""

from __future__ import annotations

from typing import Any

from products.prefixes import name_key

# name, prefix, code_policy, deactivate_when_sold_out
DEFAULT_RULES: tuple[tuple[str, str, str, bool | None], ...] = (
    ("Notebook", "NTB", "generate", False),
    ("Mini", "NTB", "generate", False),
    ("SFF", "NTB", "generate", False),
    ("Monitor", "", "", False),
    ("Peças", "", "subcategory", None),
    ("SubMaquina", "", "skip", False),
)


def category_rules_seed(*, rule_model: Any = None) -> int:
    """Create the default rules that have no rule of the same name yet; returns how many.

    `rule_model` lets the data migration pass its historical model.
    """
    if rule_model is None:
        from products.models import CategoryRule as rule_model
    existing = {name_key(n) for n in rule_model.objects.values_list("name_match", flat=True)}
    existing |= {
        name_key(d)
        for d in rule_model.objects.filter(category__isnull=False).values_list(
            "category__description", flat=True
        )
    }
    created = 0
    for name, prefix, policy, deactivate in DEFAULT_RULES:
        if name_key(name) in existing:
            continue
        rule_model.objects.create(
            name_match=name,
            prefix=prefix,
            code_policy=policy,
            deactivate_when_sold_out=deactivate,
        )
        created += 1
    return created

"""The default category rules of SPEC 5.3, seeded once on a new install.

Seeded by the data migration `0004_default_category_rules`, and by a post_migrate handler
while the installation has neither rules nor mirrored categories (that brings them back after
a test database flush). Neither runs on an installation in use, so a rule staff edit or
delete is never put back. Rules are by name (`name_match`) until the category sync attaches
them to the mirrored category ids.
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


def rules_seed_on_new_install(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: seed the defaults on an installation that has neither rules nor mirrored
    categories (a new one, or a test database just flushed). Once categories are mirrored
    this never runs again, so rules staff delete later stay deleted."""
    from products.models import Category, CategoryRule

    if CategoryRule.objects.using(using).exists() or Category.objects.using(using).exists():
        return
    category_rules_seed()

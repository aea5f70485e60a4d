"""Mirroring Bling's product categories (`sync_categories`, job kind `categories`).

Reads every category (GET /categorias/produtos, pages of 100), upserts `Category` rows with
the full path built from `categoriaPai` ("Peças > Placa Mãe"), marks categories gone from
Bling as removed (never deletes them: rules and history point at them) and attaches rules
by name to the mirrored ids. Writes nothing to Bling, so it runs the same in dry-run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from blingsync.audit import audit_record
from blingsync.bling import catalog
from blingsync.bling.types import BlingCategory
from blingsync.jobrunner import JobContext, ProgressCallback, register_job
from blingsync.models import AuditLog
from blingsync.sweep_cursor import sweep_full_request
from products.code_rules import MAX_DEPTH
from products.models import Category, CategoryRule
from products.prefixes import name_key

logger = logging.getLogger(__name__)

PATH_SEPARATOR = " > "
# The sweeps whose coverage a category or its rule decides: a new or restored category, or a
# changed rule, makes their next run full (SPEC 5.7).
RULE_SWEEP_KINDS = ["codes", "stock"]


@dataclass
class CategorySyncResult:
    seen: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    restored: int = 0
    rules_attached: list[str] = field(default_factory=list)


def _full_path(cat_id: int, fetched: dict[int, BlingCategory]) -> str:
    names: list[str] = []
    seen: set[int] = set()
    current: int | None = cat_id
    while current and current in fetched and current not in seen and len(names) < MAX_DEPTH:
        seen.add(current)
        names.append(fetched[current].description.strip())
        current = fetched[current].parent_id
    return PATH_SEPARATOR.join(reversed(names))


def categories_sync(*, progress: ProgressCallback | None = None) -> CategorySyncResult:
    """Mirror every Bling product category; returns what changed."""
    fetched: dict[int, BlingCategory] = {}
    for category in catalog.categories_iter():
        fetched[category.id] = category
        if progress and len(fetched) % 100 == 0:
            progress(len(fetched), None, "categorias lidas")
    result = CategorySyncResult(seen=len(fetched))
    now = timezone.now()
    widened: list[str] = []
    with transaction.atomic():
        existing = {c.id: c for c in Category.objects.all()}
        for cat_id, bling_cat in fetched.items():
            parent_id = bling_cat.parent_id if bling_cat.parent_id in fetched else None
            values = {
                "description": bling_cat.description.strip(),
                "parent_id": parent_id,
                "full_path": _full_path(cat_id, fetched),
            }
            row = existing.get(cat_id)
            if row is None:
                widened.append(f"categoria nova no Bling: {values['full_path']}")
                # ignore_conflicts: a sync running at the same time (the code sweep refreshes
                # the mirror too) may have just inserted it; the row ends up the same.
                Category.objects.bulk_create(
                    [Category(id=cat_id, synced_at=now, **values)], ignore_conflicts=True
                )
                result.created += 1
                continue
            changed = any(getattr(row, k) != v for k, v in values.items())
            if row.removed_at is not None:
                result.restored += 1
                changed = True
                widened.append(f"categoria restaurada no Bling: {values['full_path']}")
            Category.objects.filter(pk=cat_id).update(removed_at=None, synced_at=now, **values)
            result.updated += int(changed)
        gone = [cid for cid, row in existing.items() if cid not in fetched and not row.removed_at]
        if gone:
            result.removed = Category.objects.filter(pk__in=gone).update(removed_at=now)
        result.rules_attached = category_rules_attach()
        widened.extend(f"regra por nome associada a {path}" for path in result.rules_attached)
        if widened:
            # Their products may be older than any cursor: the next sweeps list everything.
            more = f" (e mais {len(widened) - 1})" if len(widened) > 1 else ""
            sweep_full_request(kinds=RULE_SWEEP_KINDS, reason=widened[0] + more)
    if progress:
        progress(result.seen, result.seen, "categorias espelhadas")
    logger.info(
        "categories synced: %d seen, %d new, %d updated, %d removed, %d restored",
        result.seen,
        result.created,
        result.updated,
        result.removed,
        result.restored,
    )
    return result


def category_rules_attach() -> list[str]:
    """Give each mirrored category that has no rule of its own the rule made for its name.

    A rule by name not attached yet is attached to the first matching category; further
    categories of the same name (e.g. "SubMaquina" at the top and under "Peças") get a copy
    of it, so each can be edited on its own afterwards. Existing rules are never changed.
    Returns the paths of the categories that got a rule.
    """
    rules = list(CategoryRule.objects.exclude(name_match="").order_by("id"))
    if not rules:
        return []
    by_name: dict[str, list[CategoryRule]] = {}
    for rule in rules:
        by_name.setdefault(name_key(rule.name_match), []).append(rule)
    with_rule = set(
        CategoryRule.objects.filter(category__isnull=False).values_list("category_id", flat=True)
    )
    attached = []
    candidates = Category.objects.filter(removed_at__isnull=True).exclude(pk__in=with_rule)
    for category in candidates.order_by("full_path", "id"):
        matches = by_name.get(name_key(category.description))
        if not matches:
            continue
        free = next((r for r in matches if r.category_id is None), None)
        try:
            # A savepoint per category: a sync running at the same time may have given it
            # a rule a moment ago (unique category); then that rule stands.
            with transaction.atomic():
                if free is not None:
                    taken = CategoryRule.objects.filter(pk=free.pk, category__isnull=True).update(
                        category=category, updated_at=timezone.now()
                    )
                    if not taken:
                        continue  # attached by a concurrent sync
                    free.category = category
                    how = "associada"
                else:
                    template = matches[0]
                    CategoryRule.objects.create(
                        category=category,
                        name_match=template.name_match,
                        prefix=template.prefix,
                        code_policy=template.code_policy,
                        deactivate_when_sold_out=template.deactivate_when_sold_out,
                    )
                    how = "copiada"
        except IntegrityError:
            continue
        audit_record(
            action=AuditLog.Action.RULE_CHANGED,
            after={"category_id": category.id, "category": category.full_path},
            reason=f"regra por nome {how} à categoria espelhada {category.full_path}",
            reason_rule="rule.attached_by_name",
            reason_data={"category": category.full_path, "how": how},
        )
        attached.append(category.full_path)
    return attached


@register_job("categories", uses_since=False)
def categories_job(ctx: JobContext) -> None:
    result = categories_sync(progress=ctx.progress)
    ctx.count("seen", result.seen)
    ctx.count("changed", result.created + result.updated + result.removed)
    ctx.note("created", result.created)
    ctx.note("updated", result.updated)
    ctx.note("removed", result.removed)
    ctx.note("restored", result.restored)
    ctx.note("rules_attached", result.rules_attached)

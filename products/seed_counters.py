"""Seeding code counters from the codes already in Bling (`seed_counters`, job kind
`seed_counters`).

Reads every product (GET /produtos, criterio=5 "Todos", pages of 100, once per stock state
`filtroSaldoEstoque` 1, 0 and 2: complete because every balance is positive, zero or
negative, while an unfiltered listing would leave out the codes held by sold-out products)
and raises each counter
to at least the highest number in use for its prefix, so no new code collides with an old
one. Which codes count: every code made of 1-10 upper-case letters followed by digits
(`^[A-Z]{1,10}\\d+$`), whatever its prefix, not only the prefixes today's rules produce: a
rule staff add tomorrow (or a renamed category) may produce any prefix, and a counter for a
prefix nobody uses costs nothing. Codes like "SKU-000123" or "abc12" are not ours and are
ignored. Counters are only ever raised.

Raising a counter writes nothing to Bling and consumes no code, so it also happens when the
installation is in dry-run mode (that makes dry-run previews show the right numbers); only
an explicit `--dry-run` reports without raising.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from blingsync.audit import audit_record
from blingsync.bling import catalog
from blingsync.jobrunner import JobContext, ProgressCallback, register_job
from blingsync.models import AuditLog
from blingsync.sweep_cursor import sweep_full_request
from products.code_rules import code_format, code_parse
from products.codes import counter_raise_to
from products.models import CodeCounter

logger = logging.getLogger(__name__)


@dataclass
class SeedResult:
    products_seen: int = 0
    codes_read: int = 0
    highest: dict[str, int] = field(default_factory=dict)
    raised: dict[str, tuple[int, int]] = field(default_factory=dict)  # prefix: (before, after)


def counters_seed(*, dry_run: bool, progress: ProgressCallback | None = None) -> SeedResult:
    """Raise every counter to the highest number in use in Bling for its prefix."""
    result = SeedResult()
    # Every stock state: a code held only by a sold-out product is still taken.
    for product in catalog.products_all_stock_iter(page_size=100, criterio=catalog.PRODUCTS_ALL):
        result.products_seen += 1
        parsed = code_parse(product.code) if product.has_code else None
        if parsed:
            result.codes_read += 1
            prefix, number = parsed
            if number > result.highest.get(prefix, -1):
                result.highest[prefix] = number
        if progress and result.products_seen % 100 == 0:
            progress(result.products_seen, None, "produtos lidos")
    current = dict(CodeCounter.objects.values_list("prefix", "last_value"))
    for prefix, number in sorted(result.highest.items()):
        before = current.get(prefix, 0)
        if number <= before:
            continue
        result.raised[prefix] = (before, number)
        if dry_run:
            continue
        if counter_raise_to(prefix=prefix, value=number):
            audit_record(
                action=AuditLog.Action.COUNTER_ADJUSTED,
                code=code_format(prefix, number),
                before={"prefix": prefix, "last_value": before},
                after={"prefix": prefix, "last_value": number},
                reason=f"maior código {prefix} já usado no Bling: {code_format(prefix, number)}",
                reason_rule="counter.seeded",
                reason_data={"prefix": prefix, "code": code_format(prefix, number)},
            )
    if result.raised and not dry_run:
        # New numbers start past codes older than any cursor: the next code sweep is full.
        sweep_full_request(
            kinds=["codes"], reason=f"contadores semeados ({', '.join(sorted(result.raised))})"
        )
    if progress:
        progress(result.products_seen, result.products_seen, "produtos lidos")
    logger.info(
        "counters seeded: %d products, %d codes, %d counters raised%s",
        result.products_seen,
        result.codes_read,
        len(result.raised),
        " (dry run)" if dry_run else "",
    )
    return result


@register_job("seed_counters", uses_since=False)
def seed_counters_job(ctx: JobContext) -> None:
    # Not `ctx.dry_run`: this kind runs live in an installation in dry-run mode (see the
    # module docstring; `permissions.job_run_permission` asks the live permission for it
    # unless the run itself asks for dry-run), so only what the run asked counts.
    explicit_dry_run = bool(ctx.params.get("dry_run"))
    result = counters_seed(dry_run=explicit_dry_run, progress=ctx.progress)
    ctx.count("seen", result.products_seen)
    ctx.count("changed", len(result.raised))
    # Raising counters writes nothing to Bling, so only an explicit --dry-run holds it back:
    # the details say what happened, not the installation's mode.
    ctx.note("dry_run", explicit_dry_run)
    if not explicit_dry_run:
        ctx.run.details.pop("dry_run_reason", None)
    ctx.note("codes_read", result.codes_read)
    ctx.note("raised", {p: list(v) for p, v in result.raised.items()})

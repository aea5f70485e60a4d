"""Giving products their codes (SPEC 5.4): allocation, the check against Bling, the write.

Guarantees and how they hold:
- Allocation is one transaction: the counter row is incremented (the UPDATE locks it on
  PostgreSQL; SQLite transactions are IMMEDIATE, i.e. take the write lock at BEGIN) and the
  `CodeAssignment` row is inserted. If another process assigned the product in the meantime,
  the unique `bling_product_id` fails the insert, the whole transaction (increment included)
  rolls back and the other process's assignment is used: one code per product, no gap.
- Before writing, the codes about to be written are looked up in Bling in one batch
  (`GET /produtos?codigos[]=...`). A code some other product already uses is recorded
  (audit `code_skipped`), the counter is raised past it and the product gets the next number.
- The write is `PATCH /produtos/{id}` with `{"codigo"}` only. The audit intent is written
  before it and completed after it; a failure leaves the assignment `failed` and the sweep
  retries it later with the same code.
- Dry-run computes and audits (`would_do`) the code the product *would* get by peeking at the
  counters; nothing is written to Bling and no counter is consumed.

`product_code_ensure` serves one product (a product event, routed by `products.changes`);
the code sweep (`products/code_sweep.py`) feeds whole list pages to `codes_apply`. Both take
`dry_run` from their caller (the entry point resolved it with `runtime.run_mode_resolve`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.audit import audit_begin, audit_complete, audit_record
from blingsync.bling import catalog
from blingsync.bling.errors import BlingError, BlingNotFound, BlingValidationError
from blingsync.bling.types import BlingProduct, ProductSituation
from blingsync.models import AuditLog
from blingsync.sweep_cursor import sweep_full_request
from products.category_sync import categories_sync
from products.code_rules import NOT_MIRRORED, CodeDecision, code_format
from products.models import CodeAssignment, CodeCounter
from products.selectors import category_code_decision, category_nodes_load

logger = logging.getLogger(__name__)

Status = CodeAssignment.Status

# Outcomes of a CodeResult.
CODED = "coded"
WOULD_CODE = "would_code"
ALREADY_CODED = "already_coded"
SKIPPED = "skipped"
FAILED = "failed"

# Extra skip reasons (besides those of products.code_rules).
PRODUCT_NOT_FOUND = "product_not_found"
PRODUCT_EXCLUDED = "product_excluded"
BEING_WRITTEN = "being_written_by_another_process"
# Longer than one PATCH with its retries; a claim older than this belongs to a dead process.
WRITE_CLAIM = timedelta(minutes=2)

LOOKUP_BATCH = 100  # codes per GET /produtos?codigos[]=... (one list page)
MAX_COLLISION_ROUNDS = 20
# Per-product failures: the batch goes on. Anything else (not connected, auth, rate limit,
# Bling down, circuit open) stops the caller after the failure is recorded.
PER_PRODUCT_ERRORS = (BlingValidationError, BlingNotFound)


@dataclass(frozen=True)
class CodeTarget:
    """A product that should get a code with `prefix` (decided by `rule`)."""

    product_id: int
    prefix: str
    rule: str = ""
    parent_id: int | None = None
    # As read from Bling by the caller (for the audit row; no extra call).
    name: str = ""
    # Why, as data (`CodeDecision.reason_rule` / `reason_data`); "" for a retry.
    reason_rule: str = ""
    reason_data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def of(cls, product: BlingProduct, decision: CodeDecision) -> CodeTarget:
        """The target for `product` (as listed or read from Bling) decided by `decision`."""
        return cls(
            product.id,
            decision.prefix,
            decision.rule,
            product.parent_id,
            name=product.name,
            reason_rule=decision.reason_rule,
            reason_data=decision.reason_data,
        )


@dataclass(frozen=True)
class CodeResult:
    """What happened to one product (and its variations, for `product_code_ensure`)."""

    product_id: int
    outcome: str  # coded / would_code / already_coded / skipped / failed
    code: str = ""
    reason: str = ""
    error: str = ""
    variations: tuple[CodeResult, ...] = ()

    def all(self) -> list[CodeResult]:
        """This result and its variations' results, flat."""
        return [self, *(r for v in self.variations for r in v.all())]


@dataclass
class DryRunPeek:
    """Codes already "handed out" in this dry run, per prefix, so a dry run over many pages
    shows distinct would-be codes without consuming the counters."""

    taken: dict[str, int] = field(default_factory=dict)

    def next_code(self, prefix: str) -> tuple[str, int]:
        base = CodeCounter.objects.filter(prefix=prefix).values_list("last_value", flat=True)
        last = max(base.first() or 0, self.taken.get(prefix, 0))
        number = last + 1
        self.taken[prefix] = number
        return code_format(prefix, number), number

    def skip_past(self, prefix: str, number: int) -> None:
        self.taken[prefix] = max(self.taken.get(prefix, 0), number)


# ---------------------------------------------------------------- counters and allocation


def _counter_take(prefix: str) -> int:
    """Increment the counter and return the new value, in one statement (UPDATE ...
    RETURNING, PostgreSQL and SQLite >= 3.35). Call inside a transaction: the row stays
    locked until commit, so nobody else gets this value and a rollback gives it back."""
    table = connection.ops.quote_name(CodeCounter._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + 1, updated_at = %s "
            "WHERE prefix = %s RETURNING last_value",
            [now, prefix],
        )
        row = cursor.fetchone()
    if row is None:
        raise CodeCounter.DoesNotExist(prefix)
    return int(row[0])


def counter_raise_to(*, prefix: str, value: int) -> bool:
    """Raise the counter of `prefix` to at least `value` (never lowers); True if raised."""
    CodeCounter.objects.get_or_create(prefix=prefix)
    return bool(
        CodeCounter.objects.filter(prefix=prefix, last_value__lt=value).update(
            last_value=value, updated_at=timezone.now()
        )
    )


def _counter_repair(prefix: str) -> None:
    """A counter below a number already handed out (e.g. edited in the database by hand):
    raise it so the next number is free."""
    highest = CodeAssignment.objects.filter(prefix=prefix).aggregate(m=Max("number"))["m"]
    if highest:
        counter_raise_to(prefix=prefix, value=highest)


def code_allocate(
    *, product_id: int, prefix: str, rule: str = "", parent_id: int | None = None
) -> CodeAssignment:
    """The product's assignment: the existing one (a product never gets two codes), or a new
    number of `prefix` in one atomic step (counter increment + unique assignment row)."""
    for _attempt in range(5):
        existing = CodeAssignment.objects.filter(bling_product_id=product_id).first()
        if existing is not None and existing.status != Status.DISCARDED:
            return existing
        CodeCounter.objects.get_or_create(prefix=prefix)
        try:
            with transaction.atomic():
                number = _counter_take(prefix)
                values = {
                    "code": code_format(prefix, number),
                    "prefix": prefix,
                    "number": number,
                    "status": Status.RESERVED,
                    "rule": rule[:300],
                    "parent_product_id": parent_id,
                    "error": "",
                }
                if existing is None:
                    return CodeAssignment.objects.create(bling_product_id=product_id, **values)
                # A discarded assignment (the product lost the code it had in Bling): a new
                # number, in the same row. The status check makes a concurrent renewal lose.
                renewed = CodeAssignment.objects.filter(
                    pk=existing.pk, status=Status.DISCARDED
                ).update(attempts=0, **values)
                if not renewed:
                    raise _LostRace
        except (IntegrityError, _LostRace):
            if not CodeAssignment.objects.filter(bling_product_id=product_id).exists():
                _counter_repair(prefix)  # the code itself clashed
        else:
            return CodeAssignment.objects.get(pk=existing.pk)
    raise RuntimeError(f"could not allocate a {prefix} code for product {product_id}")


class _LostRace(Exception):
    pass


def _code_renumber(assignment: CodeAssignment, *, used_number: int | None) -> CodeAssignment:
    """Give `assignment` the next number of its prefix, its code being taken in Bling."""
    prefix = assignment.prefix
    if used_number is not None:
        counter_raise_to(prefix=prefix, value=used_number)
    for _attempt in range(5):
        now = timezone.now()
        try:
            with transaction.atomic():
                number = _counter_take(prefix)
                # Only the code we were told is taken, and only while nobody holds a write
                # claim on it (a PATCH of that code in flight): the record and Bling agree.
                renumbered = (
                    CodeAssignment.objects.filter(pk=assignment.pk, code=assignment.code)
                    .exclude(status=Status.APPLIED)
                    .filter(Q(write_claimed_until__isnull=True) | Q(write_claimed_until__lt=now))
                    .update(
                        code=code_format(prefix, number),
                        number=number,
                        status=Status.RESERVED,
                        error="",
                    )
                )
                if not renumbered:
                    raise _LostRace  # rolls the counter back: the number is not spent
        except IntegrityError:
            _counter_repair(prefix)
        except _LostRace:
            # Renumbered, applied or being written by another process meanwhile: its
            # current state is the truth (the caller's claim then names the code it holds).
            assignment.refresh_from_db()
            return assignment
        else:
            assignment.refresh_from_db()
            return assignment
    raise RuntimeError(f"could not renumber {assignment.code}")


def counter_value_check(*, prefix: str, value: int) -> None:
    """Raise ValidationError (a message for staff) if `value` is not a valid counter value:
    never negative, never below the highest number already handed out for the prefix."""
    if value < 0:
        raise ValidationError(_("O contador não pode ser negativo."))
    highest = CodeAssignment.objects.filter(prefix=prefix).aggregate(m=Max("number"))["m"] or 0
    if value < highest:
        raise ValidationError(
            _(
                "O contador %(prefix)s não pode ficar abaixo de %(highest)d: o código "
                "%(code)s já foi atribuído."
            )
            % {"prefix": prefix, "highest": highest, "code": code_format(prefix, highest)}
        )


def counter_raise(*, prefix: str, value: int, actor: str, source: str | None = None) -> CodeCounter:
    """Set a counter (staff, from the admin): never below the highest number handed out
    (lowering it down to that is allowed, to undo a typo; numbers Bling already uses are
    caught by the check before each write anyway).

    Raises ValidationError with a message for staff; audited as `counter_adjusted`.
    """
    prefix = prefix.strip().upper()
    with transaction.atomic():
        counter, _created = CodeCounter.objects.select_for_update().get_or_create(prefix=prefix)
        # Checked under the counter's lock, so no allocation slips in between.
        counter_value_check(prefix=prefix, value=value)
        before = counter.last_value
        counter.last_value = value
        counter.save(update_fields=["last_value", "updated_at"])
    if value != before:
        sweep_full_request(kinds=["codes"], reason=f"contador {prefix} ajustado por {actor}")
    audit_record(
        action=AuditLog.Action.COUNTER_ADJUSTED,
        before={"prefix": prefix, "last_value": before},
        after={"prefix": prefix, "last_value": value},
        reason=f"contador {prefix} ajustado por {actor}",
        reason_rule="counter.adjusted",
        reason_data={"prefix": prefix, "actor": actor, "before": before, "after": value},
        actor=actor,
        source=source,
    )
    return counter


# ---------------------------------------------------------------- applying codes


@dataclass
class _Item:
    target: CodeTarget
    code: str
    number: int
    assignment: CodeAssignment | None  # None for a dry-run peek


def _codes_in_use(codes: Iterable[str]) -> dict[str, set[int]]:
    """code -> ids of the Bling products using it.

    Complete: `catalog.products_with_codes` asks every stock state (positive, zero,
    negative), so a code held only by a sold-out product is seen as taken; Bling's default
    filter (positive only) would let us PATCH a duplicate that Bling then refuses."""
    codes = sorted(set(codes))
    used: dict[str, set[int]] = {}
    for start in range(0, len(codes), LOOKUP_BATCH):
        for product in catalog.products_with_codes(codes=codes[start : start + LOOKUP_BATCH]):
            used.setdefault(product.code.strip(), set()).add(product.id)
    return used


def _mark(assignment: CodeAssignment, status: str, error: str = "") -> None:
    values: dict[str, object] = {
        "status": status,
        "error": error[:4000],
        "write_claimed_until": None,
    }
    if status == Status.APPLIED:
        values["applied_at"] = timezone.now()
    CodeAssignment.objects.filter(pk=assignment.pk).update(**values)
    assignment.status = status


def codes_apply(
    *, targets: Sequence[CodeTarget], dry_run: bool, peek: DryRunPeek | None = None
) -> list[CodeResult]:
    """Give each target (a product without a code in Bling) its code, in one batch.

    Existing assignments are reused (same code); new ones are allocated (live) or peeked
    (dry-run). One lookup in Bling per 100 codes; codes in use elsewhere are skipped and
    replaced; then one PATCH per product. Per-product failures are recorded and returned;
    other Bling errors are recorded and raised.
    """
    if not targets:
        return []
    peek = peek or DryRunPeek()
    items: list[_Item] = []
    for target in targets:
        assignment = CodeAssignment.objects.filter(bling_product_id=target.product_id).first()
        if assignment is not None and assignment.status != Status.DISCARDED:
            items.append(_Item(target, assignment.code, assignment.number, assignment))
        elif dry_run:
            code, number = peek.next_code(target.prefix)
            items.append(_Item(target, code, number, None))
        else:
            assignment = code_allocate(
                product_id=target.product_id,
                prefix=target.prefix,
                rule=target.rule,
                parent_id=target.parent_id,
            )
            items.append(_Item(target, assignment.code, assignment.number, assignment))

    results: dict[int, CodeResult] = {}
    to_write: list[_Item] = []
    pending = items
    for _round in range(MAX_COLLISION_ROUNDS):
        if not pending:
            break
        used = _codes_in_use(item.code for item in pending)
        retry: list[_Item] = []
        for item in pending:
            users = used.get(item.code, set())
            pid = item.target.product_id
            if pid in users:
                # Bling already holds it (an earlier write whose outcome we missed, or a
                # concurrent webhook/sweep that got there first).
                if item.assignment is not None and item.assignment.status != Status.APPLIED:
                    _mark(item.assignment, Status.APPLIED)
                results[pid] = CodeResult(pid, ALREADY_CODED, item.code)
            elif users:
                retry.append(_skip_used_code(item, users, dry_run=dry_run, peek=peek))
            else:
                to_write.append(item)
        pending = retry
    for item in pending:
        results[item.target.product_id] = CodeResult(
            item.target.product_id, FAILED, item.code, error="too many codes in use in Bling"
        )

    for item in to_write:
        results[item.target.product_id] = _code_write(item, dry_run=dry_run)
    return [results[t.product_id] for t in targets]


def _skip_used_code(item: _Item, users: set[int], *, dry_run: bool, peek: DryRunPeek) -> _Item:
    """`item.code` is used in Bling by another product: record it and take the next."""
    target = item.target
    entry = audit_begin(
        action=AuditLog.Action.CODE_SKIPPED,
        dry_run=dry_run,
        bling_product_id=target.product_id,
        code=item.code,
        product_name=target.name,
        after={"used_by": sorted(users)},
        reason=f"{item.code} já é usado no Bling por {sorted(users)}; próximo número",
        reason_rule="code.in_use",
        reason_data={"code": item.code, "used_by": sorted(users)},
    )
    if not dry_run:
        audit_complete(entry, ok=True)
    logger.info("code %s already used in Bling by %s: skipped", item.code, sorted(users))
    if dry_run:
        peek.skip_past(target.prefix, item.number)
        code, number = peek.next_code(target.prefix)
        return _Item(target, code, number, None)
    if item.assignment is None:  # pragma: no cover - live items always have one
        raise RuntimeError("live item without assignment")
    assignment = _code_renumber(item.assignment, used_number=item.number)
    return _Item(target, assignment.code, assignment.number, assignment)


def _write_claim(assignment: CodeAssignment, *, code: str) -> bool:
    """Claim the right to PATCH `code` for this assignment (conditional UPDATE: one winner).

    The claim names the code about to be written: if the assignment was renumbered since it
    was read (a concurrent `_code_renumber`), nothing is claimed and nothing is written, so
    the record can never say one code while Bling holds another. A held claim also keeps
    `_code_renumber` off the row until the write's outcome is recorded."""
    now = timezone.now()
    return bool(
        CodeAssignment.objects.filter(pk=assignment.pk, code=code)
        .exclude(status=Status.APPLIED)
        .filter(Q(write_claimed_until__isnull=True) | Q(write_claimed_until__lt=now))
        .update(write_claimed_until=now + WRITE_CLAIM)
    )


def _code_write(item: _Item, *, dry_run: bool) -> CodeResult:
    target = item.target
    pid = target.product_id
    if not dry_run:
        # Only a dry-run peek has no assignment (see `_Item`): a live item always carries one.
        assert item.assignment is not None
        if not _write_claim(item.assignment, code=item.code):
            # Another process (a webhook and a sweep at once) is writing it, or just did, or
            # renumbered it since we read it (the next pass writes the new code).
            return CodeResult(pid, SKIPPED, item.code, reason=BEING_WRITTEN)
    entry = audit_begin(
        action=AuditLog.Action.CODE_ASSIGNED,
        dry_run=dry_run,
        bling_product_id=pid,
        code=item.code,
        product_name=target.name,
        before={"codigo": ""},
        after={"codigo": item.code, "parent_id": target.parent_id},
        reason=target.rule or (item.assignment.rule if item.assignment else ""),
        reason_rule=target.reason_rule or "code.retry",
        reason_data=target.reason_data or {"code": item.code, "prefix": target.prefix},
    )
    if dry_run:
        return CodeResult(pid, WOULD_CODE, item.code)
    assignment = item.assignment
    assert assignment is not None  # a live item (see above)
    CodeAssignment.objects.filter(pk=assignment.pk).update(attempts=F("attempts") + 1)
    try:
        catalog.product_code_set(product_id=pid, code=item.code)
    except BlingError as exc:
        error = str(exc)
        _mark(assignment, Status.FAILED, error)
        audit_complete(entry, ok=False, error=error)
        logger.warning("writing code %s to product %s failed: %s", item.code, pid, error)
        if not isinstance(exc, PER_PRODUCT_ERRORS):
            raise
        return CodeResult(pid, FAILED, item.code, error=error)
    _mark(assignment, Status.APPLIED)
    audit_complete(entry, ok=True)
    return CodeResult(pid, CODED, item.code)


def code_reconcile(*, product_id: int, code_in_bling: str) -> None:
    """The product has `code_in_bling` in Bling: settle a pending assignment of ours.

    Same code -> applied (our write went through); another code (set by hand) -> discarded.
    """
    assignment = CodeAssignment.objects.filter(
        bling_product_id=product_id, status__in=CodeAssignment.PENDING_STATUSES
    ).first()
    if assignment is None:
        return
    if assignment.code == code_in_bling.strip():
        _mark(assignment, Status.APPLIED)
    else:
        _mark(assignment, Status.DISCARDED, f"o produto recebeu outro código: {code_in_bling}")


# ---------------------------------------------------------------- one product (webhooks)


def product_code_ensure(
    *, product_id: int, dry_run: bool, product: BlingProduct | None = None
) -> CodeResult:
    """Make sure a product (and each of its variations) has a code.

    Reads the product's detail from Bling (its category and variations) unless `product` is
    given (it must then be a detail, with `category_id` and `variations`). A variation is
    decided with its parent's category. `dry_run` comes from the caller's entry point
    (`runtime.run_mode_resolve`), which also keeps a paused installation from calling this.
    Returns what happened, variations in `.variations`.
    """
    if product is None:
        try:
            product = catalog.product_get(product_id=product_id)
        except BlingNotFound:
            return CodeResult(product_id, SKIPPED, reason=PRODUCT_NOT_FOUND)
    category_id = product.category_id
    # `parent_id is not None` is what `is_variation` tests; spelled out so mypy narrows it.
    if product.parent_id is not None and not category_id:
        try:
            category_id = catalog.product_get(product_id=product.parent_id).category_id
        except BlingNotFound:
            return CodeResult(product.id, SKIPPED, reason=PRODUCT_NOT_FOUND)
    decision = category_code_decision(category_id=category_id, nodes=category_nodes_load())
    if decision.reason == NOT_MIRRORED:
        # A category created in Bling since the last sync: refresh the mirror (one call per
        # 100 categories) rather than leave the product without a code until tomorrow.
        categories_sync()
        decision = category_code_decision(category_id=category_id, nodes=category_nodes_load())

    members = [product] if product.is_variation else [product, *product.variations]
    parent_of = {v.id: product.id for v in product.variations}
    if product.parent_id is not None:  # a variation (as above)
        parent_of[product.id] = product.parent_id
    results: dict[int, CodeResult] = {}
    targets: list[CodeTarget] = []
    for member in members:
        if member.has_code:
            code_reconcile(product_id=member.id, code_in_bling=member.code)
            results[member.id] = CodeResult(member.id, ALREADY_CODED, member.code.strip())
        elif member.situation == ProductSituation.EXCLUDED:
            results[member.id] = CodeResult(member.id, SKIPPED, reason=PRODUCT_EXCLUDED)
        elif not decision.generates:
            results[member.id] = CodeResult(member.id, SKIPPED, reason=decision.reason)
        else:
            target = CodeTarget.of(member, decision)
            targets.append(dataclasses.replace(target, parent_id=parent_of.get(member.id)))
    for result in codes_apply(targets=targets, dry_run=dry_run):
        results[result.product_id] = result
    main = results[product.id]
    if product.is_variation:
        return main
    variations = tuple(results[v.id] for v in product.variations)
    return CodeResult(main.product_id, main.outcome, main.code, main.reason, main.error, variations)

"""Writing the audit log: intent before a change (pending), outcome after it.

The source of an entry (webhook event, job run, admin user, command) is taken from the
context that is doing the work (`audit_source`), so services deep below need not thread it
through every call; an explicit `source=` always wins.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from blingsync.alerts.triggers import alert_audit_failed
from blingsync.models import AuditLog


@dataclass(frozen=True)
class AuditSource:
    source: str  # an AuditLog.Source value
    ref: str = ""
    actor: str = ""
    job_run_id: int | None = None


_SYSTEM = AuditSource(source=AuditLog.Source.SYSTEM)
_current_source: ContextVar[AuditSource] = ContextVar("audit_source", default=_SYSTEM)


@contextlib.contextmanager
def audit_source(source: AuditSource) -> Iterator[AuditSource]:
    """Attribute every audit entry written inside the block to `source`."""
    token = _current_source.set(source)
    try:
        yield source
    finally:
        _current_source.reset(token)


def audit_current_source() -> AuditSource:
    return _current_source.get()


def audit_begin(
    *,
    action: str,
    dry_run: bool,
    bling_product_id: int | None = None,
    code: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
    source: str | None = None,
    actor: str | None = None,
    source_ref: str | None = None,
    product_name: str = "",
    product_code: str = "",
    reason_rule: str = "",
    reason_data: dict[str, Any] | None = None,
) -> AuditLog:
    """Record the intent of a change before making it.

    A dry-run entry is complete at once (outcome "would do"): nothing will be called.
    `product_name`/`product_code` are what the caller just read from Bling (never an extra
    call); `reason_rule`/`reason_data` say why as data (sentences: `blingsync.audit_reasons`),
    `reason` as the text of the time.
    """
    ctx = audit_current_source()
    entry = AuditLog.objects.create(
        action=action,
        bling_product_id=bling_product_id,
        code=code,
        product_name=(product_name or "")[:200],
        product_code=(product_code or "").strip()[:60],
        before=before,
        after=after,
        reason=reason,
        reason_rule=reason_rule,
        reason_data=reason_data or {},
        source=source or ctx.source,
        source_ref=source_ref if source_ref is not None else ctx.ref,
        actor=actor if actor is not None else ctx.actor,
        job_run_id=ctx.job_run_id,
        dry_run=dry_run,
        outcome=AuditLog.Outcome.WOULD_DO if dry_run else AuditLog.Outcome.PENDING,
        completed_at=timezone.now() if dry_run else None,
    )
    return entry


def audit_complete(
    entry: AuditLog, *, ok: bool, after: Any = None, error: str = "", alert: bool = True
) -> AuditLog:
    """Record the outcome of a change started with `audit_begin`. `alert=False`: a failure
    that is no fault (a write the brake held back: staff paused on purpose) raises no
    alert."""
    entry.outcome = AuditLog.Outcome.OK if ok else AuditLog.Outcome.FAILED
    if after is not None:
        entry.after = after
    entry.error = error[:4000]
    entry.completed_at = timezone.now()
    entry.save(update_fields=["outcome", "after", "error", "completed_at"])
    if not ok and alert:
        alert_audit_failed(action=entry.action, dry_run=entry.dry_run)
    return entry


def audit_record(
    *,
    action: str,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    source: str | None = None,
    actor: str | None = None,
    bling_product_id: int | None = None,
    code: str = "",
    dry_run: bool = False,
    product_name: str = "",
    product_code: str = "",
    reason_rule: str = "",
    reason_data: dict[str, Any] | None = None,
) -> AuditLog:
    """Record a change that is already done (e.g. in blingsync's own rules)."""
    entry = audit_begin(
        action=action,
        dry_run=False,
        bling_product_id=bling_product_id,
        code=code,
        before=before,
        after=after,
        reason=reason,
        source=source,
        actor=actor,
        product_name=product_name,
        product_code=product_code,
        reason_rule=reason_rule,
        reason_data=reason_data,
    )
    completed = audit_complete(entry, ok=True)
    if dry_run:
        # A dry run changed nothing: keep the flag and say "would do".
        AuditLog.objects.filter(pk=entry.pk).update(dry_run=True, outcome=AuditLog.Outcome.WOULD_DO)
        completed.dry_run, completed.outcome = True, AuditLog.Outcome.WOULD_DO
    return completed

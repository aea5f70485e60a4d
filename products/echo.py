"""Echo detection: is a product change Bling reports the echo of a write blingsync made?

Bling sends `product.updated` for our own writes too (a code, a situation). Such an echo
needs no work: it carries exactly what we wrote, moments ago. What we wrote is known here,
from the code assignments and the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from blingsync.bling.types import ProductSituation
from blingsync.models import AuditLog
from products.models import CodeAssignment

# A product.updated this soon after one of our own writes that matches it is its echo.
ECHO_WINDOW = timedelta(minutes=10)


def echo_of_our_write(*, product_id: int, data: dict[str, Any]) -> str:
    """Why this product payload is the echo of a write blingsync made moments before, or "".

    An echo carries the very `codigo` we assigned (a CodeAssignment applied, or a
    `code_assigned` audit entry ok or still pending) or the `situacao` we set (a deactivation
    or reactivation audit entry), for the same product within ECHO_WINDOW. A payload that
    still lacks a code, or whose code is not the one we assigned, is never an echo.
    """
    codigo = str(data.get("codigo") or "").strip()
    situacao = str(data.get("situacao") or "").strip().upper()
    if not codigo:
        return ""
    since = timezone.now() - ECHO_WINDOW
    assignment = CodeAssignment.objects.filter(bling_product_id=product_id).first()
    if assignment is not None and assignment.code != codigo:
        return ""
    if (
        assignment is not None
        and assignment.status == CodeAssignment.Status.APPLIED
        and assignment.applied_at
        and assignment.applied_at >= since
    ):
        return f"eco da atribuição do código {codigo}"
    # A write still marked pending counts too: Bling sends the echo as soon as it applies the
    # write, often before we have recorded the outcome, and a payload that shows exactly the
    # value we were writing proves the write landed.
    writes = AuditLog.objects.filter(
        bling_product_id=product_id,
        outcome__in=[AuditLog.Outcome.OK, AuditLog.Outcome.PENDING],
        dry_run=False,
        created_at__gte=since,
    )
    if writes.filter(action=AuditLog.Action.CODE_ASSIGNED, code=codigo).exists():
        return f"eco da atribuição do código {codigo}"
    if (
        situacao == ProductSituation.INACTIVE
        and writes.filter(action=AuditLog.Action.PRODUCT_DEACTIVATED).exists()
    ):
        return "eco da inativação feita pelo blingsync"
    if (
        situacao == ProductSituation.ACTIVE
        and writes.filter(action=AuditLog.Action.PRODUCT_REACTIVATED).exists()
    ):
        return "eco da reativação feita pelo blingsync"
    return ""

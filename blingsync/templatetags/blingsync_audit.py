"""Template filters for audit rows: the product as staff know it and the reason sentence."""

from __future__ import annotations

from django import template

from blingsync.audit_reasons import audit_reason_text
from blingsync.bling.weblinks import bling_product_html
from blingsync.models import AuditLog

register = template.Library()


@register.filter
def audit_product(entry: AuditLog) -> str:
    """Name (link to Bling) and current code of the entry's product."""
    return audit_product_html(entry)


@register.filter
def audit_reason(entry: AuditLog) -> str:
    return audit_reason_text(entry)


def audit_product_html(entry: AuditLog) -> str:
    if not entry.bling_product_id:
        return "—"
    return bling_product_html(
        product_id=entry.bling_product_id,
        name=entry.product_name,
        code=entry.product_code or entry.code,
    )

"""Products named wherever staff see one (SPEC 5.9): the name and code blingsync already knows
for a Bling product id, from what it stored (stock state, code assignments, audit), without a
call to Bling. A list annotates its rows in one query; a product never read shows its id."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils.html import format_html

from blingsync.models import AuditLog
from products.models import CodeAssignment, ProductStockState


def product_names_annotate(*, queryset: QuerySet, id_field: str = "bling_product_id") -> QuerySet:
    """`queryset` with `known_name`, `known_code` and `known_state_id` (the stock state's pk, or None) (both "" when unknown) for the product
    whose Bling id is in `id_field`. The name: the stock state's, else the latest audit
    entry's; the code: the stock state's, else the code blingsync gave it."""
    product = OuterRef(id_field)
    state = ProductStockState.objects.filter(bling_product_id=product)
    audit = AuditLog.objects.filter(bling_product_id=product).exclude(product_name="")
    assignment = CodeAssignment.objects.filter(bling_product_id=product).exclude(
        status=CodeAssignment.Status.DISCARDED
    )
    return queryset.annotate(
        known_state_id=Subquery(state.values("pk")[:1]),
        known_name=Coalesce(
            NullIf(Subquery(state.values("name")[:1]), Value("")),
            Subquery(audit.order_by("-id").values("product_name")[:1]),
            Value(""),
            output_field=CharField(),
        ),
        known_code=Coalesce(
            NullIf(Subquery(state.values("code")[:1]), Value("")),
            Subquery(assignment.values("code")[:1]),
            Value(""),
            output_field=CharField(),
        ),
    )


def product_name_html(obj: Any, *, code: str = "") -> str:
    """A product in an admin list (rows annotated by product_names_annotate): its name (or
    its Bling id when never read), its code, linked to its evidence page when there is one."""
    label = getattr(obj, "known_name", "") or f"#{obj.bling_product_id}"
    code = code or getattr(obj, "known_code", "")
    state_id = getattr(obj, "known_state_id", None)
    if state_id is not None:
        url = reverse("admin:products_productstockstate_change", args=[state_id])
        html = format_html('<a href="{}">{}</a>', url, label)
    else:
        html = format_html("{}", label)
    if code:
        html = format_html('{} <span class="quiet">{}</span>', html, code)
    return html

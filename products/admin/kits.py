"""Admin of the kits mirror: what blingsync knows of each composition (read from Bling, so
read-only here)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from blingsync.admin.readonly import ReadOnlyAdminMixin
from products.models import Composition, CompositionPart


class CompositionPartInline(admin.TabularInline):
    model = CompositionPart
    readonly_fields = ["bling_product_id", "quantity"]
    # A copy: django-stubs types `fields` (groups of names) apart from `readonly_fields`.
    fields = list(readonly_fields)
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Composition)
class CompositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["bling_product_id", "code", "name", "stock_type", "posting", "parts_count"]
    list_filter = ["stock_type", "posting"]
    search_fields = ["=bling_product_id", "code", "name", "=parts__bling_product_id"]
    search_help_text = _("Busque pelo id do kit ou de um componente, pelo código ou pelo nome.")
    readonly_fields = ["bling_product_id", "code", "name", "stock_type", "posting", "read_at"]
    fields = list(readonly_fields)  # a copy, as above
    inlines = [CompositionPartInline]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("parts")

    @admin.display(description=_("componentes"))
    def parts_count(self, obj: Composition) -> int:
        return len(obj.parts.all())

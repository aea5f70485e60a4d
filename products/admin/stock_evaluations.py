"""Admin of the debounced stock evaluations waiting to run: read-only, for staff to see what
is scheduled and what keeps failing (the evaluator owns the rows)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from blingsync.admin.readonly import ReadOnlyAdminMixin
from products.models import StockEvaluation
from products.product_names import product_name_html, product_names_annotate


@admin.register(StockEvaluation)
class StockEvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "product_display",
        "due_at",
        "requests",
        "claimed_at",
        "attempts",
        "last_error",
        "first_event_id",
    )
    search_fields = ("=bling_product_id",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockEvaluation]:
        return product_names_annotate(queryset=super().get_queryset(request))

    @admin.display(description=_("produto"), ordering="bling_product_id")
    def product_display(self, obj: StockEvaluation) -> str:
        return product_name_html(obj)

    # Staff with the delete permission may drop a row that keeps failing (the stock sweep
    # reads every sold-out candidate anyway).
    deletable = True

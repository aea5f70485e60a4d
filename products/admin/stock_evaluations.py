"""Admin of the debounced stock evaluations waiting to run: read-only, for staff to see what
is scheduled and what keeps failing (the evaluator owns the rows)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from products.models import StockEvaluation


@admin.register(StockEvaluation)
class StockEvaluationAdmin(admin.ModelAdmin):
    list_display = (
        "bling_product_id",
        "due_at",
        "requests",
        "claimed_at",
        "attempts",
        "last_error",
        "first_event_id",
    )
    search_fields = ("=bling_product_id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

"""Admin of the debounced stock evaluations waiting to run: read-only, for staff to see what
is scheduled and what keeps failing (the evaluator owns the rows)."""

from __future__ import annotations

from django.contrib import admin

from blingsync.admin.readonly import ReadOnlyAdminMixin
from products.models import StockEvaluation


@admin.register(StockEvaluation)
class StockEvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    # Staff with the delete permission may drop a row that keeps failing (the stock sweep
    # reads every sold-out candidate anyway).
    deletable = True

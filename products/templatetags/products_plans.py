"""The dashboard's "plano pendente" box (SPEC 5.14): the latest plan of each kind still
waiting, as a template tag so the dashboard (blingsync) needs no import of products."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from products.plans import plan_summary_text, plan_waiting

register = template.Library()


@register.inclusion_tag("dashboard/plans_pending.html")
def plans_pending_box() -> dict[str, Any]:
    return {
        "plans": [
            {
                "run": run,
                "summary": plan_summary_text(by_action=pending),
                "url": reverse("admin:products_plan", args=[run.pk]),
            }
            for run, pending in plan_waiting()
        ]
    }

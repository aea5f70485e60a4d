"""`{% demo_banner %}`: the banner every admin page shows in a demonstration (`make demo`)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("admin/demo_banner.html")
def demo_banner() -> dict[str, Any]:
    return {"demo": settings.DEMO, "sandbox_url": settings.DEMO_SANDBOX_URL}

"""Quantities as staff write them: `{{ value|grouped }}` gives 120.000 in pt-BR and 120,000 in
English. Only for quantities: identifiers (Bling ids, run numbers) stay ungrouped so they can
be searched and pasted (the site keeps USE_THOUSAND_SEPARATOR off for that reason)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def grouped(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return number_format(value, force_grouping=True)

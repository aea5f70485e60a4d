"""Views of the core app (thin: they call services)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from blingsync.operations.health import health_detail_allowed, health_report


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    report, healthy = health_report(detailed=health_detail_allowed(request))
    return JsonResponse(report, status=200 if healthy else 503)


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on every page (JSON ones too): the site's icon, no 404."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))

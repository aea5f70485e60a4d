"""The staff dashboard page (thin: the data comes from blingsync.dashboard)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from blingsync.dashboard import dashboard_context


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Painel"),
        **dashboard_context(),
    }
    return TemplateResponse(request, "dashboard/index.html", context)

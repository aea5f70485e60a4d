"""The staff dashboard page (thin: the data comes from blingsync.operations.dashboard)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from blingsync.operations.dashboard import dashboard_context
from blingsync.permissions import CHANGE_MODE, CONNECT_BLING, job_kind_buttons


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    data = dashboard_context()
    # Buttons only for who may use them (the views they post to check again).
    for kind in data["kinds"]:
        for name, allowed in job_kind_buttons(user=request.user, kind=kind.kind).items():
            setattr(kind, name, allowed)
    context = {
        **admin.site.each_context(request),
        "title": _("Painel"),
        **data,
        "may_connect": request.user.has_perm(CONNECT_BLING),
        "may_change_mode": request.user.has_perm(CHANGE_MODE),
    }
    return TemplateResponse(request, "dashboard/index.html", context)

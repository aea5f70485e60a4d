"""Admin of the Bling connection: its state and token expiry (never the tokens), and the
"Conectar ao Bling" button for who may connect."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blingsync.connection import bling_connect_url
from blingsync.formatting import expires_in_format
from blingsync.models import BlingConnection
from blingsync.permissions import CONNECT_BLING


@admin.register(BlingConnection)
class BlingConnectionAdmin(admin.ModelAdmin):
    change_list_template = "admin/blingsync/blingconnection/change_list.html"
    change_form_template = "admin/blingsync/blingconnection/change_form.html"
    list_display = [
        "__str__",
        "status",
        "expires_at",
        "expires_in_display",
        "last_refresh_at",
        "last_refresh_ok",
    ]
    # Tokens are never shown: only these fields exist in the admin at all.
    fields = [
        "name",
        "company_id",
        "company_name",
        "status",
        "expires_at",
        "expires_in_display",
        "scope",
        "connected_at",
        "last_refresh_at",
        "last_refresh_ok",
        "last_refresh_error",
    ]
    # Plain names only (no groups); django-stubs types `fields` as possibly grouped.
    readonly_fields = [f for f in cast("list[str]", fields) if f != "name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("token expira em"))
    def expires_in_display(self, obj: BlingConnection) -> str:
        if not obj.expires_at:
            return "—"
        return expires_in_format((obj.expires_at - timezone.now()).total_seconds())

    def _connect_context(self, request: HttpRequest, extra_context) -> dict[str, Any]:
        # The connect button only for who may connect (the views check it again).
        url = bling_connect_url() if request.user.has_perm(CONNECT_BLING) else ""
        return {**(extra_context or {}), "bling_connect_url": url}

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return super().changelist_view(request, self._connect_context(request, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = self._connect_context(request, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

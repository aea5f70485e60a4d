"""Admin of the alerts: the record of every message (read only), the summary time, and each
user's preferences (daily summary opt-in, language)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.alerts.models import AlertMessage, AlertPreference, AlertSettings


@admin.register(AlertMessage)
class AlertMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "status",
        "recipients_list",
        "language",
        "sent_at",
        "attempts",
    )
    list_filter = ("kind", "status", "created_at")
    search_fields = ("subject", "error")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "status",
        "subject",
        "recipients_list",
        "language",
        "link",
        "created_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "error",
        "facts",
    )
    readonly_fields = fields

    @admin.display(description=_("destinatários"))
    def recipients_list(self, obj: AlertMessage) -> str:
        return ", ".join(obj.recipients) or "—"


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "summary_time", "updated_display")
    fields = ("summary_time",)

    @admin.display(description=_("alterado em"), ordering="updated_at")
    def updated_display(self, obj: AlertSettings) -> datetime | None:
        return obj.updated_at

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not AlertSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: AlertSettings | None = None) -> bool:
        return False


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "daily_summary", "language")
    list_editable = ("daily_summary", "language")
    list_filter = ("daily_summary", "language")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)

    @admin.display(description=_("e-mail"), ordering="user__email")
    def email(self, obj: AlertPreference) -> str:
        return obj.user.email or "—"

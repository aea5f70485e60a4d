"""Admin of the core app: runtime settings, job runs, the read-only audit log."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from blingsync.models import AuditLog, BlingConnection, JobRun, RuntimeSettings


@admin.register(RuntimeSettings)
class RuntimeSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "mode", "sweep_page_size", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RuntimeSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "trigger",
        "status",
        "seen",
        "changed",
        "skipped",
        "errors",
        "api_calls",
        "started_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "trigger"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "bling_product_id",
        "code",
        "source",
        "dry_run",
        "outcome",
    ]
    list_filter = ["action", "source", "dry_run", "outcome"]
    search_fields = ["=bling_product_id", "code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(BlingConnection)
class BlingConnectionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "expires_at", "last_refresh_at", "last_refresh_ok"]
    exclude = ["access_token_encrypted", "refresh_token_encrypted"]
    readonly_fields = [
        "company_id",
        "company_name",
        "status",
        "expires_at",
        "scope",
        "last_refresh_at",
        "last_refresh_ok",
        "last_refresh_error",
        "connected_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

"""The admin of a record staff may look at but never write by hand (job runs, the audit log,
the evidence of sold-out decisions, code assignments, the inbox, alert messages): what it
holds is what happened, so no add, no edit and no delete, whatever the model permissions
say. Actions an admin offers (rerun, reprocess, export) keep their own permissions.

Shared by the admins of blingsync, products and webhooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _Base = ModelAdmin
else:
    _Base = object


class ReadOnlyAdminMixin(_Base):
    """No add, change or delete; put it before `admin.ModelAdmin` in the bases."""

    # True keeps Django's delete check (the model's delete permission) for records staff
    # may clear by hand, e.g. the webhook inbox, which retention deletes anyway.
    deletable = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)

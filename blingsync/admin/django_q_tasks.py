"""django-q's task admins (successful and failed tasks) with "resubmit" behind the live-run
permission: resubmitting calls the task's function again with its arguments, e.g. a live
sweep or a stock evaluation, so a user who may only look must not be offered it.

Imported by blingsync/admin/__init__.py (admin autodiscovery only loads `admin` modules).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django_q.admin import FailAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, Success

from blingsync.permissions import RUN_LIVE, permission_require


@admin.action(description=resubmit_task.short_description, permissions=["resubmit"])
def resubmit_task_if_allowed(model_admin, request: HttpRequest, queryset) -> None:
    permission_require(request, RUN_LIVE)
    resubmit_task(model_admin, request, queryset)


class _ResubmitNeedsRunLive:
    actions = [resubmit_task_if_allowed]

    def has_resubmit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_LIVE)


class BlingsyncTaskAdmin(_ResubmitNeedsRunLive, TaskAdmin):
    pass


class BlingsyncFailAdmin(_ResubmitNeedsRunLive, FailAdmin):
    pass


for model, model_admin in ((Success, BlingsyncTaskAdmin), (Failure, BlingsyncFailAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)

"""The 403 page staff see (SPEC 5.12): styled like the admin, saying which role may do what
was refused. `permission_require` raises PermissionDenied with the permission's name; a
refusal without one (the admin's own) names the role that may do everything."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from blingsync.permissions import EXPORT_AUDIT, REPROCESS_EVENTS, RUN_SIMULATION
from blingsync.roles import ROLE_MANAGEMENT, ROLE_OPERATION

# What the operação role holds of the checked permissions (the rest: gestão only).
_OPERATION_PERMISSIONS = frozenset({RUN_SIMULATION, EXPORT_AUDIT, REPROCESS_EVENTS})


def forbidden_roles(*, permission: str) -> list[str]:
    """The roles holding `permission` ("" or unknown: the gestão role)."""
    if permission in _OPERATION_PERMISSIONS:
        return [ROLE_OPERATION, ROLE_MANAGEMENT]
    return [ROLE_MANAGEMENT]


def permission_denied_view(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    """handler403: the admin-styled page naming the role that is needed."""
    from django.contrib import admin

    permission = ""
    if isinstance(exception, PermissionDenied) and exception.args:
        permission = str(exception.args[0])
    context = {
        **admin.site.each_context(request),
        "title": "403",
        "roles": forbidden_roles(permission=permission),
    }
    response = TemplateResponse(request, "403.html", context, status=403)
    return response.render()

"""The two roles staff are given (groups with Portuguese names, SPEC 5.12) and the function
that grants permissions to a role, for data migrations now and later.

- "blingsync – operação": view everything, run simulations, reprocess events, export the audit.
- "blingsync – gestão": everything of ours (every permission of blingsync, products and
  webhooks), plus editing the schedules' cadence and unlocking admin logins.

A later migration adds a permission to a role with `role_permissions_grant`, e.g.

    def forwards(apps, schema_editor):
        role_permissions_grant(apps=apps, role=ROLE_MANAGEMENT,
                               permissions=["blingsync.receive_alerts"])
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions

from blingsync.permissions import EXPORT_AUDIT, REPROCESS_EVENTS, RUN_SIMULATION

ROLE_OPERATION = "blingsync – operação"
ROLE_MANAGEMENT = "blingsync – gestão"
OUR_APPS = ("blingsync", "alerts", "products", "webhooks")
# Apps whose records staff look at in our admin besides ours: schedules and tasks, login
# attempts.
OTHER_APPS_SHOWN = ("django_q", "axes")
MANAGEMENT_OTHER_PERMISSIONS = ("django_q.change_schedule", "axes.delete_accessattempt")


def _permissions_ensure(apps: Apps, app_labels: Iterable[str]) -> None:
    """Create the permissions of these apps if missing: on a fresh install Django creates them
    only after all migrations ran (post_migrate), too late for a data migration."""
    for label in app_labels:
        try:
            app_config = global_apps.get_app_config(label)
        except LookupError:
            continue
        create_permissions(app_config, apps=apps, verbosity=0)


def _permission_objects(apps: Apps, permissions: Iterable[str]) -> list:
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in permissions:
        app_label, codename = name.split(".", 1)
        try:
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        except Permission.DoesNotExist:
            raise LookupError(f"permission {name} does not exist") from None
    return found


def role_permissions_grant(
    *, apps: Apps = global_apps, role: str, permissions: Iterable[str]
) -> None:
    """Give the group `role` (created if missing) these permissions ("app_label.codename").

    In a data migration pass its `apps`; missing permissions of the apps named are created
    first. A permission that still does not exist raises LookupError (a typo must not pass
    silently)."""
    permissions = list(permissions)
    _permissions_ensure(apps, {p.split(".", 1)[0] for p in permissions})
    Group = apps.get_model("auth", "Group")
    group, _created = Group.objects.get_or_create(name=role)
    group.permissions.add(*_permission_objects(apps, permissions))


def app_permissions(*, apps: Apps = global_apps, app_labels: Iterable[str], view_only: bool):
    """Every permission ("app_label.codename") of these apps, or only their view_ ones."""
    app_labels = list(app_labels)
    _permissions_ensure(apps, app_labels)
    Permission = apps.get_model("auth", "Permission")
    rows = Permission.objects.filter(content_type__app_label__in=app_labels)
    if view_only:
        rows = rows.filter(codename__startswith="view_")
    return [
        f"{app_label}.{codename}"
        for app_label, codename in rows.values_list("content_type__app_label", "codename")
    ]


def roles_setup(apps: Apps = global_apps, schema_editor=None) -> None:
    """Create (or complete) both roles; idempotent. The data migration's RunPython."""
    views = app_permissions(apps=apps, app_labels=OUR_APPS + OTHER_APPS_SHOWN, view_only=True)
    role_permissions_grant(
        apps=apps,
        role=ROLE_OPERATION,
        permissions=[*views, RUN_SIMULATION, REPROCESS_EVENTS, EXPORT_AUDIT],
    )
    ours = app_permissions(apps=apps, app_labels=OUR_APPS, view_only=False)
    role_permissions_grant(
        apps=apps,
        role=ROLE_MANAGEMENT,
        permissions=[*views, *ours, *MANAGEMENT_OTHER_PERMISSIONS],
    )

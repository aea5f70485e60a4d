"""The migration's groups and the function a later migration uses to grant a permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from blingsync.roles import ROLE_MANAGEMENT, ROLE_OPERATION, role_permissions_grant, roles_setup

pytestmark = pytest.mark.django_db


def _codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migration_created_both_roles_with_their_permissions():
    operation = _codenames(ROLE_OPERATION)
    assert {
        "blingsync.run_simulation",
        "webhooks.reprocess_events",
        "blingsync.export_audit",
        "blingsync.view_jobrun",
        "products.view_categoryrule",
        "django_q.view_schedule",
        "axes.view_accessattempt",
    } <= operation
    assert (
        not {
            "blingsync.run_live",
            "blingsync.change_mode",
            "blingsync.connect_bling",
            "products.edit_rules",
            "products.raise_counters",
            "blingsync.change_runtimesettings",
        }
        & operation
    )
    management = _codenames(ROLE_MANAGEMENT)
    assert operation <= management
    assert {
        "blingsync.run_live",
        "blingsync.change_mode",
        "blingsync.connect_bling",
        "products.edit_rules",
        "products.raise_counters",
        "django_q.change_schedule",
    } <= management
    ours = Permission.objects.filter(
        content_type__app_label__in=["blingsync", "products", "webhooks"]
    )
    assert {f"{p.content_type.app_label}.{p.codename}" for p in ours} <= management


def test_roles_setup_is_idempotent():
    before = {role: _codenames(role) for role in (ROLE_OPERATION, ROLE_MANAGEMENT)}
    roles_setup()
    assert {role: _codenames(role) for role in before} == before
    assert Group.objects.filter(name__startswith="blingsync –").count() == 2


def test_a_later_migration_can_grant_one_more_permission_to_a_role():
    role_permissions_grant(role=ROLE_MANAGEMENT, permissions=["axes.view_accesslog"])
    assert "axes.view_accesslog" in _codenames(ROLE_MANAGEMENT)
    with pytest.raises(LookupError, match="blingsync.receive_nothing"):
        role_permissions_grant(role=ROLE_MANAGEMENT, permissions=["blingsync.receive_nothing"])

"""The demonstration's staff user (`make demo`): a gestão member, never a superuser.

`demo_user_ensure` creates or updates the user the demo script prints the login of: staff,
in the group "blingsync – gestão" (everything the retailer's manager may do, SPEC 5.12), with
the password the script generated. Only a demonstration (settings.DEMO) may call it: a real
install gets its users from staff, not from a script.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from blingsync.roles import ROLE_MANAGEMENT, roles_setup


class DemoOnly(Exception):
    """Called outside a demonstration (DEMO is not true)."""


@transaction.atomic
def demo_user_ensure(*, username: str, password: str) -> Any:
    """The gestão user of the demonstration, with this password (created or updated)."""
    if not settings.DEMO:
        raise DemoOnly()
    roles_setup()  # idempotent: the migration made the groups already
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = False
    user.is_active = True
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=ROLE_MANAGEMENT))
    return user

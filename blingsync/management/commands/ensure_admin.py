"""`python manage.py ensure_admin`: create (or update) a staff superuser from ADMIN_USER /
ADMIN_PASSWORD, or say how to create one."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Create a staff superuser from ADMIN_USER and ADMIN_PASSWORD when they are set."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("ADMIN_USER", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        user_model = get_user_model()
        if not username or not password:
            if not user_model.objects.filter(is_staff=True).exists():
                self.stdout.write(
                    "No staff user yet. Create one with `ADMIN_USER=name ADMIN_PASSWORD=secret "
                    "make run` or `.venv/bin/python manage.py createsuperuser`."
                )
            return
        user, created = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        # It is a superuser (every permission), not a plain staff user: say so.
        message = (
            _("superusuário %(name)s criado") if created else _("superusuário %(name)s atualizado")
        )
        self.stdout.write(self.style.SUCCESS(message % {"name": repr(username)}))

"""`python manage.py ensure_admin`: create a superuser from ADMIN_USER / ADMIN_PASSWORD (run
by `make run` on every start), or say how to create one.

The password goes through Django's password validators (AUTH_PASSWORD_VALIDATORS): a weak
one is refused with the validators' messages and nothing is created. A user that already
exists is left as it is: its password is never reset (a password changed in the admin
survives the next `make run`)."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Cria um superusuário a partir de ADMIN_USER e ADMIN_PASSWORD, quando definidos.")

    def handle(self, *args, **options) -> None:
        username = os.environ.get("ADMIN_USER", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        user_model = get_user_model()
        if not username or not password:
            if not user_model.objects.filter(is_staff=True).exists():
                self.stdout.write(
                    _(
                        "Ainda não há usuário da equipe. Crie um com `ADMIN_USER=nome "
                        "ADMIN_PASSWORD=senha make run` ou `.venv/bin/python manage.py "
                        "createsuperuser`."
                    )
                )
            return
        existing = user_model.objects.filter(username=username).first()
        if existing is not None:
            self.stdout.write(_existing_text(existing, username))
            return
        try:
            validate_password(password, user=user_model(username=username))
        except ValidationError as exc:
            problems = " ".join(exc.messages)
            raise CommandError(
                _("ADMIN_PASSWORD recusada para %(user)r: %(problems)s Nada foi criado.")
                % {"user": username, "problems": problems}
            ) from None
        try:
            with transaction.atomic():
                user_model.objects.create_superuser(username=username, email="", password=password)
        except IntegrityError:
            # Created by another process between the check and the insert: leave it as it is.
            self.stdout.write(_existing_text(user_model.objects.get(username=username), username))
            return
        self.stdout.write(
            self.style.SUCCESS(_("superusuário %(user)r criado") % {"user": username})
        )


def _existing_text(user, username: str) -> str:
    if user.is_superuser:
        kind = _("superusuário")
    elif user.is_staff:
        kind = _("usuário da equipe")
    else:
        kind = _("usuário (sem acesso ao admin)")
    return _(
        "%(kind)s %(user)r já existe: nada alterado (a senha não é redefinida; "
        "mude-a no admin ou com `manage.py changepassword`)"
    ) % {"kind": kind, "user": username}

"""`python manage.py demo_setup --username NAME`: the demonstration's gestão user (`make demo`).

The password comes from the environment variable DEMO_PASSWORD (never an argument, which
other users of the machine could read in the process list). Refused unless DEMO=true.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.demo import DemoOnly, demo_user_ensure


class Command(BaseCommand):
    help = _("Demonstração (make demo): cria o usuário de gestão com a senha de DEMO_PASSWORD.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="gestao", help=_("nome do usuário"))

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD", "")
        if len(password) < 12:
            raise CommandError(_("Defina DEMO_PASSWORD (12 caracteres ou mais)."))
        try:
            user = demo_user_ensure(username=options["username"], password=password)
        except DemoOnly as exc:
            raise CommandError(
                _("Este comando só roda na demonstração (make demo, DEMO=true).")
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Usuário de gestão %(user)s pronto (grupo “blingsync – gestão”).")
                % {"user": user.get_username()}
            )
        )

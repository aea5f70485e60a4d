"""`python manage.py set_mode {dry_run,live,paused}`: switch what blingsync is allowed to do."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.models import AuditLog, RuntimeSettings
from blingsync.operations.mode import mode_set


class Command(BaseCommand):
    help = _(
        "Muda o modo: dry_run (simulação: calcula e audita), live (ao vivo: grava no Bling), "
        "paused (pausado)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", help=", ".join(RuntimeSettings.Mode.values))

    def handle(self, *args, **options) -> None:
        mode = options["mode"]
        try:
            settings_row = mode_set(
                mode=mode, actor=f"command:{getpass.getuser()}", source=AuditLog.Source.COMMAND
            )
        except ValueError as exc:
            raise CommandError(
                _("modo desconhecido %(mode)s; escolha um de: %(choices)s")
                % {"mode": repr(mode), "choices": ", ".join(RuntimeSettings.Mode.values)}
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("modo agora: %(mode)s") % {"mode": settings_row.get_mode_display()}
            )
        )

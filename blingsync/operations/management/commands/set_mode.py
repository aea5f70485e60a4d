"""`python manage.py set_mode {dry_run,live,paused}`: switch what blingsync is allowed to do."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blingsync.models import AuditLog, RuntimeSettings
from blingsync.operations.mode import mode_set


class Command(BaseCommand):
    help = "Set the runtime mode: dry_run (compute and audit only), live (write to Bling), paused."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", help="one of: " + ", ".join(RuntimeSettings.Mode.values))

    def handle(self, *args, **options) -> None:
        mode = options["mode"]
        try:
            settings_row = mode_set(
                mode=mode, actor=f"command:{getpass.getuser()}", source=AuditLog.Source.COMMAND
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"mode is now {settings_row.mode}"))

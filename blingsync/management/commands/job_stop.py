"""`python manage.py job_stop --run N`: ask a running run to stop (like "Parar" in the admin).

The run stops at its next write to Bling (or its next progress report) and ends
"interrompida" with its counts so far; nothing is written after the request is saved.
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.jobrunner import job_stop_request
from blingsync.models import AuditLog, JobRun


class Command(BaseCommand):
    help = _(
        "Pede que uma execução em andamento pare antes da próxima escrita no Bling "
        "(termina como interrompida)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", type=int, required=True, help=_("número da execução"))

    def handle(self, *args, run: int, **options) -> None:
        row = JobRun.objects.filter(pk=run).first()
        if row is None:
            raise CommandError(_("Execução #%(id)d não existe.") % {"id": run})
        actor = f"command:{getpass.getuser()}"
        if not job_stop_request(run_id=run, actor=actor, source=AuditLog.Source.COMMAND):
            raise CommandError(
                _("Execução #%(id)d não está em andamento (%(status)s) ou a parada já foi pedida.")
                % {"id": run, "status": row.get_status_display()}
            )
        self.stdout.write(
            _("Parada pedida para #%(id)d: ela termina antes da próxima escrita no Bling.")
            % {"id": run}
        )

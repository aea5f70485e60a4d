"""`python manage.py run_undo --run N`: reactivate the products a live run (or an applied
plan) deactivated that are still inactive and still blingsync's (SPEC 5.14). Codes are not
undone: sales channels match products by code."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.models import JobRun
from products.plan_undo import UndoRefused, run_undo_queue


class Command(BaseCommand):
    help = "Undo the deactivations of a live run or an applied plan (codes are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", type=int, required=True, help="the run to undo")

    def handle(self, *args: Any, **options: Any) -> None:
        target = JobRun.objects.filter(pk=options["run"]).first()
        if target is None:
            raise CommandError(_("Execução #%(id)d não encontrada.") % {"id": options["run"]})
        try:
            run = run_undo_queue(
                run=target,
                requested_by=f"command:{getpass.getuser()}",
                trigger=JobRun.Trigger.COMMAND,
                now=True,
            )
        except UndoRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _(
                "Execução #%(run)d desfez as inativações de #%(target)d: %(done)d reativados, "
                "%(left)d deixados como estão; %(calls)d chamadas ao Bling. Códigos não são "
                "desfeitos (os canais de venda reconhecem os produtos pelo código)."
            )
            % {
                "run": run.pk,
                "target": target.pk,
                "done": run.changed,
                "left": run.skipped,
                "calls": run.api_calls,
            }
        )
        if run.status != JobRun.Status.SUCCEEDED:
            raise CommandError(
                _("O desfazer #%(id)d não terminou: %(error)s")
                % {"id": run.pk, "error": run.error or run.status_label}
            )

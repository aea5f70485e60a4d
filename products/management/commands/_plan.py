"""What the plan commands share: finding the plan (`--run N` or `--latest KIND`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.models import JobRun
from products.plans import PLAN_KINDS, plan_latest, plan_run_is_plan


def plan_arguments(parser: CommandParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", type=int, help="the simulation run whose plan it is")
    group.add_argument(
        "--latest", choices=PLAN_KINDS, help="the latest simulation of this kind (codes, stock)"
    )


def plan_find(options: dict[str, Any]) -> JobRun:
    """The plan's run, or CommandError with why not."""
    if options.get("latest"):
        run = plan_latest(kind=options["latest"])
        if run is None:
            raise CommandError(
                _("Nenhuma simulação de %(kind)s com plano.") % {"kind": options["latest"]}
            )
        return run
    run = JobRun.objects.filter(pk=options["run"]).first()
    if run is None:
        raise CommandError(_("Execução #%(id)d não encontrada.") % {"id": options["run"]})
    if not plan_run_is_plan(run):
        raise CommandError(_("A execução #%(id)d não é uma simulação com plano.") % {"id": run.pk})
    return run

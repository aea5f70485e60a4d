"""What the sweep commands share: the --dry-run/--since/--limit/--full options, running the job
in-process through the job runner (the same path as the schedule and the admin), a progress
line, and a summary; a run that could not do its job exits non-zero with its reason."""

from __future__ import annotations

import getpass
import time
from datetime import datetime
from datetime import time as clock
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from blingsync.formatting import duration_format
from blingsync.jobrunner import job_run_now
from blingsync.models import JobRun
from blingsync.run_details import detail_label, detail_value_text


def since_parse(value: str) -> datetime:
    """ "2026-11-01" (midnight, local time) or "2026-11-01 10:00" / ISO 8601."""
    parsed = parse_datetime(value.strip())
    if parsed is None:
        day = parse_date(value.strip())
        if day is None:
            raise CommandError(
                _("--since %(value)s não é uma data (use 2026-11-01 ou '2026-11-01 10:00')")
                % {"value": repr(value)}
            )
        parsed = datetime.combine(day, clock.min)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class SweepCommand(BaseCommand):
    kind = ""
    what = ""  # what the counted items are, for the summary ("products", "orders")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("calcula e audita como “faria”; não grava nada no Bling"),
        )
        parser.add_argument(
            "--since",
            help=_("só o que mudou desde esta data/hora (2026-11-01 ou '... 10:00')"),
        )
        parser.add_argument("--limit", type=int, help=_("para depois de tantos itens"))
        parser.add_argument(
            "--full",
            action="store_true",
            help=_("varredura completa: tudo, não só o que mudou desde a última completa"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("limit") is not None and options["limit"] < 1:
            raise CommandError(_("--limit precisa ser 1 ou mais."))
        if options.get("full") and options.get("since"):
            raise CommandError(_("--full e --since não podem ser usados juntos."))
        params: dict[str, Any] = {"dry_run": bool(options["dry_run"])}
        if options.get("full"):
            params["full"] = True
        if options.get("since"):
            params["since"] = since_parse(options["since"])
        if options.get("limit"):
            params["limit"] = options["limit"]
        if options.get("full"):
            params["full"] = True
        started = time.monotonic()
        self._last_progress = 0.0
        run = job_run_now(
            kind=self.kind,
            trigger=JobRun.Trigger.COMMAND,
            params=params,
            requested_by=f"command:{getpass.getuser()}",
            progress=self._progress,
        )
        self._summary(run, time.monotonic() - started)
        if run.status != JobRun.Status.SUCCEEDED:
            raise CommandError(
                _("%(kind)s: %(status)s: %(error)s")
                % {
                    "kind": capfirst(run.get_kind_display()),
                    "status": run.status_label,
                    "error": run.error or _("veja a execução #%(id)s no admin") % {"id": run.pk},
                }
            )

    def _progress(self, done: int, total: int | None, label: str) -> None:
        now = time.monotonic()
        if total is not None and done >= total or now - self._last_progress >= 1.0:
            self._last_progress = now
            figure = f"{done}/{total}" if total else str(done)
            self.stdout.write(f"  {label}: {figure}")

    def _summary(self, run: JobRun, seconds: float) -> None:
        details = run.details or {}
        mode = _("simulação") if details.get("dry_run") else _("ao vivo")
        self.stdout.write(
            _(
                "%(kind)s #%(id)s %(status)s (%(mode)s) em %(duration)s: vistos %(seen)s, "
                "alterados %(changed)s, pulados %(skipped)s, erros %(errors)s, "
                "chamadas à API do Bling %(calls)s"
            )
            % {
                "kind": capfirst(run.get_kind_display()),
                "id": run.pk,
                "status": run.status_label,
                "mode": mode,
                "duration": duration_format(seconds),
                "seen": number_format(run.seen, force_grouping=True),
                "changed": number_format(run.changed, force_grouping=True),
                "skipped": number_format(run.skipped, force_grouping=True),
                "errors": number_format(run.errors, force_grouping=True),
                "calls": number_format(run.api_calls, force_grouping=True),
            }
        )
        for key in ("dry_run_reason", "cursor"):
            if details.get(key):
                self.stdout.write(
                    f"  {detail_label(key)}: {detail_value_text(details[key], key=key)}"
                )
        for key, value in sorted(details.get("skipped_by_reason", {}).items()):
            self.stdout.write(f"  {_('pulados')} ({detail_label(key)}): {detail_value_text(value)}")
        for key in self.detail_keys:
            if key in details:
                self.stdout.write(
                    f"  {detail_label(key)}: {detail_value_text(details[key], key=key)}"
                )
        if "plan" in details and run.status == JobRun.Status.SUCCEEDED:
            # A simulation is a plan (SPEC 5.14): say which and how to apply it.
            from products.plan_text import plan_apply_hint, plan_warnings

            for warning in plan_warnings(run=run):
                self.stdout.write(self.style.WARNING("! " + warning))
            self.stdout.write(plan_apply_hint(run=run))

    detail_keys: tuple[str, ...] = ()

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

from blingsync.jobrunner import job_run_now
from blingsync.models import JobRun


def since_parse(value: str) -> datetime:
    """ "2026-11-01" (midnight, local time) or "2026-11-01 10:00" / ISO 8601."""
    parsed = parse_datetime(value.strip())
    if parsed is None:
        day = parse_date(value.strip())
        if day is None:
            raise CommandError(
                f"--since {value!r} is not a date (use 2026-11-01 or '2026-11-01 10:00')"
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
            help="compute and audit as 'would do'; write nothing to Bling",
        )
        parser.add_argument(
            "--since", help="only what changed since this date/time (2026-11-01 or '... 10:00')"
        )
        parser.add_argument("--limit", type=int, help=f"stop after this many {self.what}")
        parser.add_argument(
            "--full",
            action="store_true",
            help="a full run: everything, not only what changed since the last complete run",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("limit") is not None and options["limit"] < 1:
            raise CommandError("--limit must be a positive number")
        if options.get("full") and options.get("since"):
            raise CommandError("--full and --since exclude each other")
        params: dict[str, Any] = {"dry_run": bool(options["dry_run"])}
        if options.get("full"):
            params["full"] = True
        if options.get("since"):
            params["since"] = since_parse(options["since"])
        if options.get("limit"):
            params["limit"] = options["limit"]
        if options.get("full"):
            if options.get("since"):
                raise CommandError("--full and --since cannot be used together")
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
            status = f"{run.status} ({run.skip_reason})" if run.skip_reason else run.status
            raise CommandError(f"{self.kind} sweep {status}: {run.error or 'see the job run'}")

    def _progress(self, done: int, total: int | None, label: str) -> None:
        now = time.monotonic()
        if total is not None and done >= total or now - self._last_progress >= 1.0:
            self._last_progress = now
            figure = f"{done}/{total}" if total else str(done)
            self.stdout.write(f"  {label}: {figure}")

    def _summary(self, run: JobRun, seconds: float) -> None:
        details = run.details or {}
        mode = "dry-run" if details.get("dry_run") else "live"
        self.stdout.write(
            f"{self.kind} sweep #{run.pk} {run.status} ({mode}) in {seconds:.1f}s: "
            f"seen {run.seen}, changed {run.changed}, skipped {run.skipped}, "
            f"errors {run.errors}, Bling API calls {run.api_calls}"
        )
        if details.get("dry_run_reason"):
            self.stdout.write(f"  dry-run: {details['dry_run_reason']}")
        if details.get("cursor"):
            self.stdout.write(f"  cursor: {details['cursor']}")
        for key, value in sorted(details.get("skipped_by_reason", {}).items()):
            self.stdout.write(f"  skipped {key}: {value}")
        for key in self.detail_keys:
            if key in details:
                self.stdout.write(f"  {key}: {details[key]}")
        if "plan" in details and run.status == JobRun.Status.SUCCEEDED:
            # A simulation is a plan (SPEC 5.14): say which and how to apply it.
            from products.plan_text import plan_apply_hint, plan_warnings

            for warning in plan_warnings(run=run):
                self.stdout.write(self.style.WARNING("! " + warning))
            self.stdout.write(plan_apply_hint(run=run))

    detail_keys: tuple[str, ...] = ()

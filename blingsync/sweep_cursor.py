"""The incremental cursor of the sweeps (SPEC 5.7): which `since` a run uses, and why.

A sweep with `since` lists only what changed in Bling after it (`dataAlteracaoInicial`), so
`since` must never be later than the last moment something was covered completely:
- `since` defaults to the start of the last **complete live** run of the kind, minus
  `OVERLAP` (15 minutes, for clock skew between us and Bling and for writes that land while
  we list). Complete live: succeeded, not a dry run, no `limit`, no explicit `since`, not
  stopped by its time budget (a stopped run fails, so "succeeded" already excludes it). A
  dry run, a `--limit 2` trial or a `--since` run never moves the cursor: the backlog they
  did not write stays covered by the next run. No such run yet: the run is full.
- Whatever widens what a sweep must cover makes the next run of the affected kind full
  (`sweep_full_request`): a category rule or prefix created, edited or deleted, a category
  added or restored by the mirror, counters seeded or raised, the deposit setting changed,
  a reconnect to another company. A request newer than the start of the last complete live
  run wins: a run that started before the change may have decided with the old rules. It
  stays in force until a complete live run starts after it (a dry run or a failed full run
  leaves it standing), so nothing needs to "consume" it.
- Staff can ask for a full run (`full` parameter: "Varredura completa", `--full`); an
  explicit `since` is used as given.

The run records the cursor it used and why in its details (`cursor`), e.g.
"completa: regra de categoria alterada por ana em 01/12/2026 20:03".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blingsync.models import JobRun, SweepFullRequest

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=15)
FULL = "full"
INCREMENTAL = "incremental"
EXPLICIT = "explicit"
REASON_MAX = 300


@dataclass(frozen=True)
class SweepCursor:
    """What a run covers: `since` None = everything."""

    mode: str  # full / incremental / explicit
    since: datetime | None
    reason: str

    @property
    def label(self) -> str:
        """How the run's details show it ("completa: ...", "incremental: ...")."""
        names = {FULL: "completa", INCREMENTAL: "incremental", EXPLICIT: "desde a data pedida"}
        return f"{names[self.mode]}: {self.reason}"


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def sweep_full_request(*, kinds: list[str] | None = None, reason: str) -> None:
    """Make the next run of each of `kinds` (None = every kind) a full run, for `reason`
    (what widened the sweep, in Portuguese: it is shown in the run's details)."""
    targets = list(JobRun.Kind.values) if kinds is None else list(kinds)
    unknown = sorted(set(targets) - set(JobRun.Kind.values))
    if unknown:
        raise ValueError(f"unknown job kinds: {', '.join(unknown)}")
    now = timezone.now()
    reason = reason.strip()[:REASON_MAX] or "varredura completa pedida"
    for kind in targets:
        if SweepFullRequest.objects.filter(kind=kind).update(requested_at=now, reason=reason):
            continue
        try:
            with transaction.atomic():
                SweepFullRequest.objects.create(kind=kind, requested_at=now, reason=reason)
        except IntegrityError:  # created by a concurrent request a moment ago: ours is newer
            SweepFullRequest.objects.filter(kind=kind).update(requested_at=now, reason=reason)
    logger.info("next run full for %s: %s", ", ".join(targets), reason)


def sweep_last_complete(*, kind: str) -> JobRun | None:
    """The kind's last complete live run (the one the cursor starts from)."""
    return (
        JobRun.objects.filter(kind=kind, status=JobRun.Status.SUCCEEDED, details__complete=True)
        .order_by("-started_at", "-id")
        .first()
    )


def sweep_run_is_complete(*, params: dict[str, Any], dry_run: bool) -> bool:
    """Whether a run that succeeded with these parameters covered everything it had to: live,
    no limit, no explicit since (the runner checks it succeeded, i.e. was not stopped by its
    time budget)."""
    return not dry_run and not params.get("limit") and not params.get("since")


def _explicit_since(raw: Any) -> datetime:
    parsed = parse_datetime(raw) if isinstance(raw, str) else raw
    if not isinstance(parsed, datetime):
        raise ValueError(f"since={raw!r} is not a date/time")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def sweep_cursor_resolve(*, kind: str, params: dict[str, Any]) -> SweepCursor:
    """The cursor of a run of `kind` asked with `params` (see the module docstring)."""
    if params.get("since"):
        since = _explicit_since(params["since"])
        return SweepCursor(EXPLICIT, since, f"desde {_local(since)}, como pedido")
    if params.get("full"):
        return SweepCursor(FULL, None, "varredura completa pedida")
    last = sweep_last_complete(kind=kind)
    if last is None or last.started_at is None:
        return SweepCursor(FULL, None, "nenhuma execução completa ao vivo anterior")
    request = SweepFullRequest.objects.filter(kind=kind).first()
    if request is not None and request.requested_at >= last.started_at:
        return SweepCursor(FULL, None, f"{request.reason} em {_local(request.requested_at)}")
    since = last.started_at - OVERLAP
    return SweepCursor(
        INCREMENTAL,
        since,
        f"desde {_local(since)}: início da execução #{last.pk} (a última completa ao vivo) "
        f"menos {int(OVERLAP.total_seconds() // 60)} min",
    )

"""Running jobs (sweeps and maintenance) as recorded `JobRun`s.

One way in for every kind of work: the scheduler, the admin ("run now", "rerun") and the
management commands all end in `job_run_execute`, which
- claims the run (queued -> running) with a conditional UPDATE; the partial unique constraint
  `one_running_run_per_kind` makes a second concurrent run of the same kind fail to claim,
  and it is then recorded as skipped instead of overlapping;
- resolves `since` through the incremental cursor (`blingsync.sweep_cursor`: the start of
  the last complete live run of the kind minus 15 minutes, or a full run when something
  widened the sweep) and `dry_run` (asked for, or the installation is in dry-run mode:
  `runtime.run_mode_resolve`, which also says whether the installation is paused);
  both are recorded in the run's details, with why;
- runs the registered handler with a `JobContext` that counts seen/changed/skipped/errors and
  Bling API calls, flushing them to the row every couple of seconds (the dashboard shows
  progress, and the flush doubles as a heartbeat);
- runs the handler inside `write_scope(authority=MODE, run_id=run.pk)`: every write to
  Bling asks the brake (`blingsync.write_gate`) just before it is sent, so a switch to
  paused or dry-run, or a stop request on the run ("Parar", `job_stop`), ends the run at its
  next write; the handler's progress reports (between pages and batches) also look at the
  stop request and a pause, so a run that is only reading stops too;
- records success or the error; a run stopped by the brake ends "interrompida" with its
  counts so far and the reason in words; a successful live run without limit or explicit
  since is marked `complete` in its details: the next run's cursor starts from it.

Apps register handlers in their `jobs.py` with `@register_job(kind)`; the modules are
autodiscovered when Django starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from blingsync.audit import AuditSource, audit_record, audit_source
from blingsync.bling.errors import (
    BlingError,
    BlingNotConnected,
    BlingRateLimited,
    BlingUnavailable,
)
from blingsync.bling.observers import RequestSent, Throttled
from blingsync.error_text import bling_error_text
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.runtime import run_mode_resolve
from blingsync.sweep_cursor import (
    FULL,
    INCREMENTAL,
    SweepCursor,
    sweep_cursor_resolve,
    sweep_run_is_complete,
)
from blingsync.task_queue import task_queue_now
from blingsync.write_gate import StopReason, WriteAuthority, WritesStopped, write_scope

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None, str], None]

# A running row whose heartbeat is older than this belongs to a worker that died.
STALE_AFTER = timedelta(minutes=10)
_FLUSH_EVERY_SECONDS = 2.0
_COUNTERS = ("seen", "changed", "skipped", "errors", "api_calls")


class JobStopped(Exception):
    """Raised by a handler to end its run early with a clear, expected reason (e.g. the daily
    Bling limit was reached); the run is recorded as failed with that message."""


@dataclass
class JobSpec:
    kind: str
    handler: Callable[[JobContext], None]
    runs_when_paused: bool = False
    uses_since: bool = True
    # False: the default cursor does not narrow the kind's runs, only an explicit `since`
    # does (the stock sweep lists every candidate by default).
    incremental: bool = True


_REGISTRY: dict[str, JobSpec] = {}


def register_job(
    kind: str, *, runs_when_paused: bool = False, uses_since: bool = True, incremental: bool = True
) -> Callable[[Callable[[JobContext], None]], Callable[[JobContext], None]]:
    """Register the handler of a job kind (a value of `JobRun.Kind`)."""
    if kind not in JobRun.Kind.values:
        raise ValueError(f"unknown job kind {kind!r}")

    def decorator(func: Callable[[JobContext], None]) -> Callable[[JobContext], None]:
        _REGISTRY[kind] = JobSpec(
            kind=kind,
            handler=func,
            runs_when_paused=runs_when_paused,
            uses_since=uses_since,
            incremental=incremental,
        )
        return func

    return decorator


def job_spec(kind: str) -> JobSpec:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ValueError(f"no handler is registered for job kind {kind!r}") from None


def job_kinds() -> list[str]:
    """The kinds with a registered handler: the ones that can be queued and run."""
    return list(_REGISTRY)


def job_kinds_full() -> list[str]:
    """Kinds that take a `since` and so can be asked for a full run ("Varredura completa")."""
    return [kind for kind, spec in _REGISTRY.items() if spec.uses_since]


@dataclass
class JobContext:
    """What a handler gets: resolved parameters and counters."""

    run: JobRun
    dry_run: bool
    since: datetime | None
    limit: int | None
    progress: ProgressCallback
    # time.monotonic() after which the run stops at its next progress report.
    deadline: float | None = None
    # Whether a switch to paused stops the run at its next progress report (kinds that run
    # when paused, e.g. tokens, are not stopped by it).
    stops_when_paused: bool = True
    _pending: dict[str, int] = field(default_factory=dict)
    _reasons: dict[str, int] = field(default_factory=dict)
    _last_flush: float = field(default_factory=time.monotonic)

    @property
    def params(self) -> dict[str, Any]:
        return self.run.params

    def __post_init__(self) -> None:
        self._show_progress = self.progress
        self.progress = self._report_progress

    def _report_progress(self, done: int, total: int | None, label: str) -> None:
        """What handlers call between batches (`ctx.progress`): shows progress, and stops the
        run at this safe point once its time budget is spent (see `job_run_execute`)."""
        self._show_progress(done, total, label)
        self.stop_check()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise JobStopped(
                f"time budget of {settings.SWEEP_MAX_SECONDS} s reached after {done} items; "
                "the next run continues (what was done is kept)"
            )

    def stop_check(self) -> None:
        """Raise `WritesStopped` when staff asked this run to stop, or (for a kind that
        does not run when paused) the installation was paused: the brake between writes,
        for the parts of a run that only read. Two small queries."""
        stop = (
            JobRun.objects.filter(pk=self.run.pk, stop_requested_at__isnull=False)
            .values_list("stop_requested_by", flat=True)
            .first()
        )
        if stop is not None:
            raise WritesStopped(StopReason.STOPPED, f"parada pedida por {stop or '?'}")
        if self.stops_when_paused:
            mode = RuntimeSettings.objects.filter(pk=1).values_list("mode", flat=True).first()
            if mode == RuntimeSettings.Mode.PAUSED:
                raise WritesStopped(StopReason.PAUSED, "a instalação foi pausada")

    def count(self, name: str, n: int = 1) -> None:
        """Add `n` to one of seen/changed/skipped/errors/api_calls."""
        if name not in _COUNTERS:
            raise ValueError(name)
        self._pending[name] = self._pending.get(name, 0) + n
        if time.monotonic() - self._last_flush >= _FLUSH_EVERY_SECONDS:
            self.flush()

    def skip(self, reason: str, n: int = 1) -> None:
        """Count `n` skipped items under a named reason (shown in the summary)."""
        self._reasons[reason] = self._reasons.get(reason, 0) + n
        self.count("skipped", n)

    def note(self, key: str, value: Any) -> None:
        """Store a detail of the run (JSON-serialisable) in `JobRun.details`."""
        self.run.details[key] = value

    def flush(self) -> None:
        """Write pending counters (atomic increments) and a heartbeat."""
        updates: dict[str, Any] = {name: F(name) + n for name, n in self._pending.items() if n}
        details = dict(self.run.details)
        if self._reasons:
            details["skipped_by_reason"] = dict(self._reasons)
        self.run.details = details
        JobRun.objects.filter(pk=self.run.pk).update(
            heartbeat_at=timezone.now(), details=details, **updates
        )
        self._pending.clear()
        self._last_flush = time.monotonic()


_current_context: ContextVar[JobContext | None] = ContextVar("job_context", default=None)


def bling_request_counted(event: RequestSent) -> None:
    """Subscriber of the Bling client's `RequestSent` (wired in `BlingsyncConfig.ready`):
    every HTTP request it sends counts as an API call of the current run."""
    ctx = _current_context.get()
    if ctx is not None:
        ctx.count("api_calls")


def bling_throttle_noted(event: Throttled) -> None:
    """Subscriber of the Bling client's `Throttled`: a 429 "per second" on the current run
    (`details`: bling_429, and bling_rate_lowest, the lowest effective rate it reached)."""
    ctx = _current_context.get()
    if ctx is None:
        return
    details = ctx.run.details
    ctx.note("bling_429", int(details.get("bling_429") or 0) + 1)
    lowest = details.get("bling_rate_lowest")
    rate = round(event.rate_after, 2)
    if lowest is None or rate < lowest:
        ctx.note("bling_rate_lowest", rate)


def _no_progress(done: int, total: int | None, label: str) -> None:
    return None


def job_run_create(
    *,
    kind: str,
    trigger: str,
    params: dict[str, Any] | None = None,
    requested_by: str = "",
    rerun_of: JobRun | None = None,
) -> JobRun:
    """Create a queued run (validated kind)."""
    job_spec(kind)
    return JobRun.objects.create(
        kind=kind,
        trigger=trigger,
        params=_clean_params(params or {}),
        requested_by=requested_by,
        rerun_of=rerun_of,
    )


def job_run_queue(
    *,
    kind: str,
    trigger: str,
    params: dict[str, Any] | None = None,
    requested_by: str = "",
    rerun_of: JobRun | None = None,
) -> JobRun:
    """Create a queued run and hand it to the task queue once the transaction commits."""
    run = job_run_create(
        kind=kind, trigger=trigger, params=params, requested_by=requested_by, rerun_of=rerun_of
    )
    run_id = run.pk
    transaction.on_commit(lambda: _enqueue(run_id))
    return run


def job_run_rerun(*, run: JobRun, requested_by: str) -> JobRun:
    """Queue a new run of the same kind with the same parameters."""
    return job_run_queue(
        kind=run.kind,
        trigger=JobRun.Trigger.RERUN,
        params=dict(run.params),
        requested_by=requested_by,
        rerun_of=run,
    )


def _enqueue(run_id: int) -> None:
    task_queue_now(func="blingsync.tasks.job_run_task", arg=run_id, task_name=f"job-run-{run_id}")


def job_run_now(
    *,
    kind: str,
    trigger: str,
    params: dict[str, Any] | None = None,
    requested_by: str = "",
    progress: ProgressCallback | None = None,
) -> JobRun:
    """Create a run and execute it in this process (commands, schedules)."""
    run = job_run_create(kind=kind, trigger=trigger, params=params, requested_by=requested_by)
    return job_run_execute(run_id=run.pk, progress=progress)


# Flags recorded only when asked for: the parameters say what was asked, and a run that the
# installation's dry-run mode made a simulation must not carry "dry_run": false.
_FLAGS = ("dry_run", "full")


def _clean_params(params: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or (key in _FLAGS and not value):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        cleaned[key] = value
    return cleaned


def _release_stale_runs(kind: str) -> None:
    cutoff = timezone.now() - STALE_AFTER
    stale = JobRun.objects.filter(kind=kind, status=JobRun.Status.RUNNING).filter(
        heartbeat_at__lt=cutoff
    )
    count = stale.update(
        status=JobRun.Status.FAILED,
        finished_at=timezone.now(),
        error="abandoned: no heartbeat for 10 minutes (the worker probably died)",
    )
    if count:
        logger.warning("released %d stale %s run(s)", count, kind)


def _claim(run: JobRun) -> bool:
    """queued -> running, or False when another run of the kind is running."""
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = JobRun.objects.filter(pk=run.pk, status=JobRun.Status.QUEUED).update(
                status=JobRun.Status.RUNNING, started_at=now, heartbeat_at=now
            )
    except IntegrityError:
        return False
    if claimed:
        run.status, run.started_at, run.heartbeat_at = JobRun.Status.RUNNING, now, now
    return bool(claimed)


def _finish(run: JobRun, *, status: str, error: str = "", skip_reason: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.error = error[:4000]
    run.skip_reason = skip_reason
    JobRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=run.finished_at, error=run.error, skip_reason=skip_reason
    )


_INTERRUPTED_WORDS = {
    StopReason.PAUSED: "interrompida: a instalação foi pausada",
    StopReason.DRY_RUN: "interrompida: a instalação passou para simulação (dry-run)",
    StopReason.STOPPED: "interrompida: parada pedida",
}


def _interrupted_words(exc: WritesStopped) -> str:
    """The reason a run was interrupted, in words (stored in the run's `error`)."""
    words = _INTERRUPTED_WORDS.get(exc.reason, "interrompida")
    if exc.reason == StopReason.STOPPED and exc.detail:
        words = f"interrompida: {exc.detail}"
    return f"{words}; nada foi escrito no Bling depois disso"


def job_stop_request(*, run_id: int, actor: str, source: str | None = None) -> bool:
    """Ask a running (or queued) run to stop at its next write or progress report; True when
    the request was recorded (False: the run is not running, or a stop was already asked).
    Audited."""
    now = timezone.now()
    asked = JobRun.objects.filter(
        pk=run_id,
        status__in=[JobRun.Status.RUNNING, JobRun.Status.QUEUED],
        stop_requested_at__isnull=True,
    ).update(stop_requested_at=now, stop_requested_by=actor[:150])
    if not asked:
        return False
    # A queued run that never started has nothing to interrupt: it ends here.
    JobRun.objects.filter(pk=run_id, status=JobRun.Status.QUEUED).update(
        status=JobRun.Status.INTERRUPTED,
        finished_at=now,
        error=f"interrompida: parada pedida por {actor} antes de começar",
    )
    audit_record(
        action=AuditLog.Action.JOB_STOPPED,
        before={"run": run_id},
        after={"stop_requested_at": now.isoformat()},
        reason=f"parada da execução {run_id} pedida por {actor}",
        reason_rule="job.stopped",
        reason_data={"run": run_id, "actor": actor},
        actor=actor,
        source=source,
    )
    return True


def job_last_success(kind: str) -> JobRun | None:
    return (
        JobRun.objects.filter(kind=kind, status=JobRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )


def _resolve_cursor(spec: JobSpec, run: JobRun) -> SweepCursor | None:
    """The run's cursor (None for kinds without `since`)."""
    if not spec.uses_since:
        return None
    cursor = sweep_cursor_resolve(kind=run.kind, params=run.params)
    if not spec.incremental and cursor.mode == INCREMENTAL:
        return SweepCursor(FULL, None, "este tipo lista tudo, salvo um --since pedido")
    return cursor


def job_run_execute(*, run_id: int, progress: ProgressCallback | None = None) -> JobRun:
    """Claim and execute a queued run; returns the finished (or skipped) row."""
    run = JobRun.objects.get(pk=run_id)
    if run.status != JobRun.Status.QUEUED:
        logger.info("job run %s is %s, not queued: nothing to do", run.pk, run.status)
        return run
    spec = job_spec(run.kind)
    mode = run_mode_resolve(dry_run=bool(run.params.get("dry_run")))
    if mode.paused and not spec.runs_when_paused:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.SKIPPED,
            skip_reason=JobRun.SkipReason.PAUSED,
            finished_at=timezone.now(),
            error="paused",
        )
        run.refresh_from_db()
        return run
    _release_stale_runs(run.kind)
    if not _claim(run):
        JobRun.objects.filter(pk=run.pk, status=JobRun.Status.QUEUED).update(
            status=JobRun.Status.SKIPPED,
            skip_reason=JobRun.SkipReason.OVERLAP,
            finished_at=timezone.now(),
            error="another run of this kind was running",
        )
        run.refresh_from_db()
        logger.info("job run %s skipped: a %s run is already running", run.pk, run.kind)
        return run

    ctx: JobContext | None = None
    try:
        cursor = _resolve_cursor(spec, run)
        ctx = JobContext(
            run=run,
            dry_run=mode.dry_run,
            since=cursor.since if cursor else None,
            limit=run.params.get("limit"),
            progress=progress or _no_progress,
            # Bounded well under django-q's task timeout: a sweep over a huge backlog stops at
            # a batch boundary and the next run picks up the rest, instead of being killed.
            deadline=time.monotonic() + settings.SWEEP_MAX_SECONDS,
            stops_when_paused=not spec.runs_when_paused,
        )
        ctx.note("dry_run", ctx.dry_run)
        if mode.dry_run_reason:
            ctx.note("dry_run_reason", mode.dry_run_reason)
        ctx.note("since", ctx.since.isoformat() if ctx.since else None)
        if cursor is not None:
            ctx.note("cursor", cursor.label)
        source = AuditSource(
            source=AuditLog.Source.JOB,
            ref=f"job:{run.pk}",
            actor=run.requested_by or run.trigger,
            job_run_id=run.pk,
        )
        token = _current_context.set(ctx)
        try:
            with (
                audit_source(source),
                write_scope(authority=WriteAuthority.MODE, run_id=run.pk),
            ):
                spec.handler(ctx)
        finally:
            _current_context.reset(token)
    except (BlingNotConnected, BlingUnavailable) as exc:
        # Not connected (a fresh install, or one waiting for staff to reconnect) or Bling down
        # (5xx, timeouts after the retries, circuit open): nothing to blame in the run. It is
        # recorded as skipped with its reason (what was done is kept, the next run picks up
        # the rest), without a traceback every few minutes.
        if ctx:
            ctx.flush()
        connected = not isinstance(exc, BlingNotConnected)
        _finish(
            run,
            status=JobRun.Status.SKIPPED,
            error=bling_error_text(exc=exc),
            skip_reason=JobRun.SkipReason.BLING_UNAVAILABLE
            if connected
            else JobRun.SkipReason.NOT_CONNECTED,
        )
        logger.warning("job run %s (%s) skipped (%s): %s", run.pk, run.kind, run.skip_reason, exc)
    except WritesStopped as exc:
        # The brake: nothing was written after the switch (or the stop request); what was
        # done is kept and the next run picks up the rest.
        if ctx:
            ctx.note("interrupted_reason", str(exc.reason))
            ctx.flush()
        _finish(run, status=JobRun.Status.INTERRUPTED, error=_interrupted_words(exc))
        logger.warning("job run %s (%s) interrupted: %s", run.pk, run.kind, exc)
    except (JobStopped, BlingRateLimited) as exc:
        if ctx:
            ctx.flush()
        _finish(run, status=JobRun.Status.FAILED, error=bling_error_text(exc=exc))
        logger.warning("job run %s (%s) stopped: %s", run.pk, run.kind, exc)
    except Exception as exc:
        if ctx:
            ctx.count("errors")
            ctx.flush()
        error = (
            bling_error_text(exc=exc)
            if isinstance(exc, BlingError)
            else f"{type(exc).__name__}: {exc}"
        )
        _finish(run, status=JobRun.Status.FAILED, error=error)
        logger.exception("job run %s (%s) failed", run.pk, run.kind)
    else:
        # Read the flag after the handler: one that overrides it (seed_counters runs live in
        # an installation in dry-run) notes what really happened.
        ctx.note(
            "complete",
            sweep_run_is_complete(params=run.params, dry_run=bool(run.details.get("dry_run"))),
        )
        ctx.flush()
        _finish(run, status=JobRun.Status.SUCCEEDED)
        logger.info("job run %s (%s) succeeded", run.pk, run.kind)
    run.refresh_from_db()
    return run

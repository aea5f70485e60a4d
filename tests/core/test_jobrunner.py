"""The job runner: one run per kind at a time, counters, since, failures, dry-run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync import jobrunner
from blingsync.audit import audit_begin
from blingsync.bling.observers import RequestSent, observers_notify
from blingsync.jobrunner import JobSpec, job_run_create, job_run_execute, job_run_now
from blingsync.models import AuditLog, JobRun, RuntimeSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler(monkeypatch):
    """Registers a recording handler for the `categories` kind for this test."""
    seen: list[jobrunner.JobContext] = []

    def record(ctx: jobrunner.JobContext) -> None:
        seen.append(ctx)
        ctx.count("seen", 3)
        ctx.count("changed")
        ctx.skip("no_category", 2)
        # What the Bling client reports for each request it sends (counted on the run).
        observers_notify(RequestSent(method="GET", path="/produtos"))
        audit_begin(action=AuditLog.Action.CODE_ASSIGNED, dry_run=ctx.dry_run, code="X00001")

    spec = JobSpec(kind="categories", handler=record)
    monkeypatch.setitem(jobrunner._REGISTRY, "categories", spec)
    return seen


def test_it_runs_a_job_and_records_its_counters(handler):
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    assert run.status == JobRun.Status.SUCCEEDED
    assert (run.seen, run.changed, run.skipped, run.api_calls) == (3, 1, 2, 1)
    assert run.details["skipped_by_reason"] == {"no_category": 2}
    assert run.started_at and run.finished_at
    entry = AuditLog.objects.get()
    assert entry.source == AuditLog.Source.JOB and entry.job_run_id == run.pk


def test_a_new_install_runs_jobs_in_dry_run(handler):
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    assert handler[0].dry_run is True
    assert AuditLog.objects.get().outcome == AuditLog.Outcome.WOULD_DO
    assert run.details["dry_run"] is True


def test_live_mode_runs_for_real_unless_dry_run_is_asked(handler):
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND, params={"dry_run": True})
    assert [ctx.dry_run for ctx in handler] == [False, True]


def test_since_defaults_to_the_start_of_the_last_complete_live_run_minus_15_minutes(handler):
    # SPEC 5.7 (issue 12): was "the last successful run", whatever kind of run it was.
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    first = job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    assert handler[0].since is None
    assert handler[1].since == first.started_at - timedelta(minutes=15)


def test_an_explicit_since_wins(handler):
    job_run_now(
        kind="categories", trigger=JobRun.Trigger.COMMAND, params={"since": "2026-01-02T03:04:05"}
    )
    assert handler[0].since.isoformat().startswith("2026-01-02T03:04:05")


def test_a_second_run_of_a_kind_is_skipped_while_one_is_running(handler):
    running = job_run_create(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    JobRun.objects.filter(pk=running.pk).update(
        status=JobRun.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    second = job_run_now(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    assert second.status == JobRun.Status.SKIPPED
    assert "another run" in second.error
    assert handler == []


def test_a_run_abandoned_by_a_dead_worker_does_not_block_forever(handler):
    stale = job_run_create(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    old = timezone.now() - timedelta(hours=1)
    JobRun.objects.filter(pk=stale.pk).update(
        status=JobRun.Status.RUNNING, started_at=old, heartbeat_at=old
    )
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    assert run.status == JobRun.Status.SUCCEEDED
    stale.refresh_from_db()
    assert stale.status == JobRun.Status.FAILED and "abandoned" in stale.error


def test_a_failing_job_is_recorded_with_its_error(monkeypatch):
    def boom(ctx):
        raise RuntimeError("Bling said no")

    monkeypatch.setitem(jobrunner._REGISTRY, "categories", JobSpec("categories", boom))
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    assert run.status == JobRun.Status.FAILED
    assert run.error == "RuntimeError: Bling said no"
    assert run.errors == 1


def test_paused_mode_skips_jobs_that_do_not_run_when_paused(handler):
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "paused"})
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    assert run.status == JobRun.Status.SKIPPED and run.error == "paused"
    assert handler == []


def test_a_run_that_is_not_queued_is_not_executed_again(handler):
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
    again = job_run_execute(run_id=run.pk)
    assert again.status == JobRun.Status.SUCCEEDED
    assert len(handler) == 1


def test_a_run_without_a_bling_connection_is_skipped_with_the_reason(monkeypatch):
    from blingsync.bling.errors import BlingNotConnected

    def needs_bling(ctx):
        raise BlingNotConnected(status=None, message="no connection yet")

    monkeypatch.setitem(jobrunner._REGISTRY, "categories", JobSpec("categories", needs_bling))
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    assert run.status == JobRun.Status.SKIPPED
    # In words, in one language (no "not connected to Bling: Bling no answer: ..." chain).
    assert run.error == "Bling não conectado: conecte a conta em “Conectar ao Bling”."
    from django.utils import translation

    with translation.override("en"):
        again = job_run_now(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    assert again.error.startswith("Bling is not connected")


def test_a_dry_run_record_keeps_its_flag():
    from blingsync.audit import audit_record

    entry = audit_record(action=AuditLog.Action.COUNTER_ADJUSTED, after={"NTB": 9}, dry_run=True)
    entry.refresh_from_db()
    assert entry.dry_run is True
    assert entry.outcome == AuditLog.Outcome.WOULD_DO


def test_a_run_stops_at_a_batch_boundary_when_its_time_budget_is_spent(monkeypatch, settings):
    batches: list[int] = []

    def long_sweep(ctx):
        for batch in range(1, 4):
            batches.append(batch)
            ctx.count("changed", 10)
            ctx.progress(batch * 10, 30, "lote")

    monkeypatch.setitem(jobrunner._REGISTRY, "categories", JobSpec("categories", long_sweep))
    settings.SWEEP_MAX_SECONDS = 0
    run = job_run_now(kind="categories", trigger=JobRun.Trigger.SCHEDULE)
    assert batches == [1]
    assert run.status == JobRun.Status.FAILED
    assert "time budget" in run.error and "next run continues" in run.error
    assert run.changed == 10

"""The `events` job: recovery of stuck events and due retries, retention; and "reprocess"."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync.jobrunner import job_run_now
from blingsync.lease import LEASE
from blingsync.models import JobRun, RuntimeSettings
from webhooks.inbox import QUEUE_GRACE
from webhooks.maintenance import events_reprocess
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status


def _recover_at(status: str, received_at, fields: dict):
    """What the receiver and processing set: grace after reception for a pending event, the
    lease end for a claim, the retry time plus grace for a failed event with a retry."""
    if status == Status.PENDING:
        return received_at + QUEUE_GRACE
    if status == Status.PROCESSING:
        return fields["claimed_at"] + LEASE
    if status == Status.FAILED and fields.get("next_attempt_at"):
        return fields["next_attempt_at"] + QUEUE_GRACE
    return None


def _event(event_id: str, *, status=Status.PENDING, age=timedelta(0), **fields) -> WebhookEvent:
    received_at = timezone.now() - age
    fields.setdefault("recover_at", _recover_at(status, received_at, fields))
    event = WebhookEvent.objects.create(
        event_id=event_id,
        event_type="product_supplier.created",  # not handled: processing needs no Bling call
        body=json.dumps(
            {"eventId": event_id, "event": "product_supplier.created", "data": {"id": 1}}
        ),
        signature_valid=True,
        status=status,
        **fields,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=received_at)
    return event


def _mode(mode: str) -> None:
    row = RuntimeSettings.load()
    row.mode = mode
    row.save()


def test_it_recovers_an_event_whose_task_was_lost():
    lost = _event("lost", age=timedelta(minutes=5))
    fresh = _event("fresh", age=timedelta(seconds=10))  # its own task is still on its way
    run = job_run_now(kind="events", trigger=JobRun.Trigger.SCHEDULE)
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.details["requeued"] == 1
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == Status.IGNORED and lost.attempts == 1
    assert fresh.status == Status.PENDING


def test_it_recovers_an_event_left_processing_by_a_dead_worker():
    stuck = _event(
        "stuck",
        status=Status.PROCESSING,
        age=timedelta(minutes=30),
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=20),
    )
    busy = _event(
        "busy",
        status=Status.PROCESSING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(seconds=5),
    )
    run = job_run_now(kind="events", trigger=JobRun.Trigger.SCHEDULE)
    assert run.details["released"] == 1
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == Status.IGNORED and stuck.attempts == 2
    assert busy.status == Status.PROCESSING  # a live worker keeps it


def test_it_queues_due_retries_but_not_early_ones():
    due = _event("due", status=Status.FAILED, attempts=1, next_attempt_at=timezone.now())
    later = _event(
        "later",
        status=Status.FAILED,
        attempts=1,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    given_up = _event("given-up", status=Status.FAILED, attempts=5, last_error="boom")
    job_run_now(kind="events", trigger=JobRun.Trigger.SCHEDULE)
    for event in (due, later, given_up):
        event.refresh_from_db()
    assert due.status == Status.IGNORED
    assert later.status == Status.FAILED and later.next_attempt_at is not None
    assert given_up.status == Status.FAILED and given_up.last_error == "boom"


def test_it_deletes_finished_events_past_the_retention_period():
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"event_retention_days": 10})
    old_done = _event("old-done", status=Status.PROCESSED, age=timedelta(days=11))
    old_rejected = WebhookEvent.objects.create(status=Status.REJECTED, http_status=401)
    WebhookEvent.objects.filter(pk=old_rejected.pk).update(
        received_at=timezone.now() - timedelta(days=11)
    )
    old_failed = _event("old-failed", status=Status.FAILED, age=timedelta(days=11), attempts=5)
    young_done = _event("young-done", status=Status.PROCESSED, age=timedelta(days=9))
    run = job_run_now(kind="events", trigger=JobRun.Trigger.SCHEDULE)
    assert run.details["deleted"] == 2
    remaining = set(WebhookEvent.objects.values_list("pk", flat=True))
    assert remaining == {old_failed.pk, young_done.pk}
    assert old_done.pk not in remaining


def test_when_paused_it_keeps_retention_but_processes_nothing():
    _mode(RuntimeSettings.Mode.PAUSED)
    lost = _event("lost", age=timedelta(minutes=5))
    _event("old", status=Status.PROCESSED, age=timedelta(days=30))
    run = job_run_now(kind="events", trigger=JobRun.Trigger.SCHEDULE)
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.details["deleted"] == 1
    lost.refresh_from_db()
    assert lost.status == Status.PENDING and lost.attempts == 0
    _mode(RuntimeSettings.Mode.LIVE)
    job_run_now(kind="events", trigger=JobRun.Trigger.SCHEDULE)
    lost.refresh_from_db()
    assert lost.status == Status.IGNORED


def test_reprocess_gives_a_failed_event_a_fresh_start(django_capture_on_commit_callbacks):
    failed = _event("failed", status=Status.FAILED, attempts=5, last_error="boom")
    rejected = WebhookEvent.objects.create(status=Status.REJECTED, http_status=401)
    with django_capture_on_commit_callbacks(execute=True):
        queued = events_reprocess(event_ids=[failed.pk, rejected.pk])
    assert queued == 1
    failed.refresh_from_db()
    assert failed.status == Status.IGNORED
    assert failed.attempts == 1
    assert failed.last_error == ""

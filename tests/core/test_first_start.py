"""First start without a Bling connection: schedules wait without recording a skipped run per
interval, the dashboard says "conecte o Bling" once, and a tokens run counts nothing."""

from __future__ import annotations

import pytest

from blingsync.jobrunner import job_run_now
from blingsync.models import JobRun
from blingsync.operations.schedules import schedules_setup
from blingsync.tasks import scheduled_job

pytestmark = pytest.mark.django_db


def test_schedules_record_no_run_while_bling_was_never_connected(fake_bling):
    for kind in ("codes", "stock", "orders", "invoices", "categories", "tokens"):
        assert scheduled_job(kind) == "not_connected"
    assert JobRun.objects.count() == 0
    assert fake_bling.calls() == []


def test_the_events_schedule_still_runs_without_bling(fake_bling):
    assert scheduled_job("events") == JobRun.Status.SUCCEEDED
    assert list(JobRun.objects.values_list("kind", flat=True)) == ["events"]


def test_once_connected_the_schedules_run(bling_connected):
    scheduled_job("categories")
    assert JobRun.objects.get().status == JobRun.Status.SUCCEEDED


def test_a_tokens_run_without_a_connection_counts_nothing(fake_bling):
    run = job_run_now(kind="tokens", trigger=JobRun.Trigger.ADMIN)
    assert run.status == JobRun.Status.SKIPPED
    assert run.seen == 0


def test_the_dashboard_says_connect_once(role_client, fake_bling):
    schedules_setup()
    for kind in ("codes", "stock", "orders", "tokens"):
        scheduled_job(kind)
    text = role_client("operacao").get("/dashboard/").content.decode()
    assert text.count('id="dash-connect-first"') == 1
    assert "⚠" not in text
    assert "Ignorado: Bling não conectado" not in text

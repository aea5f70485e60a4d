"""Job runs in the admin: run now and rerun queue exactly one job and return at once;
a run shows its audit entries; a second run of a running kind is skipped, never overlapped."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_q.models import Task

from blingsync import jobrunner
from blingsync.jobrunner import job_run_create, job_run_now
from blingsync.models import AuditLog, JobRun

pytestmark = pytest.mark.django_db

RUN_NOW_URL = "/admin/blingsync/jobrun/run-now/"


def queued_tasks() -> list[Task]:
    return list(Task.objects.filter(func="blingsync.tasks.job_run_task"))


@pytest.fixture
def seed_counters_unavailable(monkeypatch):
    monkeypatch.delitem(jobrunner._REGISTRY, "seed_counters", raising=False)


def test_the_run_now_page_lists_a_button_per_kind(
    staff_client, recorded_jobs, seed_counters_unavailable
):
    response = staff_client.get(RUN_NOW_URL)
    assert response.status_code == 200
    for kind in ("codes", "stock", "orders", "categories", "tokens", "events"):
        assert f'id="run-now-form-{kind}"' in response.text
    # seed_counters has no handler in this test: shown, but without a button.
    assert 'id="run-now-form-seed_counters"' not in response.text


def test_run_now_queues_exactly_one_job_with_the_dry_run_choice(
    staff_client, recorded_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(RUN_NOW_URL, {"kind": "codes", "dry_run": "on"})
    assert response.status_code == 302
    assert response["Location"].endswith("/admin/blingsync/jobrun/")
    assert len(callbacks) == 1
    run = JobRun.objects.get()
    assert (run.kind, run.trigger, run.params, run.requested_by) == (
        "codes",
        JobRun.Trigger.ADMIN,
        {"dry_run": True},
        "ana",
    )
    [task] = queued_tasks()
    assert task.args == (run.pk,)
    # Tests run the queue inline, so the run has finished by now.
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED
    assert [ctx.run.pk for ctx in recorded_jobs] == [run.pk]
    assert recorded_jobs[0].dry_run is True


def test_run_now_without_dry_run_asks_for_a_real_run(
    staff_client, recorded_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(RUN_NOW_URL, {"kind": "stock"})
    run = JobRun.objects.get()
    # Nothing asked beyond the kind (issue 12: "dry_run": false in the parameters contradicted
    # the details when the installation's mode made the run a simulation).
    assert run.params == {}
    assert run.trigger == JobRun.Trigger.ADMIN


def test_run_now_returns_to_the_dashboard_when_asked(
    staff_client, recorded_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            RUN_NOW_URL, {"kind": "codes", "dry_run": "on", "next": "/dashboard/"}
        )
    assert response["Location"] == "/dashboard/"
    response = staff_client.post(
        RUN_NOW_URL, {"kind": "codes", "next": "https://evil.example.com/"}
    )
    assert response["Location"].endswith("/admin/blingsync/jobrun/")


def test_run_now_refuses_a_kind_without_a_handler(
    staff_client, recorded_jobs, seed_counters_unavailable
):
    response = staff_client.post(RUN_NOW_URL, {"kind": "seed_counters"}, follow=True)
    assert response.status_code == 200
    assert not JobRun.objects.exists()
    assert "não está disponível" in response.text


def test_rerun_queues_one_new_run_with_the_same_parameters(
    staff_client, recorded_jobs, django_capture_on_commit_callbacks
):
    original = job_run_now(
        kind="orders",
        trigger=JobRun.Trigger.SCHEDULE,
        params={"dry_run": True, "since": "2026-11-01T00:00:00-03:00", "limit": 50},
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(
            "/admin/blingsync/jobrun/",
            {"action": "rerun_selected", "_selected_action": [original.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    rerun = JobRun.objects.exclude(pk=original.pk).get()
    assert rerun.kind == "orders"
    assert rerun.trigger == JobRun.Trigger.RERUN
    assert rerun.rerun_of_id == original.pk
    assert rerun.params == original.params
    assert rerun.requested_by == "ana"
    assert [t.args for t in queued_tasks()] == [(rerun.pk,)]
    assert f"#{rerun.pk}" in response.text


def test_a_run_queued_while_another_of_its_kind_runs_is_skipped(
    staff_client, recorded_jobs, django_capture_on_commit_callbacks
):
    running = job_run_create(kind="codes", trigger=JobRun.Trigger.SCHEDULE)
    JobRun.objects.filter(pk=running.pk).update(
        status=JobRun.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(RUN_NOW_URL, {"kind": "codes", "dry_run": "on"})
    second = JobRun.objects.exclude(pk=running.pk).get()
    assert second.status == JobRun.Status.SKIPPED
    assert "another run" in second.error
    assert recorded_jobs == []
    assert JobRun.objects.filter(kind="codes", status=JobRun.Status.RUNNING).count() == 1
    response = staff_client.get("/admin/blingsync/jobrun/?status__exact=skipped")
    assert f"/admin/blingsync/jobrun/{second.pk}/change/" in response.text


def test_the_list_shows_counts_api_calls_and_duration(staff_client, recorded_jobs):
    run = job_run_now(kind="codes", trigger=JobRun.Trigger.COMMAND)
    JobRun.objects.filter(pk=run.pk).update(
        api_calls=17, finished_at=run.started_at + timezone.timedelta(seconds=125)
    )
    response = staff_client.get("/admin/blingsync/jobrun/")
    assert response.status_code == 200
    assert "2 min 5 s" in response.text
    assert '<td class="field-api_calls_display">17</td>' in response.text


def test_a_run_shows_its_audit_entries(staff_client, recorded_jobs):
    run = job_run_now(kind="codes", trigger=JobRun.Trigger.COMMAND)
    entry = AuditLog.objects.get(job_run=run)
    response = staff_client.get(f"/admin/blingsync/jobrun/{run.pk}/change/")
    assert response.status_code == 200
    assert entry.code in response.text
    assert f"/admin/blingsync/auditlog/{entry.pk}/change/" in response.text
    assert f"?job_run__id__exact={run.pk}" in response.text


def test_a_run_page_has_a_rerun_button_that_queues_one_run(
    staff_client, recorded_jobs, django_capture_on_commit_callbacks
):
    original = job_run_now(kind="stock", trigger=JobRun.Trigger.SCHEDULE, params={"limit": 5})
    page = staff_client.get(f"/admin/blingsync/jobrun/{original.pk}/change/")
    rerun_url = f"/admin/blingsync/jobrun/{original.pk}/rerun/"
    assert rerun_url in page.text
    assert staff_client.get(rerun_url).status_code == 403  # POST only
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(rerun_url)
    assert response.status_code == 302
    assert len(callbacks) == 1
    rerun = JobRun.objects.get(rerun_of=original)
    assert (rerun.kind, rerun.params, rerun.trigger) == ("stock", {"limit": 5}, "rerun")

"""`setup_schedules`: created once, kept on a second run, staff cadence edits preserved."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from blingsync.operations.alerts.schedules import ALERTS_FUNC, ALERTS_SCHEDULE
from blingsync.operations.schedules import SCHEDULES

pytestmark = pytest.mark.django_db

EXPECTED_MINUTES = {
    "codes": 15,
    "stock": 30,
    "orders": 10,
    "invoices": 10,
    "categories": 24 * 60,
    "tokens": 60,
    "events": 60,
}


def run_setup() -> str:
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def test_it_creates_one_schedule_per_kind_with_the_cadence_of_the_spec():
    output = run_setup()
    schedules = {s.name: s for s in Schedule.objects.exclude(name=ALERTS_SCHEDULE)}
    assert set(schedules) == {f"blingsync:{kind}" for kind in EXPECTED_MINUTES} | {
        "blingsync:recovery"
    }
    # And the periodic alert check (blingsync/alerts), every 5 minutes.
    alerts = Schedule.objects.get(name=ALERTS_SCHEDULE)
    assert (alerts.func, alerts.minutes, alerts.repeats) == (ALERTS_FUNC, 5, -1)
    # Recovery of killed webhook work: a plain task every minute, no JobRun row each time.
    recovery = schedules["blingsync:recovery"]
    assert (recovery.func, recovery.args, recovery.minutes) == (
        "blingsync.tasks.recovery_tick_task",
        "",
        1,
    )
    for kind, minutes in EXPECTED_MINUTES.items():
        schedule = schedules[f"blingsync:{kind}"]
        assert schedule.func == "blingsync.tasks.scheduled_job"
        assert schedule.args == repr(kind)
        assert schedule.schedule_type == Schedule.MINUTES
        assert schedule.minutes == minutes
        assert schedule.repeats == -1
    assert output.count(": criado") == len(SCHEDULES) + 1


def test_a_second_run_creates_nothing_and_keeps_a_staff_edit():
    run_setup()
    Schedule.objects.filter(name="blingsync:codes").update(minutes=5)
    Schedule.objects.filter(name="blingsync:stock").update(repeats=0)  # staff switched it off
    output = run_setup()
    assert Schedule.objects.count() == len(SCHEDULES) + 1
    assert Schedule.objects.get(name="blingsync:codes").minutes == 5
    assert Schedule.objects.get(name="blingsync:stock").repeats == 0
    assert ": criado" not in output
    assert output.count(": mantido") == len(SCHEDULES) + 1


def test_it_repairs_what_runs_but_not_when_it_runs():
    run_setup()
    Schedule.objects.filter(name="blingsync:orders").update(
        func="somewhere.else", args="'x'", minutes=45
    )
    run_setup()
    schedule = Schedule.objects.get(name="blingsync:orders")
    assert (schedule.func, schedule.args, schedule.minutes) == (
        "blingsync.tasks.scheduled_job",
        "'orders'",
        45,
    )


def test_the_schedule_admin_speaks_portuguese(staff_client):
    run_setup()
    response = staff_client.get("/admin/django_q/schedule/")
    assert response.status_code == 200
    assert "a cada 15 minutos" in response.text
    assert "Agendamentos" in response.text
    assert "Próxima execução" in response.text  # django-q's own labels, from our catalogue
    assert "Códigos" in response.text
    schedule = Schedule.objects.get(name="blingsync:codes")
    response = staff_client.get(f"/admin/django_q/schedule/{schedule.pk}/change/")
    assert response.status_code == 200
    assert "frequência" in response.text.lower()
    assert "Minutos" in response.text


def test_the_recovery_schedule_is_named_by_what_it_does_not_by_its_function(staff_client):
    run_setup()
    pt = staff_client.get("/admin/django_q/schedule/").text
    en = staff_client.get("/admin/django_q/schedule/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Recuperação de eventos e avaliações de estoque interrompidos" in pt
    assert "Recovery of interrupted events and stock evaluations" in en
    assert '<td class="field-job_kind">blingsync.tasks.recovery_tick_task</td>' not in pt


def test_what_a_schedule_runs_is_read_only_in_the_admin(staff_client):
    """Only name, cadence and next run are editable: a POST with another func (or args,
    kwargs, hook) saves the cadence and leaves what runs alone."""
    run_setup()
    schedule = Schedule.objects.get(name="blingsync:codes")
    url = f"/admin/django_q/schedule/{schedule.pk}/change/"
    page = staff_client.get(url).text
    assert 'name="func"' not in page and 'name="args"' not in page
    assert 'name="minutes"' in page and 'name="next_run_0"' in page
    response = staff_client.post(
        url,
        {
            "name": "blingsync:codes",
            "schedule_type": Schedule.MINUTES,
            "minutes": 20,
            "cron": "",
            "repeats": -1,
            "next_run_0": "01/12/2026",
            "next_run_1": "10:00:00",
            "func": "os.system",
            "args": "'rm -rf /'",
            "kwargs": "{'x': 1}",
            "hook": "os.system",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    schedule.refresh_from_db()
    assert schedule.minutes == 20
    assert (schedule.func, schedule.args, schedule.kwargs, schedule.hook) == (
        "blingsync.tasks.scheduled_job",
        "'codes'",
        None,
        None,
    )


def test_no_schedule_can_be_added_in_the_admin(staff_client):
    assert staff_client.get("/admin/django_q/schedule/add/").status_code == 403

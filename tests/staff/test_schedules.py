"""`setup_schedules`: created once, kept on a second run, staff cadence edits preserved."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from blingsync.schedules import SCHEDULES

pytestmark = pytest.mark.django_db

EXPECTED_MINUTES = {
    "codes": 15,
    "stock": 30,
    "orders": 10,
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
    schedules = {s.name: s for s in Schedule.objects.all()}
    assert set(schedules) == {f"blingsync:{kind}" for kind in EXPECTED_MINUTES} | {
        "blingsync:recovery"
    }
    # Recovery of killed webhook work: a plain task every minute, no JobRun row each time.
    recovery = schedules["blingsync:recovery"]
    assert (recovery.func, recovery.args, recovery.minutes) == (
        "webhooks.tasks.recovery_tick_task",
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
    assert output.count("created") == len(SCHEDULES)


def test_a_second_run_creates_nothing_and_keeps_a_staff_edit():
    run_setup()
    Schedule.objects.filter(name="blingsync:codes").update(minutes=5)
    Schedule.objects.filter(name="blingsync:stock").update(repeats=0)  # staff switched it off
    output = run_setup()
    assert Schedule.objects.count() == len(SCHEDULES)
    assert Schedule.objects.get(name="blingsync:codes").minutes == 5
    assert Schedule.objects.get(name="blingsync:stock").repeats == 0
    assert "created" not in output
    assert output.count("kept") == len(SCHEDULES)


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

"""The admin of the alerts: the record is read only; preferences and the summary time are
edited there by staff with the permissions."""

from __future__ import annotations

from datetime import time

from django.urls import reverse

from blingsync.alerts.models import AlertKind, AlertMessage, AlertPreference, AlertSettings
from tests.alerts.conftest import staff


def test_staff_see_every_message_sent_but_cannot_change_it(manager, client):
    message = AlertMessage.objects.create(
        kind=AlertKind.CALL_BUDGET,
        language="pt-br",
        recipients=["gestora@loja.example"],
        status=AlertMessage.Status.FAILED,
        error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    client.force_login(manager)
    listing = client.get(reverse("admin:alerts_alertmessage_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "gestora@loja.example" in page and "cota diária" in page

    url = reverse("admin:alerts_alertmessage_change", args=[message.pk])
    detail = client.get(url)
    assert detail.status_code == 200
    assert "SMTPServerDisconnected" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
    response = client.post(url, {"status": "sent", "error": ""})
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == AlertMessage.Status.FAILED
    assert client.get(reverse("admin:alerts_alertmessage_add")).status_code == 403


def test_staff_without_the_view_permission_do_not_see_the_record(operator, client):
    client.force_login(operator)
    response = client.get(reverse("admin:alerts_alertmessage_changelist"))
    assert response.status_code == 403


def test_a_user_opts_in_to_the_summary_and_staff_choose_its_time(django_user_model, client):
    admin_staff = staff(
        django_user_model,
        "config",
        email="config@loja.example",
        perms=[
            ("alerts", "add_alertpreference"),
            ("alerts", "change_alertpreference"),
            ("alerts", "view_alertpreference"),
            ("alerts", "change_alertsettings"),
            ("alerts", "view_alertsettings"),
            ("alerts", "add_alertsettings"),
        ],
    )
    client.force_login(admin_staff)
    response = client.post(
        reverse("admin:alerts_alertpreference_add"),
        {"user": admin_staff.pk, "daily_summary": "on", "language": "en"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    pref = AlertPreference.objects.get(user=admin_staff)
    assert pref.daily_summary and pref.language == "en"

    settings_row = AlertSettings.load()
    response = client.post(
        reverse("admin:alerts_alertsettings_change", args=[settings_row.pk]),
        {"summary_time": "06:15"},
    )
    assert response.status_code == 302
    assert AlertSettings.load().summary_time == time(6, 15)


def test_the_migration_gives_gestao_the_permission(db):
    """The data migration, applied on a state where the group does not exist yet."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    Group.objects.filter(name="blingsync – gestão").delete()
    state = MigrationExecutor(connection).loader.project_state(
        ("alerts", "0002_gestao_receives_alerts")
    )
    from importlib import import_module

    migration = import_module("blingsync.alerts.migrations.0002_gestao_receives_alerts")
    migration.grant(state.apps, None)
    group = Group.objects.get(name="blingsync – gestão")
    assert group.permissions.filter(codename="receive_alerts").exists()

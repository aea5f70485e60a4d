"""Runtime settings in the admin: one row, the modes explained, a confirmation for live,
and every mode switch audited."""

from __future__ import annotations

import pytest

from blingsync.models import AuditLog, RuntimeSettings

pytestmark = pytest.mark.django_db

CHANGE_URL = "/admin/blingsync/runtimesettings/1/change/"


def form_data(**overrides) -> dict:
    row = RuntimeSettings.load()
    data = {
        "mode": row.mode,
        "sweep_page_size": row.sweep_page_size,
        "stock_debounce_seconds": row.stock_debounce_seconds,
        "event_retention_days": row.event_retention_days,
        "sold_out_grace_minutes": row.sold_out_grace_minutes,
        "stock_deposit_id": "",
        "_save": "Salvar",
    }
    data.update(overrides)
    return data


def test_the_list_goes_straight_to_the_single_row(staff_client):
    response = staff_client.get("/admin/blingsync/runtimesettings/")
    assert response.status_code == 302
    assert response["Location"] == CHANGE_URL
    assert RuntimeSettings.objects.count() == 1


def test_the_page_explains_each_mode(staff_client):
    response = staff_client.get(CHANGE_URL)
    assert response.status_code == 200
    assert "nada é escrito no Bling" in response.text
    assert "são escritos no Bling" in response.text
    assert "os webhooks continuam sendo guardados" in response.text
    assert "Confirmo a mudança para o modo ao vivo" in response.text
    # single row: neither add nor delete
    assert "/admin/blingsync/runtimesettings/add/" not in response.text
    assert "/delete/" not in response.text


def test_switching_to_live_needs_the_confirmation(staff_client):
    response = staff_client.post(CHANGE_URL, form_data(mode="live"))
    assert response.status_code == 200
    assert "Marque a confirmação" in response.text
    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.DRY_RUN
    assert not AuditLog.objects.exists()


def test_a_confirmed_switch_to_live_is_saved_and_audited(staff_client):
    response = staff_client.post(CHANGE_URL, form_data(mode="live", confirm_live="on"))
    assert response.status_code == 302
    row = RuntimeSettings.load()
    assert row.mode == RuntimeSettings.Mode.LIVE
    assert row.updated_by == "ana"
    entry = AuditLog.objects.get()
    assert entry.action == AuditLog.Action.MODE_CHANGED
    assert (entry.before, entry.after) == ({"mode": "dry_run"}, {"mode": "live"})
    assert (entry.source, entry.actor) == (AuditLog.Source.ADMIN, "ana")


def test_pausing_and_other_fields_need_no_confirmation(staff_client):
    response = staff_client.post(
        CHANGE_URL, form_data(mode="paused", stock_debounce_seconds=90, sweep_page_size=50)
    )
    assert response.status_code == 302
    row = RuntimeSettings.load()
    assert (row.mode, row.stock_debounce_seconds, row.sweep_page_size) == ("paused", 90, 50)
    assert AuditLog.objects.get().after == {"mode": "paused"}


def test_saving_live_again_needs_no_new_confirmation(staff_client):
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    response = staff_client.post(CHANGE_URL, form_data(event_retention_days=30))
    assert response.status_code == 302
    assert RuntimeSettings.load().event_retention_days == 30
    assert not AuditLog.objects.exists()


def test_a_retention_under_seven_days_is_refused(staff_client):
    response = staff_client.post(CHANGE_URL, form_data(event_retention_days=3))
    assert response.status_code == 200
    assert RuntimeSettings.load().event_retention_days == 14

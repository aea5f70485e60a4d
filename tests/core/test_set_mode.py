"""`manage.py set_mode` changes the mode, audits it, and rejects a bad value."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blingsync.models import AuditLog, RuntimeSettings

pytestmark = pytest.mark.django_db


def test_a_new_install_is_in_dry_run():
    assert RuntimeSettings.load().mode == "dry_run"


def test_it_switches_to_live_and_audits_it():
    out = StringIO()
    call_command("set_mode", "live", stdout=out)
    assert RuntimeSettings.load().mode == "live"
    assert "modo agora: ao vivo" in out.getvalue()
    entry = AuditLog.objects.get(action=AuditLog.Action.MODE_CHANGED)
    assert entry.before == {"mode": "dry_run"} and entry.after == {"mode": "live"}
    assert entry.source == AuditLog.Source.COMMAND
    assert entry.outcome == AuditLog.Outcome.OK


def test_it_rejects_an_unknown_mode():
    with pytest.raises(CommandError, match="modo desconhecido 'turbo'"):
        call_command("set_mode", "turbo")
    assert RuntimeSettings.load().mode == "dry_run"

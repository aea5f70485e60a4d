"""`bling_connect --code` and `bling_status`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blingsync.bling.token_store import connection_access_token
from blingsync.models import BlingConnection


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bling_connect_exchanges_the_code_once(fake_bling, db):
    code = fake_bling.issue_code()
    out = _run("bling_connect", "--code", code)
    assert "Conectado ao Bling: Loja Teste" in out
    conn = BlingConnection.objects.get()
    assert conn.status == BlingConnection.Status.CONNECTED
    assert conn.company_id == fake_bling.company_id
    with pytest.raises(CommandError, match="já foi usado"):
        _run("bling_connect", "--code", code)
    assert len(fake_bling.token_calls) == 1


def test_connecting_queues_the_processing_of_events_that_waited(fake_bling, db):
    from blingsync.models import JobRun

    _run("bling_connect", "--code", fake_bling.issue_code())
    run = JobRun.objects.get(kind=JobRun.Kind.EVENTS)
    assert run.trigger == JobRun.Trigger.WEBHOOK_BACKLOG
    assert run.params == {"all_pending": True}


def test_bling_connect_reports_a_refused_code(fake_bling, db):
    with pytest.raises(CommandError, match="invalid_grant"):
        _run("bling_connect", "--code", "not-a-code")


def test_bling_connect_without_a_code_prints_the_authorize_url(fake_bling, db):
    out = StringIO()
    with pytest.raises(CommandError, match="--code"):
        call_command("bling_connect", stdout=out)
    assert out.getvalue().startswith(fake_bling.authorize_url)


def test_bling_status_shows_the_connection_but_never_the_token(fake_bling, bling_connected):
    out = _run("bling_status")
    assert "situação: conectado" in out
    assert "Loja Teste" in out
    assert "token expira em" in out
    assert connection_access_token(bling_connected) not in out
    assert bling_connected.access_token_encrypted not in out


def test_bling_status_fails_when_not_connected(db):
    with pytest.raises(CommandError, match="não está conectado"):
        _run("bling_status")


def test_bling_status_fails_when_a_reconnect_is_needed(fake_bling, bling_connected):
    BlingConnection.objects.update(
        status=BlingConnection.Status.NEEDS_RECONNECT, last_refresh_error="invalid_grant"
    )
    with pytest.raises(CommandError, match="precisa ser refeita"):
        _run("bling_status")


def test_bling_status_speaks_english_when_asked(fake_bling, bling_connected):
    from django.utils import translation

    with translation.override("en"):
        out = _run("bling_status")
    assert "status: connected" in out
    assert "situação" not in out


def test_bling_status_not_connected_says_so_in_words(db):
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("bling_status", stdout=out)
    assert "situação: não conectado" in out.getvalue()
    assert "not_connected" not in out.getvalue() + str(refused.value)

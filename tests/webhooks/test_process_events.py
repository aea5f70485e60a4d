"""`python manage.py process_events`: drains pending events here, or says why it cannot."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blingsync.models import RuntimeSettings
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _pending(event_id: str, event_type: str = "product_supplier.created") -> WebhookEvent:
    return WebhookEvent.objects.create(
        event_id=event_id,
        event_type=event_type,
        resource_id=1,
        body=json.dumps({"eventId": event_id, "event": event_type, "data": {"id": 1}}),
        signature_valid=True,
    )


def test_it_drains_pending_events_with_a_summary():
    for n in range(3):
        _pending(f"e{n}")
    out = StringIO()
    call_command("process_events", stdout=out)
    assert "3 evento(s) a processar" in out.getvalue()
    assert "ignored=3" in out.getvalue()
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"ignored"}


def test_it_respects_the_limit():
    for n in range(3):
        _pending(f"e{n}")
    call_command("process_events", "--limit", "2", stdout=StringIO())
    assert WebhookEvent.objects.filter(status="pending").count() == 1


def test_it_refuses_to_run_when_paused():
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "paused"})
    _pending("e1")
    with pytest.raises(CommandError, match="pausado"):
        call_command("process_events", stdout=StringIO())
    assert WebhookEvent.objects.get().status == "pending"


def test_it_says_so_when_events_need_bling_and_there_is_no_connection():
    _pending("e1", "product.updated")
    with pytest.raises(CommandError, match="conexão"):
        call_command("process_events", stdout=StringIO())
    assert WebhookEvent.objects.get().status == "pending"


def test_it_rejects_a_bad_limit():
    with pytest.raises(CommandError):
        call_command("process_events", "--limit", "0", stdout=StringIO())

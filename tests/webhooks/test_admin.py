"""Admin of the inbox: list, filters, pretty payload, and the "reprocess" action."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("ana", "ana@example.com", "pw")
    client.force_login(user)
    return client


def _failed() -> WebhookEvent:
    return WebhookEvent.objects.create(
        event_id="evt-f",
        event_type="product_supplier.created",
        body=json.dumps(
            {"eventId": "evt-f", "event": "product_supplier.created", "data": {"nome": "Ação"}}
        ),
        signature_valid=True,
        status=WebhookEvent.Status.FAILED,
        attempts=5,
        last_error="BlingUnavailable: Bling 503",
    )


def test_the_list_filters_and_searches(staff_client):
    event = _failed()
    url = reverse("admin:webhooks_webhookevent_changelist")
    for query in ("", "?status__exact=failed", "?signature_valid__exact=1", "?q=evt-f"):
        response = staff_client.get(url + query)
        assert response.status_code == 200
        assert event.event_id in response.content.decode()


def test_the_detail_shows_the_payload_pretty_printed_and_the_error(staff_client):
    event = _failed()
    response = staff_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&quot;nome&quot;: &quot;Ação&quot;" in html
    assert "BlingUnavailable: Bling 503" in html


def test_reprocess_queues_the_selected_events_and_says_how_many(
    staff_client, django_capture_on_commit_callbacks
):
    event = _failed()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:webhooks_webhookevent_changelist"),
            {"action": "reprocess", "_selected_action": [event.pk]},
            follow=True,
        )
    assert "1 evento colocado na fila para reprocessar" in response.content.decode()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.IGNORED
    assert event.attempts == 1

"""The dashboard's webhook parts of issue 13: ignored deliveries per reason, another
company's events, refused requests per day and their top sources."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model

from tests.fakebling import webhooks as fake_webhooks
from webhooks.inbox import webhook_receive

pytestmark = pytest.mark.django_db

OTHER_COMPANY = "0123456789abcdef0123456789abcdef"


def _signed(fake, body: bytes) -> None:
    status, _event = webhook_receive(
        body=body, headers={"X-Bling-Signature-256": fake.sign(body)}, remote_addr="127.0.0.1"
    )
    assert status == 200


def test_the_dashboard_counts_ignored_deliveries_and_refused_requests(
    client, fake_bling, bling_connected, monkeypatch
):
    from webhooks import refusal_fold

    # Counts of a flood wait in memory; the page writes them before it counts (no timer).
    monkeypatch.setattr(refusal_fold, "FLUSH_EVERY", 60.0)
    for _ in range(2):
        _signed(fake_bling, fake_webhooks.body(OTHER_COMPANY, "product.created", {"id": 7}))
    _signed(fake_bling, json.dumps({"event": "product.updated", "data": {"id": 1}}).encode())
    for addr, n in (("203.0.113.7", 14), ("198.51.100.1", 2)):
        for _ in range(n):
            assert webhook_receive(body=b"junk", headers={}, remote_addr=addr)[0] == 401
    # A non-superuser staff member (the dashboard is for every staff role).
    user = get_user_model().objects.create_user("caio", password="x", is_staff=True)
    client.force_login(user)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    inbox = page.context["webhook_inbox"]
    assert inbox.other_company == 2
    assert {code: n for code, _label, n, _q in inbox.ignored} == {
        "other_company": 2,
        "no_event_id": 1,
    }
    assert [n for _day, n in inbox.refused_per_day] == [16]  # folded refusals counted too
    assert inbox.refused_sources == [("203.0.113.7", 14), ("198.51.100.1", 2)]
    text = page.text
    assert 'id="dash-other-company"' in text and "2 eventos de outra empresa" in text
    assert "?ignore_reason__exact=other_company" in text
    assert "Sem eventId" in text
    assert "203.0.113.7" in text
    assert page.context["events"].signature_failures_24h == 16


def test_a_quiet_inbox_says_so(client, fake_bling):
    user = get_user_model().objects.create_user(str(uuid.uuid4())[:8], password="x", is_staff=True)
    client.force_login(user)
    text = client.get("/dashboard/").text
    assert "Nenhum webhook ignorado." in text
    assert "Nenhuma requisição recusada nas últimas 48 horas." in text
    assert 'id="dash-other-company"' not in text

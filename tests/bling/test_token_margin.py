"""Refresh ahead of expiry by min(5 minutes, a quarter of the token's lifetime): a
short-lived token is not refreshed on every call (Bling blocks the IP after 20 token calls
in 60 s)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.tokens import EXPIRY_MARGIN, refresh_margin
from blingsync.jobrunner import job_run_now
from blingsync.models import BlingConnection, JobRun

pytestmark = pytest.mark.django_db


def _connect_with_lifetime(fake_bling, seconds: int) -> BlingConnection:
    from blingsync.bling.token_store import connection_get_or_create, connection_tokens_store
    from blingsync.bling.types import TokenBundle

    fake_bling.expires_in = seconds
    tokens = fake_bling.issue_tokens()
    conn = connection_tokens_store(
        connection=connection_get_or_create(),
        bundle=TokenBundle(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=timezone.now() + timedelta(seconds=seconds),
            scope=tokens["scope"],
        ),
    )
    fake_bling.token_calls.clear()
    return conn


def test_a_six_hour_token_is_refreshed_five_minutes_ahead(fake_bling):
    conn = _connect_with_lifetime(fake_bling, 21600)
    assert conn.token_lifetime_seconds == pytest.approx(21600, abs=2)
    assert refresh_margin(conn, ahead=EXPIRY_MARGIN) == EXPIRY_MARGIN


def test_a_short_token_is_not_refreshed_on_every_call(fake_bling):
    conn = _connect_with_lifetime(fake_bling, 20)
    assert refresh_margin(conn, ahead=EXPIRY_MARGIN) == pytest.approx(
        timedelta(seconds=5), abs=timedelta(seconds=1)
    )
    for _ in range(15):
        catalog.company_get()
    assert fake_bling.token_calls == []
    # Within a quarter of its life from expiry: one refresh, then the new token is used.
    BlingConnection.objects.update(expires_at=timezone.now() + timedelta(seconds=3))
    for _ in range(5):
        catalog.company_get()
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]


def test_the_tokens_job_caps_its_margin_at_a_quarter_of_the_lifetime(fake_bling):
    _connect_with_lifetime(fake_bling, 20)  # 20 s left: 60 minutes ahead would refresh now
    run = job_run_now(kind="tokens", trigger=JobRun.Trigger.COMMAND)
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.changed == 0
    assert fake_bling.token_calls == []


def test_the_tokens_job_refreshes_a_six_hour_token_in_its_last_hour(fake_bling):
    _connect_with_lifetime(fake_bling, 21600)
    BlingConnection.objects.update(expires_at=timezone.now() + timedelta(minutes=50))
    run = job_run_now(kind="tokens", trigger=JobRun.Trigger.COMMAND)
    assert run.changed == 1
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]

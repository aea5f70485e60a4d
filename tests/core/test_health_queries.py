"""The anonymous `/health/` is cheap (load balancers poll it every few seconds); the detailed
one (staff, HEALTH_TOKEN) keeps every figure. Queries counted with CaptureQueriesContext."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blingsync.models import JobRun

pytestmark = pytest.mark.django_db

HEALTH_TOKEN = "health-token-for-the-tests-0123456789"
ANONYMOUS_QUERY_BUDGET = 3


@pytest.fixture
def busy(bling_connected, settings):
    """A connected installation with runs of every kind, as in production."""
    settings.HEALTH_TOKEN = HEALTH_TOKEN
    for kind in JobRun.Kind.values:
        JobRun.objects.create(kind=kind, status=JobRun.Status.SUCCEEDED)
    return bling_connected


def test_the_anonymous_health_costs_at_most_three_queries(client, busy):
    client.get("/health/")  # warm: the first request of a process loads what it caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/")

    assert response.status_code == 200
    assert set(response.json()) == {"status", "database", "connection", "queue_backlog"}
    assert len(queries) <= ANONYMOUS_QUERY_BUDGET, [q["sql"] for q in queries]


def test_the_detailed_health_still_has_every_figure(client, busy):
    with CaptureQueriesContext(connection) as queries:
        data = client.get("/health/", HTTP_X_HEALTH_TOKEN=HEALTH_TOKEN).json()

    assert {"mode", "last_runs", "events", "bling_calls", "connection"} <= set(data)
    assert data["connection"]["company"] == "Loja Teste"
    assert set(data["last_runs"]) == set(JobRun.Kind.values)
    assert len(queries) > ANONYMOUS_QUERY_BUDGET  # the details are what costs

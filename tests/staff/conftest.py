"""Fixtures of the staff-experience tests: a staff user and recording job handlers."""

from __future__ import annotations

import pytest

from blingsync import jobrunner
from blingsync.audit import audit_begin, audit_complete
from blingsync.jobrunner import JobSpec
from blingsync.models import AuditLog


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="ana", email="ana@example.com", password="segredo-forte-123"
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def recorded_jobs(monkeypatch) -> list[jobrunner.JobContext]:
    """Registers a trivial handler for every job kind; each run records its context and
    writes one audit entry, like a real sweep that codes one product."""
    seen: list[jobrunner.JobContext] = []

    def handler(ctx: jobrunner.JobContext) -> None:
        seen.append(ctx)
        ctx.count("seen", 2)
        ctx.count("changed")
        entry = audit_begin(
            action=AuditLog.Action.CODE_ASSIGNED,
            dry_run=ctx.dry_run,
            bling_product_id=1000 + ctx.run.pk,
            code=f"TEST{ctx.run.pk:05d}",
            reason="test handler",
        )
        if not ctx.dry_run:
            audit_complete(entry, ok=True)

    for kind in ("codes", "stock", "orders", "categories", "tokens", "events"):
        monkeypatch.setitem(jobrunner._REGISTRY, kind, JobSpec(kind=kind, handler=handler))
    return seen

"""Who may do what: a non-superuser staff user of each role (view-only, operação, gestão)
against every view, admin action and dashboard button that does something.

Each refused row asserts the refusal and that nothing changed: no job run, no Bling call in
the fake's log, no audit row, no queued task, and the row's own data as it was. Each allowed
row asserts that the thing happened, so the table cannot pass by refusing everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Success

from blingsync.models import AuditLog, BlingConnection, JobRun, RuntimeSettings
from products.models import (
    Category,
    CategoryRule,
    CodeAssignment,
    CodeCounter,
    ProductStockState,
    StockEvaluation,
)
from tests.staff.test_runtime_settings_admin import form_data
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

VIEWER, OPERATION, MANAGEMENT = "viewer", "operacao", "gestao"
EVERYONE = {VIEWER, OPERATION, MANAGEMENT}


@pytest.fixture
def world(bling_connected, fake_bling):
    """What the rows act on: a live and a simulated run, a counter, a category, a failed
    event, a product deactivated by us; and a snapshot of everything a row could change."""
    live = JobRun.objects.create(kind="codes", trigger="admin", status="succeeded", params={})
    simulated = JobRun.objects.create(
        kind="codes", trigger="admin", status="succeeded", params={"dry_run": True}
    )
    counter = CodeCounter.objects.create(prefix="NTB", last_value=3)
    category = Category.objects.create(id=501, description="Notebook", full_path="Notebook")
    event = WebhookEvent.objects.create(
        event_id="evt-1",
        event_type="stock.updated",
        body=json.dumps({"eventId": "evt-1"}),
        signature_valid=True,
        status=WebhookEvent.Status.FAILED,
        attempts=5,
    )
    CodeAssignment.objects.create(
        bling_product_id=78, code="NTB00002", prefix="NTB", number=2, status="failed"
    )
    state = ProductStockState.objects.create(
        bling_product_id=77, code="NTB00001", deactivated_by_blingsync=True
    )
    task = Success.objects.create(
        id="0123456789abcdef0123456789abcdef",
        name="blingsync:categories",
        func="blingsync.tasks.scheduled_job",
        args=("categories",),
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
    )
    fake_bling.requests.clear()
    fake_bling.token_calls.clear()
    return {
        "task": task,
        "live": live,
        "simulated": simulated,
        "counter": counter,
        "category": category,
        "event": event,
        "state": state,
        "fake": fake_bling,
    }


def snapshot(w: dict) -> dict[str, Any]:
    conn = BlingConnection.objects.get()
    return {
        "job_runs": sorted(JobRun.objects.values_list("pk", "status")),
        "audit": AuditLog.objects.count(),
        "bling_calls": len(w["fake"].requests),
        "token_calls": len(w["fake"].token_calls),
        "queued_tasks": OrmQ.objects.count(),
        "mode": RuntimeSettings.load().mode,
        "counters": sorted(CodeCounter.objects.values_list("prefix", "last_value")),
        "rules": sorted(CategoryRule.objects.values_list("pk", "prefix", "code_policy")),
        "events": sorted(WebhookEvent.objects.values_list("pk", "status", "attempts")),
        "stock_states": sorted(
            ProductStockState.objects.values_list("pk", "deactivated_by_blingsync")
        ),
        "stock_evaluations": sorted(
            StockEvaluation.objects.values_list("bling_product_id", "requests")
        ),
        "connection": (conn.company_id, conn.access_token_encrypted, conn.status),
    }


def _action(url: str, action: str, pk: int) -> Callable:
    return lambda c, w: c.post(url, {"action": action, "_selected_action": [pk]})


def _callback(c, w):
    session = c.session
    session["bling_oauth_state"] = "estado-da-sessao"
    session.save()
    code = w["fake"].issue_code()
    return c.get("/bling/callback/", {"code": code, "state": "estado-da-sessao"})


def _new_runs(before: dict, after: dict) -> int:
    return len(after["job_runs"]) - len(before["job_runs"])


@dataclass(frozen=True)
class Row:
    name: str
    do: Callable[[Any, dict], Any]
    allowed: set[str]
    # What shows an allowed row did its thing (given the snapshots before and after).
    worked: Callable[[dict, dict, Any], bool]


RUN_NOW = "/admin/blingsync/jobrun/run-now/"
ROWS = [
    Row(
        "run now: simulation of codes",
        lambda c, w: c.post(RUN_NOW, {"kind": "codes", "dry_run": "on"}),
        {OPERATION, MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1 and JobRun.objects.order_by("-pk")[0].dry_run,
    ),
    Row(
        "run now: codes live",
        lambda c, w: c.post(RUN_NOW, {"kind": "codes"}),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1 and not JobRun.objects.order_by("-pk")[0].dry_run,
    ),
    Row(
        "run now: seed_counters (raises counters even in dry-run mode)",
        lambda c, w: c.post(RUN_NOW, {"kind": "seed_counters"}),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "run now: tokens 'simulation' (refreshes anyway: live)",
        lambda c, w: c.post(RUN_NOW, {"kind": "tokens", "dry_run": "on"}),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "run now page",
        lambda c, w: c.get(RUN_NOW),
        {OPERATION, MANAGEMENT},
        lambda b, a, r: r.status_code == 200,
    ),
    Row(
        "dashboard run-now button, live",
        lambda c, w: c.post(RUN_NOW, {"kind": "stock", "next": "/dashboard/"}),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1 and r["Location"] == "/dashboard/",
    ),
    Row(
        "rerun button of a live run",
        lambda c, w: c.post(f"/admin/blingsync/jobrun/{w['live'].pk}/rerun/"),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "rerun button of a simulated run",
        lambda c, w: c.post(f"/admin/blingsync/jobrun/{w['simulated'].pk}/rerun/"),
        {OPERATION, MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "rerun action on a live run",
        lambda c, w: _action("/admin/blingsync/jobrun/", "rerun_selected", w["live"].pk)(c, w),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "change the mode to live",
        lambda c, w: c.post(
            "/admin/blingsync/runtimesettings/1/change/",
            form_data(mode="live", confirm_live="on"),
        ),
        {MANAGEMENT},
        lambda b, a, r: a["mode"] == "live" and a["audit"] == b["audit"] + 1,
    ),
    Row(
        "add a category rule (prefix)",
        lambda c, w: c.post(
            "/admin/products/categoryrule/add/",
            {
                "category": str(w["category"].pk),
                "name_match": "",
                "prefix": "NB",
                "code_policy": "generate",
                "deactivate_when_sold_out": "unknown",
            },
        ),
        {MANAGEMENT},
        lambda b, a, r: len(a["rules"]) == len(b["rules"]) + 1 and a["audit"] == b["audit"] + 1,
    ),
    Row(
        "raise a counter",
        lambda c, w: c.post(
            f"/admin/products/codecounter/{w['counter'].pk}/change/", {"last_value": "300"}
        ),
        {MANAGEMENT},
        lambda b, a, r: a["counters"] == [("NTB", 300)],
    ),
    Row(
        "add a counter",
        lambda c, w: c.post(
            "/admin/products/codecounter/add/", {"prefix": "TVS", "last_value": "9"}
        ),
        {MANAGEMENT},
        lambda b, a, r: ("TVS", 9) in a["counters"],
    ),
    Row(
        "sync categories action",
        lambda c, w: _action("/admin/products/category/", "sync_now", w["category"].pk)(c, w),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "code sweep action",
        lambda c, w: _action(
            "/admin/products/codeassignment/",
            "sweep_now",
            CodeAssignment.objects.get(bling_product_id=78).pk,
        )(c, w),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "re-evaluate a product action",
        lambda c, w: _action("/admin/products/productstockstate/", "evaluate_again", w["state"].pk)(
            c, w
        ),
        {MANAGEMENT},
        # asked as a stock event asks: the product's debounce row
        lambda b, a, r: a["stock_evaluations"] == [(77, 1)] and b["stock_evaluations"] == [],
    ),
    Row(
        "stop reactivation action",
        lambda c, w: _action(
            "/admin/products/productstockstate/", "stop_reactivation", w["state"].pk
        )(c, w),
        {MANAGEMENT},
        lambda b, a, r: a["stock_states"] != b["stock_states"],
    ),
    Row(
        "reprocess events action",
        lambda c, w: _action("/admin/webhooks/webhookevent/", "reprocess", w["event"].pk)(c, w),
        {OPERATION, MANAGEMENT},
        lambda b, a, r: a["events"] != b["events"],
    ),
    Row(
        "export the audit (filtered list)",
        lambda c, w: c.get("/admin/blingsync/auditlog/export-csv/"),
        {OPERATION, MANAGEMENT},
        lambda b, a, r: r.status_code == 200 and r["Content-Type"].startswith("text/csv"),
    ),
    Row(
        "export the audit action",
        lambda c, w: c.post(
            "/admin/blingsync/auditlog/",
            {"action": "export_csv", "_selected_action": [AuditLog.objects.first().pk]},
        ),
        {OPERATION, MANAGEMENT},
        lambda b, a, r: r["Content-Type"].startswith("text/csv"),
    ),
    Row(
        "resubmit a finished django-q task (runs its function again)",
        lambda c, w: c.post(
            "/admin/django_q/success/",
            {"action": "resubmit_task_if_allowed", "_selected_action": [w["task"].pk]},
        ),
        {MANAGEMENT},
        lambda b, a, r: _new_runs(b, a) == 1,
    ),
    Row(
        "connect to Bling",
        lambda c, w: c.post("/bling/connect/"),
        {MANAGEMENT},
        lambda b, a, r: r.status_code == 302 and "state=" in r["Location"],
    ),
    Row(
        "OAuth callback",
        _callback,
        {MANAGEMENT},
        lambda b, a, r: a["token_calls"] == 1 and a["connection"] != b["connection"],
    ),
    Row(
        "confirm a reconnect to another company",
        lambda c, w: c.post("/bling/confirm/", {"confirm": "yes"}),
        {MANAGEMENT},
        lambda b, a, r: r.status_code == 400,  # nothing held in this session: refused cleanly
    ),
]


@pytest.mark.parametrize("role", [VIEWER, OPERATION, MANAGEMENT])
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_who_may_do_what(row: Row, role: str, role_client, world):
    client = role_client(role)
    if row.name == "export the audit action":
        AuditLog.objects.create(action="connected", source="admin")  # something to select
    before = snapshot(world)
    response = row.do(client, world)
    after = snapshot(world)
    if role in row.allowed:
        assert response.status_code in (200, 302, 400), response.status_code
        assert row.worked(before, after, response), (row.name, role)
        return
    # Refused: by a 403, or (admin actions) by Django not offering the action at all.
    assert response.status_code in (403, 200, 302), response.status_code
    if response.status_code != 403:
        assert not response.get("Content-Type", "").startswith("text/csv")
    assert after == before, (row.name, role)


@pytest.mark.parametrize("role", [VIEWER, OPERATION])
def test_refused_actions_are_not_even_offered(role, role_client, world):
    client = role_client(role)
    runs = client.get("/admin/blingsync/jobrun/").text
    assert ('value="rerun_selected"' in runs) == (role == OPERATION)
    run_page = client.get(f"/admin/blingsync/jobrun/{world['live'].pk}/change/").text
    assert 'id="jobrun-rerun"' not in run_page  # a live run: no rerun button for either
    categories = client.get("/admin/products/category/").text
    assert 'value="sync_now"' not in categories
    assert "/admin/products/codecounter/add/" not in client.get("/admin/products/codecounter/").text
    connection = client.get("/admin/blingsync/blingconnection/").text
    assert 'id="bling-connect"' not in connection
    events = client.get("/admin/webhooks/webhookevent/").text
    assert ('value="reprocess"' in events) == (role == OPERATION)
    audit = client.get("/admin/blingsync/auditlog/").text
    assert ('id="audit-export-csv"' in audit) == (role == OPERATION)
    settings_page = client.get("/admin/blingsync/runtimesettings/1/change/").text
    assert 'name="mode"' not in settings_page


def test_the_dashboard_shows_each_role_only_its_buttons(role_client, world):
    BlingConnection.objects.update(status=BlingConnection.Status.NEEDS_RECONNECT)
    viewer = role_client(VIEWER).get("/dashboard/").text
    assert "Executar agora" not in viewer
    assert 'id="dash-connect"' not in viewer and 'id="dash-change-mode"' not in viewer

    operation = role_client(OPERATION).get("/dashboard/").text
    row = operation.split('id="dash-kind-codes"')[1].split("</tr>")[0]
    assert 'type="hidden" name="dry_run" value="on"' in row  # a simulation, nothing else
    assert 'type="checkbox" name="dry_run"' not in row
    tokens_row = operation.split('id="dash-kind-tokens"')[1].split("</tr>")[0]
    assert "Executar agora" not in tokens_row
    assert 'id="dash-connect"' not in operation and 'id="dash-change-mode"' not in operation

    management = role_client(MANAGEMENT).get("/dashboard/").text
    row = management.split('id="dash-kind-codes"')[1].split("</tr>")[0]
    assert 'type="checkbox" name="dry_run"' in row
    assert 'id="dash-connect"' in management and 'id="dash-change-mode"' in management


def test_the_view_only_user_sees_everything(role_client, world):
    client = role_client(VIEWER)
    for url in [
        "/dashboard/",
        "/admin/blingsync/jobrun/",
        f"/admin/blingsync/jobrun/{world['live'].pk}/change/",
        "/admin/blingsync/auditlog/",
        "/admin/blingsync/blingconnection/",
        "/admin/blingsync/runtimesettings/1/change/",
        "/admin/products/category/",
        f"/admin/products/category/{world['category'].pk}/change/",
        "/admin/products/codecounter/",
        "/admin/products/productstockstate/",
        "/admin/webhooks/webhookevent/",
        "/admin/django_q/schedule/",
        "/admin/axes/accessattempt/",
    ]:
        assert client.get(url).status_code == 200, url

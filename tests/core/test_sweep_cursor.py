"""The incremental cursor (SPEC 5.7, `blingsync.sweep_cursor`): which runs move it, what makes
the next run full, and what a run's details and the admin say about it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from blingsync import jobrunner
from blingsync.jobrunner import JobSpec, JobStopped, job_run_now
from blingsync.models import JobRun, RuntimeSettings, SweepFullRequest
from blingsync.sweep_cursor import sweep_full_request
from tests.conftest import role_user_create
from tests.staff.test_runtime_settings_admin import CHANGE_URL, form_data

pytestmark = pytest.mark.django_db

RUN_NOW_URL = "/admin/blingsync/jobrun/run-now/"


@pytest.fixture
def orders(monkeypatch) -> list[jobrunner.JobContext]:
    """A recording handler for the `orders` kind (a kind with a cursor); a run whose params
    carry `stop` is stopped like a run out of time budget."""
    seen: list[jobrunner.JobContext] = []

    def record(ctx: jobrunner.JobContext) -> None:
        seen.append(ctx)
        if ctx.params.get("stop"):
            raise JobStopped("time budget of 1 s reached after 3 items")

    monkeypatch.setitem(jobrunner._REGISTRY, "orders", JobSpec(kind="orders", handler=record))
    return seen


@pytest.fixture
def live():
    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": RuntimeSettings.Mode.LIVE})


def _run(**params) -> JobRun:
    return job_run_now(kind="orders", trigger=JobRun.Trigger.SCHEDULE, params=params)


def test_a_first_run_is_full_and_says_why(orders, live):
    run = _run()
    assert orders[0].since is None
    assert run.details["cursor"] == "completa: nenhuma execução completa ao vivo anterior"
    assert run.details["complete"] is True


def test_only_complete_live_runs_move_the_cursor(orders, live):
    complete = _run()
    _run(dry_run=True)
    _run(limit=2)
    _run(since="2026-11-01T00:00:00")
    stopped = _run(stop=True)
    assert stopped.status == JobRun.Status.FAILED
    last = _run()
    assert orders[-1].since == complete.started_at - timedelta(minutes=15)
    assert f"#{complete.pk}" in last.details["cursor"]
    assert [r.details.get("complete") for r in JobRun.objects.order_by("id")] == [
        True,
        False,
        False,
        False,
        None,  # stopped: not a success at all
        True,
    ]


def test_a_run_in_an_installation_in_dry_run_does_not_move_it(orders):
    _run()  # dry-run mode (new install)
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.LIVE)
    run = _run()
    assert orders[-1].since is None
    assert run.details["cursor"].startswith("completa: nenhuma execução completa")


def test_a_widening_after_the_last_complete_run_makes_the_next_one_full(orders, live):
    _run()
    sweep_full_request(kinds=["orders", "codes"], reason="regra de categoria alterada por ana")
    # A full run that is a simulation leaves the request standing; a live one settles it.
    dry = _run(dry_run=True)
    assert orders[-1].since is None
    assert dry.details["cursor"].startswith("completa: regra de categoria alterada por ana em ")
    full = _run()
    assert orders[-1].since is None
    assert full.details["cursor"].startswith("completa: regra de categoria alterada por ana em ")
    incremental = _run()
    assert orders[-1].since == full.started_at - timedelta(minutes=15)
    assert incremental.details["cursor"].startswith("incremental: desde ")


def test_requests_cover_every_kind_when_none_is_named(orders, live):
    sweep_full_request(reason="reconexão a outra empresa")
    assert set(SweepFullRequest.objects.values_list("kind", flat=True)) == set(JobRun.Kind.values)
    sweep_full_request(kinds=["orders"], reason="outra vez")
    assert SweepFullRequest.objects.filter(kind="orders").get().reason == "outra vez"
    assert SweepFullRequest.objects.count() == len(JobRun.Kind.values)
    with pytest.raises(ValueError):
        sweep_full_request(kinds=["nope"], reason="x")


def test_an_explicit_since_is_used_as_given_and_full_is_full(orders, live):
    _run()
    _run(since="2026-11-01T10:00:00")
    assert orders[-1].since.isoformat().startswith("2026-11-01T10:00:00")
    run = _run(full=True)
    assert orders[-1].since is None
    assert run.details["cursor"] == "completa: varredura completa pedida"
    assert run.params == {"full": True}


def test_the_sweep_commands_take_full(fake_bling, bling_connected, live):
    call_command("sweep_orders", stdout=io.StringIO())
    out = io.StringIO()
    call_command("sweep_orders", "--full", stdout=out)
    run = JobRun.objects.filter(kind="orders").latest("id")
    assert run.params == {"full": True} and run.details["since"] is None
    assert "ponto de partida: completa: varredura completa pedida" in out.getvalue()
    with pytest.raises(CommandError, match="--full e --since"):
        call_command("sweep_orders", "--full", "--since", "2026-11-01", stdout=io.StringIO())
    assert JobRun.objects.filter(kind="orders").count() == 2


def test_the_stock_sweep_is_full_unless_a_since_is_asked(fake_bling, bling_connected, live):
    call_command("sweep_stock", stdout=io.StringIO())
    call_command("sweep_stock", stdout=io.StringIO())
    second = JobRun.objects.filter(kind="stock").latest("id")
    assert second.status == JobRun.Status.SUCCEEDED
    assert second.details["since"] is None
    assert second.details["cursor"].startswith("completa: este tipo lista tudo")


# ---------------------------------------------------------------- what staff do and see


@pytest.fixture
def staff(client, django_user_model):
    """A staff member (not a superuser) of the "gestão" role: may see runs, edit settings
    and counters and run sweeps."""
    user = role_user_create(django_user_model, "gestao")
    client.force_login(user)
    return client


def test_changing_the_deposit_makes_the_next_stock_run_full(
    staff, live, fake_bling, bling_connected
):
    deposit = fake_bling.add_deposit("Loja Centro", padrao=False)  # offered from GET /depositos
    form = form_data()
    url = CHANGE_URL
    assert staff.post(url, form).status_code == 302
    assert not SweepFullRequest.objects.exists()  # nothing changed: nothing widened
    assert staff.post(url, {**form, "stock_deposit_id": str(deposit["id"])}).status_code == 302
    request = SweepFullRequest.objects.get()
    assert request.kind == "stock"
    assert request.reason == (
        f"depósito de estoque alterado por staff-gestao (todos → {deposit['id']})"
    )


def test_raising_a_counter_makes_the_next_code_run_full(staff):
    from products.models import CodeCounter

    counter = CodeCounter.objects.create(prefix="NTB", last_value=41)
    response = staff.post(f"/admin/products/codecounter/{counter.pk}/change/", {"last_value": "60"})
    assert response.status_code == 302
    assert SweepFullRequest.objects.get().kind == "codes"
    assert "contador NTB ajustado por staff-gestao" in SweepFullRequest.objects.get().reason


def test_the_run_now_page_offers_a_full_sweep_for_kinds_with_a_cursor(
    staff, orders, django_capture_on_commit_callbacks
):
    page = staff.get(RUN_NOW_URL).content.decode()
    codes_row = page.split('id="run-now-codes"')[1].split("</tr>")[0]
    tokens_row = page.split('id="run-now-tokens"')[1].split("</tr>")[0]
    assert "Varredura completa" in codes_row and "Varredura completa" not in tokens_row
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(RUN_NOW_URL, {"kind": "orders", "full": "on"})
    assert response.status_code == 302
    run = JobRun.objects.get()
    assert run.params == {"full": True}
    assert staff.post(RUN_NOW_URL, {"kind": "tokens", "full": "on"}).status_code == 200
    assert JobRun.objects.count() == 1  # refused, nothing queued


def test_a_simulation_says_so_in_its_title_row_and_dashboard(staff, orders):
    run = _run()  # the installation is in dry-run mode: a simulation nobody asked for
    assert run.params == {} and run.details["dry_run"] is True
    assert run.details["dry_run_reason"] == "modo da instalação: simulação"
    page = staff.get(f"/admin/blingsync/jobrun/{run.pk}/change/").content.decode()
    assert f"Pedidos de venda #{run.pk} (simulação)" in page.split("</title>")[0]
    assert f"<h1>Pedidos de venda #{run.pk} (simulação)</h1>" in page
    assert '"dry_run": false' not in page
    listing = staff.get("/admin/blingsync/jobrun/").content.decode()
    assert "Pedidos de venda (simulação)" in listing
    dashboard = staff.get("/dashboard/").content.decode()
    row = dashboard.split('id="dash-kind-orders"')[1].split("</tr>")[0]
    assert "(simulação)" in row
    # An old row (dry_run false recorded although the mode made it a simulation)
    JobRun.objects.filter(pk=run.pk).update(params={"dry_run": False})
    page = staff.get(f"/admin/blingsync/jobrun/{run.pk}/change/").content.decode()
    assert '"dry_run": false' not in page

"""Plans (SPEC 5.14): a simulation keeps what it would change; applying writes exactly that,
only while its facts hold; undo reactivates what a run deactivated. Against the fake Bling,
asserting what the fake ends up holding and the requests it received."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from blingsync.models import AuditLog, JobRun, RuntimeSettings
from products.models import CodeCounter, PlanItem, ProductStockState
from tests.products.codes_catalog import go_live, prepare, retailer_catalog
from tests.products.soldout_support import mode_live, moment, sale, situation_writes, stock_posting

pytestmark = pytest.mark.django_db


def _call(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def _writes(fake, start: int = 0) -> list:
    return [r for r in fake.requests[start:] if r.method in ("PATCH", "POST", "PUT", "DELETE")]


def _code_plan(fake):
    r = prepare(fake, live=False)  # an installation in dry-run mode, counters seeded
    out = _call("sweep_codes")
    run = JobRun.objects.filter(kind="codes").latest("id")
    return r, run, out


# ---------------------------------------------------------------- codes


def test_a_code_simulation_is_a_plan_with_what_a_live_run_would_write(fake_bling, bling_connected):
    r, run, out = _code_plan(fake_bling)

    assert run.dry_run and run.status == JobRun.Status.SUCCEEDED
    items = {i.name: i for i in PlanItem.objects.filter(run=run)}
    expected = {name for name, prefix in r.expected.items() if prefix}
    assert set(items) == expected
    assert items["Monitor novo"].proposed == "MONI00008"
    assert items["Placa nova"].proposed == "PLMA00011"
    assert items["Monitor novo"].category_name == "Monitor"
    assert all(i.action == "code_assign" and i.status == "pending" for i in items.values())
    assert run.changed == len(expected)
    assert not _writes(fake_bling)  # a simulation writes nothing
    assert f"plan_apply --run {run.pk}" in out
    # Left alone, by reason (listed on demand: the excluded product has its row)
    assert run.plan_left_alone.filter(reason_key="product_excluded").count() == 1

    # A live run on the same catalog writes exactly those codes.
    go_live()
    _call("sweep_codes")
    patched = {c.path.split("/")[2]: c.json["codigo"] for c in fake_bling.calls(method="PATCH")}
    assert patched == {str(i.bling_product_id): i.proposed for i in items.values()}


def test_applying_in_dry_run_mode_writes_the_plan_and_only_it(fake_bling, bling_connected):
    r, run, _out = _code_plan(fake_bling)
    hand = r.ids["Monitor novo"]
    fake_bling.products[hand]["codigo"] = "MANUAL1"  # coded by hand between plan and apply
    late = fake_bling.add_product("Notebook criado depois", categoria_id=r.cats["Notebook"])["id"]
    start = len(fake_bling.requests)

    out = _call("plan_apply", "--latest", "codes")

    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.DRY_RUN
    writes = _writes(fake_bling, start)
    assert writes and all(w.method == "PATCH" and set(w.json) == {"codigo"} for w in writes)
    written = {int(w.path.split("/")[2]): w.json["codigo"] for w in writes}
    planned = {
        i.bling_product_id: i.proposed
        for i in PlanItem.objects.filter(run=run).exclude(bling_product_id=hand)
    }
    assert written == planned  # counters did not move: the preview is what was written
    assert fake_bling.products[hand]["codigo"] == "MANUAL1"
    assert fake_bling.products[late]["codigo"] == ""  # not in the plan: untouched
    skipped = PlanItem.objects.get(run=run, bling_product_id=hand)
    assert skipped.status == "skipped" and "já tem código" in skipped.status_reason
    applied = PlanItem.objects.filter(run=run, status="applied")
    assert all(i.applied_value == i.proposed for i in applied)
    assert "já tem código" in out
    apply_run = JobRun.objects.filter(kind="plan").latest("id")
    assert apply_run.status == JobRun.Status.SUCCEEDED and not apply_run.dry_run
    # Audited like any write, with the plan and the approver as the source.
    entries = AuditLog.objects.filter(job_run=apply_run, action="code_assigned")
    assert entries.count() == len(written)
    assert {e.outcome for e in entries} == {"ok"}
    assert {e.source_ref for e in entries} == {f"plano #{run.pk}"}
    assert all(e.actor.startswith("command:") for e in entries)
    # Re-read in batches: no detail call per product.
    reads = [q for q in fake_bling.requests[start:] if q.method == "GET"]
    assert not [q for q in reads if re.fullmatch(r"/produtos/\d+", q.path)]

    # Applying twice writes nothing.
    again = len(fake_bling.requests)
    with pytest.raises(CommandError, match="Nada a aplicar"):
        _call("plan_apply", "--run", str(run.pk))
    assert not _writes(fake_bling, again)


def test_apply_allocates_at_apply_time_when_the_counter_moved(fake_bling, bling_connected):
    r, run, _out = _code_plan(fake_bling)
    CodeCounter.objects.filter(prefix="MONI").update(last_value=20)
    from products.plan_text import plan_warnings

    assert any("MONI de 7 para 20" in w for w in plan_warnings(run=run))
    _call("plan_apply", "--run", str(run.pk), "--ids", str(r.ids["Monitor novo"]))
    assert fake_bling.products[r.ids["Monitor novo"]]["codigo"] == "MONI00021"
    item = PlanItem.objects.get(run=run, bling_product_id=r.ids["Monitor novo"])
    assert item.applied_value == "MONI00021" and item.proposed == "MONI00008"


def test_ids_and_action_choose_a_subset(fake_bling, bling_connected):
    r, run, _out = _code_plan(fake_bling)
    chosen = [r.ids["Monitor novo"], r.ids["Placa nova"]]
    start = len(fake_bling.requests)

    _call("plan_apply", "--run", str(run.pk), "--ids", ",".join(map(str, chosen)))

    written = sorted(int(w.path.split("/")[2]) for w in _writes(fake_bling, start))
    assert written == sorted(chosen)
    assert PlanItem.objects.filter(run=run, status="pending").count() == (
        PlanItem.objects.filter(run=run).count() - 2
    )
    with pytest.raises(CommandError, match="Nada a aplicar"):
        _call("plan_apply", "--run", str(run.pk), "--action", "deactivate")
    with pytest.raises(CommandError):
        _call("plan_apply", "--run", str(run.pk), "--ids", "abc")


def test_an_old_or_superseded_plan_is_refused(fake_bling, bling_connected):
    _r, run, _out = _code_plan(fake_bling)
    JobRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at - timedelta(hours=25))
    with pytest.raises(CommandError, match="mais de 24 horas"):
        _call("plan_apply", "--run", str(run.pk))
    JobRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at)
    _call("sweep_codes")
    newer = JobRun.objects.filter(kind="codes").latest("id")
    start = len(fake_bling.requests)
    with pytest.raises(CommandError, match=f"substituído pela simulação #{newer.pk}"):
        _call("plan_apply", "--run", str(run.pk))
    assert not _writes(fake_bling, start)
    assert PlanItem.objects.filter(run=run, status="pending").count() == run.plan_items.count()
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)
    with pytest.raises(CommandError, match="pausada"):
        _call("plan_apply", "--run", str(newer.pk))
    assert not _writes(fake_bling, start)


def test_a_simulation_before_seeding_says_so(fake_bling, bling_connected):
    retailer_catalog(fake_bling)
    call_command("sync_categories", stdout=io.StringIO())
    out = _call("sweep_codes")
    run = JobRun.objects.filter(kind="codes").latest("id")
    assert run.details["plan"]["counters_seeded"] is False
    assert "Contadores não semeados" in out
    shown = _call("plan_show", "--run", str(run.pk))
    assert "Contadores não semeados" in shown and "NTB00001" in shown


def test_plan_show_prints_the_plan_in_words(fake_bling, bling_connected):
    r, run, _out = _code_plan(fake_bling)
    out = _call("plan_show", "--latest", "codes")
    assert f"Plano #{run.pk}" in out
    assert "Monitor novo" in out and "MONI00008" in out and "Prefixo MONI" in out
    assert f"plan_apply --run {run.pk}" in out
    with pytest.raises(CommandError):
        _call("plan_show", "--run", "999999")


# ---------------------------------------------------------------- stock


def _sold_out(fake, category_id, name="Pente vendido"):
    pid = fake.add_product(name, categoria_id=category_id)["id"]
    stock_posting(fake, pid, "E", 1, at=moment(120))
    sale(fake, pid, 1)
    return pid


def test_stock_plan_apply_and_undo(fake_bling, tree):
    sold = [_sold_out(fake_bling, tree.memoria) for _ in range(4)]
    out = _call("sweep_stock")  # dry-run mode: a plan
    run = JobRun.objects.filter(kind="stock").latest("id")
    assert {i.bling_product_id for i in run.plan_items.all()} == set(sold)
    assert run.changed == 4 and run.skipped == 0
    assert f"plan_apply --run {run.pk}" in out
    assert not situation_writes(fake_bling)

    restocked = sold[0]
    stock_posting(fake_bling, restocked, "E", 3)  # stock came back between plan and apply
    start = len(fake_bling.requests)
    _call("plan_apply", "--run", str(run.pk))

    for pid in sold[1:]:
        assert fake_bling.products[pid]["situacao"] == "I"
    assert fake_bling.products[restocked]["situacao"] == "A"
    item = run.plan_items.get(bling_product_id=restocked)
    assert item.status == "skipped" and item.status_reason == "estoque voltou"
    writes = _writes(fake_bling, start)
    assert len(writes) == 1 and writes[0].path == "/produtos/situacoes"  # one batch
    assert sorted(writes[0].json["idsProdutos"]) == sorted(sold[1:])
    apply_run = JobRun.objects.filter(kind="plan").latest("id")
    assert set(
        ProductStockState.objects.filter(deactivated_by_blingsync=True).values_list(
            "bling_product_id", flat=True
        )
    ) == set(sold[1:])

    # Undo: one product reactivated by hand meanwhile is left as it is.
    by_hand = sold[1]
    fake_bling.products[by_hand]["situacao"] = "A"
    undo_start = len(fake_bling.requests)
    out = _call("run_undo", "--run", str(apply_run.pk))
    for pid in sold[2:]:
        assert fake_bling.products[pid]["situacao"] == "A"
    undo_writes = _writes(fake_bling, undo_start)
    assert len(undo_writes) == 1
    assert sorted(undo_writes[0].json["idsProdutos"]) == sorted(sold[2:])
    undo_run = JobRun.objects.filter(kind="undo").latest("id")
    entries = AuditLog.objects.filter(job_run=undo_run, action="product_reactivated")
    assert entries.count() == 2 and {e.source_ref for e in entries} == {f"desfazer #{apply_run.pk}"}
    assert "Códigos não são desfeitos" in out
    assert not ProductStockState.objects.filter(deactivated_by_blingsync=True).exists()
    # Undoing again: nothing still inactive and ours.
    again = len(fake_bling.requests)
    _call("run_undo", "--run", str(apply_run.pk))
    assert not _writes(fake_bling, again)


def test_a_reactivation_plan_skips_a_product_reactivated_by_hand(fake_bling, tree):
    mode_live()
    pids = [_sold_out(fake_bling, tree.memoria) for _ in range(2)]
    _call("sweep_stock")  # live: deactivates both
    for pid in pids:
        stock_posting(fake_bling, pid, "E", 2)
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.DRY_RUN)
    _call("sweep_stock")
    plan = JobRun.objects.filter(kind="stock").latest("id")
    assert set(plan.plan_items.values_list("action", flat=True)) == {"reactivate"}
    fake_bling.products[pids[0]]["situacao"] = "A"
    _call("plan_apply", "--latest", "stock", "--action", "reactivate")
    item = plan.plan_items.get(bling_product_id=pids[0])
    assert item.status == "skipped" and item.status_reason == "reativado à mão"
    assert plan.plan_items.get(bling_product_id=pids[1]).status == "applied"
    assert fake_bling.products[pids[1]]["situacao"] == "A"


def test_undo_refuses_a_simulation(fake_bling, tree):
    _sold_out(fake_bling, tree.memoria)
    _call("sweep_stock")
    run = JobRun.objects.filter(kind="stock").latest("id")
    with pytest.raises(CommandError, match="ao vivo"):
        _call("run_undo", "--run", str(run.pk))


def test_items_left_claimed_by_a_dead_apply_run_are_applied_once_later(fake_bling, bling_connected):
    r, run, _out = _code_plan(fake_bling)
    dead = JobRun.objects.create(kind="plan", trigger="command", status=JobRun.Status.FAILED)
    monitor = r.ids["Monitor novo"]
    PlanItem.objects.filter(run=run, bling_product_id=monitor).update(
        status="applying", applied_by=dead
    )
    # The dead run had written it before it died.
    fake_bling.products[monitor]["codigo"] = "MONI00008"
    start = len(fake_bling.requests)

    _call("plan_apply", "--run", str(run.pk))

    item = PlanItem.objects.get(run=run, bling_product_id=monitor)
    assert item.status == "skipped" and "já tem código" in item.status_reason
    written = [int(w.path.split("/")[2]) for w in _writes(fake_bling, start)]
    assert monitor not in written and len(written) == run.plan_items.count() - 1
    assert not PlanItem.objects.filter(run=run, status__in=["pending", "applying"]).exists()

"""`sweep_codes` against the fake Bling: a catalog like the retailer's, dry-run, retries."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from blingsync.models import AuditLog, JobRun
from products.models import CodeAssignment, CodeCounter
from tests.products.codes_catalog import go_live, prepare

pytestmark = pytest.mark.django_db


def _sweep(*args: str) -> str:
    out = io.StringIO()
    call_command("sweep_codes", *args, stdout=out)
    return out.getvalue()


def _codes(fake, r) -> dict[str, str]:
    return {name: fake.products[pid]["codigo"] for name, pid in r.ids.items()}


def _numbers(codes, prefix: str) -> list[int]:
    return sorted(int(c[len(prefix) :]) for c in codes if re.fullmatch(prefix + r"\d{5,}", c))


def test_a_live_sweep_codes_every_eligible_product_and_nothing_else(fake_bling, bling_connected):
    r = prepare(fake_bling)
    output = _sweep()

    codes = _codes(fake_bling, r)
    for name, prefix in r.expected.items():
        if prefix:
            assert re.fullmatch(prefix + r"\d{5}", codes[name]), (name, codes[name])
        else:
            assert codes[name] == "", (name, codes[name])
    for name, code in r.existing.items():
        assert codes[name] == code
    # numbers continue after the ones already used in Bling, without gaps
    ntb = [c for n, c in codes.items() if r.expected.get(n) == "NTB"]
    assert _numbers(ntb, "NTB") == list(range(42, 42 + len(ntb)))
    assert codes["Monitor novo"] == "MONI00008"
    assert codes["Placa nova"] == "PLMA00011"
    assert codes["Memória nova"] == "MEMO00001"
    assert codes["Teclado novo"] == "TEMO00001"
    assert len(set(codes.values()) - {""}) == len([c for c in codes.values() if c])
    # the ledger agrees with Bling
    applied = dict(CodeAssignment.objects.values_list("bling_product_id", "code"))
    assert applied == {r.ids[n]: codes[n] for n, p in r.expected.items() if p}
    assert set(CodeAssignment.objects.values_list("status", flat=True)) == {"applied"}
    assert CodeCounter.objects.get(prefix="NTB").last_value == 41 + len(ntb)
    # writes were PATCH {"codigo"} only, never a PUT
    patches = fake_bling.calls(method="PATCH")
    assert patches and all(set(c.json) == {"codigo"} for c in patches)
    assert not fake_bling.calls(method="PUT")
    # nothing was read one product at a time to learn its category
    assert not [c for c in fake_bling.calls(method="GET") if re.fullmatch(r"/produtos/\d+", c.path)]
    # every assignment is audited with its rule and source
    entries = AuditLog.objects.filter(action=AuditLog.Action.CODE_ASSIGNED)
    assert entries.count() == len(applied)
    assert set(entries.values_list("outcome", flat=True)) == {AuditLog.Outcome.OK}
    assert all(e.reason and e.source == AuditLog.Source.JOB for e in entries)
    run = JobRun.objects.filter(kind="codes").latest("id")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.changed == len(applied)
    assert run.api_calls > 0
    assert "chamadas à API do Bling" in output and "pulados (já tem código)" in output


def test_a_second_sweep_finds_nothing_to_do(fake_bling, bling_connected):
    r = prepare(fake_bling)
    _sweep()
    before = _codes(fake_bling, r)
    patches = len(fake_bling.calls(method="PATCH"))
    _sweep("--since", "2000-01-01")
    assert _codes(fake_bling, r) == before
    assert len(fake_bling.calls(method="PATCH")) == patches


def test_a_dry_run_writes_nothing_and_consumes_no_counter(fake_bling, bling_connected):
    r = prepare(fake_bling)
    counters = dict(CodeCounter.objects.values_list("prefix", "last_value"))
    before = _codes(fake_bling, r)
    output = _sweep("--dry-run")
    assert _codes(fake_bling, r) == before
    assert not fake_bling.calls(method="PATCH")
    assert dict(CodeCounter.objects.values_list("prefix", "last_value")) == counters
    assert not CodeAssignment.objects.exists()
    would = AuditLog.objects.filter(action=AuditLog.Action.CODE_ASSIGNED)
    assert set(would.values_list("outcome", flat=True)) == {AuditLog.Outcome.WOULD_DO}
    ntb = [e.code for e in would if e.code.startswith("NTB")]
    assert _numbers(ntb, "NTB") == list(range(42, 42 + len(ntb)))  # what they would get
    assert "(simulação)" in output


def test_a_new_install_in_dry_run_mode_sweeps_in_dry_run(fake_bling, bling_connected):
    r = prepare(fake_bling, live=False)
    before = _codes(fake_bling, r)
    _sweep()
    assert _codes(fake_bling, r) == before
    assert not CodeAssignment.objects.exists()


def test_limit_caps_the_products_coded(fake_bling, bling_connected):
    r = prepare(fake_bling)
    _sweep("--limit", "2")
    coded = [n for n, c in _codes(fake_bling, r).items() if c and n not in r.existing]
    assert len(coded) == 2
    assert CodeAssignment.objects.count() == 2


def test_a_failed_write_is_retried_later_with_the_same_code(fake_bling, bling_connected):
    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    fake_bling.fail_next(1, status=400, path_prefix=f"/produtos/{pid}")
    _sweep()
    assert fake_bling.products[pid]["codigo"] == ""
    failed = CodeAssignment.objects.get(bling_product_id=pid)
    assert (failed.status, failed.code, failed.attempts) == ("failed", "PLMA00011", 1)
    assert AuditLog.objects.filter(code="PLMA00011", outcome=AuditLog.Outcome.FAILED).exists()
    # the other products were coded all the same
    assert fake_bling.products[r.ids["Memória nova"]]["codigo"] == "MEMO00001"

    _sweep()
    assert fake_bling.products[pid]["codigo"] == "PLMA00011"
    retried = CodeAssignment.objects.get(bling_product_id=pid)
    assert (retried.status, retried.code, retried.attempts) == ("applied", "PLMA00011", 2)
    assert CodeCounter.objects.get(prefix="PLMA").last_value == 11


def test_bling_down_stops_the_sweep_and_the_next_one_retries(fake_bling, bling_connected):
    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    fake_bling.fail_next(50, status=500, path_prefix=f"/produtos/{pid}")
    with pytest.raises(CommandError):
        _sweep()
    assert CodeAssignment.objects.get(bling_product_id=pid).status == "failed"
    fake_bling.recover()
    _sweep()
    assert fake_bling.products[pid]["codigo"] == "PLMA00011"
    assert all(c for n, c in _codes(fake_bling, r).items() if r.expected.get(n))


def test_a_code_already_used_in_bling_is_skipped_and_recorded(fake_bling, bling_connected):
    r = prepare(fake_bling)
    # someone typed the next MONI code by hand after the counters were seeded
    squatter = fake_bling.add_product("Monitor à mão", codigo="MONI00008")["id"]
    _sweep()
    assert fake_bling.products[r.ids["Monitor novo"]]["codigo"] == "MONI00009"
    assert fake_bling.products[squatter]["codigo"] == "MONI00008"
    skipped = AuditLog.objects.get(action=AuditLog.Action.CODE_SKIPPED)
    assert skipped.code == "MONI00008" and skipped.after == {"used_by": [squatter]}
    assert CodeCounter.objects.get(prefix="MONI").last_value == 9


def test_a_product_coded_by_hand_before_the_retry_keeps_its_code(fake_bling, bling_connected):
    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    fake_bling.fail_next(1, status=400, path_prefix=f"/produtos/{pid}")
    _sweep()
    fake_bling.products[pid]["codigo"] = "MANUAL-1"
    _sweep()
    assert fake_bling.products[pid]["codigo"] == "MANUAL-1"
    assert CodeAssignment.objects.get(bling_product_id=pid).status == "discarded"


def test_it_refreshes_the_category_mirror_before_sweeping(fake_bling, bling_connected):
    r = prepare(fake_bling)
    late = fake_bling.add_category("Impressora")["id"]
    pid = fake_bling.add_product("Impressora nova", categoria_id=late)["id"]
    _sweep()
    assert fake_bling.products[pid]["codigo"] == "IMPR00001"
    assert fake_bling.products[r.ids["Monitor novo"]]["codigo"] == "MONI00008"


def test_it_stops_with_a_reason_when_bling_has_no_category(fake_bling, bling_connected):
    go_live()
    with pytest.raises(CommandError, match="nenhuma categoria"):
        _sweep()


def test_a_bad_since_is_refused(fake_bling, bling_connected):
    with pytest.raises(CommandError, match="--since"):
        _sweep("--since", "yesterday")


def test_variations_left_out_of_category_lists_are_found_through_their_parent(
    fake_bling, bling_connected
):
    """Should Bling's idCategoria filter leave variations out, a full sweep reads the detail
    of each listed parent with variations (one call per such parent, not per product)."""
    r = prepare(fake_bling)
    fake_bling.variations_in_category_lists = False
    _sweep("--limit", "1000")
    parent = r.ids["Notebook com variações"]
    for name in ("Notebook com variações 8GB", "Notebook com variações 16GB"):
        assert re.fullmatch(r"NTB\d{5}", fake_bling.products[r.ids[name]]["codigo"])
    details = [c for c in fake_bling.calls(method="GET") if re.fullmatch(r"/produtos/\d+", c.path)]
    assert [c.path for c in details] == [f"/produtos/{parent}"]

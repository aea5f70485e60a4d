"""Code allocation under concurrency: processes racing for one prefix, processes racing for
the same products, and a sweep racing a webhook-style call for the same products.

The full-size runs need PostgreSQL (real row locks); SQLite runs a small version of the
process tests (its IMMEDIATE transactions serialise writers).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections

from products.codes import product_code_ensure
from products.models import CodeAssignment, CodeCounter
from tests.bling.processes import ROOT, database_url
from tests.products.codes_catalog import go_live


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _allocators(prefix: str, jobs: list[tuple[int, int, int]]) -> list[dict]:
    """Start one worker per (count, first id, step) at the same instant."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WORKER_START_AT": str(time.time() + 2.0),
        "LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.products.codes_alloc_worker",
                prefix,
                str(count),
                str(first),
                str(step),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for count, first, step in jobs
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            raise AssertionError(f"worker failed (exit {proc.returncode}): {err[-2000:]}")
        results.append(json.loads(lines[-1]))
    return results


@pytest.mark.django_db(transaction=True)
def test_eight_processes_allocating_one_prefix_get_distinct_codes_without_gaps():
    processes, each = (8, 500) if _postgres() else (4, 50)
    results = _allocators("NTB", [(each, 1_000_000 * (n + 1), 1) for n in range(processes)])
    assert [r["errors"] for r in results] == [[]] * processes
    codes = [code for r in results for code in r["codes"].values()]
    total = processes * each
    assert len(codes) == len(set(codes)) == total
    assert sorted(int(c[3:]) for c in codes) == list(range(1, total + 1))
    assert CodeCounter.objects.get(prefix="NTB").last_value == total
    assert CodeAssignment.objects.count() == total


@pytest.mark.django_db(transaction=True)
def test_processes_racing_for_the_same_products_give_each_one_code():
    processes, each = (8, 200) if _postgres() else (4, 30)
    # every worker tries the same product ids, in a different order
    jobs = [(each, 1, 1) if n % 2 == 0 else (each, each, -1) for n in range(processes)]
    results = _allocators("MONI", jobs)
    assert [r["errors"] for r in results] == [[]] * processes
    per_product: dict[str, set[str]] = {}
    for r in results:
        for pid, code in r["codes"].items():
            per_product.setdefault(pid, set()).add(code)
    assert len(per_product) == each
    assert all(len(codes) == 1 for codes in per_product.values())
    given = sorted(next(iter(c)) for c in per_product.values())
    assert given == [f"MONI{n:05d}" for n in range(1, each + 1)]  # no number lost
    assert CodeCounter.objects.get(prefix="MONI").last_value == each


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_and_webhook_calls_for_the_same_products_give_one_code_each(
    fake_bling, bling_connected
):
    from products.rule_defaults import category_rules_seed

    category_rules_seed()
    notebook = fake_bling.add_category("Notebook")["id"]
    ids = [fake_bling.add_product(f"NB {i}", categoria_id=notebook)["id"] for i in range(40)]
    call_command("sync_categories", stdout=io.StringIO())
    go_live()
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run(target) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    def sweep() -> None:
        call_command("sweep_codes", stdout=io.StringIO())

    def webhooks(order) -> None:
        for pid in order:
            product_code_ensure(product_id=pid, dry_run=False)

    threads = [
        threading.Thread(target=run, args=(sweep,)),
        threading.Thread(target=run, args=(lambda: webhooks(ids),)),
        threading.Thread(target=run, args=(lambda: webhooks(list(reversed(ids))),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    in_bling = {pid: fake_bling.products[pid]["codigo"] for pid in ids}
    assignments = dict(CodeAssignment.objects.values_list("bling_product_id", "code"))
    assert in_bling == assignments
    assert sorted(in_bling.values()) == [f"NTB{n:05d}" for n in range(1, 41)]
    assert CodeCounter.objects.get(prefix="NTB").last_value == 40
    # whoever lost a race wrote the winner's code (same code), never another one
    written = {(c.path, c.json["codigo"]) for c in fake_bling.calls(method="PATCH")}
    assert len({path for path, _code in written}) == len(written) == 40

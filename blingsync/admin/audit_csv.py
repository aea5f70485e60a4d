"""The audit log as a CSV file for a spreadsheet (streamed: an export can hold many rows)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blingsync.admin.spreadsheet_cells import spreadsheet_cell_neutralise
from blingsync.audit_reasons import audit_reason_text
from blingsync.models import AuditLog

AUDIT_CSV_COLUMNS = [
    ("created_at", _("quando")),
    ("action", _("ação")),
    ("bling_product_id", _("id do produto no Bling")),
    ("code", _("código")),
    ("product_name", _("produto")),
    ("product_code", _("código atual no Bling")),
    ("before", _("antes")),
    ("after", _("depois")),
    ("reason", _("motivo")),
    ("reason_rule", _("regra")),
    ("reason_data", _("dados do motivo")),
    ("source", _("origem")),
    ("source_ref", _("referência da origem")),
    ("actor", _("quem")),
    ("job_run", _("execução")),
    ("dry_run", _("simulação")),
    ("outcome", _("resultado")),
    ("error", _("erro")),
]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def audit_csv_rows(queryset: QuerySet[AuditLog]) -> Iterator[list[Any]]:
    yield [str(label) for _name, label in AUDIT_CSV_COLUMNS]
    for entry in queryset.iterator(chunk_size=2000):
        yield [
            timezone.localtime(entry.created_at).isoformat(),
            entry.action,
            entry.bling_product_id if entry.bling_product_id is not None else "",
            entry.code,
            entry.product_name,
            entry.product_code,
            "" if entry.before is None else json.dumps(entry.before, ensure_ascii=False),
            "" if entry.after is None else json.dumps(entry.after, ensure_ascii=False),
            # The sentence in the exporting admin's language, and the fields it is made of.
            audit_reason_text(entry),
            entry.reason_rule,
            json.dumps(entry.reason_data, ensure_ascii=False) if entry.reason_data else "",
            entry.source,
            entry.source_ref,
            entry.actor,
            entry.job_run_id or "",
            "1" if entry.dry_run else "0",
            entry.outcome,
            entry.error,
        ]


def audit_csv_response(queryset: QuerySet[AuditLog]) -> StreamingHttpResponse:
    # Staff open this in a spreadsheet set to pt-BR: ";" is its list separator (a comma would
    # put everything in one column) and the BOM tells it the file is UTF-8 (accents).
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in audit_csv_rows(queryset):
            yield writer.writerow([spreadsheet_cell_neutralise(cell) for cell in row])

    response = StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="auditoria-{stamp}.csv"'
    return response

"""The audit log as a CSV file for a spreadsheet (streamed: an export can hold many rows), in
words: actions, origins and outcomes by their labels, before/after and the reason's facts as
"field: value" text, local times to the second, all in the exporting admin's language."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from blingsync.admin.spreadsheet_cells import spreadsheet_cell_neutralise
from blingsync.audit_reasons import audit_reason_text, reason_rule_label
from blingsync.models import AuditLog
from blingsync.run_details import detail_value_text

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


def _local_time(value) -> str:
    """Local date and time to the second, in the spreadsheet's order (pt-BR: 07/12/2026
    14:05:09; English: 2026-12-07 14:05:09)."""
    date_format = formats.get_format("DATE_INPUT_FORMATS")[0]
    return timezone.localtime(value).strftime(f"{date_format} %H:%M:%S")


def _words(value: Any) -> str:
    return "" if value in (None, "", {}, []) else detail_value_text(value)


def audit_csv_rows(queryset: QuerySet[AuditLog]) -> Iterator[list[Any]]:
    yield [str(label) for _name, label in AUDIT_CSV_COLUMNS]
    yes, no = gettext_now("sim"), gettext_now("não")
    for entry in queryset.iterator(chunk_size=2000):
        yield [
            _local_time(entry.created_at),
            entry.get_action_display(),
            entry.bling_product_id if entry.bling_product_id is not None else "",
            entry.code,
            entry.product_name,
            entry.product_code,
            _words(entry.before),
            _words(entry.after),
            # The sentence in the exporting admin's language, and what it is made of.
            audit_reason_text(entry),
            reason_rule_label(entry.reason_rule) if entry.reason_rule else "",
            _words(entry.reason_data),
            entry.get_source_display(),
            entry.source_ref,
            entry.actor,
            entry.job_run_id or "",
            yes if entry.dry_run else no,
            entry.get_outcome_display(),
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

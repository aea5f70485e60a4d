"""A run's details as a labelled table in the reader's language (issue 25: no raw JSON, no
English keys on a pt-BR page, no Portuguese values on an English one)."""

from __future__ import annotations

from django.utils import translation

from blingsync.run_details import detail_value_text, details_table_html

DETAILS = {
    "dry_run": True,
    "dry_run_reason": "pedida",
    "since": "2026-12-01T13:00:00+00:00",
    "cursor": "completa: nenhuma execução completa ao vivo anterior",
    "skipped_by_reason": {"has_code": 5, "product_excluded": 1},
    "api_total": 120000,
}


def test_the_table_reads_in_portuguese():
    html = details_table_html(DETAILS)
    assert "<table" in html and "{" not in html
    for words in (
        "Simulação",
        "sim",
        "Pulados, por motivo",
        "Já tem código: 5",
        "01/12/2026 10:00",
    ):
        assert words in html
    assert "has_code" not in html and "dry_run" not in html
    assert "Api total" in html and "120.000" in html  # an unknown key, humanised


def test_the_table_reads_in_english():
    with translation.override("en"):
        html = details_table_html(DETAILS)
        assert "asked for by who ran it" in html
        assert "full: no earlier complete live run" in html
        assert "Already has a code: 5" in html
        assert "120,000" in html
        assert "pedida" not in html and "completa" not in html


def test_values_in_words():
    assert detail_value_text({"situacao": "I"}) == "situação: inativo"
    assert detail_value_text(None) == "—"
    assert detail_value_text(95.0, key="duration_seconds") == "1 min 35 s"

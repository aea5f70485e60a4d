"""Cells of a CSV meant for a spreadsheet: text that a spreadsheet would run as a formula is
neutralised.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before looking for one) is read as a formula by Excel, LibreOffice and
Google Sheets: a product named `=HYPERLINK("http://…")` in Bling would become a live link in
the audit export. Such a cell gets a leading `'`, which spreadsheets show as text and do not
display. Numbers are written as they are (a negative quantity stays a number)."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell_neutralise(value: Any) -> Any:
    """`value` unchanged unless it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

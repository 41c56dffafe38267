"""Cells that spreadsheet programs must read as text, never as a formula (CSV injection).

CSV exports put an apostrophe before a cell starting with one of
:data:`FORMULA_STARTS` (:func:`cell_text`); the participant import takes it off again.
Workbooks need no apostrophe (it would show in the cell and in sorting): their cells
keep the value and are typed as text (:func:`keep_as_text`).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: str) -> str:
    """``value`` made safe to open in Excel: never read as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def keep_as_text(sheet: Any) -> None:
    """Type every cell of an openpyxl ``sheet`` that would read as a formula as text.

    openpyxl turns a string starting with "=" into a formula; typed as a string the
    cell shows exactly what was written ("-見積依頼", "+81 54…", "=HYPERLINK(…)").
    """
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"

"""Cells that spreadsheet programs must read as text, never as a formula (CSV injection).

CSV exports put an apostrophe before a cell that would read as a formula: one starting
with one of :data:`FORMULA_STARTS`, except a plain negative number such as "-1" or
"-3.5", which Excel reads as that number (:func:`cell_text`, :func:`reads_as_formula`);
the participant import takes the apostrophe off again.
Workbooks need no apostrophe (it would show in the cell and in sorting): their cells
keep the value and are typed as text (:func:`keep_as_text`).
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A negative number as typed ("-1", "-3.5", "-1,000"): Excel reads it as the number, so
# it needs no apostrophe, which would show in the cell. "-1+1" or "-A1" do not match.
_PLAIN_NEGATIVE_NUMBER = re.compile(r"-(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


def reads_as_formula(value: str) -> bool:
    """Whether a spreadsheet program could take the text ``value`` for a formula."""
    return (value.startswith(FORMULA_STARTS)
            and _PLAIN_NEGATIVE_NUMBER.fullmatch(value) is None)


def cell_text(value: str) -> str:
    """``value`` made safe to open in Excel: never read as a formula (a plain negative
    number is left as it is)."""
    return "'" + value if reads_as_formula(value) else value


def keep_as_text(sheet: Any) -> None:
    """Type every cell of an openpyxl ``sheet`` that would read as a formula as text.

    openpyxl turns a string starting with "=" into a formula; typed as a string the
    cell shows exactly what was written ("-見積依頼", "+81 54…", "=HYPERLINK(…)").
    """
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"

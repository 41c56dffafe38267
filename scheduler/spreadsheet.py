"""Cells that spreadsheet programs must read as text, never as a formula (CSV injection).

Exports put an apostrophe before a cell starting with one of :data:`FORMULA_STARTS`
(:func:`cell_text`); the participant import takes it off again.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: str) -> str:
    """``value`` made safe to open in Excel: never read as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value

"""Ids from addresses and forms: whole numbers the database can hold, or nothing.

``str.isdigit`` accepts "²" and "١" (``int`` then fails) and ``int`` accepts numbers
beyond 64 bits (the database then fails): both turned a mistyped or tampered address
into a 500. :func:`parse_id` and the ``int`` URL converter accept only ASCII digits up
to the largest 64-bit id, so such a request gets the usual 404 or 400.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: The largest id a 64-bit signed column holds.
MAX_ID = 2**63 - 1


def parse_id(raw: object, *, signed: bool = False) -> int | None:
    """``raw`` as an id (ASCII digits, optionally a leading "-" when ``signed``), else None."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    digits = text[1:] if signed and text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    value = int(text)
    return value if -MAX_ID <= value <= MAX_ID else None


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in routes, refusing numbers no id column can hold (404, not 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # type: ignore[no-untyped-def]
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

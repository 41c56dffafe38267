"""Small helpers for the solver's English messages (errors, findings, the CLI summary)."""

from __future__ import annotations

import json

# A value quoted in a message is cut to this many characters: one line stays readable
# even when a file holds a megabyte-long "time zone".
QUOTED_AT_MOST = 60


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``"1 meeting"``, ``"2 meetings"``: a count and its noun in the right number."""
    noun = singular if count == 1 else plural or f"{singular}s"
    return f"{count:,} {noun}"


def quoted(text: str) -> str:
    """``text`` in double quotes as JSON writes it (control characters escaped), cut short
    with its length when it is long."""
    if len(text) <= QUOTED_AT_MOST:
        return json.dumps(text, ensure_ascii=False)
    cut = json.dumps(text[:QUOTED_AT_MOST], ensure_ascii=False)
    return f'{cut[:-1]}…" ({len(text):,} characters)'

"""Marking user-facing English messages for translation without importing Flask.

Services raise errors whose message is an English msgid with ``%(name)s``
placeholders; ``N_`` only marks the literal so ``pybabel extract`` (see
``babel.cfg``) puts it in the catalog. The web layer translates it at display
time (``web.i18n.translate_error``), the CLI and the logs show the English.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Return ``message`` unchanged: a marker for extraction, translated later by the caller."""
    return message

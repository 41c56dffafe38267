"""Secrets for URLs that devices without a login open (calendar apps, hall screens).

They are derived from SECRET_KEY rather than stored: no schema is needed, and
rotating SECRET_KEY revokes every one of them at once.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def derived_token(purpose: str, *ids: int) -> str:
    """The secret for ``purpose`` (e.g. ``"matchfair-staff-feed"``) and the given ids."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = ":".join([purpose, *(str(i) for i in ids)]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def token_matches(given: str, purpose: str, *ids: int) -> bool:
    """Whether ``given`` is that secret (compared in constant time)."""
    return bool(given) and hmac.compare_digest(given, derived_token(purpose, *ids))

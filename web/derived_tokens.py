"""Secrets for URLs that devices without a login open (calendar apps, hall screens).

They are derived from SECRET_KEY, the event's random ``links_salt`` and its
``staff_links_version`` rather than stored (the salt keeps an event whose id SQLite
reused from ever opening with a deleted event's links). The organizer re-issues an
event's links (the staff calendar, the hall boards) by raising its version, which stops
the ones given out before, for example to a helper who has left; rotating SECRET_KEY
revokes every one of them at once.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def event_token(purpose: str, event_id: int, *ids: int) -> str:
    """The secret for ``purpose`` in an event, at the event's current links version.

    Version 0 (never re-issued) and an empty salt (an event from before salts) add
    nothing, so links from before versions and salts existed keep working.
    """
    from scheduler.models import Event
    from web.database import get_session

    event = get_session().get(Event, event_id)
    version = event.staff_links_version if event is not None else 0
    salt = event.links_salt if event is not None else ""
    extra = (*((version,) if version else ()), *((salt,) if salt else ()))
    return derived_token(purpose, event_id, *ids, *extra)


def event_token_matches(given: str, purpose: str, event_id: int, *ids: int) -> bool:
    """Whether ``given`` is the event's current secret for ``purpose`` (constant time)."""
    return bool(given) and hmac.compare_digest(
        given.encode(), event_token(purpose, event_id, *ids).encode()
    )


def derived_token(purpose: str, *ids: int | str) -> str:
    """The secret for ``purpose`` (e.g. ``"matchfair-staff-feed"``) and the given ids."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = ":".join([purpose, *(str(i) for i in ids)]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def token_matches(given: str, purpose: str, *ids: int) -> bool:
    """Whether ``given`` is that secret (compared in constant time)."""
    # Bytes: compare_digest refuses a str with non-ASCII characters (a 500, not a 404).
    expected = derived_token(purpose, *ids)
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())

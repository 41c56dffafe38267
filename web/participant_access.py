"""Participants' secret links: the access check, their language, and rate limits.

Participants have no accounts. Every page of theirs lives under ``/p/<token>/...``
and is wrapped in :func:`participant_required`, which finds the participant by its
``access_token`` and puts it in ``g.participant``. An unknown, revoked or re-issued
token, and a rejected or withdrawn participant, all get the same 404 page, so a
response never tells whether a token once existed.

Guessing a 256-bit token is hopeless, but a flood of guesses still costs database
look-ups, so unknown tokens are limited hard per remote address (``20/minute`` by
default → 429), and normal use generously. Only the misses are refused: a valid link
is always looked up and served, so guesses sent from a venue's or an office's shared
address (or through a proxy) cannot lock the participants behind it out of their
pages, live state and calendar feeds (:func:`refuse_unknown_token`). Limits are
counted with Flask-Limiter's storage: in memory in the embedded set-up, in Redis
when ``REDIS_URL`` is configured (several web processes then share the counts).

Other modules add their participant pages to the portal's home page with
:func:`register_portal_section`, so the home page links only to pages that exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, session
from flask_babel import force_locale, lazy_gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from scheduler import preferences
from scheduler.models import Participant, ParticipantRole, ParticipantStatus
from scheduler.vocabulary import certification_label, lot_size_label, technology_label
from web.database import get_session

_EXTENSION_KEY = "matchfair_participant_limiter"

#: Statuses whose links stop working (pending participants may already use theirs).
INACTIVE_STATUSES = frozenset({ParticipantStatus.REJECTED, ParticipantStatus.WITHDRAWN})

#: Every participant page lives under this prefix (the access test walks all of them).
PORTAL_PREFIX = "/p/<token>"

ROLE_LABELS = {
    ParticipantRole.BUYER: lazy_gettext("Buyer"),
    ParticipantRole.SUPPLIER: lazy_gettext("Supplier"),
}

DEFAULT_LIMITS = {
    # Guesses: a person mistyping a link does not need more than a few tries a minute.
    "PARTICIPANT_BAD_TOKEN_LIMIT": "20/minute",
    # A participant's own pages: many people behind one venue or office address.
    "PARTICIPANT_PAGE_LIMIT": "600/minute",
    # Public self-registration submissions per address.
    "REGISTRATION_LIMIT": "20/hour",
}


def init_app(app: Flask) -> None:
    """Attach the rate limiter: Redis storage when ``REDIS_URL`` is set, else memory."""
    for key, value in DEFAULT_LIMITS.items():
        app.config.setdefault(key, value)
    storage_uri = (
        app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    )
    # One limiter per app (tests build many apps; each gets its own counts). Limits are
    # applied by hand in the views that need them, so no default limit applies elsewhere.
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri,
        # A Redis that does not answer costs a request at most this long (then fails open).
        storage_options=(
            {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
            if storage_uri.startswith("redis")
            else {}
        ),
        key_prefix="matchfair",
        enabled=bool(app.config.get("RATELIMIT_ENABLED", True)),
    )
    app.extensions[_EXTENSION_KEY] = limiter

    @app.url_defaults
    def _fill_participant_token(endpoint: str, values: dict[str, Any]) -> None:
        # Inside a participant's pages, url_for("portal.profile") needs no token argument.
        # Only for routes under /p/<token>/: other routes name other secrets "token" too.
        token = g.get("participant_token")
        if (
            token is not None
            and "token" not in values
            and any(r.rule.startswith(PORTAL_PREFIX) for r in app.url_map.iter_rules(endpoint))
        ):
            values["token"] = token

    @app.context_processor
    def _participant_helpers() -> dict[str, object]:
        return {
            "portal_nav_sections": portal_sections,
            "unreachable_base": unreachable_base,
            "role_labels": ROLE_LABELS,
            "technology_label": technology_label,
            "certification_label": certification_label,
            "lot_size_label": lot_size_label,
        }


def unreachable_base(link: str) -> str | None:
    """The address a participant's ``link`` is on (``scheme://host:port``) when nobody
    else can open it (:func:`web.schedule_outputs.unreachable_link_base`: this computer's
    own), else None: the page showing the link warns."""
    from web.schedule_outputs import unreachable_link_base

    if not unreachable_link_base(link):
        return None
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}"


def participant_limiter(app: Flask | None = None) -> Limiter:
    """The app's rate limiter for participant links and public forms."""
    limiter: Limiter = (app or current_app).extensions[_EXTENSION_KEY]
    return limiter


def check_rate(scope: str, limit_key: str, *, count: bool = True, key: str = "") -> None:
    """Count a request of ``scope`` from this address; 429 once over the configured limit.

    With ``count=False`` only checks that the limit is not used up yet (nothing counted).
    ``key`` narrows the count to one thing tried from the address (an account's e-mail).
    """
    limiter = participant_limiter()
    if not limiter.enabled:
        return
    item = parse(current_app.config[limit_key])
    identifiers = (scope, get_remote_address(), *((key,) if key else ()))
    try:
        allowed = (
            limiter.limiter.hit(item, *identifiers)
            if count
            else limiter.limiter.test(item, *identifiers)
        )
    except Exception:  # the counts' storage (Redis) is down or does not answer
        # A participant's schedule must not depend on the job queue's Redis: without
        # the counts, requests are let through (and the operator is told in the log).
        current_app.logger.warning("Rate limits not checked: their storage is unreachable")
        return
    if not allowed:
        abort(429)


class UnknownParticipantLink(NotFound):
    """A secret link that opens no participant's pages: mistyped, cut off by a mail
    program, re-issued since, or its participant's registration withdrawn.

    Still a 404 (nothing tells whether the token once existed), but shown as its own
    page (``web/errors.py``): what the participant can do about a link that fails, and
    no way into the staff login, which is not theirs."""


def refuse_unknown_token() -> NoReturn:
    """End a request whose secret token is unknown: 404, or 429 once this address has
    guessed too often. Requests with a valid token never count here and are never
    refused for other requests' guesses."""
    check_rate("bad-token", "PARTICIPANT_BAD_TOKEN_LIMIT")
    raise UnknownParticipantLink()


def find_participant(token: str) -> Participant:
    """The participant whose link carries ``token``; 404 (rate-limited) if none may use it."""
    participant = None
    if 20 <= len(token) <= 64:
        participant = get_session().scalar(
            select(Participant).where(Participant.access_token == token)
        )
    if participant is None or participant.status in INACTIVE_STATUSES:
        refuse_unknown_token()
    check_rate("participant-page", "PARTICIPANT_PAGE_LIMIT")
    return participant


def participant_locale(participant: Participant) -> str | None:
    """The language for a participant's pages: the switch's choice wins, else theirs."""
    languages = current_app.config["LANGUAGES"]
    if session.get("lang") in languages:
        return None  # the switch chose; the usual selector already returns it
    return participant.locale if participant.locale in languages else None


def participant_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Open ``view`` (a route under ``/p/<token>/``) only through a valid secret link.

    Sets ``g.participant`` and shows the page in the participant's language unless
    the language switch chose one. The view is called with ``token`` as given.
    """

    @wraps(view)
    def wrapped(token: str, **kwargs: Any) -> Any:
        participant = find_participant(token)
        g.participant = participant
        # Kept apart from the row: links to the participant's pages are made from it
        # even after a rollback has expired the row (an error page).
        g.participant_token = participant.access_token
        locale = participant_locale(participant)
        if locale is None:
            return view(token, **kwargs)
        with force_locale(locale):
            return view(token, **kwargs)

    return wrapped


def current_participant() -> Participant:
    """The participant of the current request (only inside :func:`participant_required`)."""
    participant: Participant | None = g.get("participant")
    if participant is None:
        raise RuntimeError("current_participant() outside a participant_required view")
    return participant


@dataclass(frozen=True, slots=True)
class PortalSection:
    """A page linked from the participant's home page."""

    endpoint: str
    label: Any  # a lazy_gettext string, translated when the home page renders
    description: Any = ""
    roles: frozenset[str] = frozenset()  # empty: shown to buyers and suppliers
    phases: frozenset[str] = frozenset()  # empty: shown in every phase
    order: int | None = None  # place on the home page; None: :data:`SECTION_ORDER`'s
    #: The description while participants cannot request, answer or apply (before the
    #: preferences phase, past its deadline, later phases); None: ``description`` always.
    closed_description: Any = None

    @property
    def position(self) -> int:
        """Where the section is listed: its own ``order``, else the portal's default."""
        if self.order is not None:
            return self.order
        return SECTION_ORDER.get(self.endpoint, UNORDERED_POSITION)


#: The portal's reading order (the company profile and directory come first, unregistered):
#: what the participant does before the fair, in the order it is due, then the result.
#: Sections register at import, so without this their order would be the import order.
SECTION_ORDER: dict[str, int] = {
    "availability.edit": 20,
    "preferences.my_requests": 30,
    "preferences.suggested": 40,
    "preferences.buyer_needs": 50,
    "preferences.received_proposals": 50,
    "schedules.page": 60,
}
#: Sections neither listed above nor given an ``order`` come last, in registration order.
UNORDERED_POSITION = 1000

_SECTIONS: list[PortalSection] = []


def register_portal_section(section: PortalSection) -> None:
    """Link a participant page from the home page (call once, at import of its module)."""
    if all(s.endpoint != section.endpoint for s in _SECTIONS):
        _SECTIONS.append(section)


def portal_sections(participant: Participant) -> list[PortalSection]:
    """The registered sections this participant sees now, whose endpoints exist, in order.

    Outside the request period (:func:`scheduler.preferences.requests_open`, which the
    pages' changes are refused by) a section with a ``closed_description`` is described
    by it: what can still be done there (read), not what no longer can (apply, screen).
    """
    phase = participant.event.phase
    shown = [
        s
        for s in _SECTIONS
        if s.endpoint in current_app.view_functions
        and (not s.roles or participant.role in s.roles)
        and (not s.phases or phase in s.phases)
    ]
    if not preferences.requests_open(participant.event):
        shown = [
            s if s.closed_description is None else replace(s, description=s.closed_description)
            for s in shown
        ]
    return sorted(shown, key=lambda s: s.position)  # stable: ties keep registration order

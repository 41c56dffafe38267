"""The live hall board (a full-screen page per room for a projector) and the live state
on a participant's schedule page, both kept current by short polling of JSON.

Short polling every few seconds with an ETag (304 when nothing changed) rather than
server-sent events: every poll is an ordinary short request, so waitress threads are
never held by idle screens, proxies and captive portals at venues pass it, and a
dropped network needs no reconnection logic beyond "try again later".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_skeleton
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import force_locale, get_locale
from flask_login import current_user
from sqlalchemy import select

from scheduler import board
from scheduler.errors import NotFound
from scheduler.i18n import N_
from scheduler.models import Event, Participant, Role, Room
from web.accounts import LANGUAGE_NAMES
from web.auth import staff_required
from web.database import get_session
from web.derived_tokens import event_token, event_token_matches
from web.participant_access import INACTIVE_STATUSES, refuse_unknown_token

bp = Blueprint("board", __name__)

# How often the pages poll (milliseconds); the board must follow a change within 5 s.
BOARD_POLL_MS = 2500
LIVE_POLL_MS = 20000
# How long a board with more tables than fit its screen shows each page of them.
BOARD_PAGE_MS = 10000


def board_token(event_id: int, room_id: int) -> str:
    """The secret in a room board's URL, derived from SECRET_KEY.

    A projector's browser cannot log in, so the URL carries the credential; the
    organizer's re-issue of the event's staff links revokes it (web.derived_tokens).
    """
    return event_token("matchfair-hall-board", event_id, room_id)


def _event_and_room(event_id: int, room_id: int) -> tuple[Event, Room]:
    session = get_session()
    event = session.get(Event, event_id)
    room = session.get(Room, room_id)
    if event is None or room is None or room.event_id != event.id:
        raise NotFound(N_("This page does not exist, or the link is no longer valid."))
    return event, room


def _allowed(event_id: int, room_id: int) -> bool:
    """A valid board token, or a logged-in organizer or staff member."""
    token = request.args.get("token", "")
    if event_token_matches(token, "matchfair-hall-board", event_id, room_id):
        return True
    return bool(current_user.is_authenticated and current_user.role in (Role.ORGANIZER, Role.STAFF))


def _json(payload: dict[str, Any]) -> Response:
    """``payload`` as JSON with its ETag, or 304 when the client has it already."""
    response = jsonify(payload)
    response.set_etag(payload["etag"])
    response.cache_control.no_cache = True
    response.cache_control.private = True
    return response.make_conditional(request)


def _written_date(local: str) -> str:
    """A slot's local start (``2027-02-17 10:00``, as :mod:`scheduler.board` gives it) as
    the app writes a date, in the language in force: 2027年2月17日 10:00, Feb 17, 2027 10:00
    (a board tried days ahead shows it instead of a countdown)."""
    try:
        moment = datetime.strptime(local, "%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return local
    return f"{format_skeleton('yMMMd', moment.date(), locale=str(get_locale()))} {moment:%H:%M}"


def _board_state(event: Event, hall: Room) -> dict[str, Any]:
    """The room's board (:func:`scheduler.board.room_board`), its dates written out in the
    board's language; its ETag names the language, as the dates differ with it."""
    state = board.room_board(get_session(), event, hall)
    slots = [state.get("current_slot"), state.get("next_slot")]
    for row in state.get("tables", []):
        slots += [(row.get(key) or {}).get("slot") for key in ("now", "next")]
    for slot in slots:
        if slot and slot.get("date"):
            slot["date"] = _written_date(slot["date"])
    state["etag"] = f"{state['etag']}-{get_locale()}"
    return state


def board_language() -> str:
    """The language a board shows: the one its link carries (``?lang=``, as a calendar
    subscription's does), else the language of the staff member looking at it, else the
    app's first (Japanese). Never the browser's: a venue PC set to English must not turn a
    Japanese fair's board English."""
    languages = list(current_app.config["LANGUAGES"])
    wanted = request.args.get("lang", "")
    if wanted in languages:
        return wanted
    if current_user.is_authenticated and current_user.role in (Role.ORGANIZER, Role.STAFF):
        return str(get_locale() or languages[0])
    return languages[0]


@bp.get("/events/<int:event_id>/board")
@staff_required
def index(event_id: int):  # type: ignore[no-untyped-def]
    """The rooms of the event with the link to open on each room's screen, in the
    language of whoever copies it, and in each other language."""
    session = get_session()
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    rooms = session.scalars(
        select(Room).where(Room.event_id == event.id).order_by(Room.sort_order, Room.name)
    ).all()
    return render_template(
        "board/index.html",
        event=event,
        rooms=[(room, board_token(event.id, room.id)) for room in rooms],
        board_lang=str(get_locale() or "ja"),
        languages=list(current_app.config["LANGUAGES"]),
        language_names=LANGUAGE_NAMES,
    )


@bp.get("/events/<int:event_id>/board/<int:room_id>")
def room(event_id: int, room_id: int):  # type: ignore[no-untyped-def]
    """The full-screen board of one room (token in the URL, or a staff login)."""
    if not _allowed(event_id, room_id):
        abort(404)
    event, hall = _event_and_room(event_id, room_id)
    language = board_language()
    with force_locale(language):
        return render_template(
            "board/room.html",
            event=event,
            room=hall,
            state=_board_state(event, hall),
            board_lang=language,
            token=request.args.get("token", ""),
            poll_ms=BOARD_POLL_MS,
            page_ms=BOARD_PAGE_MS,
        )


@bp.get("/events/<int:event_id>/board/<int:room_id>/state.json")
def room_state(event_id: int, room_id: int):  # type: ignore[no-untyped-def]
    """What the board shows now (polled; 304 while nothing changed)."""
    if not _allowed(event_id, room_id):
        abort(404)
    event, hall = _event_and_room(event_id, room_id)
    with force_locale(board_language()):
        return _json(_board_state(event, hall))


@bp.get("/p/<token>/live.json")
def participant_live(token: str):  # type: ignore[no-untyped-def]
    """A participant's current and next meeting and today's changes (polled by the page).

    Like the calendar feed, polls by a valid link are not counted against the page
    limit (a whole venue's phones may share one address); guessing links is.
    """
    participant = None
    if 20 <= len(token) <= 64:
        participant = get_session().scalar(
            select(Participant).where(Participant.access_token == token)
        )
    if participant is None or participant.status in INACTIVE_STATUSES:
        refuse_unknown_token()
    return _json(board.participant_live(get_session(), participant))


@bp.app_template_global()
def live_state(participant: Participant) -> dict[str, Any]:
    """The live state for the first render of a participant's schedule page (the page's
    script then polls :func:`participant_live`)."""
    return board.participant_live(get_session(), participant)

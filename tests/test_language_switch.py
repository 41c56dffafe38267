"""The language switch returns to a page that opens: after a form was posted and shown
again with its mistakes (at an address forms only post to), it goes to the page the
form was on, where the typed values are put back (keep-typed.js, tested in Chromium)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.models import Phase
from tests.participant_fair import make_fair, read_in_english


def _next_of(page: str) -> str:
    match = re.search(r'<input type="hidden" name="next" value="([^"]*)">', page)
    assert match is not None
    return match.group(1)


def test_after_a_posted_form_the_switch_returns_to_the_page_the_form_was_on(
    client: FlaskClient, db_session: Session, logged_in
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    read_in_english(client)
    overview = f"/events/{fair.event.id}/preferences"
    settings = f"{overview}/settings"
    page = client.get(overview).get_data(as_text=True)
    assert _next_of(page) == overview
    # The settings form comes back with its mistake at /settings, which takes only POST.
    refused = client.post(settings, data={"max_requests": "abc"},
                          headers={"Referer": f"http://localhost{overview}?tab=1"})
    assert refused.status_code == 400
    assert _next_of(refused.get_data(as_text=True)) == f"{overview}?tab=1"
    switched = client.post("/language", data={"lang": "ja", "next": f"{overview}?tab=1"})
    assert switched.headers["Location"].endswith(f"{overview}?tab=1")
    # A referrer from another site is not followed: the page's own address is kept.
    elsewhere = client.post(settings, data={"max_requests": "abc"},
                            headers={"Referer": "https://evil.example/x"})
    assert _next_of(elsewhere.get_data(as_text=True)) == settings


def test_the_switch_never_lands_on_an_address_that_only_takes_posts(
    client: FlaskClient, db_session: Session, logged_in
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    settings = f"/events/{fair.event.id}/preferences/settings"
    assert client.get(settings).status_code == 405
    switched = client.post("/language", data={"lang": "en", "next": settings})
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/")
    page = f"/events/{fair.event.id}/preferences"
    assert client.post("/language", data={"lang": "en", "next": page}).headers[
        "Location"].endswith(page)

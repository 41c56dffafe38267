"""The participant's navigation and home page: what a phone shows, and in which order."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.models import Phase, PhaseDeadline
from tests.participant_fair import make_fair, read_in_english
from web import participant_access as access
from web.participant_access import UNORDERED_POSITION, PortalSection


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


def _nav(page: str) -> str:
    match = re.search(r'<nav class="subnav portal-nav".*?</nav>', page, re.S)
    assert match, "the portal navigation is missing"
    return match.group(0)


def test_company_line_is_outside_the_scrolling_link_row(client: FlaskClient, fair) -> None:
    # On a phone the company and event names must not push the links off-screen: they
    # sit on their own line, and only the links scroll.
    nav = _nav(client.get(f"/p/{fair.buyer.access_token}/").get_data(as_text=True))
    company, _, links = nav.partition('<div class="subnav-scroll">')
    assert "発注重工株式会社" in company and "テスト商談会" in company
    assert "発注重工株式会社" not in links
    assert re.search(r'<a href="[^"]+/" aria-current="page">', links)  # Home is marked


def test_event_subnav_scrolls_as_one_row(client: FlaskClient, logged_in, fair) -> None:
    page = client.get(f"/events/{fair.event.id}").get_data(as_text=True)
    nav = re.search(r'<nav class="subnav" aria-label="[^"]*">(.*?)</nav>', page, re.S)
    assert nav and '<div class="subnav-scroll">' in nav.group(1)
    assert 'aria-current="page"' in nav.group(1)


def test_home_sections_follow_the_portal_order_not_the_import_order(
    client: FlaskClient, fair
) -> None:
    page = client.get(f"/p/{fair.buyer.access_token}/").get_data(as_text=True)
    nav = _nav(page)
    paths = ["/profile", "/availability", "/requests", "/suggestions", "/proposals"]
    positions = [nav.find(f'{fair.buyer.access_token}{path}"') for path in paths]
    assert -1 not in positions, positions
    assert positions == sorted(positions)


def test_a_sections_own_order_wins_and_unknown_ones_come_last() -> None:
    assert PortalSection("x.y", "X", order=5).position == 5
    assert PortalSection("x.unknown", "X").position == UNORDERED_POSITION
    assert (PortalSection("availability.edit", "A").position
            < PortalSection("preferences.my_requests", "R").position
            < PortalSection("schedules.page", "S").position)


def test_sections_registered_out_of_order_are_listed_in_order(
    app, monkeypatch: pytest.MonkeyPatch, fair
) -> None:
    # Registered requests-first (as an import order could do): availability still leads.
    registered: list[PortalSection] = []
    monkeypatch.setattr(access, "_SECTIONS", registered)
    for endpoint in ("preferences.my_requests", "x.unlisted", "availability.edit"):
        access.register_portal_section(PortalSection(endpoint, endpoint))
    monkeypatch.setitem(app.view_functions, "x.unlisted", lambda: "")
    with app.test_request_context():
        shown = [s.endpoint for s in access.portal_sections(fair.buyer)]
    assert shown == ["availability.edit", "preferences.my_requests", "x.unlisted"]


def _sections(page: str) -> str:
    match = re.search(r'<ul class="portal-sections">.*?</ul>', page, re.S)
    assert match, "the home page lists no sections"
    return html.unescape(match.group(0))


@pytest.mark.parametrize("closed", ["deadline", "phase"])
def test_home_sections_describe_what_is_left_once_requests_are_closed(
    client: FlaskClient, db_session: Session, fair, closed: str
) -> None:
    """Past the deadline (or in the next phase) applying and screening are refused, so
    the home page no longer invites them: the needs, sheets and requests are to read."""
    read_in_english(client)
    supplier = _sections(client.get(f"/p/{fair.supplier.access_token}/").get_data(as_text=True))
    buyer = _sections(client.get(f"/p/{fair.buyer.access_token}/").get_data(as_text=True))
    assert "Apply to a buyer's need with a proposal sheet." in supplier
    assert "Screen the sheets suppliers sent for your needs." in buyer
    if closed == "deadline":
        db_session.add(PhaseDeadline(event=fair.event, phase=Phase.PREFERENCES,
                                     closes_at=datetime(2020, 1, 31, 8, 0, tzinfo=UTC)))
    else:
        fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    supplier = _sections(client.get(f"/p/{fair.supplier.access_token}/").get_data(as_text=True))
    buyer = _sections(client.get(f"/p/{fair.buyer.access_token}/").get_data(as_text=True))
    assert "Apply to a buyer" not in supplier
    assert "Read the buyers' needs and view the proposal sheets you sent." in supplier
    assert "Screen the sheets" not in buyer
    assert "View the sheets suppliers sent for your needs and your decisions." in buyer
    for sections in (supplier, buyer):
        assert "View the meetings you requested and the answers you received." in sections

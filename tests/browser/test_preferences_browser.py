"""A supplier requests a meeting and the buyer screens it, in Japanese, in Chromium.

The supplier works on a phone-sized screen (390×844) through its secret link: it
finds the buyer in the directory, asks for a meeting with level 高 and a note. The
buyer then accepts that request with a level and declines another supplier's. The
outcome is checked both in the database and on the pages each side sees.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, or_, select

from scheduler import preferences
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Interest, Participant, ParticipantRole, ParticipantStatus, Phase
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

NOTE = "5軸加工によるアルミ筐体の試作についてご相談したいです"


# Whether the portal's tab row is scrolled, which tabs straddle its left edge, and whether
# the current tab is wholly in view.
_TAB_ROW = """(() => {
  const row = document.querySelector('.subnav-scroll');
  const edge = row.getBoundingClientRect();
  const cut = [...row.querySelectorAll('li')].filter(li => {
    const r = li.getBoundingClientRect();
    return r.left < edge.left - 0.5 && r.right > edge.left + 0.5;
  }).map(li => li.innerText);
  const current = row.querySelector('[aria-current=page]').getBoundingClientRect();
  return {scrolled: row.scrollLeft > 0, cut,
          current_visible: current.left >= edge.left - 0.5 && current.right <= edge.right + 0.5};
})()"""


def _open_fair(db_session):  # type: ignore[no-untyped-def]
    """A small demo fair in the preferences phase with requests open for two weeks."""
    event = generate_demo(db_session, seed=11, buyers=3, suppliers=6, slug="browser-prefs",
                          phase=Phase.PREFERENCES)
    event.max_requests = None
    event.screening_enabled = True
    for deadline in event.phases:
        if deadline.phase == Phase.PREFERENCES:
            deadline.opens_at = utcnow() - timedelta(days=1)
            deadline.closes_at = utcnow() + timedelta(days=14)
    people = db_session.scalars(
        select(Participant).where(Participant.event_id == event.id,
                                  Participant.status == ParticipantStatus.APPROVED)
        .order_by(Participant.id)
    ).all()
    buyer = next(p for p in people if p.role == ParticipantRole.BUYER)
    supplier, other = [p for p in people if p.role == ParticipantRole.SUPPLIER][:2]
    # Start from a clean slate between the buyer and the two suppliers.
    db_session.execute(delete(Interest).where(
        or_(Interest.from_participant_id == buyer.id, Interest.to_participant_id == buyer.id),
        or_(Interest.from_participant_id.in_([supplier.id, other.id]),
            Interest.to_participant_id.in_([supplier.id, other.id])),
    ))
    preferences.request_meeting(db_session, other, buyer.id, level=2, note="別件のご相談")
    db_session.commit()
    return event, buyer, supplier, other


def test_supplier_requests_and_buyer_screens_in_japanese(
    page, browser, live_server, db_session
) -> None:
    event, buyer, supplier, other = _open_fair(db_session)
    buyer_name = buyer.display_name

    phone = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    tab = phone.new_page()
    try:
        # The supplier opens its link, goes to the directory and finds the buyer by name.
        tab.goto(f"{live_server}/p/{supplier.access_token}/")
        assert tab.locator("html").get_attribute("lang") == "ja"
        tab.click(f"main a[href='/p/{supplier.access_token}/directory']")
        tab.fill("input[name=q]", buyer_name)
        tab.click("form.directory-search button[type=submit]")
        # The entry's "request with a note" opens the full form, which returns to this
        # page of the directory, at the buyer's entry, now marked as requested.
        request_link = f"a[href^='/p/{supplier.access_token}/request/{buyer.id}?back=']"
        tab.click(request_link)
        tab.select_option("select[name=level]", label="高")
        tab.fill("textarea[name=note]", NOTE)
        tab.screenshot(path=str(SCREENSHOTS / "preferences_request_phone.png"), full_page=True)
        tab.click("main form button[type=submit]")
        tab.wait_for_url(f"{live_server}/p/{supplier.access_token}/directory?*#entry-{buyer.id}")
        assert tab.locator(f"#entry-{buyer.id} [data-test=requested]").count() == 1
        tab.goto(f"{live_server}/p/{supplier.access_token}/requests")
        item = tab.locator(f"#req-{buyer.id}")
        assert "高" in item.inner_text() and NOTE in item.inner_text()
        # Nothing scrolls sideways on the phone.
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # The tab row is scrolled to show the current tab, starting at a whole tab: none
        # is cut in half at the left edge.
        assert tab.evaluate(_TAB_ROW) == {"scrolled": True, "cut": [], "current_visible": True}

        # The buyer screens: accepts the supplier with level 中, declines the other one.
        page.goto(f"{live_server}/p/{buyer.access_token}/incoming")
        mine = page.locator(f"#req-{supplier.id}")
        assert NOTE in mine.inner_text()
        mine.locator(".answer-accept select[name=level]").select_option(label="中")
        with page.expect_navigation():
            mine.locator(".answer-accept button[type=submit]").click()
        page.locator(f"#req-{other.id} .answer-decline input[name=note]").fill("今回は見送り")
        with page.expect_navigation():
            page.locator(f"#req-{other.id} .answer-decline button[type=submit]").click()
        accepted = page.locator(f"#req-{supplier.id}")
        assert "貴社の回答" in accepted.inner_text() and "受諾（中）" in accepted.inner_text()
        # Once answered, the forms fold away behind 回答を変更 (preset to the answer).
        assert not accepted.locator(".answer-accept").is_visible()
        accepted.locator(".change-answer summary").click()
        assert accepted.locator(".answer-accept select[name=level]").input_value() == "2"
        assert "お断り" in page.locator(f"#req-{other.id}").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "preferences_screening.png"), full_page=True)

        # The supplier sees the answer on its phone.
        tab.goto(f"{live_server}/p/{supplier.access_token}/requests")
        assert "受諾" in tab.locator(f"#req-{buyer.id}").inner_text()
        tab.screenshot(path=str(SCREENSHOTS / "preferences_answered_phone.png"), full_page=True)
    finally:
        phone.close()

    # The database holds the same outcome: a pair with both levels, and no pair declined.
    db_session.expire_all()
    asked = preferences.interest_between(db_session, supplier.id, buyer.id)
    answer = preferences.interest_between(db_session, buyer.id, supplier.id)
    assert (asked.level, asked.note, asked.source) == (3, NOTE, "request")
    assert (answer.level, answer.declined, answer.source) == (2, False, "screening")
    declined = preferences.interest_between(db_session, buyer.id, other.id)
    assert declined.declined and declined.note == "今回は見送り"
    pairs = {frozenset((p.a, p.b)) for p in preferences.requested_pairs(db_session, event)}
    assert frozenset((supplier.id, buyer.id)) in pairs
    assert frozenset((other.id, buyer.id)) not in pairs

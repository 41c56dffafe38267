"""A company name typed as one long unbroken word (150 Latin letters, as the public
registration form allows) wraps on a phone instead of making the pages scroll sideways,
on its own pages and where other companies see it."""

from __future__ import annotations

import pytest

from scheduler import preferences
from scheduler.models import ParticipantRole, Phase
from tests.participant_fair import add_company, make_fair

pytestmark = pytest.mark.browser

LONG_NAME = "ＬＯＮＧ" + "A" * 150 + "株式会社"


def test_a_long_unbroken_company_name_wraps_on_a_phone(browser, live_server, db_session) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    long = add_company(db_session, fair.event, LONG_NAME, ParticipantRole.SUPPLIER,
                       email="long@example.jp", code="S999", prefecture="静岡県",
                       description="x" * 300, technologies=["machining.5axis"])
    long.department = "x" * 120
    preferences.request_meeting(db_session, fair.buyer, long.id, level=3, note="y" * 200)
    db_session.commit()
    own, buyer = f"/p/{long.access_token}", f"/p/{fair.buyer.access_token}"
    pages = [
        f"{own}/", f"{own}/profile",
        f"{buyer}/directory?q=LONG", f"{buyer}/directory/{long.id}", f"{buyer}/requests",
        f"{buyer}/request/{long.id}",
    ]
    phone = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    tab = phone.new_page()
    try:
        for path in pages:
            assert tab.goto(live_server + path).status == 200, path
            assert "AAAAAAAAAA" in tab.inner_text("main"), path  # the name is on the page
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
    finally:
        phone.close()

"""The event's history in Chromium: an organizer opens the tab, filters by area and
company, and reads it on a phone too."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.models import Phase, User
from tests.conftest import PASSWORD
from tests.participant_fair import Fair, make_fair


@pytest.fixture
def fair(db_session: Session) -> Fair:
    made = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return made


@pytest.mark.browser
def test_an_organizer_finds_the_days_changes_of_a_company_from_the_tab(
    page,
    live_server: str,
    db_session: Session,
    fair: Fair,
    organizer: User,
    staff: User,
) -> None:
    audit.record(db_session, "event.update", event_id=fair.event.id, user_id=organizer.id,
                 details={"venue": ["旧会場", "新会場"]})
    audit.record(db_session, "day.no_show", event_id=fair.event.id, user_id=staff.id,
                 participant_id=fair.supplier.id, target=fair.supplier,
                 details={"lines": [{"pair": "S001 ＡＢＣ精工株式会社", "before": "expected",
                                     "after": "no_show"}]}, reason="連絡なし")
    audit.record(db_session, "day.check_in", event_id=fair.event.id, user_id=staff.id,
                 participant_id=fair.buyer.id, target=fair.buyer)
    db_session.commit()

    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/events/{fair.event.id}")
    page.click("nav.subnav a:text('履歴')")
    page.wait_for_url(f"**/events/{fair.event.id}/history")
    assert page.locator("table.history tbody tr").count() == 3
    page.select_option("#history-area", "day")
    page.select_option("#history-company", str(fair.supplier.id))
    page.click("form.history-filter button[type=submit]")
    page.wait_for_url("**/history?area=day&participant=*")
    rows = page.locator("table.history tbody tr")
    assert rows.count() == 1
    assert "欠席" in rows.first.inner_text() and "係員 太郎" in rows.first.inner_text()
    assert "：連絡なし" in rows.first.inner_text()  # the reason, after a full-width colon
    # The form keeps what was chosen, and the CSV link takes the same filter.
    assert page.eval_on_selector("#history-area", "e => e.value") == "day"
    assert page.eval_on_selector("#history-company", "e => e.value") == str(fair.supplier.id)
    href = page.get_attribute("a[href*='history.csv']", "href")
    assert "area=day" in href and f"participant={fair.supplier.id}" in href
    # On a phone the table stacks, each cell under its label: 「日時：…」 in Japanese.
    page.set_viewport_size({"width": 390, "height": 844})
    label = page.evaluate(
        "getComputedStyle(document.querySelector('table.history td[data-label]'),"
        " '::before').content"
    )
    assert label.endswith('："') and ': ' not in label
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

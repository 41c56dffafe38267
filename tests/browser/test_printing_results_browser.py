"""The results report printed from Chromium: one company name typed as a long unbroken
word wraps in its cell instead of squeezing every other column (QA 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.models import Phase
from scheduler.schedule_view import event_meetings
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

LONG_NAME = "LONGNAME" + "A" * 90 + "Corporation"


def test_a_long_company_name_does_not_squeeze_the_printed_results(
    page, live_server, organizer, db_session, monkeypatch
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    meetings[0].participant_b.organization.name = LONG_NAME
    db_session.commit()
    now = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.set_viewport_size({"width": 718, "height": 1000})  # A4's printable width
    page.goto(f"{live_server}/events/{fair.id}/outcomes")
    # The full list, as "Print the full list" prints it (the default print is a summary).
    page.evaluate("document.getElementById('results-page').dataset.print = 'full'")
    page.emulate_media(media="print")
    font = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('table.outcome-table td')).fontSize)"
    )
    for table in ("table.outcome-table", "#waiting table.data"):
        assert LONG_NAME in page.inner_text(table)
        widths = page.evaluate(
            f"Array.from(document.querySelectorAll('{table} thead th'))"
            ".filter(th => th.offsetParent !== null)"
            ".map(th => th.getBoundingClientRect().width)"
        )
        right = page.evaluate(f"document.querySelector('{table}').getBoundingClientRect().right")
        # The table stays on the paper, and the long name wraps in its column instead of
        # taking the width of the others.
        assert right <= 718, (table, widths)
        assert max(widths) < 0.5 * sum(widths), (table, widths)
        assert min(widths) > 3 * font, (table, widths)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "printed_results_long_name.pdf"), format="A4")

"""Tab rows on narrow screens, in Chromium: on every page of the participant portal and
of the organizer's event pages, at phone (390 px) and small-tablet (600 px) width, the
current tab is wholly in view and no tab is cut in half at the row's left edge."""

from __future__ import annotations

import pytest

from scheduler.models import ParticipantRole, Phase
from tests.conftest import PASSWORD
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

# The tabs cut at the left edge of each tab row ("L:…") and a current tab not in view.
CUT = """(() => { const out = [];
  document.querySelectorAll('.subnav-scroll').forEach(row => {
    const edge = row.getBoundingClientRect();
    row.querySelectorAll('li').forEach(li => { const r = li.getBoundingClientRect();
      if (r.left < edge.left - 0.5 && r.right > edge.left + 0.5) out.push('L:' + li.innerText);
    });
    const cur = row.querySelector('[aria-current=page]');
    if (cur) {
      const r = cur.getBoundingClientRect();
      if (r.left < edge.left - 0.5 || r.right > edge.right + 0.5) out.push('CUR:' + cur.innerText);
    }
  }); return out; })()"""
HREFS = "els => els.map(e => e.getAttribute('href'))"


def test_no_tab_is_cut_and_the_current_one_shows(
    browser, live_server, organizer, db_session
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.PREFERENCES
    db_session.commit()
    bad = []
    for width in (390, 600):
        ctx = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 800})
        tab = ctx.new_page()
        for role in (ParticipantRole.BUYER, ParticipantRole.SUPPLIER):
            p = next(x for x in fair.participants if x.role == role)
            tab.goto(f"{live_server}/p/{p.access_token}/")
            links = tab.eval_on_selector_all(".portal-nav a", HREFS)
            for href in links:
                tab.goto(f"{live_server}{href}")
                cut = tab.evaluate(CUT)
                if cut:
                    bad.append((width, role, href, cut))
        tab.goto(f"{live_server}/auth/login")
        tab.fill("input[name=email]", "org@example.jp")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("main button[type=submit]")
        tab.wait_for_url(f"{live_server}/")
        tab.goto(f"{live_server}/events/{fair.id}")
        links = tab.eval_on_selector_all("nav.subnav a", HREFS)
        for href in links:
            tab.goto(f"{live_server}{href}")
            cut = tab.evaluate(CUT)
            if cut:
                bad.append((width, "org", href, cut))
        ctx.close()
    assert bad == []


def test_the_organizers_tabs_fit_a_laptop_screen_in_english(
    page, live_server, organizer, db_session
) -> None:
    fair = published_fair(db_session)
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.click("button[name=lang][value=en]")
    page.goto(f"{live_server}/events/{fair.id}")
    assert page.locator("nav.subnav a").last.inner_text() == "History"
    assert page.evaluate(
        "(() => { const r = document.querySelector('.subnav-scroll');"
        " return r.scrollWidth <= r.clientWidth; })()"
    )

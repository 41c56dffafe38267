"""In Chromium, what the accessibility QA measured: the keyboard focus ring and the skip
link, field borders, the greyed past meetings and undone changes, tap targets on a
phone, and the outputs page on a 320 px screen."""

from __future__ import annotations

import pytest

from scheduler import day_operations as ops
from scheduler.models import Event
from tests.conftest import PASSWORD
from tests.day_fair import local, participant
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

# Colour helpers put on the page: WCAG contrast, the background an element sits on.
HELPERS = """(() => {
  const parse = c => { const p = c.match(/[\\d.]+/g).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = c => { const f = v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const bg = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let out = [255, 255, 255];
    for (let i = layers.length - 1; i >= 0; i--) { const c = layers[i];
      out = [0, 1, 2].map(k => c[k] * c[3] + out[k] * (1 - c[3])); }
    return out; };
  const opacity = el => { let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o; };
  window.a11y = {
    text: el => ratio(parse(getComputedStyle(el).color), bg(el)),
    opacity,
    // The focused element's ring: its style, width, and contrast with what is around it.
    ring: () => { const el = document.activeElement, s = getComputedStyle(el);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth),
        offset: parseFloat(s.outlineOffset),
        contrast: ratio(parse(s.outlineColor), bg(el.parentElement)) }; },
  };
})()"""


def _log_in(tab, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{live_server}/auth/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{live_server}/")


def _tab_to(tab, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focus is on an element matching selector."""
    for _ in range(80):
        tab.keyboard.press("Tab")
        if tab.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _ring(tab) -> dict:  # type: ignore[no-untyped-def]
    tab.evaluate(HELPERS)
    return tab.evaluate("window.a11y.ring()")


def _assert_visible_ring(tab, what: str) -> None:  # type: ignore[no-untyped-def]
    ring = _ring(tab)
    assert ring["style"] == "solid" and ring["width"] >= 2, (what, ring)
    assert ring["contrast"] >= 3, (what, ring)


def test_skip_link_is_the_first_tab_stop_and_leads_to_the_content(
    page, live_server, organizer, db_session
) -> None:
    fair = published_fair(db_session)
    _log_in(page, live_server, "org@example.jp")
    page.goto(f"{live_server}/events/{fair.id}")
    link = page.locator("a.skip-link")
    assert link.bounding_box()["width"] <= 1  # hidden until focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = link.bounding_box()
    assert box["width"] > 40 and box["height"] >= 44 and box["y"] >= 0
    _assert_visible_ring(page, "skip link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the content, past both tab rows
    assert page.evaluate("!!document.activeElement.closest('main')")
    assert not page.evaluate("!!document.activeElement.closest('nav')")


def test_the_focus_ring_stands_out_on_white_and_on_the_top_bar(
    page, live_server, organizer, db_session
) -> None:
    fair = published_fair(db_session)
    _log_in(page, live_server, "org@example.jp")
    page.goto(f"{live_server}/events/{fair.id}/day/walk-in")
    _tab_to(page, ".topbar button.link")  # log out: a link-styled button on the blue bar
    _assert_visible_ring(page, "button.link")
    _tab_to(page, "main input[type=text]")
    _assert_visible_ring(page, "input")
    page.select_option("#role", "supplier")
    page.focus("#role")
    _tab_to(page, "main summary")
    _assert_visible_ring(page, "summary")
    _tab_to(page, "main button.primary")
    _assert_visible_ring(page, "button")


@pytest.mark.parametrize("row", ["nav.subnav", ".daynav"])
def test_the_focus_ring_in_a_scrolling_tab_row_is_not_cut_off(
    row, page, live_server, organizer, db_session
) -> None:
    fair = published_fair(db_session)
    _log_in(page, live_server, "org@example.jp")
    page.goto(f"{live_server}/events/{fair.id}/day/")
    _tab_to(page, f"{row} a")
    _assert_visible_ring(page, row)
    # The ring's outer edge lies within the box that scrolls (and clips) the row.
    inside = page.evaluate(
        """row => { const a = document.activeElement, s = getComputedStyle(a);
        const out = Math.max(0, parseFloat(s.outlineOffset) + parseFloat(s.outlineWidth));
        const r = a.getBoundingClientRect();
        let box = a.parentElement;
        while (box && !/auto|scroll/.test(getComputedStyle(box).overflowX)) box = box.parentElement;
        const c = box.getBoundingClientRect();
        return r.top - out >= c.top - 0.5 && r.bottom + out <= c.bottom + 0.5; }""",
        row,
    )
    assert inside


def test_field_borders_can_be_seen(page, live_server) -> None:
    page.goto(f"{live_server}/auth/login")
    page.evaluate(HELPERS)
    contrast = page.evaluate(
        """(() => { const i = document.querySelector('#email');
        const c = getComputedStyle(i).borderTopColor;
        const s = document.createElement('span'); s.style.color = c; i.parentElement.append(s);
        const r = window.a11y.text(s); s.remove(); return r; })()"""
    )
    assert contrast >= 3


def _text_contrasts(tab, selector: str) -> list[tuple[str, float, float]]:  # type: ignore[no-untyped-def]
    tab.evaluate(HELPERS)
    return tab.evaluate(
        """sel => [...document.querySelectorAll(sel)].filter(e => e.innerText.trim()).map(
        e => [e.innerText.trim().slice(0, 20), window.a11y.opacity(e), window.a11y.text(e)])""",
        selector,
    )


def test_past_meetings_and_undone_changes_stay_readable(
    page, live_server, staff, db_session, monkeypatch
) -> None:
    fair: Event = published_fair(db_session)
    monkeypatch.setattr("web.staff.utcnow", lambda: local(18, 0))
    monkeypatch.setattr(ops, "utcnow", lambda: local(9, 0))
    b002 = participant(db_session, fair, "B002")
    ops.check_in(db_session, b002, user_id=staff.id)
    db_session.commit()
    ops.undo_last(db_session, fair, user_id=staff.id)
    db_session.commit()
    _log_in(page, live_server, "staff@example.jp")
    page.goto(f"{live_server}/events/{fair.id}/day/participants/{b002.id}")
    assert page.locator(".day-meeting.is-past").count() > 0
    past = _text_contrasts(
        page,
        ".day-meeting.is-past .when, .day-meeting.is-past .name, "
        ".day-meeting.is-past .code, .day-meeting.is-past .table-label",
    )
    assert past and all(o == 1 and c >= 4.5 for _, o, c in past), past
    page.goto(f"{live_server}/events/{fair.id}/day/log")
    assert page.locator(".day-log .is-undone").count() > 0
    undone = _text_contrasts(page, ".day-log .is-undone p > *, .day-log .is-undone li")
    assert undone and all(o == 1 and c >= 4.5 for _, o, c in undone), undone


PHONE = {"width": 375, "height": 700}


def _heights(tab, selector: str) -> list[float]:  # type: ignore[no-untyped-def]
    return tab.evaluate(
        "sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent)"
        ".map(e => e.getBoundingClientRect().height)",
        selector,
    )


def test_tap_targets_on_a_phone_are_44_px_high(browser, live_server, organizer, db_session) -> None:
    fair = published_fair(db_session)
    context = browser.new_context(locale="ja-JP", viewport=PHONE)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    low = []

    def check(where: str, selector: str) -> None:
        heights = _heights(tab, selector)
        assert heights, (where, selector)
        low.extend((where, selector, h) for h in heights if h < 44)

    try:
        tab.goto(f"{live_server}/auth/login")
        check("login", ".topnav button.link")
        check("login", "main .btn")
        check("login", ".field-check label")
        _log_in(tab, live_server, "org@example.jp")
        check("home", ".topnav a")
        check("home", ".topnav button.link")
        check("home", "main .btn.small")
        tab.goto(f"{live_server}/accounts/new")
        check("accounts", ".radio-row label")
        tab.goto(f"{live_server}/events/{fair.id}/board")
        check("board", ".breadcrumb a")
        tab.goto(f"{live_server}/events/{fair.id}/day/walk-in")
        tab.select_option("#role", "supplier")
        tab.click("main summary >> nth=0")
        check("walk-in", ".checkbox-grid label")
        check("walk-in", "main .btn")
        assert tab.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        context.close()
    assert low == []


def test_desktop_sizes_stay_as_they_were(page, live_server, organizer, db_session) -> None:
    published_fair(db_session)
    _log_in(page, live_server, "org@example.jp")
    assert all(h < 40 for h in _heights(page, "main .btn.small"))
    assert all(h < 30 for h in _heights(page, ".topnav button.link"))


def test_the_outputs_page_fits_a_320_px_screen(browser, live_server, organizer, db_session) -> None:
    fair = published_fair(db_session)
    context = browser.new_context(locale="ja-JP", viewport={"width": 320, "height": 640})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        _log_in(tab, live_server, "org@example.jp")
        tab.goto(f"{live_server}/events/{fair.id}/schedule/outputs")
        box = tab.locator("button[data-test=prepare-sheets]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320
        assert tab.evaluate("document.documentElement.scrollWidth <= 320")
    finally:
        context.close()

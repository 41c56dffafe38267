"""A large run's review in Chromium: search the list, move a meeting in the shared
dialog with its live check, pin one, and land back on the same filtered list."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import pair_rules
from scheduler.demo import generate_demo
from scheduler.models import Event, PairRule, ScheduleRun
from solver.problem_io import problem_from_dict, schedule_from_dict
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=9, buyers=6, suppliers=30)
    db_session.commit()
    return event


def _login(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def test_a_meeting_is_found_moved_in_the_dialog_and_pinned(
    page, live_server, organizer, db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    _login(page, live_server)
    run_url = f"{live_server}/events/{fair.id}/schedule/runs/{solved.id}"
    meetings = schedule_from_dict(solved.result).meetings
    first = meetings[0]
    page.goto(run_url + "?view=meetings")

    # Search by the company's code: the address keeps the search, the list its meetings.
    page.fill("#list-q", first.a)
    page.click("form.list-filter button[type=submit]")
    page.wait_for_url(re.compile(rf"q={first.a}"))
    listed = {
        frozenset(pair.split("|"))
        for pair in page.locator("a[data-move]").evaluate_all(
            "links => links.map(link => link.getAttribute('data-move'))"
        )
    }
    assert listed == {m.key for m in meetings if first.a in m.key}
    filtered = parse_qs(urlsplit(page.url).query)  # empty fields left out
    assert filtered == {"view": ["meetings"], "q": [first.a]}

    # Into another meeting's place: the dialog names the conflict and will not send.
    page.click(f"a[data-move='{first.a}|{first.b}'], a[data-move='{first.b}|{first.a}']")
    dialog = page.locator("#move-dialog")
    page.wait_for_selector("#move-dialog[open]")
    assert first.a in dialog.locator("#move-what").inner_text()
    other = next(m for m in meetings if m.slot != first.slot and m.table)
    page.select_option("#move-slot", other.slot)
    page.select_option("#move-table", other.table)
    page.wait_for_selector("#move-dialog .conflicts li")
    # The page is in Japanese (the browser's language): the table is in use by another.
    assert f"テーブル {other.table} は" in dialog.locator(".conflicts").inner_text()
    assert page.locator("#move-submit").is_disabled()

    # A free place: "no conflict", then moved, pinned and back on the same list.
    problem = problem_from_dict(solved.problem)
    free = next(
        (slot.id, table.id)
        for slot in problem.slots
        for table in problem.tables
        if (slot.id, table.id) != (first.slot, first.table)
        and not pair_rules.move_conflicts(solved, first.a, first.b, slot.id, table.id)
    )
    page.select_option("#move-slot", free[0])
    page.select_option("#move-table", free[1])
    page.wait_for_selector("#move-dialog .ok-note:not([hidden])")
    page.screenshot(path=str(SCREENSHOTS / "run_review_move_dialog.png"))
    page.click("#move-submit")
    page.wait_for_selector(".flash-success")
    assert parse_qs(urlsplit(page.url).query) == filtered
    db_session.expire_all()
    moved = schedule_from_dict(db_session.get(ScheduleRun, solved.id).result).meetings
    assert next((m.slot, m.table) for m in moved if m.key == first.key) == free
    row = page.locator(
        "tr", has=page.locator(f"a[href$='/{first.a}/{first.b}'], a[href$='/{first.b}/{first.a}']")
    )
    assert row.locator(".badge.ok").count() == 1  # pinned where it was moved

    # Pin another meeting of the list with its button: the one shared form sends it.
    second = page.locator("button[form=pin-form]").first
    pair = second.get_attribute("value")
    second.click()
    page.wait_for_selector(".flash-success")
    assert parse_qs(urlsplit(page.url).query) == filtered
    pins = db_session.scalars(select(PairRule)).all()
    assert len(pins) == 2
    assert page.locator(f"button[form=pin-form][value='{pair}']").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "run_review_list.png"), full_page=True)


def test_the_history_keeps_each_button_whole(
    page, live_server, organizer, db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    """QA F14: in the run history 「公開」 broke into 「公 / 開」 in a narrow column."""
    # A crowded history (a long status and settings in every row), on a narrow screen.
    solved.status = "cancelled"  # 停止（最善のスケジュールを保持）
    solved.parameters = {**solved.parameters, "all_must": True, "max_breaks": 1}
    db_session.commit()
    page.set_viewport_size({"width": 900, "height": 900})
    _login(page, live_server)
    page.goto(f"{live_server}/events/{fair.id}/schedule/")
    buttons = page.locator(f"#run-{solved.id} .btn")
    assert buttons.count() == 2  # 確認 and 公開
    lines = buttons.evaluate_all(
        """buttons => buttons.map(button => {
             const text = document.createRange();
             text.selectNodeContents(button);
             return new Set([...text.getClientRects()].map(r => Math.round(r.top))).size;
           })"""
    )
    assert lines == [1, 1], lines

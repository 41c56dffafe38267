"""After the fair, in Chromium: a supplier reports on a meeting from its phone, in
Japanese, fixing a mistake the page points out; the organizer sees it in the results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.models import MeetingOutcome, Phase
from scheduler.schedule_view import event_meetings
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser


def test_supplier_reports_on_its_phone_and_the_organizer_sees_the_results(
    browser, page, live_server, organizer, db_session, monkeypatch
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    now = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    meeting = meetings[0]
    supplier = meeting.participant_b

    phone = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    tab = phone.new_page()
    try:
        tab.goto(f"{live_server}/p/{supplier.access_token}/")
        tab.click(f"main a[href='/p/{supplier.access_token}/outcomes']")
        card = tab.locator(f"#meeting-{meeting.id}")
        assert "未報告" in card.inner_text()
        card.get_by_label("はい").check()
        card.get_by_label("可能性あり").check()
        card.get_by_label("見積").check()
        card.get_by_label("受注・成約金額（円）").fill("３００万円")
        card.get_by_role("button", name="報告する").click()
        # The amount needs an order: the page says so at the field and keeps every answer.
        card = tab.locator(f"#meeting-{meeting.id}")
        error = card.locator(".errors")
        assert "「受注・成約」にチェック" in error.inner_text()
        assert card.get_by_label("受注・成約金額（円）").input_value() == "３００万円"
        assert card.get_by_label("見積").is_checked()
        assert card.get_by_label("可能性あり").is_checked()
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        card.screenshot(path=str(SCREENSHOTS / "outcome_error_phone.png"))
        card.get_by_label("受注・成約", exact=True).check()
        card.get_by_role("button", name="報告する").click()
        assert "報告済み" in tab.locator(f"#meeting-{meeting.id}").inner_text()
        card = tab.locator(f"#meeting-{meeting.id}")
        assert card.get_by_label("受注・成約金額（円）").input_value() == "3,000,000"
        assert "報告を保存しました" in card.inner_text()  # said in the card the page lands on
        assert "saved=" not in tab.url  # and only once: a reload does not say it again
        # Ticking 「いいえ」 greys out what would be dropped; 「はい」 brings it back intact.
        card.get_by_label("いいえ、行われませんでした").check()
        assert card.get_by_label("受注・成約金額（円）").is_disabled()
        card.get_by_label("はい").check()
        assert card.get_by_label("受注・成約金額（円）").input_value() == "3,000,000"
        assert card.get_by_label("見積").is_enabled() and card.get_by_label("見積").is_checked()
        # The order's month, from the browser's month picker; typing shows the unsaved
        # bar, which keeps to one line on a phone.
        month = card.get_by_label("成約の時期（年月）")
        assert month.bounding_box()["height"] >= 40  # styled as the other fields
        month.fill(f"{now:%Y-%m}")
        bar = tab.locator(".save-all-bar")
        bar.wait_for(state="visible")
        assert bar.bounding_box()["height"] <= 60
        card.get_by_role("button", name="報告を更新する").click()
        assert "報告を保存しました" in tab.locator(f"#meeting-{meeting.id}").inner_text()
    finally:
        phone.close()
    saved = db_session.scalar(select(MeetingOutcome))
    db_session.refresh(saved)
    assert (saved.participant_id, saved.next_steps, saved.order_amount) == (
        supplier.id, ["quotation", "order"], 3_000_000
    )
    assert saved.order_month == now.date().replace(day=1)

    page.goto(f"{live_server}/")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/events/{fair.id}")
    page.click("nav.subnav a:text('成果')")
    stats = page.locator(".stats").inner_text()
    values = page.locator(".stats .stat .value").all_inner_texts()
    # Scheduled, cancelled for an absence, planned, reported as held, not held, meetings
    # not reported yet.
    assert values[:6] == [
        str(len(meetings)), "0", str(len(meetings)), "1", "0", str(len(meetings) - 1)
    ]
    assert "¥3,000,000" in stats and "1\n実施の報告" in stats
    row = page.locator(f"tr#meeting-{meeting.id}")
    assert "見積" in row.inner_text() and "受注・成約" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "outcome_results.png"), full_page=True)


def test_the_results_fit_a_phone_and_print_without_buttons(
    browser, page, live_server, organizer, db_session, monkeypatch, tmp_path
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    now = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    page.goto(f"{live_server}/")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/events/{fair.id}/outcomes")
    # The tables of figures by side fit the phone (row headings wrap); nothing widens the page.
    widths = page.evaluate(
        "Array.from(document.querySelectorAll('table.outcome-sides'))"
        ".map(t => [t.scrollWidth, t.parentElement.clientWidth])"
    )
    assert len(widths) == 2 and all(table <= box for table, box in widths)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "outcome_results_phone.png"), full_page=True)

    page.set_viewport_size({"width": 718, "height": 1000})  # A4's printable width
    # The full list, as "Print the full list" prints it (the default print is a summary).
    page.evaluate("document.getElementById('results-page').dataset.print = 'full'")
    page.emulate_media(media="print")
    head = page.locator(".results-meta").inner_text()
    assert "開催日" in head and "集計時点" in head
    # No buttons in print; the role stays on one line (not 「サプラ／イヤー」).
    assert page.locator("#waiting .btn").first.is_hidden()
    assert page.locator(".page-head .actions").is_hidden()
    role = page.locator("#waiting td.nowrap", has_text="サプライヤー").first
    line = page.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)", role.element_handle())
    assert role.bounding_box()["height"] < 2 * line
    page.pdf(path=str(tmp_path / "results.pdf"), format="A4")
    assert (tmp_path / "results.pdf").stat().st_size > 10_000


def test_switching_language_in_the_middle_of_the_survey_keeps_what_was_typed(
    browser, live_server, db_session, monkeypatch
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    now = min(s.starts_at for s in fair.slots) + timedelta(hours=1)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    supplier = next(p for p in fair.participants if p.role == "supplier")

    phone = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    tab = phone.new_page()
    try:
        tab.goto(f"{live_server}/p/{supplier.access_token}/outcomes")
        tab.click("a[href='#survey']")  # asked for at the top of the page
        survey = tab.locator("#survey")
        # The scale reads top to bottom on a phone.
        boxes = [survey.get_by_label(label, exact=True).bounding_box()["y"]
                 for label in ("大変満足", "満足", "どちらともいえない")]
        assert boxes == sorted(boxes) and len(set(boxes)) == 3
        survey.get_by_label("参加企業によっては参加したい").check()
        survey.get_by_label("主催者へのご意見・ご要望").fill("商談時間を\n長くしてほしい")
        # Sent without a satisfaction: the page says what is missing, keeping the rest.
        survey.get_by_role("button", name="回答を送信").click()
        survey = tab.locator("#survey")
        assert "満足度を選んでください" in survey.locator(".errors").inner_text()
        assert survey.get_by_label("参加企業によっては参加したい").is_checked()
        # The supplier switches to English half-way: what it typed since comes along.
        survey.get_by_label("やや不満").check()
        survey.get_by_label("主催者へのご意見・ご要望").fill("商談時間を\n長くしてほしい！")
        tab.click("header button[lang=en]")
        tab.wait_for_load_state()
        survey = tab.locator("#survey")
        assert "Fair survey" in survey.inner_text()
        assert survey.get_by_label("Somewhat dissatisfied").is_checked()
        assert survey.get_by_label("Perhaps, depending on the companies taking part").is_checked()
        assert survey.get_by_label("Comments and requests for the organizer").input_value() == (
            "商談時間を\n長くしてほしい！"
        )
        survey.get_by_role("button", name="Send answer").click()
        assert "your answer was saved" in tab.locator("#survey").inner_text()
        # Nothing is put back on a later visit: the kept values were used once.
        tab.goto(f"{live_server}/p/{supplier.access_token}/outcomes")
        assert tab.locator("#survey-comment").input_value() == "商談時間を\n長くしてほしい！"
    finally:
        phone.close()
    from scheduler.models import FairFeedback

    saved = db_session.scalar(select(FairFeedback))
    assert (saved.participant_id, saved.satisfaction, saved.join_again, saved.comment) == (
        supplier.id, 2, "perhaps", "商談時間を\n長くしてほしい！"
    )

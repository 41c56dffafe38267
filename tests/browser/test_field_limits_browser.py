"""In Chromium: a note longer than its limit is not cut at the limit when pasted (the
browser's maxlength did that without a word); the field counts it, says by how much it
is over, and the server refuses it with every character kept."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scheduler.models import Phase
from tests.participant_fair import make_fair

pytestmark = pytest.mark.browser


def test_a_pasted_note_over_the_limit_is_kept_counted_and_refused_whole(
    page, live_server, db_session: Session
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    supplier, buyer = fair.supplier, fair.buyer
    page.goto(f"{live_server}/p/{supplier.access_token}/directory/{buyer.id}")
    page.click("[data-test=counterpart-request] a.btn")
    note = page.locator("textarea[name=note]")
    assert note.get_attribute("maxlength") is None and note.get_attribute("data-limit") == "1000"
    pasted = "試作の相談" * 201  # 1005 characters
    note.focus()
    page.keyboard.insert_text(pasted)  # as a paste: through the browser's editing
    assert note.input_value() == pasted  # nothing cut
    counter = page.locator(".field-count")
    assert "5" in counter.inner_text() and "1000" in counter.inner_text()
    assert "field-count over" in counter.evaluate("c => c.className")
    with page.expect_navigation():  # the page shown after the post, not the one before
        note.evaluate("n => n.form.requestSubmit()")
    assert page.locator("textarea[name=note]").input_value() == pasted
    assert page.locator("textarea[name=note][aria-invalid=true]").count() == 1


def test_a_profile_text_of_many_lines_that_the_counter_says_fits_is_saved(
    page, live_server, db_session: Session
) -> None:
    """QA: the page counted a line break as one character ("5000 / 5000 文字") and the
    server, sent CRLF, as two and refused the text. Both count characters alike, a
    character outside the BMP (𠮷) as one too, and the text is stored with LF."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    supplier = fair.supplier
    page.goto(f"{live_server}/p/{supplier.access_token}/profile")
    description = page.locator("textarea[name=description]")
    assert description.get_attribute("data-limit") == "5000"
    text = "\n".join(["試作加工" * 59] * 20 + ["𠮷" + "あ" * 259])  # 5000 characters, 20 breaks
    assert len(text) == 5000 and text.count("\n") == 20
    description.fill(text)
    counter = page.locator("#description-count")
    assert "5000" in counter.inner_text() and "5001" not in counter.inner_text()
    assert "over" not in counter.evaluate("c => c.className")
    with page.expect_navigation():
        description.evaluate("d => d.form.requestSubmit()")
    assert page.locator("[aria-invalid=true]").count() == 0
    assert page.locator(".flash-success").count() == 1  # "Your company profile was saved."
    db_session.expire_all()
    assert db_session.get(type(supplier), supplier.id).organization.description == text
    # One character more is over on the page, as it is for the server.
    page.locator("textarea[name=description]").fill(text + "。")
    assert "over" in page.locator("#description-count").evaluate("c => c.className")

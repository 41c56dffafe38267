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
    note.evaluate("n => n.form.requestSubmit()")
    page.wait_for_load_state()
    assert page.locator("textarea[name=note]").input_value() == pasted
    assert page.locator("textarea[name=note][aria-invalid=true]").count() == 1

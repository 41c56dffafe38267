"""In Chromium: an organizer's form comes back with a mistake at an address that only
takes posts; switching language then opens the page the form was on, with what was
typed put back (web/static/js/keep-typed.js, web/i18n.language_next)."""

from __future__ import annotations

import pytest

from scheduler.models import Phase
from tests.conftest import PASSWORD
from tests.participant_fair import make_fair

pytestmark = pytest.mark.browser


def test_a_refused_form_keeps_what_was_typed_across_the_language_switch(
    page, live_server, organizer, db_session
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    page.goto(f"{live_server}/")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    overview = f"{live_server}/events/{fair.event.id}/preferences"
    page.goto(overview)
    page.fill("input[name=max_requests]", "1001")
    page.click("form[action$='/settings'] button[type=submit]")
    page.wait_for_url("**/settings")
    assert page.locator("input[name=max_requests][aria-invalid=true]").count() == 1
    page.click("header form.lang-switch button")
    page.wait_for_url(overview)
    assert page.title() and page.locator("input[name=max_requests]").input_value() == "1001"

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


def test_kept_values_never_go_into_another_companys_page(
    page, live_server, organizer, db_session
) -> None:
    """Review: on a shared tablet, values kept for a switch that never happened (the
    request failed, the tab went elsewhere) went into the next page with a form of the
    same shape: the edit form of another company, which names no action of its own."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    base = f"{live_server}/events/{fair.event.id}/participants"
    page.goto(f"{live_server}/")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{base}/{fair.supplier.id}/edit")
    name = page.locator("main form input[type=text]").first
    name.fill("書き換えた名前")
    # The switch's submit handler runs, but the switch itself never arrives.
    page.evaluate("document.querySelector('form.lang-switch')"
                  ".dispatchEvent(new Event('submit'))")
    assert page.evaluate("sessionStorage.getItem('matchfair.typed')") is not None
    page.goto(f"{base}/{fair.other_supplier.id}/edit")
    assert page.locator("main form input[type=text]").first.input_value() != "書き換えた名前"
    assert page.evaluate("sessionStorage.getItem('matchfair.typed')") is None

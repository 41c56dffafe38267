"""On a phone (390 px), pages changed today keep their shape (QA's visual sweep): the
runs page does not scroll sideways because of a visually hidden table header, request
badges beside a 44 px button keep their own height, and a survey question wraps above
its choices with no border running through it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from scheduler import preferences, runs
from scheduler.demo import generate_demo
from scheduler.models import Event, Phase
from tests.conftest import PASSWORD
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _sideways(tab) -> int:  # type: ignore[no-untyped-def]
    return tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_runs_page_fits_a_phone(
    phone, live_server, organizer, db_session: Session, factory
) -> None:
    fair = generate_demo(db_session, seed=9, buyers=4, suppliers=14)
    run = runs.create_run(db_session, fair, parameters={"time_limit": 1})
    db_session.commit()
    runs.execute_run(run.id, factory, threads=1)
    phone.goto(f"{live_server}/auth/login")
    phone.fill("input[name=email]", "org@example.jp")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{live_server}/")
    for path in ("/schedule/", f"/schedule/runs/{run.id}"):
        phone.goto(f"{live_server}/events/{fair.id}{path}")
        assert _sideways(phone) <= 0, path


def test_request_badges_keep_their_height_and_survey_questions_wrap_cleanly(
    phone, live_server, db_session: Session, monkeypatch
) -> None:
    fair: Event = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    supplier = next(p for p in fair.participants if p.role == "supplier")
    buyer = next(p for p in fair.participants if p.role == "buyer")
    fair.phase = Phase.PREFERENCES
    preferences.request_meeting(db_session, supplier, buyer.id, level=2)
    db_session.commit()
    phone.goto(f"{live_server}/p/{supplier.access_token}/directory/{buyer.id}")
    actions = phone.locator("[data-test=counterpart-request]")
    badges = actions.locator(".badge")
    assert badges.count() >= 1
    for index in range(badges.count()):
        assert badges.nth(index).bounding_box()["height"] < 36  # not stretched to 44 px

    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    now = min(s.starts_at for s in fair.slots) + timedelta(hours=1)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    phone.goto(f"{live_server}/p/{supplier.access_token}/outcomes#survey")
    fieldset = phone.locator("#survey fieldset").first
    style = fieldset.evaluate("f => getComputedStyle(f).borderTopStyle")
    legend, first_choice = fieldset.locator("legend"), fieldset.locator("label").first
    assert style == "none"  # no border to run between the lines of a long question
    assert legend.bounding_box()["y"] + legend.bounding_box()["height"] <= (
        first_choice.bounding_box()["y"] + 1)
    assert _sideways(phone) <= 0

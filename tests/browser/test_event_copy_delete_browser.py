"""An organizer copies last year's fair for the next one, then deletes the old one, in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Event, Participant, Phase, Slot
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(database_url: str, tmp_path: Path) -> Flask:
    """As the shared one, with uploads in the test's folder (a deletion clears its files)."""
    return create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": database_url,
            "INSTANCE_UPLOADS": str(tmp_path / "uploads"),
        }
    )


def test_organizer_copies_a_fair_and_deletes_the_old_one(
    page, live_server, organizer, db_session
) -> None:
    day = utcnow().date() + timedelta(days=30)
    source = generate_demo(
        db_session, seed=5, buyers=3, suppliers=6, slug="fair-old", day=day, phase=Phase.CLOSED
    )
    db_session.commit()
    source_id, source_name = source.id, source.name

    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.click(f"a[href='/events/{source_id}/copy']")
    page.wait_for_url(re.compile(r"/copy$"))
    assert page.input_value("input[name=name]").endswith(str(day.year + 1))
    new_first_day = day + timedelta(days=371)  # a week later than suggested
    page.fill("input[name=first_day]", new_first_day.isoformat())
    page.click("button[value=preview]")
    assert new_first_day.isoformat() in page.locator("#copy-days").inner_text()
    assert page.locator("#not-copied li").count() >= 6
    page.screenshot(path=str(SCREENSHOTS / "event_copy_form.png"), full_page=True)
    page.fill("input[name=slug]", "fair-new")
    page.click("button[value=copy]")
    page.wait_for_url(re.compile(r"/events/\d+$"))
    copy_id = int(page.url.rsplit("/", 1)[1])
    assert copy_id != source_id
    copy = db_session.get(Event, copy_id)
    assert (copy.slug, copy.phase, copy.days[0].date) == ("fair-new", "registration", new_first_day)
    assert db_session.scalar(
        select(func.count(Slot.id)).where(Slot.event_id == copy_id)
    ) == db_session.scalar(select(func.count(Slot.id)).where(Slot.event_id == source_id))

    page.goto(f"{live_server}/events/{source_id}")
    page.click(f"a[href='/events/{source_id}/delete']")
    page.wait_for_url(re.compile(r"/delete$"))
    page.fill("input[name=confirmation]", "not the name")
    page.click("form button.danger")
    assert page.input_value("input[name=confirmation]") == "not the name"
    assert page.locator("ul.errors").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "event_delete_form.png"), full_page=True)
    page.fill("input[name=confirmation]", source_name)
    page.click("form button.danger")
    page.wait_for_url(f"{live_server}/")
    assert source_name in page.locator(".flash-success").inner_text()

    db_session.expire_all()
    assert db_session.get(Event, source_id) is None
    assert db_session.get(Event, copy_id) is not None
    assert db_session.scalar(select(func.count(Participant.id))) == 0

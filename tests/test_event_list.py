"""The list of events on the home page, and the links of an event's overview."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from scheduler import event_setup
from scheduler.db import utcnow
from scheduler.models import Event, Phase

TODAY = utcnow().date()


def _event(session, name: str, *days: date, phase: Phase = Phase.REGISTRATION) -> Event:
    event = event_setup.create_event(session, name=name)
    for day in days:
        event_setup.save_day(
            session, event, event_setup.DayPlan(date=day, start=time(10, 0), end=time(12, 0))
        )
    event.phase = phase
    session.commit()
    return event


def _names(section: str) -> list[str]:
    return re.findall(r'<h2><a href="/events/\d+">([^<]*)</a></h2>', section)


@pytest.fixture
def fairs(db_session) -> None:
    """Created in an order that is neither the fairs' dates nor their reverse."""
    _event(db_session, "秋の商談会", TODAY + timedelta(days=100), TODAY + timedelta(days=101))
    _event(db_session, "昨年の商談会", TODAY - timedelta(days=400), phase=Phase.CLOSED)
    _event(db_session, "準備中の商談会")
    _event(db_session, "来月の商談会", TODAY + timedelta(days=30), phase=Phase.SCHEDULING)
    _event(db_session, "日程なしの終了した商談会", phase=Phase.CLOSED)
    _event(db_session, "当日の商談会", TODAY, phase=Phase.ON_THE_DAY)
    _event(db_session, "先月の商談会", TODAY - timedelta(days=30), phase=Phase.CLOSED)
    # closed, though its last day is in the future: its phase says where it belongs
    _event(db_session, "中止した商談会", TODAY + timedelta(days=60), phase=Phase.CLOSED)


@pytest.mark.parametrize("who", ["org@example.jp", "staff@example.jp"])
def test_current_events_by_first_day_and_closed_ones_below(
    client, auth, organizer, staff, fairs, who
) -> None:
    auth.login(who)
    body = client.get("/").get_data(as_text=True)
    current, closed = body.split('id="closed-events"')
    assert _names(current) == ["当日の商談会", "来月の商談会", "秋の商談会", "準備中の商談会"]
    assert _names(closed) == [
        "中止した商談会",
        "先月の商談会",
        "昨年の商談会",
        "日程なしの終了した商談会",
    ]
    assert (TODAY + timedelta(days=100)).isoformat() in current  # the dates on the cards


def test_only_closed_events_are_listed_in_the_archive(client, logged_in, db_session) -> None:
    _event(db_session, "先月の商談会", TODAY - timedelta(days=30), phase=Phase.CLOSED)
    body = client.get("/").get_data(as_text=True)
    assert _names(body.split('id="closed-events"')[1]) == ["先月の商談会"]
    assert "商談会はまだありません" not in body and "No events yet." not in body
    _event(db_session, "次の商談会", TODAY + timedelta(days=30))
    body = client.get("/").get_data(as_text=True)
    assert _names(body.split('id="closed-events"')[0]) == ["次の商談会"]


def test_no_archive_without_closed_events(client, logged_in, db_session) -> None:
    assert 'id="closed-events"' not in client.get("/").get_data(as_text=True)
    _event(db_session, "次の商談会", TODAY + timedelta(days=30))
    assert 'id="closed-events"' not in client.get("/").get_data(as_text=True)


# --------------------------------------------------------------------------- overview


def _checklist(client, event_id: int) -> tuple[str, list[str]]:
    body = client.get(f"/events/{event_id}").get_data(as_text=True)
    section = body.split('class="checklist"')[1].split("</ul>")[0]
    return section, re.findall(r'href="([^"]+)"', section)


def test_staff_get_only_links_they_may_open(client, auth, organizer, staff, db_session) -> None:
    event = _event(db_session, "来月の商談会", TODAY + timedelta(days=30))
    auth.login("staff@example.jp")

    section, links = _checklist(client, event.id)

    assert links  # the days and the participants
    for link in links:
        assert client.get(link).status_code == 200, link
    assert f"/events/{event.id}/rooms" not in links and f"/events/{event.id}/phases" not in links
    assert "部屋とテーブル" in section and "フェーズと締切" in section  # as plain text


def test_organizers_get_every_set_up_link(client, logged_in, db_session) -> None:
    event = _event(db_session, "来月の商談会", TODAY + timedelta(days=30))
    _section, links = _checklist(client, event.id)
    assert {f"/events/{event.id}/rooms", f"/events/{event.id}/phases"} <= set(links)
    assert f"/events/{event.id}/days" in links and len(links) == 4
    for link in links:
        assert client.get(link).status_code == 200, link


def test_organizers_see_who_deleted_which_event_and_staff_do_not(
    client, db_session, organizer, staff, auth
) -> None:
    from scheduler.event_deletion import delete_event

    doomed = _event(db_session, "削除する商談会<b>", TODAY + timedelta(days=50))
    slug = doomed.slug
    delete_event(db_session, doomed, confirmation=doomed.name, user_id=organizer.id)
    db_session.commit()
    auth.login()
    client.post("/language", data={"lang": "en"})
    page = client.get("/").get_data(as_text=True)
    section = page.split('id="deleted-events"', 1)[1].split("</section>", 1)[0]
    assert "削除する商談会&lt;b&gt;" in section and slug in section
    assert "org@example.jp" in section
    auth.logout()
    auth.login("staff@example.jp")
    assert 'id="deleted-events"' not in client.get("/").get_data(as_text=True)

"""QA of setting up a new event in English: the event form, days, slots, rooms, slug,
overview (each test says what QA found)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from scheduler import event_setup
from scheduler.errors import ValidationFailed
from scheduler.event_setup import BreakPlan, DayPlan
from scheduler.models import (
    AuditEntry,
    Event,
    Organization,
    Participant,
    ParticipantStatus,
    Room,
    Slot,
    Table,
)

LUNCH_DAY = {
    "date": "2027-02-10",
    "start_time": "10:00",
    "end_time": "16:30",
    "meeting_minutes": "25",
    "changeover_minutes": "5",
    "breaks": "12:00-13:00 Lunch",
}


def _create_event(client, **overrides) -> int:
    data = {"name": "Shizuoka Fair 2027", "timezone": "Asia/Tokyo"} | overrides
    response = client.post("/events/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


@pytest.fixture
def english(client, logged_in):
    client.post("/language", data={"lang": "en"})
    return client


def _slots(db_session, event_id: int) -> int:
    return db_session.scalar(select(func.count(Slot.id)).where(Slot.event_id == event_id))


# --------------------------------------------------------------------------- 1. default cap


def test_a_default_meeting_cap_of_zero_is_refused_next_to_the_field(english, db_session) -> None:
    """QA: 0 was accepted as "Meetings per participant (default cap)", and then nobody
    without a cap of their own got a meeting; the hint says to leave it empty for none."""
    response = english.post(
        "/events/new",
        data={"name": "Zero cap fair", "timezone": "Asia/Tokyo", "default_max_meetings": "0"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = re.search(r'id="default_max_meetings-err">\s*<li>([^<]*)<', page)
    assert error and error.group(1) == (
        "Enter a number from 1 to 200, or leave it empty for no cap."
    )
    assert 'value="Zero cap fair"' in page
    assert db_session.scalar(select(func.count(Event.id))) == 0
    # Empty (no cap) and 1 are fine.
    assert _create_event(english, default_max_meetings="")
    event_id = _create_event(english, name="One cap fair", default_max_meetings="1")
    assert db_session.get(Event, event_id).default_max_meetings == 1


def test_the_service_refuses_a_default_meeting_cap_of_zero(db_session) -> None:
    """QA: the service took 0 as a default cap too (an import or another caller)."""
    event = event_setup.create_event(db_session, name="Fair")
    with pytest.raises(ValidationFailed) as refused:
        event_setup.update_event(db_session, event, default_max_meetings=0)
    assert refused.value.field == "default_max_meetings"
    event_setup.update_event(db_session, event, default_max_meetings=None)
    assert event.default_max_meetings is None


# --------------------------------------------------------------------------- 2. stale preview


def test_saving_after_the_fields_changed_since_the_preview_saves_nothing(
    english, db_session
) -> None:
    """QA: after a preview of 12 slots the button read "Save these 12 slots"; with the
    last meeting's end changed before Save, 8 slots were saved without notice."""
    event_id = _create_event(english)
    url = f"/events/{event_id}/days/new"
    day = LUNCH_DAY | {"end_time": "17:00"}
    preview = english.post(url, data=day | {"action": "preview"}).get_data(as_text=True)
    assert "Save these 12 slots<" in preview
    previewed = re.search(r'name="previewed" value="([^"]+)"', preview).group(1)
    changed = day | {"end_time": "15:00", "previewed": previewed, "action": "save"}
    refused = english.post(url, data=changed)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert _slots(db_session, event_id) == 0
    assert 'id="changed-since-preview"' in page
    assert "The fields were changed after the preview, so nothing was saved." in page
    assert "it gives 8 slots." in page and "Save these 8 slots<" in page
    assert 'value="15:00"' in page  # what was typed stays
    # The fresh preview's Save saves what it shows.
    fresh = re.search(r'name="previewed" value="([^"]+)"', page).group(1)
    assert fresh != previewed
    saved = english.post(url, data=changed | {"previewed": fresh})
    assert saved.status_code == 302
    assert _slots(db_session, event_id) == 8


def test_saving_the_fields_previewed_saves_them(english, db_session) -> None:
    """The fingerprint of the preview does not stand in the way of an unchanged form."""
    event_id = _create_event(english)
    url = f"/events/{event_id}/days/new"
    preview = english.post(url, data=LUNCH_DAY | {"action": "preview"}).get_data(as_text=True)
    previewed = re.search(r'name="previewed" value="([^"]+)"', preview).group(1)
    saved = english.post(url, data=LUNCH_DAY | {"previewed": previewed, "action": "save"})
    assert saved.status_code == 302
    assert _slots(db_session, event_id) == 11


# --------------------------------------------------------------------------- 3. slot in a break


def test_a_single_slot_inside_a_break_is_refused_naming_the_break(english, db_session) -> None:
    """QA: "Add a single slot" took 12:00-12:30 inside the day's Lunch 12:00-13:00."""
    event_id = _create_event(english)
    english.post(f"/events/{event_id}/days/new", data=LUNCH_DAY | {"action": "save"})
    assert _slots(db_session, event_id) == 11
    response = english.post(
        f"/events/{event_id}/slots/new",
        data={"date": "2027-02-10", "start": "12:00", "end": "12:30", "label": "Extra"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = re.search(r'id="start-err">\s*<li>([^<]*)<', page)
    assert error and error.group(1) == (
        "This overlaps the break Lunch (12:00–13:00) of 2027-02-10."
    )
    assert 'value="12:00"' in page and 'value="Extra"' in page
    assert _slots(db_session, event_id) == 11
    # After the day's last slot, outside any break: added as before.
    added = english.post(
        f"/events/{event_id}/slots/new", data={"date": "2027-02-10", "start": "17:00",
                                              "end": "17:25"})
    assert added.status_code == 302 and _slots(db_session, event_id) == 12


def test_a_slot_overlapping_an_unnamed_break_is_refused(db_session) -> None:
    """A break without a name is named by its times."""
    event = event_setup.create_event(db_session, name="Fair")
    plan = DayPlan(date(2027, 2, 10), time(10), time(16), 25, 5,
                   (BreakPlan(time(12), time(13)),))
    event_setup.save_day(db_session, event, plan)
    starts = event_setup.local_datetime(event, date(2027, 2, 10), time(12, 50))
    ends = event_setup.local_datetime(event, date(2027, 2, 10), time(12, 59))
    with pytest.raises(ValidationFailed) as refused:
        event_setup.add_slot(db_session, event, starts_at=starts, ends_at=ends)
    assert refused.value.params == {"times": "12:00–13:00", "date": "2027-02-10"}


# --------------------------------------------------------------------------- 4. blank labels


def test_table_labels_of_separators_only_are_a_field_error(english, db_session) -> None:
    """QA: " , , " said "0 tables were added to Main Hall" as a success."""
    event_id = _create_event(english)
    english.post(f"/events/{event_id}/rooms", data={"room-name": "Main Hall"})
    room_id = db_session.scalar(select(Room.id).where(Room.event_id == event_id))
    response = english.post(
        f"/events/{event_id}/rooms", data={"tables-room": str(room_id), "tables-labels": " , , "}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "tables were added" not in page
    error = re.search(r'id="tables-labels-err">\s*<li>([^<]*)<', page)
    assert error and error.group(1) == "Give table labels such as A01-A40."
    assert db_session.scalar(select(func.count(Table.id))) == 0
    with pytest.raises(ValidationFailed):
        event_setup.expand_labels("、 ; ,")


# --------------------------------------------------------------------------- 5. break row


def test_the_preview_shows_a_breaks_name_apart_from_its_end(english) -> None:
    """QA: the preview read "13:00 Lunch" in the End column."""
    event_id = _create_event(english)
    page = english.post(
        f"/events/{event_id}/days/new", data=LUNCH_DAY | {"action": "preview"}
    ).get_data(as_text=True)
    row = re.search(r'<tr class="is-break">(.*?)</tr>', page, re.S).group(1)
    assert '<td colspan="2">12:00–13:00 · Lunch</td>' in row
    assert "13:00 Lunch</td>" not in page


# --------------------------------------------------------------------------- 6. slug


def test_a_long_name_gives_a_slug_cut_between_words(db_session) -> None:
    """QA: the slug made from a long name was cut mid-word ("…-2027-spri")."""
    name = "Shizuoka Manufacturing Business Fair 2027 Spring Edition"
    slug = event_setup.make_slug(db_session, name, today=date(2026, 11, 5))
    assert slug == "shizuoka-manufacturing-business-fair-2027"
    assert len(slug) <= 44
    # One long word has no hyphen to cut at: cut at the limit.
    word = "a" * 60
    assert event_setup.make_slug(db_session, word, today=date(2026, 11, 5)) == "a" * 44
    # A cut that falls on a hyphen keeps the whole last word.
    exact = "abcdefghij-" * 3 + "abcdefghijk-xyz"  # the 45th character is a hyphen
    assert event_setup.make_slug(db_session, exact, today=date(2026, 11, 5)) == exact[:44]


# --------------------------------------------------------------------------- 7. rename room


def test_a_room_is_renamed_on_the_rooms_page_and_audited(english, db_session) -> None:
    """QA: a room could only be deleted, not renamed."""
    event_id = _create_event(english)
    url = f"/events/{event_id}/rooms"
    english.post(url, data={"room-name": "Main Hall"})
    english.post(url, data={"room-name": "Side Room"})
    main, side = db_session.scalars(
        select(Room).where(Room.event_id == event_id).order_by(Room.sort_order)
    ).all()
    page = english.get(url).get_data(as_text=True)
    assert f'id="rename-name-{main.id}"' in page and 'value="Main Hall"' in page
    renamed = english.post(url, data={"rename-room": str(main.id), "rename-name": " Hall A "})
    assert renamed.status_code == 302 and renamed.headers["Location"].endswith(f"#room-{main.id}")
    db_session.expire_all()
    assert db_session.get(Room, main.id).name == "Hall A"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "room.rename")).one()
    assert entry.details == {"from": "Main Hall", "to": "Hall A"}
    assert "Main Hall was renamed Hall A." in english.get(url).get_data(as_text=True)
    # History says which names: the ones it had then, not only the room's name now.
    history = english.get(f"/events/{event_id}/history").get_data(as_text=True)
    row = re.search(rf'<tr id="entry-{entry.id}"(.*?)</tr>', history, flags=re.S).group(1)
    assert "Main Hall → Hall A" in row
    # A name another room has, an empty one, a too long one: refused next to that
    # room's field, which keeps what was typed.
    for typed, message in (
        ("Side Room", "There is already a room called Side Room."),
        ("", "This field is required."),
        ("x" * 101, "Field cannot be longer than 100 characters."),
    ):
        refused = english.post(url, data={"rename-room": str(main.id), "rename-name": typed})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 200
        field = re.search(rf'<input type="text" id="rename-name-{main.id}"[^>]*>', page).group(0)
        assert f'value="{typed}"' in field and 'aria-invalid="true"' in field
        error = re.search(rf'id="rename-name-{main.id}-err"><li>([^<]*)<', page)
        assert error and error.group(1) == message
        assert f'id="rename-name-{side.id}-err"' not in page
    db_session.expire_all()
    assert db_session.get(Room, main.id).name == "Hall A"
    assert db_session.get(Room, side.id).name == "Side Room"
    # Another event's room is not reachable.
    other = _create_event(english, name="Other fair")
    assert english.post(f"/events/{other}/rooms", data={
        "rename-room": str(main.id), "rename-name": "X"}).status_code == 404


def test_the_room_just_added_is_chosen_for_its_tables(english, db_session) -> None:
    """QA: after "Add room", the "Add tables" picker still showed the first room."""
    event_id = _create_event(english)
    url = f"/events/{event_id}/rooms"
    english.post(url, data={"room-name": "Main Hall"})
    added = english.post(url, data={"room-name": "Side Room"})
    side = db_session.scalar(select(Room).where(Room.name == "Side Room"))
    assert added.status_code == 302
    page = english.get(added.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'<option selected value="{side.id}">Side Room</option>', page)
    assert not re.search(r'<option selected value="\d+">Main Hall</option>', page)


# --------------------------------------------------------------------------- 8. next step


def _complete_setup(client, db_session, event_id: int) -> None:
    client.post(f"/events/{event_id}/days/new", data=LUNCH_DAY | {"action": "save"})
    client.post(f"/events/{event_id}/rooms", data={"room-name": "Main Hall"})
    room = db_session.scalar(select(Room).where(Room.event_id == event_id))
    client.post(f"/events/{event_id}/rooms",
                data={"tables-room": str(room.id), "tables-labels": "A01-A10"})
    client.post(f"/events/{event_id}/phases", data={
        "phase": "registration", "registration_closes": "2027-01-10T17:00"})
    db_session.add(Participant(
        event_id=event_id, organization=Organization(name="Acme", name_key="acme"),
        role="buyer", status=ParticipantStatus.APPROVED))
    db_session.commit()


def _next_step(page: str) -> str | None:
    found = re.search(r'<p id="next-step">(.*?)</p>', page, re.S)
    return found.group(1) if found else None


def test_the_overview_says_what_to_do_next_once_set_up(english, db_session) -> None:
    """QA: with every set-up item done, the overview did not say what comes next."""
    event_id = _create_event(english)
    overview = f"/events/{event_id}"
    assert _next_step(english.get(overview).get_data(as_text=True)) is None  # items to do
    _complete_setup(english, db_session, event_id)
    step = _next_step(english.get(overview).get_data(as_text=True))
    assert step is not None
    assert "move the event to the phase Preferences" in step
    assert f'<a href="/events/{event_id}/phases">Phases</a>' in step
    event = db_session.get(Event, event_id)
    for phase, words, link in (
        ("preferences", "move the event to the phase Scheduling",
         f"/events/{event_id}/preferences"),
        ("scheduling", "make the schedule, check it and publish it",
         f"/events/{event_id}/schedule/"),
        ("published", "move the event to the phase On the day", f"/events/{event_id}/phases"),
        ("on_the_day", "follow the day&#39;s meetings", f"/events/{event_id}/day/"),
    ):
        event.phase = phase
        db_session.commit()
        step = _next_step(english.get(overview).get_data(as_text=True))
        assert step is not None and words in step and f'href="{link}"' in step, (phase, step)
    event.phase = "scheduling"
    event.published_at = datetime(2027, 1, 20, tzinfo=UTC)
    db_session.commit()
    step = _next_step(english.get(overview).get_data(as_text=True))
    assert "the schedule is published; move the event to the phase Published" in step
    event.phase = "closed"
    db_session.commit()
    assert _next_step(english.get(overview).get_data(as_text=True)) is None

"""Copying an event for next year's fair, and deleting an event with everything of it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from scheduler import audit, event_copy, event_deletion, event_setup
from scheduler.db import Base, utcnow
from scheduler.demo import generate_demo
from scheduler.demo_past import generate_past_demo
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    Attendance,
    AuditEntry,
    Event,
    EventDay,
    Interest,
    Meeting,
    MeetingOutcome,
    Need,
    Organization,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantRole,
    Person,
    Phase,
    Proposal,
    RunStatus,
    ScheduleRun,
    SheetBuild,
    SheetBuildStatus,
    Slot,
    SuggestionShown,
    Table,
)
from tests.published_fair import published_fair

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def _today_in(zone: ZoneInfo) -> date:
    return utcnow().astimezone(zone).date()


def _second_sunday_of_march(year: int) -> date:
    """The day the clocks go forward in New York."""
    first = date(year, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


def _fair(session: Session, *, day: date, slug: str = "fair-src", phase: Phase = Phase.SCHEDULING):
    """A small generated demo fair (Tokyo) on ``day``, committed."""
    event = generate_demo(session, seed=7, buyers=3, suppliers=8, slug=slug, day=day, phase=phase)
    session.commit()
    return event


def _local(event: Event, moment: datetime | None) -> tuple[date, time] | None:
    if moment is None:
        return None
    local = moment.astimezone(event.tz)
    return local.date(), local.time()


def _rows(session: Session) -> dict[str, set[tuple]]:
    """The primary keys of every row of every table."""
    result = {}
    for table in Base.metadata.sorted_tables:
        keys = [c for c in table.primary_key.columns]
        result[table.name] = set(session.execute(select(*keys)).all())
    return result


@pytest.fixture
def english(client, logged_in):
    """The organizer, logged in, reading the pages in English (the messages checked)."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    return logged_in


# --------------------------------------------------------------------------- copy: dates


def test_copy_moves_every_date_and_keeps_tokyo_wall_clock(db_session) -> None:
    source_day = _today_in(TOKYO) + timedelta(days=60)
    source = _fair(db_session, day=source_day)
    # a slot changed by hand keeps its label and time
    event_setup.update_slot(
        db_session,
        source.slots[0],
        starts_at=source.slots[0].starts_at,
        ends_at=source.slots[0].ends_at,
        label="開会直後",
    )
    db_session.commit()
    first_day = source_day + timedelta(days=364)

    copy = event_copy.copy_event(
        db_session, source, name="ふじのくに 次回", slug="fair-next", first_day=first_day
    )
    db_session.commit()

    assert [d.date for d in copy.days] == [d.date + timedelta(days=364) for d in source.days]
    for old, new in zip(source.days, copy.days, strict=True):
        assert (new.start_time, new.end_time, new.meeting_minutes, new.changeover_minutes) == (
            old.start_time,
            old.end_time,
            old.meeting_minutes,
            old.changeover_minutes,
        )
        assert new.breaks == old.breaks and new.breaks  # the lunch break
    assert len(copy.slots) == len(source.slots) > 5
    for old, new in zip(source.slots, copy.slots, strict=True):
        old_date, old_time = _local(source, old.starts_at)
        assert _local(copy, new.starts_at) == (old_date + timedelta(days=364), old_time)
        assert _local(copy, new.ends_at)[1] == _local(source, old.ends_at)[1]
        assert new.label == old.label
        assert new.day is copy.days[0]
        # Tokyo has no clock change: the instants move by exactly 364 days
        assert new.starts_at - old.starts_at == timedelta(days=364)
    assert copy.slots[0].label == "開会直後"
    old_phases = {p.phase: p for p in source.phases}
    assert len(copy.phases) == 6
    for new in copy.phases:
        old = old_phases[new.phase]
        for edge in ("opens_at", "closes_at"):
            before, after = getattr(old, edge), getattr(new, edge)
            if before is None:
                assert after is None
            else:
                assert _local(copy, after) == (
                    _local(source, before)[0] + timedelta(days=364),
                    _local(source, before)[1],
                )


def test_copy_keeps_new_york_wall_clock_across_the_change_to_summer_time(db_session) -> None:
    year = _today_in(NEW_YORK).year + 1
    winter_day = _second_sunday_of_march(year) - timedelta(days=4)  # a Wednesday, EST
    source = event_setup.create_event(
        db_session, name=f"Buyers meet suppliers {year}", timezone="America/New_York"
    )
    event_setup.save_day(
        db_session,
        source,
        event_setup.DayPlan(
            date=winter_day,
            start=time(9, 0),
            end=time(12, 0),
            breaks=(event_setup.BreakPlan(time(10, 30), time(11, 0), "Coffee"),),
        ),
    )
    deadline = datetime.combine(winter_day - timedelta(days=20), time(17, 0), NEW_YORK)
    event_setup.set_phase_deadlines(
        db_session, source, {"preferences": (None, deadline.astimezone(UTC))}
    )
    db_session.commit()
    summer_day = _second_sunday_of_march(year + 1) + timedelta(days=3)  # a Wednesday, EDT
    shift = summer_day - winter_day

    copy = event_copy.copy_event(
        db_session,
        source,
        name=f"Buyers meet suppliers {year + 1}",
        slug=None,
        first_day=summer_day,
    )
    db_session.commit()

    assert copy.slug == f"buyers-meet-suppliers-{year + 1}"
    assert [d.date for d in copy.days] == [summer_day]
    assert [s.starts_at.astimezone(NEW_YORK).strftime("%H:%M") for s in copy.slots] == [
        s.starts_at.astimezone(NEW_YORK).strftime("%H:%M") for s in source.slots
    ]
    assert copy.slots[0].starts_at.astimezone(NEW_YORK).strftime("%H:%M %Z") == "09:00 EDT"
    for old, new in zip(source.slots, copy.slots, strict=True):
        # an hour less in elapsed time: 9:00 EST is 14:00 UTC, 9:00 EDT is 13:00 UTC
        assert new.starts_at - old.starts_at == shift - timedelta(hours=1)
        assert new.ends_at - new.starts_at == old.ends_at - old.starts_at
    # the deadline 20 days before lands before the change in both years (17:00 EST)
    preferences = next(p for p in copy.phases if p.phase == "preferences")
    assert preferences.closes_at.astimezone(NEW_YORK).time() == time(17, 0)
    assert preferences.closes_at.astimezone(NEW_YORK).date() == deadline.date() + shift


def test_a_time_the_clocks_skip_on_the_new_date_is_refused(db_session) -> None:
    year = _today_in(NEW_YORK).year + 1
    source = event_setup.create_event(
        db_session, name="Night market", slug="night-market", timezone="America/New_York"
    )
    event_setup.save_day(
        db_session,
        source,
        event_setup.DayPlan(date=date(year, 6, 1), start=time(1, 0), end=time(3, 0)),
    )
    db_session.commit()
    with pytest.raises(ValidationFailed) as caught:
        event_copy.copy_event(
            db_session,
            source,
            name="Night market next",
            slug="night-market-next",
            first_day=_second_sunday_of_march(year + 1),
        )
    assert caught.value.field == "first_day"
    assert "does not exist" in caught.value.message
    db_session.rollback()
    assert db_session.scalar(select(func.count(Event.id))) == 1


def test_suggestions_move_the_year_and_find_a_free_slug(db_session) -> None:
    day = date(_today_in(TOKYO).year + 1, 6, 10)
    source = _fair(db_session, day=day, slug=f"monozukuri-{day.year}")
    source.name = f"ものづくり商談会 {day.year} 秋"
    db_session.commit()
    first_day = event_copy.suggest_first_day(source)
    assert first_day == day + timedelta(days=364)
    assert first_day.weekday() == day.weekday()
    year = first_day.year
    assert event_copy.suggest_name(source, first_day) == f"ものづくり商談会 {year} 秋"
    assert event_copy.suggest_slug(db_session, source, first_day) == f"monozukuri-{year}"
    event_setup.create_event(db_session, name="taken", slug=f"monozukuri-{year}")
    assert event_copy.suggest_slug(db_session, source, first_day) == f"monozukuri-{year}-2"


def test_an_event_without_days_is_copied_without_dates(db_session) -> None:
    source = event_setup.create_event(db_session, name="準備中の商談会", slug="in-preparation")
    room = event_setup.add_room(db_session, source, "大会議室")
    event_setup.add_tables(db_session, room, "T1-T3")
    opens = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
    event_setup.set_phase_deadlines(db_session, source, {"registration": (opens, None)})
    db_session.commit()
    copy = event_copy.copy_event(db_session, source, name="準備中 2", slug="", first_day=None)
    db_session.commit()
    assert (copy.days, copy.slots) == ([], [])
    assert [t.label for t in copy.rooms[0].tables] == ["T1", "T2", "T3"]
    # nothing to count from: no deadline is invented
    assert all(p.opens_at is None and p.closes_at is None for p in copy.phases)
    assert copy.slug.startswith("in-preparation-")


# --------------------------------------------------------------------------- copy: content


def test_copy_takes_rooms_tables_and_settings_but_nothing_personal(db_session) -> None:
    source = published_fair(db_session)
    source.max_requests, source.default_max_meetings = 7, 9
    source.screening_enabled, source.contact_email = False, "fair@example.jp"
    hosted = [t for t in db_session.scalars(select(Table).where(Table.event_id == source.id))]
    assert any(t.host_participant_id for t in hosted)
    db_session.commit()
    first_day = max(source_day.date for source_day in source.days) + timedelta(days=364)
    if first_day < _today_in(TOKYO):
        first_day = _today_in(TOKYO) + timedelta(days=30)

    copy = event_copy.copy_event(
        db_session, source, name="次回", slug="next-fair", first_day=first_day, user_id=None
    )
    db_session.commit()

    for key in event_setup.EVENT_FIELDS:
        assert getattr(copy, key) == getattr(source, key), key
    assert (copy.phase, copy.published_at, copy.published_version) == (Phase.REGISTRATION, None, 0)
    assert [(r.name, r.sort_order) for r in copy.rooms] == [
        (r.name, r.sort_order) for r in source.rooms
    ]
    for old_room, new_room in zip(source.rooms, copy.rooms, strict=True):
        assert [(t.label, t.sort_order) for t in new_room.tables] == [
            (t.label, t.sort_order) for t in old_room.tables
        ]
        assert all(t.host_participant_id is None and t.event_id == copy.id for t in new_room.tables)
    for model in (Participant, Interest, Meeting, MeetingOutcome, ScheduleRun, PairRule, Proposal):
        count = db_session.scalar(
            select(func.count()).select_from(model).where(model.event_id == copy.id)
        )
        assert count == 0, model.__name__
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.event_id == copy.id)).all()
    assert [e.action for e in entries] == ["event.copy"]
    assert entries[0].details["source_event_id"] == source.id


def test_every_event_column_is_copied_or_deliberately_left(db_session) -> None:
    """A new setting on Event must be copied (EVENT_FIELDS) or be said to stay behind."""
    left = {"id", "name", "slug", "phase", "published_version", "published_at"}
    left |= {"staff_links_version", "links_salt", "created_at", "updated_at"}
    columns = {c.key for c in inspect(Event).column_attrs}
    assert columns == left | set(event_setup.EVENT_FIELDS)


def _setup_of(session: Session, event_id: int) -> dict[str, list[tuple]]:
    """An event's set-up rows as plain values, read afresh."""
    session.expire_all()
    return {
        "event": session.execute(
            select(Event.name, Event.slug, Event.venue, Event.phase).where(Event.id == event_id)
        ).all(),
        "days": session.execute(
            select(EventDay.id, EventDay.date, EventDay.start_time, EventDay.breaks)
            .where(EventDay.event_id == event_id)
            .order_by(EventDay.id)
        ).all(),
        "slots": session.execute(
            select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.label, Slot.day_id)
            .where(Slot.event_id == event_id)
            .order_by(Slot.id)
        ).all(),
        "tables": session.execute(
            select(
                Table.id, Table.label, Table.room_id, Table.sort_order, Table.host_participant_id
            )
            .where(Table.event_id == event_id)
            .order_by(Table.id)
        ).all(),
    }


def test_the_copy_is_edited_independently(client, english, db_session) -> None:
    source = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=40))
    first_day = source.days[0].date + timedelta(days=364)
    response = client.post(
        f"/events/{source.id}/copy",
        data={
            "name": "次回の商談会",
            "slug": "next-one",
            "first_day": first_day.isoformat(),
            "action": "copy",
        },
    )
    assert response.status_code == 302
    copy_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert copy_id != source.id
    source_before = _setup_of(db_session, source.id)
    copy_before = _setup_of(db_session, copy_id)
    assert len(copy_before["tables"]) == len(source_before["tables"]) > 0

    copy = db_session.get(Event, copy_id)
    table, day = copy.rooms[0].tables[0], copy.days[0]
    edited = {
        "name": "次回の商談会",
        "slug": "next-one",
        "venue": "別会場",
        "timezone": "Asia/Tokyo",
    }
    assert client.post(f"/events/{copy_id}/edit", data=edited).status_code == 302
    assert client.post(f"/events/{copy_id}/tables/{table.id}/delete").status_code == 302
    assert client.post(f"/events/{copy_id}/days/{day.id}/delete").status_code == 302
    phases = {"phase": "preferences"}
    assert client.post(f"/events/{copy_id}/phases", data=phases).status_code == 302

    assert _setup_of(db_session, source.id) == source_before
    copy_after = _setup_of(db_session, copy_id)
    assert copy_after["event"] == [("次回の商談会", "next-one", "別会場", "preferences")]
    assert copy_after["days"] == [] and copy_after["slots"] == []
    assert len(copy_after["tables"]) == len(copy_before["tables"]) - 1


def test_copy_page_shows_what_is_and_is_not_copied(client, english, db_session) -> None:
    source = published_fair(db_session)
    response = client.get(f"/events/{source.id}/copy")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    suggested = source.days[0].date + timedelta(days=364)
    while suggested < _today_in(TOKYO):
        suggested += timedelta(days=364)
    assert f'value="{suggested.isoformat()}"' in body
    assert f"{suggested.year}" in body and 'name="slug"' in body
    assert 'id="copied"' in body and 'id="not-copied"' in body
    participants = db_session.scalar(
        select(func.count(Participant.id)).where(Participant.event_id == source.id)
    )
    meetings = db_session.scalar(
        select(func.count(Meeting.id)).where(Meeting.event_id == source.id)
    )
    assert f"{participants} participants" in body and f"{meetings} meetings" in body
    assert suggested.isoformat() in body.split('id="copy-days"')[1]  # the new dates shown


@pytest.mark.parametrize(
    ("first_day", "field_text"),
    [
        ("2027-02-30", "Not a valid date"),
        ("2001-04-01", "is in the past"),
        ("2101-04-01", "years ahead"),
        ("", "Give the new first day"),
    ],
)
def test_copy_with_a_bad_date_keeps_what_was_typed(
    client, english, db_session, first_day, field_text
) -> None:
    source = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=40))
    response = client.post(
        f"/events/{source.id}/copy",
        data={
            "name": "来年の商談会",
            "slug": "next-year-fair",
            "first_day": first_day,
            "action": "copy",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_text in body
    assert 'value="来年の商談会"' in body and 'value="next-year-fair"' in body
    assert f'value="{first_day}"' in body
    assert db_session.scalar(select(func.count(Event.id))) == 1


def test_copy_with_a_taken_slug_keeps_what_was_typed(client, english, db_session) -> None:
    source = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=40))
    first_day = (source.days[0].date + timedelta(days=364)).isoformat()
    response = client.post(
        f"/events/{source.id}/copy",
        data={
            "name": "来年の商談会",
            "slug": source.slug,
            "first_day": first_day,
            "action": "copy",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Another event already uses &#39;{source.slug}&#39;" in body
    assert 'value="来年の商談会"' in body and f'value="{first_day}"' in body
    assert db_session.scalar(select(func.count(Event.id))) == 1


def test_a_slug_taken_between_the_check_and_the_save_is_the_same_clear_error(
    client, english, db_session, monkeypatch
) -> None:
    """Two organizers saving the same slug at once: the second is told, as when the
    slug was already taken, and keeps what was typed (the database's unique index
    decides, not a 500)."""
    source = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=40))
    first_day = (source.days[0].date + timedelta(days=364)).isoformat()
    monkeypatch.setattr(event_setup, "_slug_taken", lambda *args, **kwargs: False)
    copied = client.post(
        f"/events/{source.id}/copy",
        data={"name": "来年の商談会", "slug": source.slug, "first_day": first_day,
              "action": "copy"},
    )
    created = client.post("/events/new", data={"name": "別の商談会", "slug": source.slug,
                                                "timezone": "Asia/Tokyo"})
    other = event_setup.create_event(db_session, name="三つ目", slug="third-fair")
    db_session.commit()
    edited = client.post(f"/events/{other.id}/edit", data={
        "name": "三つ目の商談会", "slug": source.slug, "timezone": "Asia/Tokyo"})
    for response, name in ((copied, "来年の商談会"), (created, "別の商談会"),
                           (edited, "三つ目の商談会")):
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f"Another event already uses &#39;{source.slug}&#39;" in body
        assert f'value="{name}"' in body
    db_session.expire_all()
    assert db_session.scalars(select(Event.slug).order_by(Event.id)).all() == [
        source.slug, "third-fair"]


# --------------------------------------------------------------------------- delete


@pytest.fixture
def two_fairs(app, db_session):
    """An upcoming fair, then last autumn's (closed) with uploads, runs and rules; the
    rows of the database before the past fair existed; the uploads folder."""
    upcoming = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=60), slug="upcoming")
    uploads = Path(app.config["INSTANCE_UPLOADS"])
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "import-upcoming.json").write_text(json.dumps({"event_id": upcoming.id}))
    (uploads / "import-upcoming.bin").write_bytes(b"name\n")
    before = _rows(db_session)

    past = generate_past_demo(db_session, buyers=3, suppliers=10)
    db_session.flush()
    # a company of the upcoming fair took part last autumn too, with a contact of its own
    # then, and one person attends for it in both fairs
    shared = upcoming.participants[-1]
    both_years = shared.people[0]
    again = Participant(event_id=past.id, organization=shared.organization, role=shared.role)
    autumn_contact = Person(organization=shared.organization, name="秋 太郎")
    db_session.add_all([again, autumn_contact])
    db_session.add_all(
        [
            Attendance(participant=again, person=autumn_contact, is_contact=True),
            Attendance(participant=again, person=both_years),
        ]
    )
    buyer = next(p for p in past.participants if p.role == ParticipantRole.BUYER)
    supplier = next(p for p in past.participants if p.role == ParticipantRole.SUPPLIER)
    need = db_session.scalars(select(Need).where(Need.participant_id == buyer.id)).first()
    (uploads / "proposals").mkdir(exist_ok=True)
    (uploads / "proposals" / "sheet.pdf").write_bytes(b"%PDF-1.4 test")
    db_session.add(
        Proposal(
            event_id=past.id,
            need_id=need.id,
            supplier_id=supplier.id,
            offer="試作対応",
            attachment_path="proposals/sheet.pdf",
            attachment_name="sheet.pdf",
            attachment_type="application/pdf",
            attachment_size=13,
        )
    )
    a, b = sorted([buyer.id, supplier.id])
    db_session.add_all(
        [
            PairRule(
                event_id=past.id, participant_a_id=a, participant_b_id=b, kind=PairRuleKind.FORCE
            ),
            SuggestionShown(event_id=past.id, viewer_id=supplier.id, suggested_id=buyer.id),
            ScheduleRun(event_id=past.id, status=RunStatus.SUCCEEDED, parameters={}),
        ]
    )
    build = SheetBuild(event_id=past.id, content_key="0" * 64, status=SheetBuildStatus.DONE)
    db_session.add(build)
    db_session.flush()
    sheets = uploads / "sheets" / f"event-{past.id}"
    sheets.mkdir(parents=True)
    (sheets / f"sheets-{build.id}.pdf").write_bytes(b"%PDF-1.4 sheets")
    audit.record(db_session, "phase.change", event_id=past.id, target=past)
    (uploads / "import-past.json").write_text(json.dumps({"event_id": past.id}))
    (uploads / "import-past.bin").write_bytes(b"name\n")
    (uploads / "import-past-left-out.json").write_text(json.dumps({"event_id": past.id}))
    db_session.commit()
    return upcoming, past, before, uploads


def test_delete_removes_every_row_of_the_event_and_nothing_else(
    client, english, db_session, two_fairs
) -> None:
    upcoming, past, before, uploads = two_fairs
    past_id, past_name, past_slug = past.id, past.name, past.slug
    # the past fair has rows in every table that refers to an event or a participant
    of_past = {
        table.name: db_session.scalar(
            select(func.count()).select_from(table).where(table.c[column] == key)
        )
        for table in Base.metadata.sorted_tables
        for column, key in (("event_id", past.id),)
        if column in table.c
    }
    of_past["attendances"] = len([a for p in past.participants for a in p.attendances])
    of_past["needs"] = len([n for p in past.participants for n in p.needs])
    of_past["participant_unavailable_slots"] = len(
        [s for p in past.participants for s in p.unavailable_slots]
    )
    assert all(of_past.values()), of_past
    assert db_session.scalar(select(func.count(Meeting.id)).where(Meeting.event_id == past.id))
    page = client.get(f"/events/{past.id}/delete").get_data(as_text=True)
    meetings = db_session.scalar(select(func.count(Meeting.id)).where(Meeting.event_id == past.id))
    assert f"{meetings} meetings" in page and "5 files kept for it" in page
    answers = of_past["fair_feedback"]
    assert f"{answers} survey answer" in page

    response = client.post(
        f"/events/{past_id}/delete", data={"confirmation": past_name, "delete_companies": "y"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/")

    db_session.expire_all()
    after = _rows(db_session)
    entry = after["audit_entries"] - before["audit_entries"]
    assert len(entry) == 1
    for name, keys in before.items():
        if name not in ("audit_entries", "retired_feeds"):
            assert after[name] == keys, name  # the past fair's rows all gone, no other touched
    # Its participants' calendar feeds and the staff feed answer with an empty calendar.
    retired = after["retired_feeds"] - before["retired_feeds"]
    assert len(retired) == of_past["participants"] + 1
    assert before["retired_feeds"] <= after["retired_feeds"]
    log = db_session.get(AuditEntry, next(iter(entry))[0])
    assert (log.action, log.event_id, log.user_id) == ("event.delete", None, english.id)
    assert log.details["deleted_by"] == "org@example.jp" and log.details["slug"] == past_slug
    assert log.details["name"] == past_name and log.details["counts"]["meetings"] == meetings
    assert log.details["counts"]["outcomes"] > 0 and log.details["companies_deleted"] > 0
    assert log.details["counts"]["survey_answers"] == answers
    # the past fair's files are gone, the upcoming fair's stay
    assert sorted(p.name for p in uploads.rglob("*") if p.is_file()) == [
        "import-upcoming.bin",
        "import-upcoming.json",
    ]
    assert not (uploads / "sheets" / f"event-{past_id}").exists()
    assert client.get(f"/events/{past_id}").status_code == 404
    assert client.get(f"/events/{upcoming.id}").status_code == 200


def test_delete_may_keep_the_companies_but_never_their_contacts(
    db_session, organizer, two_fairs
) -> None:
    _upcoming, past, before, _uploads = two_fairs
    companies = set(
        db_session.scalars(
            select(Participant.organization_id).where(Participant.event_id == past.id)
        )
    )
    deleted = event_deletion.delete_event(
        db_session, past, confirmation=past.slug, delete_companies=False, user_id=organizer.id
    )
    db_session.commit()

    assert deleted.companies_deleted == 0 and deleted.people_deleted > 0
    remaining = set(db_session.scalars(select(Organization.id)))
    assert companies <= remaining
    # only people attending the upcoming fair are left (and none of last autumn's only)
    assert {(p,) for p in db_session.scalars(select(Person.id))} == before["people"]


@pytest.mark.parametrize("phase", [Phase.ON_THE_DAY, Phase.PUBLISHED])
def test_delete_is_refused_while_the_fair_is_under_way(client, english, db_session, phase) -> None:
    event = _fair(db_session, day=_today_in(TOKYO), slug="today", phase=phase)
    event.published_at = utcnow() - timedelta(days=3)
    db_session.commit()
    page = client.get(f"/events/{event.id}/delete").get_data(as_text=True)
    assert "The fair is under way" in page and "disabled" in page

    response = client.post(f"/events/{event.id}/delete", data={"confirmation": event.name})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "The fair is under way" in body
    db_session.expire_all()
    assert db_session.get(Event, event.id) is not None

    # once closed, it may go
    event = db_session.get(Event, event.id)
    event.phase = Phase.CLOSED
    db_session.commit()
    assert (
        client.post(f"/events/{event.id}/delete", data={"confirmation": event.name}).status_code
        == 302
    )


def test_a_test_event_with_slots_today_but_nothing_published_is_not_live(db_session) -> None:
    event = _fair(db_session, day=_today_in(TOKYO), slug="rehearsal", phase=Phase.REGISTRATION)
    assert not event_deletion.fair_under_way(event)
    assert event_deletion.refusal(db_session, event) is None


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_delete_is_refused_while_a_run_is_queued_or_running(
    client, english, db_session, status
) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20))
    run = ScheduleRun(event_id=event.id, status=status, parameters={}, heartbeat_at=utcnow())
    db_session.add(run)
    db_session.commit()
    response = client.post(f"/events/{event.id}/delete", data={"confirmation": event.name})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Solver run {run.id} of this event is queued or running" in body
    db_session.expire_all()
    assert db_session.get(Event, event.id) is not None


def test_delete_is_refused_while_the_schedule_sheets_are_printed(
    client, english, db_session
) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20))
    build = SheetBuild(
        event_id=event.id,
        content_key="1" * 64,
        status=SheetBuildStatus.RUNNING,
        heartbeat_at=utcnow(),
        worker="print-host:4242",  # another machine: its heartbeat says it is alive
    )
    db_session.add(build)
    db_session.commit()
    response = client.post(f"/events/{event.id}/delete", data={"confirmation": event.name})
    assert "are being printed" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Event, event.id) is not None

    build = db_session.get(SheetBuild, build.id)
    build.heartbeat_at = utcnow() - timedelta(minutes=10)  # its process is gone
    db_session.commit()
    response = client.post(f"/events/{event.id}/delete", data={"confirmation": event.name})
    assert response.status_code == 302


def test_a_run_whose_worker_died_does_not_block_the_deletion(db_session, organizer) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20))
    stale = utcnow() - timedelta(minutes=10)
    db_session.add(
        ScheduleRun(event_id=event.id, status=RunStatus.RUNNING, parameters={}, heartbeat_at=stale)
    )
    db_session.commit()
    event_deletion.delete_event(db_session, event, confirmation=event.name, user_id=organizer.id)
    db_session.commit()
    assert db_session.scalar(select(func.count(ScheduleRun.id))) == 0


@pytest.mark.parametrize("typed", ["", "upcoming ", "Upcoming", "ふじのくに", "fair-src"])
def test_the_confirmation_must_be_the_name_or_slug(client, english, db_session, typed) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20), slug="upcoming-2")
    response = client.post(f"/events/{event.id}/delete", data={"confirmation": typed})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="errors"' in body
    if typed:
        assert f'value="{typed}"' in body
    db_session.expire_all()
    assert db_session.get(Event, event.id) is not None


@pytest.mark.parametrize("typed", ["upcoming-2", " upcoming-2 ", "name"])
def test_the_name_or_the_slug_confirms(db_session, organizer, typed) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20), slug="upcoming-2")
    typed = event.name if typed == "name" else typed
    event_deletion.delete_event(db_session, event, confirmation=typed, user_id=organizer.id)
    db_session.commit()
    assert db_session.scalar(select(func.count(Event.id))) == 0


def test_staff_cannot_copy_or_delete(client, auth, staff, db_session) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20))
    auth.login("staff@example.jp")
    assert client.get(f"/events/{event.id}/copy").status_code == 403
    assert (
        client.post(
            f"/events/{event.id}/copy",
            data={"name": "x", "slug": "x-copy", "first_day": "2030-01-01", "action": "copy"},
        ).status_code
        == 403
    )
    assert client.get(f"/events/{event.id}/delete").status_code == 403
    assert (
        client.post(f"/events/{event.id}/delete", data={"confirmation": event.name}).status_code
        == 403
    )
    assert db_session.scalar(select(func.count(Event.id))) == 1
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f"/events/{event.id}/delete" not in page and f"/events/{event.id}/copy" not in page


def test_delete_needs_the_csrf_token(csrf_app, db_session) -> None:
    from scheduler.users import create_user
    from tests.conftest import PASSWORD

    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20))
    create_user(db_session, email="org@example.jp", name="主催", password=PASSWORD)
    db_session.commit()
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/auth/login", data={"email": "org@example.jp", "password": PASSWORD, "csrf_token": token}
    )
    response = client.post(f"/events/{event.id}/delete", data={"confirmation": event.name})
    assert response.status_code == 400
    db_session.expire_all()
    assert db_session.get(Event, event.id) is not None


def test_deleting_refused_by_the_service_for_a_conflict(db_session) -> None:
    event = _fair(db_session, day=_today_in(TOKYO) + timedelta(days=20))
    db_session.add(ScheduleRun(event_id=event.id, status=RunStatus.QUEUED, parameters={}))
    db_session.commit()
    with pytest.raises(Conflict):
        event_deletion.delete_event(db_session, event, confirmation=event.name)

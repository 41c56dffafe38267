"""The demo fair: deterministic, idempotent, realistic in shape, and consistent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db import Base, make_engine, make_session_factory
from scheduler.demo import (
    DEMO_ORGANIZER_EMAIL,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    ensure_demo_organizer,
    generate_demo,
)
from scheduler.errors import ValidationFailed
from scheduler.models import (
    Event,
    Interest,
    Organization,
    Participant,
    ParticipantRole,
    Person,
    Role,
    Table,
)
from scheduler.names import company_name_key
from scheduler.users import authenticate
from scheduler.vocabulary import (
    CERTIFICATIONS,
    FIELDS,
    LOT_SIZES,
    PREFECTURES,
    TECHNOLOGIES,
    is_known_technology,
    technologies_by_field,
    technology_label,
)

JST = ZoneInfo("Asia/Tokyo")
KANJI_OR_KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HIRAGANA = re.compile(r"[\u3040-\u309f]")
KATAKANA_ONLY = re.compile(r"[\u30a0-\u30ff ]+")
REPO = Path(__file__).resolve().parents[1]


def _new_session() -> Session:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    return make_session_factory(engine)()


@pytest.fixture
def demo_session() -> Iterator[Session]:
    """An empty in-memory database with the schema (local: no app, no migrations needed)."""
    session = _new_session()
    yield session
    session.close()


@pytest.fixture(scope="module")
def fair() -> Iterator[tuple[Session, Event, float]]:
    """The default-size demo fair, generated once for the read-only tests of this module."""
    session = _new_session()
    started = time.perf_counter()
    event = generate_demo(session)
    elapsed = time.perf_counter() - started
    session.commit()
    yield session, event, elapsed
    session.close()


def _participants(event: Event, role: ParticipantRole) -> list[Participant]:
    return sorted((p for p in event.participants if p.role == role), key=lambda p: p.code)


def canonical_dump(session: Session, event: Event) -> dict[str, Any]:
    """Everything the generator decides, by codes and labels (no ids, tokens or timestamps)."""

    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    participants = sorted(event.participants, key=lambda p: p.code)
    interests = session.scalars(select(Interest).where(Interest.event_id == event.id)).all()
    tables = session.scalars(select(Table).where(Table.event_id == event.id)).all()
    return {
        "event": [event.name, event.slug, event.venue, event.address, event.description,
                  event.timezone, event.phase, event.max_requests, event.contact_email],
        "days": [[str(d.date), str(d.start_time), str(d.end_time), d.meeting_minutes,
                  d.changeover_minutes, d.breaks] for d in event.days],
        "slots": [[when(s.starts_at), when(s.ends_at), s.label] for s in event.slots],
        "phases": [[p.phase, when(p.opens_at), when(p.closes_at)] for p in event.phases],
        "tables": sorted([t.room.name, t.label, t.host.code if t.host else None] for t in tables),
        "participants": [
            {
                "code": p.code, "role": p.role, "status": p.status, "department": p.department,
                "max_meetings": p.max_meetings, "desks": p.parallel_desks,
                "from": when(p.available_from), "until": when(p.available_until),
                "unavailable": [s.label for s in p.unavailable_slots], "notes": p.notes,
                "organization": {
                    column: getattr(p.organization, column)
                    for column in ("name", "name_kana", "name_key", "prefecture", "city",
                                   "industry", "employees", "website", "description",
                                   "strengths", "technologies", "tags", "equipment", "materials",
                                   "certifications", "lot_sizes", "what_we_buy")
                },
                "people": [[a.person.name, a.person.name_kana, a.person.title, a.person.email,
                            a.is_contact] for a in p.attendances],
                "needs": [[n.title, n.technologies, n.material, n.lot_size, n.timing,
                           n.description] for n in p.needs],
            }
            for p in participants
        ],
        "interests": sorted(
            [i.from_participant.code, i.to_participant.code, i.level, i.declined, i.note, i.source]
            for i in interests
        ),
    }


def _dump_in_fresh_database(**arguments: Any) -> dict[str, Any]:
    session = _new_session()
    try:
        dump = canonical_dump(session, generate_demo(session, **arguments))
    finally:
        session.close()
    return json.loads(json.dumps(dump))


# ------------------------------------------------------------------ determinism
def test_the_same_seed_gives_the_same_fair() -> None:
    first = _dump_in_fresh_database(seed=7)
    assert first == _dump_in_fresh_database(seed=7)
    assert first != _dump_in_fresh_database(seed=8)


def test_the_fair_does_not_depend_on_string_hash_randomisation() -> None:
    """Set iteration order changes with PYTHONHASHSEED; the fair must not."""
    script = (
        "import json; from tests.test_demo import _dump_in_fresh_database as dump; "
        "print(json.dumps(dump(seed=11, buyers=10, suppliers=40)))"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed}, timeout=60,
        )
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1] == _dump_in_fresh_database(seed=11, buyers=10, suppliers=40)


def test_generating_again_returns_the_existing_event_and_adds_nothing(
    demo_session: Session,
) -> None:
    event = generate_demo(demo_session, buyers=5, suppliers=20)
    demo_session.commit()
    counts = [demo_session.scalar(select(func.count()).select_from(model))
              for model in (Event, Organization, Participant, Person, Interest, Table)]

    again = generate_demo(demo_session, buyers=5, suppliers=20, seed=99)

    assert again.id == event.id
    assert counts == [demo_session.scalar(select(func.count()).select_from(model))
                      for model in (Event, Organization, Participant, Person, Interest, Table)]


def test_another_slug_makes_a_second_independent_fair(demo_session: Session) -> None:
    first = generate_demo(demo_session, buyers=5, suppliers=20)
    second = generate_demo(demo_session, buyers=5, suppliers=20, slug="monozukuri-2027-b")
    assert first.id != second.id
    assert len(second.participants) == 25
    first_orgs = {p.organization_id for p in first.participants}
    assert first_orgs.isdisjoint(p.organization_id for p in second.participants)


@pytest.mark.parametrize(("buyers", "suppliers"), [(0, 10), (3, 0)])
def test_a_fair_needs_both_sides(demo_session: Session, buyers: int, suppliers: int) -> None:
    with pytest.raises(ValidationFailed):
        generate_demo(demo_session, buyers=buyers, suppliers=suppliers)


# ------------------------------------------------------------------- size, speed
def test_default_size_is_a_real_fair(fair: tuple[Session, Event, float]) -> None:
    """(Its speed is no test's business: a timed assertion failed on a busy machine.)"""
    _, event, _elapsed = fair
    buyers = _participants(event, ParticipantRole.BUYER)
    suppliers = _participants(event, ParticipantRole.SUPPLIER)
    assert len(buyers) >= 30
    assert len(suppliers) >= 150
    assert [p.code for p in buyers] == [f"B{i:03d}" for i in range(1, len(buyers) + 1)]
    assert [p.code for p in suppliers] == [f"S{i:03d}" for i in range(1, len(suppliers) + 1)]


def test_small_fairs_for_tests(demo_session: Session) -> None:
    event = generate_demo(demo_session, buyers=5, suppliers=20, slug="small")
    assert Counter(p.role for p in event.participants) == {"buyer": 5, "supplier": 20}


# -------------------------------------------------------------------- structure
def test_slot_grid_has_local_times_and_the_lunch_gap(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    (day,) = event.days
    slots = event.slots
    local_starts = [s.starts_at.astimezone(JST).strftime("%H:%M") for s in slots]
    assert local_starts == ["10:00", "10:30", "11:00", "11:30",
                            "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00"]
    assert [s.label for s in slots] == local_starts
    assert slots[0].starts_at == datetime(2027, 2, 17, 1, 0, tzinfo=UTC)  # 10:00 JST
    assert all(s.ends_at - s.starts_at == timedelta(minutes=25) for s in slots)
    assert all(s.ends_at.astimezone(JST).time() <= day.end_time for s in slots)
    lunch_start = datetime(2027, 2, 17, 12, 0, tzinfo=JST)
    lunch_end = datetime(2027, 2, 17, 13, 0, tzinfo=JST)
    assert not [s for s in slots if s.starts_at < lunch_end and s.ends_at > lunch_start]
    assert day.breaks == [{"start": "12:00", "end": "13:00", "label": "昼休み"}]
    assert all(s.day_id == day.id for s in slots)


def test_phase_deadlines_follow_the_phase_order(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    phases = event.phases
    assert [p.phase for p in phases] == ["registration", "preferences", "scheduling",
                                         "published", "on_the_day", "closed"]
    opens = [p.opens_at for p in phases]
    assert opens == sorted(opens)
    assert all(p.closes_at is None or p.closes_at > p.opens_at for p in phases)


def test_every_buyer_hosts_one_table_per_desk(fair: tuple[Session, Event, float]) -> None:
    session, event, _ = fair
    tables = session.scalars(select(Table).where(Table.event_id == event.id)).all()
    hosted = Counter(t.host_participant_id for t in tables if t.host_participant_id is not None)
    buyers = _participants(event, ParticipantRole.BUYER)
    assert {b.id: b.parallel_desks for b in buyers} == dict(hosted)
    two_desks = [b for b in buyers if b.parallel_desks == 2]
    assert 2 <= len(two_desks) <= 6  # about 12 %
    assert all(len(b.people) >= b.parallel_desks for b in buyers)  # someone at every desk
    assert all(t.room.event_id == event.id for t in tables)
    assert {t.room.name for t in tables} >= {"大会議室", "第2会議室"}
    labels = sorted(t.label for t in tables)
    assert labels[0] == "A01" and len(labels) == len(set(labels))
    assert sum(t.host_participant_id is None for t in tables) == 2  # spares for walk-ins


def test_interests_connect_buyers_and_suppliers_of_the_fair(
    fair: tuple[Session, Event, float],
) -> None:
    session, event, _ = fair
    ids = {p.id: p.role for p in event.participants}
    interests = session.scalars(select(Interest).where(Interest.event_id == event.id)).all()
    assert session.scalar(select(func.count()).select_from(Interest)) == len(interests)
    for interest in interests:
        assert interest.from_participant_id in ids
        assert interest.to_participant_id in ids
        assert interest.from_participant_id != interest.to_participant_id
        assert ids[interest.from_participant_id] != ids[interest.to_participant_id]
        if interest.declined:
            assert interest.level == 0
        else:
            assert interest.level in (1, 2, 3)
    pairs = [(i.from_participant_id, i.to_participant_id) for i in interests]
    assert len(pairs) == len(set(pairs))


def test_suppliers_request_a_few_buyers_with_a_popularity_skew(
    fair: tuple[Session, Event, float],
) -> None:
    _, event, _ = fair
    suppliers = _participants(event, ParticipantRole.SUPPLIER)
    requests = [i for s in suppliers for i in _outgoing(event, s)]
    per_supplier = Counter(i.from_participant_id for i in requests)
    assert all(1 <= n <= event.max_requests for n in per_supplier.values())
    assert 4 <= len(requests) / len(suppliers) <= 7
    per_buyer = Counter(i.to_participant_id for i in requests)
    mean = len(requests) / len(_participants(event, ParticipantRole.BUYER))
    assert max(per_buyer.values()) >= 2 * mean
    assert Counter(i.level for i in requests).keys() == {1, 2, 3}


def test_suppliers_prefer_buyers_whose_needs_match(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    buyers = _participants(event, ParticipantRole.BUYER)
    need_codes = {b.id: {c for n in b.needs for c in n.technologies} for b in buyers}
    suppliers = _participants(event, ParticipantRole.SUPPLIER)

    def matches(supplier: Participant, buyer_id: int) -> bool:
        return bool(need_codes[buyer_id] & set(supplier.organization.technologies))

    requested = [matches(s, i.to_participant_id) for s in suppliers for i in _outgoing(event, s)]
    baseline = [matches(s, b.id) for s in suppliers for b in buyers]
    assert sum(requested) / len(requested) > 1.3 * sum(baseline) / len(baseline)


def test_buyers_screen_requests_and_ask_for_some_suppliers(
    fair: tuple[Session, Event, float],
) -> None:
    _, event, _ = fair
    buyers = _participants(event, ParticipantRole.BUYER)
    answers = [i for b in buyers for i in _outgoing(event, b)]
    declined = [i for i in answers if i.declined]
    accepted = [i for i in answers if not i.declined and i.source == "screening"]
    own_requests = [i for i in answers if i.source == "request"]
    incoming = sum(len(_incoming(event, b)) for b in buyers)
    assert declined and accepted and own_requests
    assert len(answers) < incoming + len(own_requests)  # many requests stay unanswered (neutral)
    requested_pairs = {(i.from_participant_id, i.to_participant_id)
                       for b in buyers for i in _incoming(event, b)}
    assert all((i.to_participant_id, i.from_participant_id) in requested_pairs
               for i in answers if i.source == "screening")


def _outgoing(event: Event, participant: Participant) -> list[Interest]:
    session = Session.object_session(participant)
    assert session is not None
    return list(session.scalars(select(Interest).where(
        Interest.event_id == event.id, Interest.from_participant_id == participant.id)))


def _incoming(event: Event, participant: Participant) -> list[Interest]:
    session = Session.object_session(participant)
    assert session is not None
    return list(session.scalars(select(Interest).where(
        Interest.event_id == event.id, Interest.to_participant_id == participant.id)))


def test_availability_windows_and_holes(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    participants = event.participants
    windowed = [p for p in participants if p.available_from or p.available_until]
    assert 0.10 <= len(windowed) / len(participants) <= 0.28
    for participant in windowed:
        available = [s for s in event.slots if participant.is_available(s)]
        assert 0 < len(available) < len(event.slots)
    holes = [p for p in participants if p.unavailable_slots]
    assert holes
    assert all(s.event_id == event.id for p in holes for s in p.unavailable_slots)


def test_buyers_have_meeting_limits_needs_and_departments(
    fair: tuple[Session, Event, float],
) -> None:
    _, event, _ = fair
    for buyer in _participants(event, ParticipantRole.BUYER):
        assert 8 * buyer.parallel_desks <= buyer.max_meetings <= 10 * buyer.parallel_desks
        assert 1 <= len(buyer.needs) <= 3
        assert buyer.department
        for need in buyer.needs:
            assert need.technologies
            assert all(is_known_technology(code) for code in need.technologies)
            assert need.lot_size in {lot.code for lot in LOT_SIZES}


def test_suppliers_offer_clustered_known_technologies(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    known_certifications = {c.code for c in CERTIFICATIONS}
    fields_per_supplier = []
    for supplier in _participants(event, ParticipantRole.SUPPLIER):
        organization = supplier.organization
        assert 2 <= len(organization.technologies) <= 5
        assert all(is_known_technology(code) for code in organization.technologies)
        assert len(set(organization.technologies)) == len(organization.technologies)
        assert set(organization.certifications) <= known_certifications
        assert organization.lot_sizes
        fields_per_supplier.append(len({c.split(".")[0] for c in organization.technologies}))
    # Clustered: a typical shop covers two or three fields, not five.
    assert sum(fields_per_supplier) / len(fields_per_supplier) <= 3


def test_content_is_japanese(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    assert KANJI_OR_KANA.search(event.name) and HIRAGANA.search(event.description)
    for participant in event.participants:
        organization = participant.organization
        assert KANJI_OR_KANA.search(organization.name), organization.name
        assert KATAKANA_ONLY.fullmatch(organization.name_kana), organization.name_kana
        assert organization.name_key == company_name_key(organization.name)
        assert HIRAGANA.search(organization.description)
        assert organization.website.startswith("https://www.")
        assert organization.website.endswith(".example.jp/")
        assert organization.prefecture in PREFECTURES
        for person in participant.people:
            assert KANJI_OR_KANA.search(person.name)
            assert KATAKANA_ONLY.fullmatch(person.name_kana)
            assert person.email.endswith(".example.jp")
        assert [a.is_contact for a in participant.attendances][:1] == [True]
        assert sum(a.is_contact for a in participant.attendances) == 1


def test_names_emails_and_keys_are_unique(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    keys = [p.organization.name_key for p in event.participants]
    emails = [person.email for p in event.participants for person in p.people]
    assert len(keys) == len(set(keys))
    assert len(emails) == len(set(emails))


def test_suppliers_are_mostly_from_the_host_prefecture(fair: tuple[Session, Event, float]) -> None:
    _, event, _ = fair
    prefectures = Counter(p.organization.prefecture
                          for p in _participants(event, ParticipantRole.SUPPLIER))
    top, count = prefectures.most_common(1)[0]
    assert top == "静岡県"
    assert 0.7 <= count / prefectures.total() < 1.0


# --------------------------------------------------------------------- accounts
def test_demo_organizer_is_created_once(demo_session: Session) -> None:
    organizer, password = ensure_demo_organizer(demo_session)
    assert (organizer.email, organizer.name, organizer.role) == (
        DEMO_ORGANIZER_EMAIL, "デモ主催者", Role.ORGANIZER.value)
    assert password == DEMO_PASSWORD
    assert authenticate(demo_session, DEMO_ORGANIZER_EMAIL, DEMO_PASSWORD) == organizer
    staff = authenticate(demo_session, DEMO_STAFF_EMAIL, DEMO_PASSWORD)
    assert staff is not None and staff.role == Role.STAFF.value

    again, no_password = ensure_demo_organizer(demo_session)
    assert again.id == organizer.id
    assert no_password is None


# ------------------------------------------------------------------- vocabulary
def test_vocabulary_codes_are_unique_and_grouped_by_field() -> None:
    codes = [t.code for field in technologies_by_field() for t in field.technologies]
    assert len(codes) == len(set(codes)) == len(TECHNOLOGIES)
    assert all(code.split(".")[0] == field.code
               for field in FIELDS for code in (t.code for t in field.technologies))
    assert len(PREFECTURES) == 47
    assert [lot.code for lot in LOT_SIZES] == ["prototype", "small_lot", "mass"]


@pytest.mark.parametrize(
    ("code", "locale", "label"),
    [
        ("machining.5axis", "ja", "5軸加工"),
        ("machining.5axis", "en", "5-axis machining"),
        ("surface_heat.plating", "ja", "めっき"),
        ("inspection.cmm", "en-GB", "Coordinate measuring (CMM)"),
        ("machining.laser_origami", "ja", "machining.laser_origami"),
    ],
)
def test_technology_labels(code: str, locale: str, label: str) -> None:
    assert technology_label(code, locale) == label


@pytest.mark.parametrize(
    ("code", "known"),
    [("machining.turning", True), ("machining", False), ("旋盤加工", False), ("", False)],
)
def test_known_technologies(code: str, known: bool) -> None:
    assert is_known_technology(code) is known

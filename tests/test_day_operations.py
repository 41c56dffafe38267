"""Staff actions on the day through the service layer: each action, its checks, audit, undo."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import day_operations as ops
from scheduler import event_setup, notifications
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    Organization,
    Participant,
    User,
)
from scheduler.names import company_name_key
from tests.day_fair import (
    Clock,
    active_meetings,
    assert_no_double_booking,
    fill_the_gap_at_ten,
    local,
    meeting,
    participant,
    slot,
    table,
)
from tests.published_fair import published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _place(item: Meeting) -> tuple[str, str, str]:
    return (item.slot.label, item.table.label if item.table else "", item.status)


# --------------------------------------------------------------------------- finding people


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("b002", "B002"),
        ("ｂ００２", "B002"),  # full-width, as a Japanese keyboard types it
        ("光洋医科", "B002"),
        ("こうよう", "B002"),  # hiragana finds the katakana reading
        ("ｺｳﾖｳ", "B002"),  # half-width katakana
        ("山田 裕子", "B002"),  # an attendee's name
        ("やまだ", "B002"),
    ],
)
def test_search_finds_by_code_name_kana_and_person(
    db_session: Session, fair: Event, query: str, code: str
) -> None:
    found = ops.search_participants(db_session, fair, query)
    assert code in [p.code for p in found]


def test_search_puts_the_exact_code_first_and_ignores_blank(db_session: Session, fair: Event):
    assert ops.search_participants(db_session, fair, "S001")[0].code == "S001"
    assert ops.search_participants(db_session, fair, "  ") == []


def test_scan_reads_a_schedule_link_or_a_typed_code(db_session: Session, fair: Event) -> None:
    s003 = participant(db_session, fair, "S003")
    link = f"https://fair.example.jp/p/{s003.access_token}/schedule"
    assert ops.find_by_scan(db_session, fair, link) is s003
    assert ops.find_by_scan(db_session, fair, " ｓ００３ ") is s003
    assert ops.find_by_scan(db_session, fair, "https://fair.example.jp/p/" + "x" * 43) is None
    assert ops.find_by_scan(db_session, fair, "S999") is None


# --------------------------------------------------------------------------- check-in, status


def test_check_in_records_each_person_and_the_status(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(9, 40)
    b002 = participant(db_session, fair, "B002")
    first = b002.attendances[0]
    result = ops.check_in(db_session, b002, person_ids=[first.person_id], user_id=staff.id)
    assert first.checked_in_at == local(9, 40)
    assert b002.attendances[1].checked_in_at is None
    assert b002.day_status == DayStatus.CHECKED_IN
    assert result.entry.action == "day.check_in" and result.entry.user_id == staff.id

    assert [line["pair"] for line in result.entry.details["lines"]] == [
        f"B002 {b002.organization.name}"  # the status change names the company
    ]

    clock.set(9, 50)
    later = ops.check_in(db_session, b002, user_id=staff.id)  # the colleague arrives
    assert b002.attendances[1].checked_in_at == local(9, 50)
    # No status changes now: the log line names the company and who arrived.
    colleague = b002.attendances[1].person.name
    assert [line["pair"] for line in later.entry.details["lines"]] == [
        f"B002 {b002.organization.name} · {colleague}"
    ]
    assert first.checked_in_at == local(9, 40)  # the first arrival time is kept
    clock.set(9, 55)  # (right after, the same check-in is a double tap: see below)
    with pytest.raises(ValidationFailed, match="already checked in"):
        ops.check_in(db_session, b002, user_id=staff.id)


def test_no_show_cancels_what_is_not_over_and_names_the_gaps(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(10, 45)  # the 10:30 meeting is under way, the 10:00 one is over
    held = meeting(db_session, fair, "B001", "S001")  # 10:00
    current = meeting(db_session, fair, "B002", "S001")  # 10:30
    later = meeting(db_session, fair, "B003", "S001")  # 11:00
    versions = {m.id: m.version for m in (held, current, later)}
    s001 = participant(db_session, fair, "S001")

    result = ops.set_day_status(db_session, s001, "no_show", user_id=staff.id, reason="連絡なし")

    assert s001.day_status == DayStatus.NO_SHOW and s001.day_status_at == local(10, 45)
    assert held.status == MeetingStatus.PLANNED and held.version == versions[held.id]
    for item in (current, later):
        assert item.status == MeetingStatus.CANCELLED
        assert item.version == versions[item.id] + 1  # calendars get a higher SEQUENCE
    assert sorted((g.participant.code, g.slot.label) for g in result.gaps) == [
        ("B002", "10:30"),
        ("B003", "11:00"),
    ]
    entry = result.entry
    assert (entry.action, entry.user_id, entry.reason) == ("day.no_show", staff.id, "連絡なし")
    assert [g["name"].split()[0] for g in entry.details["gaps"]] == ["B002", "B003"]
    assert [g.participant.code for g in ops.gaps_of(db_session, entry)] == ["B002", "B003"]
    assert {p.code for p in result.affected} == {"S001", "B002", "B003"}


def test_late_and_early_cancel_only_what_falls_outside_the_window(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    s003 = participant(db_session, fair, "S003")  # 10:00, 10:30, 11:30
    result = ops.set_day_status(db_session, s003, "late", at=local(11, 0), user_id=staff.id)
    assert s003.day_status == DayStatus.LATE and s003.available_from == local(11, 0)
    assert sorted(g.slot.label for g in result.gaps) == ["10:00", "10:30"]
    assert meeting(db_session, fair, "B003", "S003").slot.label == "11:30"

    s006 = participant(db_session, fair, "S006")  # 11:30, 13:00, 13:30
    result = ops.set_day_status(db_session, s006, "left_early", at=local(13, 15), user_id=staff.id)
    assert s006.available_until == local(13, 15)
    # The 13:00 meeting is under way when it leaves: it takes place, at least partly.
    assert sorted(g.slot.label for g in result.gaps) == ["13:30"]
    assert meeting(db_session, fair, "B002", "S006").status == MeetingStatus.PLANNED

    with pytest.raises(ValidationFailed, match="Give the time"):
        ops.set_day_status(db_session, s006, "late", user_id=staff.id)
    with pytest.raises(ValidationFailed, match="Unknown day status"):
        ops.set_day_status(db_session, s006, "asleep", user_id=staff.id)


def test_a_time_that_would_cancel_the_whole_day_by_mistake_is_refused(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """23:55 typed for 13:55: refused with the day's hours, before anything changes."""
    s003 = participant(db_session, fair, "S003")
    planned = {m.id for m in ops.meetings_of(db_session, s003) if m.status == "planned"}
    with pytest.raises(ValidationFailed, match=r"23:55 is after the day's last meeting") as late:
        ops.set_day_status(db_session, s003, "late", at=local(23, 55), user_id=staff.id)
    with pytest.raises(ValidationFailed, match=r"07:00 is before the day's first meeting") as early:
        ops.set_day_status(db_session, s003, "left_early", at=local(7, 0), user_id=staff.id)
    assert late.value.field == early.value.field == "at"
    assert "no-show" in late.value.message and "no-show" in early.value.message
    assert s003.day_status != DayStatus.LATE and s003.available_from is None
    still = {m.id for m in ops.meetings_of(db_session, s003) if m.status == "planned"}
    assert still == planned

    # A time that contradicts the other end of its own day.
    ops.set_day_status(db_session, s003, "late", at=local(11, 0), user_id=staff.id)
    with pytest.raises(ValidationFailed, match=r"10:45 is not after the time it arrives \(11:00\)"):
        ops.set_day_status(db_session, s003, "left_early", at=local(10, 45), user_id=staff.id)
    s006 = participant(db_session, fair, "S006")
    ops.set_day_status(db_session, s006, "left_early", at=local(13, 15), user_id=staff.id)
    with pytest.raises(ValidationFailed, match=r"13:30 is not before the time it leaves \(13:15\)"):
        ops.set_day_status(db_session, s006, "late", at=local(13, 30), user_id=staff.id)


# --------------------------------------------------------------------------- meeting changes


def test_move_to_a_free_slot_bumps_the_version_and_audits(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 at A03
    result = ops.move_meeting(
        db_session,
        fair,
        item.id,
        expected_version=item.version,
        slot_id=slot(db_session, fair, "15:00").id,
        user_id=staff.id,
        reason="先方の希望",
    )
    assert _place(item) == ("15:00", "A03", "planned") and item.version == 1
    entry = result.entry
    assert entry.action == "day.meeting_move" and entry.reason == "先方の希望"
    assert entry.details["lines"][0]["before"] == "10:00 A03"
    assert entry.details["lines"][0]["after"] == "15:00 A03"
    assert {p.code for p in result.affected} == {"B003", "S002"}


@pytest.mark.parametrize(
    ("slot_label", "table_label", "message"),
    [
        ("10:30", None, "already has a meeting at 10:30"),  # B003 meets S004 then
        ("16:00", None, "not available at 16:00"),  # S002 blocked 16:00
        (None, "A01", "own table of B001"),  # another buyer's desk
        (None, "A02", "own table of B002"),
    ],
)
def test_move_is_refused_when_it_breaks_a_rule(
    db_session: Session,
    fair: Event,
    clock: Clock,
    staff: User,
    slot_label: str | None,
    table_label: str | None,
    message: str,
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    with pytest.raises(ops.ChangeRefused, match=message):
        ops.move_meeting(
            db_session,
            fair,
            item.id,
            expected_version=item.version,
            slot_id=slot(db_session, fair, slot_label).id if slot_label else None,
            table_id=table(db_session, fair, table_label).id if table_label else None,
            user_id=staff.id,
        )


def test_table_taken_is_refused_and_previewed(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    # B003 and S003 meet at 11:30 at A03; move B003–S002 (10:00) to a spare table at 11:30? B003
    # is busy then. Instead put two spare-table meetings in one slot.
    first = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    ops.move_meeting(
        db_session,
        fair,
        first.id,
        expected_version=0,
        table_id=table(db_session, fair, "A04").id,
        user_id=staff.id,
    )
    second = meeting(db_session, fair, "B002", "S003")  # 10:00 A02
    preview = ops.preview_move(
        db_session, second, slot_id=None, table_id=table(db_session, fair, "A04").id
    )
    assert not preview.ok
    assert "Table A04 is taken at 10:00" in preview.problems[0].message
    assert {p.code for p in preview.affected} == {"B002", "S003"}
    with pytest.raises(ops.ChangeRefused, match="Table A04 is taken"):
        ops.move_meeting(
            db_session,
            fair,
            second.id,
            expected_version=second.version,
            table_id=table(db_session, fair, "A04").id,
            user_id=staff.id,
        )


def test_stale_version_is_a_conflict_with_the_fresh_state(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    ops.move_meeting(
        db_session,
        fair,
        item.id,
        expected_version=0,
        table_id=table(db_session, fair, "A04").id,
        user_id=staff.id,
    )
    with pytest.raises(ops.StaleState) as caught:
        ops.cancel_meeting(db_session, fair, item.id, expected_version=0, user_id=staff.id)
    assert caught.value.meetings == [item]
    assert "now 10:00 A04" in caught.value.message
    assert isinstance(caught.value, Conflict) and item.status == MeetingStatus.PLANNED


def test_a_meeting_under_way_can_be_cancelled_but_not_moved(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(10, 10)
    item = meeting(db_session, fair, "B003", "S002")  # 10:00–10:25
    with pytest.raises(ValidationFailed, match="already started"):
        ops.move_meeting(
            db_session,
            fair,
            item.id,
            expected_version=0,
            slot_id=slot(db_session, fair, "15:00").id,
            user_id=staff.id,
        )
    result = ops.cancel_meeting(
        db_session, fair, item.id, expected_version=0, user_id=staff.id, reason="S002 体調不良"
    )
    assert item.status == MeetingStatus.CANCELLED and item.version == 1
    assert sorted(g.participant.code for g in result.gaps) == ["B003", "S002"]
    clock.set(11, 0)
    over = meeting(db_session, fair, "B001", "S001")  # 10:00, over
    with pytest.raises(ValidationFailed, match="already started"):
        ops.cancel_meeting(db_session, fair, over.id, expected_version=0, user_id=staff.id)


def test_swap_trades_places_even_at_one_table(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    first = meeting(db_session, fair, "B001", "S005")  # 11:30 A01
    second = meeting(db_session, fair, "B001", "S007")  # 13:30 A01
    result = ops.swap_meetings(
        db_session,
        fair,
        first.id,
        second.id,
        expected_versions=(0, 0),
        user_id=staff.id,
        reason="順番の入れ替え",
    )
    assert _place(first) == ("13:30", "A01", "planned")
    assert _place(second) == ("11:30", "A01", "planned")
    assert (first.version, second.version) == (1, 1)
    assert {p.code for p in result.affected} == {"B001", "S005", "S007"}
    assert_no_double_booking(db_session, fair)


def test_swap_that_double_books_a_counterpart_is_refused(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    first = meeting(db_session, fair, "B001", "S001")  # 10:00; S001 is busy at 10:30
    second = meeting(db_session, fair, "B001", "S003")  # 10:30
    with pytest.raises(ops.ChangeRefused, match=r"S001 .* already has a meeting at 10:30"):
        ops.swap_meetings(
            db_session, fair, first.id, second.id, expected_versions=(0, 0), user_id=staff.id
        )
    assert _place(first)[0] == "10:00" and first.version == 0


def test_add_respects_declines_duplicates_and_tables(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    b001, s002 = participant(db_session, fair, "B001"), participant(db_session, fair, "S002")
    b002, s008 = participant(db_session, fair, "B002"), participant(db_session, fair, "S008")
    free = slot(db_session, fair, "15:00")
    with pytest.raises(ops.ChangeRefused, match="declined a meeting"):
        ops.add_meeting(
            db_session,
            fair,
            a_id=b001.id,
            b_id=s002.id,
            slot_id=free.id,
            table_id=table(db_session, fair, "A01").id,
            user_id=staff.id,
        )
    with pytest.raises(ops.ChangeRefused, match="already meet at 13:30"):
        ops.add_meeting(
            db_session,
            fair,
            a_id=b002.id,
            b_id=s008.id,
            slot_id=free.id,
            table_id=table(db_session, fair, "A02").id,
            user_id=staff.id,
        )
    b003, s005 = participant(db_session, fair, "B003"), participant(db_session, fair, "S004")
    with pytest.raises(ops.ChangeRefused, match="Choose a table"):
        ops.add_meeting(
            db_session,
            fair,
            a_id=b001.id,
            b_id=s005.id,
            slot_id=free.id,
            table_id=None,
            user_id=staff.id,
        )
    earlier = meeting(db_session, fair, "B003", "S003")  # every B003 pair meets already
    ops.cancel_meeting(db_session, fair, earlier.id, expected_version=0, user_id=staff.id)
    result = ops.add_meeting(
        db_session,
        fair,
        a_id=b003.id,
        b_id=participant(db_session, fair, "S003").id,
        slot_id=free.id,
        table_id=table(db_session, fair, "A03").id,
        user_id=staff.id,
        reason="追加希望",
    )
    added = result.meetings[0]
    assert (added.status, added.version, added.source) == ("planned", 0, "staff")
    assert result.entry.details["undo"]["meetings"][0]["before"] is None


def test_screening_off_lets_a_screened_out_pair_meet_but_not_a_declined_proposal(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """While screening is off the solver ignores screening answers, so the day's checks
    do too; a buyer's decision on a proposal sheet still counts (as in pair_rules)."""
    b001, s002 = participant(db_session, fair, "B001"), participant(db_session, fair, "S002")
    s008 = participant(db_session, fair, "S008")
    fair.screening_enabled = False
    proposal = db_session.scalar(
        select(Interest).where(
            Interest.from_participant_id == b001.id, Interest.to_participant_id == s008.id
        )
    )
    proposal.source = "proposal"  # B001 turned down S008's proposal sheet
    db_session.flush()
    free = slot(db_session, fair, "15:00")
    offered = {o.counterpart.code for o in ops.offers_with(db_session, b001, [s002, s008])
               if o.places}
    assert offered == {"S002"}
    result = ops.add_meeting(
        db_session,
        fair,
        a_id=b001.id,
        b_id=s002.id,
        slot_id=free.id,
        table_id=table(db_session, fair, "A01").id,
        user_id=staff.id,
    )
    assert result.meetings[0].status == "planned"
    with pytest.raises(ops.ChangeRefused, match="declined a meeting"):
        ops.add_meeting(
            db_session,
            fair,
            a_id=b001.id,
            b_id=s008.id,
            slot_id=slot(db_session, fair, "15:30").id,
            table_id=table(db_session, fair, "A01").id,
            user_id=staff.id,
        )


# --------------------------------------------------------------------------- walk-ins


def test_walk_in_is_registered_checked_in_and_offered_free_meetings(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(12, 30)
    walk_in = ops.register_walk_in(
        db_session,
        fair,
        company="株式会社 飛込精機",
        role="supplier",
        contact_name="飛込 一郎",
        technologies=["machining.5axis"],
        user_id=staff.id,
    )
    assert (walk_in.code, walk_in.registered_via, walk_in.day_status) == (
        "S009",
        "walkin",
        DayStatus.CHECKED_IN,
    )
    assert walk_in.attendances[0].checked_in_at == local(12, 30)
    b001, b002 = participant(db_session, fair, "B001"), participant(db_session, fair, "B002")
    db_session.add_all(
        [
            Interest(
                event_id=fair.id,
                from_participant=b001,
                to_participant=walk_in,
                declined=True,
                level=0,
            ),
            Interest(event_id=fair.id, from_participant=b002, to_participant=walk_in, level=3),
        ]
    )
    db_session.flush()

    offers = ops.walk_in_offers(db_session, walk_in)
    codes = [o.counterpart.code for o in offers]
    assert "B001" not in codes  # declined
    assert codes[0] == "B002"  # stated the highest interest
    for offer in offers:
        for place_slot, place_table in offer.places:
            assert place_slot.starts_at >= local(12, 30)  # only what is still to come
            assert place_table.host_participant_id in (offer.counterpart.id, None)
    place_slot, place_table = offers[0].places[0]
    result = ops.add_meeting(
        db_session,
        fair,
        a_id=b002.id,
        b_id=walk_in.id,
        slot_id=place_slot.id,
        table_id=place_table.id,
        user_id=staff.id,
        source="walkin",
    )
    assert result.meetings[0].source == "walkin"
    assert all(o.counterpart.code != "B002" for o in ops.walk_in_offers(db_session, walk_in))
    assert_no_double_booking(db_session, fair)


def test_walk_in_of_a_company_already_registered_is_refused_with_its_code(
    db_session: Session, fair: Event, staff: User
) -> None:
    with pytest.raises(ValidationFailed, match=r"already registered .*code B001"):
        ops.register_walk_in(
            db_session,
            fair,
            company="瑞穂モーター（株）",
            role="buyer",
            contact_name="someone",
            user_id=staff.id,
        )
    with pytest.raises(ValidationFailed, match="contact"):
        ops.register_walk_in(
            db_session, fair, company="新会社", role="buyer", contact_name=" ", user_id=staff.id
        )


def test_a_known_company_walking_in_gains_the_technologies_ticked_at_the_desk(
    db_session: Session, fair: Event, staff: User
) -> None:
    known = Organization(
        name="既存精機株式会社",
        name_key=company_name_key("既存精機株式会社"),
        technologies=["machining.turning"],
    )
    db_session.add(known)
    db_session.flush()
    walk_in = ops.register_walk_in(
        db_session,
        fair,
        company="既存精機（株）",
        role="supplier",
        contact_name="既存 太郎",
        technologies=["machining.5axis", "machining.turning", "machining.5axis"],
        user_id=staff.id,
    )
    assert walk_in.organization is known
    assert known.technologies == ["machining.turning", "machining.5axis"]
    # Another legal form is another company: its own directory entry, not this one's.
    other = ops.register_walk_in(
        db_session, fair, company="有限会社 既存精機", role="supplier",
        contact_name="既存 次郎", user_id=staff.id,
    )
    assert other.organization is not known and other.organization.name == "有限会社 既存精機"
    assert known.technologies == ["machining.turning", "machining.5axis"]


def test_a_walk_in_with_an_unknown_technology_is_refused(
    db_session: Session, fair: Event, staff: User
) -> None:
    with pytest.raises(ValidationFailed) as error:
        ops.register_walk_in(
            db_session,
            fair,
            company="新会社",
            role="supplier",
            contact_name="新 一郎",
            technologies=["machining.teleport"],
            user_id=staff.id,
        )
    assert error.value.field == "technologies" and error.value.params == {
        "value": "machining.teleport"
    }


# --------------------------------------------------------------------------- undo and log


def test_undo_reverts_the_users_last_change_only(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    mine = meeting(db_session, fair, "B003", "S002")
    ops.move_meeting(
        db_session,
        fair,
        mine.id,
        expected_version=0,
        slot_id=slot(db_session, fair, "15:00").id,
        user_id=staff.id,
    )
    theirs = meeting(db_session, fair, "B002", "S003")
    ops.cancel_meeting(db_session, fair, theirs.id, expected_version=0, user_id=organizer.id)

    result = ops.undo_last(db_session, fair, user_id=staff.id)

    assert _place(mine) == ("10:00", "A03", "planned") and mine.version == 2
    assert theirs.status == MeetingStatus.CANCELLED  # the organizer's change stays
    assert result.entry.action == "day.undo"
    with pytest.raises(ValidationFailed, match="no change of yours to undo"):
        ops.undo_last(db_session, fair, user_id=staff.id)


def test_undo_is_refused_when_the_meeting_changed_since(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    ops.move_meeting(
        db_session,
        fair,
        item.id,
        expected_version=0,
        slot_id=slot(db_session, fair, "15:00").id,
        user_id=staff.id,
    )
    ops.move_meeting(
        db_session,
        fair,
        item.id,
        expected_version=1,
        table_id=table(db_session, fair, "A04").id,
        user_id=organizer.id,
    )
    with pytest.raises(Conflict, match="changed again since"):
        ops.undo_last(db_session, fair, user_id=staff.id)


def test_undo_of_a_no_show_restores_the_meetings_and_the_status(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    ops.set_day_status(db_session, s001, "no_show", user_id=staff.id)
    clock.set(10, 47)
    ops.undo_last(db_session, fair, user_id=staff.id)
    assert s001.day_status == DayStatus.EXPECTED and s001.day_status_at is None
    restored = meeting(db_session, fair, "B002", "S001")
    assert restored.status == MeetingStatus.PLANNED and restored.version == 2
    assert_no_double_booking(db_session, fair)


def test_undo_of_a_swap_and_of_an_add(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    first = meeting(db_session, fair, "B001", "S005")
    second = meeting(db_session, fair, "B001", "S007")
    ops.swap_meetings(
        db_session, fair, first.id, second.id, expected_versions=(0, 0), user_id=staff.id
    )
    ops.undo_last(db_session, fair, user_id=staff.id)
    assert (_place(first)[0], _place(second)[0]) == ("11:30", "13:30")

    earlier = meeting(db_session, fair, "B003", "S003")
    ops.cancel_meeting(db_session, fair, earlier.id, expected_version=0, user_id=organizer.id)
    added = ops.add_meeting(
        db_session,
        fair,
        a_id=participant(db_session, fair, "B003").id,
        b_id=participant(db_session, fair, "S003").id,
        slot_id=slot(db_session, fair, "15:00").id,
        table_id=table(db_session, fair, "A03").id,
        user_id=staff.id,
    ).meetings[0]
    ops.undo_last(db_session, fair, user_id=staff.id)
    assert added.status == MeetingStatus.CANCELLED and added.version == 1


def test_undo_that_would_double_book_is_refused(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    ops.cancel_meeting(db_session, fair, item.id, expected_version=0, user_id=staff.id)
    fill_the_gap_at_ten(db_session, fair, organizer.id)
    with pytest.raises(ops.ChangeRefused) as caught:
        ops.undo_last(db_session, fair, user_id=staff.id)
    messages = [p.message for p in caught.value.problems]
    assert any("Table A03 is taken at 10:00" in m for m in messages), messages
    assert any("B003 太平光学株式会社 already has a meeting at 10:00" in m for m in messages)


def test_the_day_log_lists_every_change_newest_first(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    ops.check_in(db_session, participant(db_session, fair, "B001"), user_id=staff.id)
    item = meeting(db_session, fair, "B003", "S002")
    ops.cancel_meeting(
        db_session, fair, item.id, expected_version=0, user_id=staff.id, reason="why"
    )
    ops.undo_last(db_session, fair, user_id=staff.id)
    log = ops.day_log(db_session, fair)
    assert [e.action for e in log] == ["day.undo", "day.meeting_cancel", "day.check_in"]
    assert log[1].details.get("undone_at") and log[1].reason == "why"
    assert all(e.user_id == staff.id for e in log)
    # the whole log is in the audit trail, nothing kept elsewhere
    total = db_session.scalars(select(AuditEntry).where(AuditEntry.event_id == fair.id)).all()
    assert {e.id for e in log} <= {e.id for e in total}
    assert len(active_meetings(db_session, fair)) == 20


def test_undo_never_skips_back_over_a_walk_in(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    ops.cancel_meeting(db_session, fair, item.id, expected_version=0, user_id=staff.id)
    ops.register_walk_in(
        db_session, fair, company="飛込精機", role="buyer", contact_name="飛込", user_id=staff.id
    )
    assert ops.last_undoable(db_session, fair, staff.id) is None
    with pytest.raises(ValidationFailed, match="no change of yours to undo"):
        ops.undo_last(db_session, fair, user_id=staff.id)
    assert item.status == MeetingStatus.CANCELLED


# ------------------------------------------------------------- QA 2 (the day of the fair)


def _walk_in_supplier(session: Session, fair: Event, staff: User):  # type: ignore[no-untyped-def]
    return ops.register_walk_in(
        session,
        fair,
        company="株式会社 飛込精機",
        role="supplier",
        contact_name="飛込",
        user_id=staff.id,
    )


def test_any_counterpart_can_be_asked_for_with_every_free_slot_or_why_not(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """M4: a walk-in asking for one company by name gets all its free slots (the ranked
    offers show four), and a company it cannot meet says why."""
    clock.set(12, 30)
    walk_in = _walk_in_supplier(db_session, fair, staff)
    b001, b002 = participant(db_session, fair, "B001"), participant(db_session, fair, "B002")
    db_session.add(
        Interest(
            event_id=fair.id, from_participant=b002, to_participant=walk_in, declined=True, level=0
        )
    )
    db_session.flush()
    found = ops.search_participants(db_session, fair, "ｂ００１", role="buyer")
    assert [p.code for p in found] == ["B001"]
    assert ops.search_participants(db_session, fair, "S001", role="buyer") == []
    first, second = ops.offers_with(db_session, walk_in, [b001, b002])
    assert first.counterpart == b001 and first.blocked is None
    # B001 meets at 13:00 and 13:30: every later slot of the day is offered, not four.
    assert [s.label for s, _ in first.places] == ["14:00", "14:30", "15:00", "15:30", "16:00"]
    assert second.places == [] and second.blocked is not None
    # Who declined whom, not "one of the two".
    assert second.blocked.message == (
        f"B002 {b002.organization.name} declined a meeting with S009 株式会社 飛込精機."
    )
    ops.add_meeting(
        db_session,
        fair,
        a_id=b001.id,
        b_id=walk_in.id,
        slot_id=slot(db_session, fair, "16:00").id,
        table_id=table(db_session, fair, "A01").id,
        user_id=staff.id,
    )
    (again,) = ops.offers_with(db_session, walk_in, [b001])
    assert again.blocked is not None
    assert again.blocked.message == "These two already meet at 16:00."


def test_an_undo_a_later_change_blocks_is_retired_with_its_reasons(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    """M6: the refusal says it is the undo that failed, and Undo stops offering it."""
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    ops.cancel_meeting(db_session, fair, item.id, expected_version=0, user_id=staff.id)
    fill_the_gap_at_ten(db_session, fair, organizer.id)
    db_session.commit()  # each change was its own request
    entry = ops.last_undoable(db_session, fair, staff.id)
    assert entry is not None
    with pytest.raises(ops.UndoImpossible) as caught:
        ops.undo_last(db_session, fair, user_id=staff.id)
    assert caught.value.entry_id == entry.id
    db_session.rollback()
    ops.retire_undo(db_session, fair, entry.id, caught.value.problems, user_id=staff.id)
    db_session.commit()
    assert ops.last_undoable(db_session, fair, staff.id) is None
    stored = db_session.get(AuditEntry, entry.id)
    assert stored.details["undo_impossible_at"]
    assert any("Table %(table)s" in p["msgid"] for p in stored.details["undo_impossible"])
    # Someone else's change is never retired from another user's undo.
    ops.retire_undo(db_session, fair, entry.id, [], user_id=organizer.id)
    assert db_session.get(AuditEntry, entry.id).details["undo_impossible"]


def test_a_late_company_checked_in_early_can_meet_from_now(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """M7: checking in a company marked late before its time opens its day from now
    (audited, undoable); before that, a refusal says it was marked late."""
    s003 = participant(db_session, fair, "S003")
    ops.set_day_status(db_session, s003, "late", at=local(11, 0), user_id=staff.id)
    b002 = participant(db_session, fair, "B002")  # met S003 at 10:00, now free then
    add = {
        "a_id": b002.id,
        "b_id": s003.id,
        "slot_id": slot(db_session, fair, "10:00").id,
        "table_id": table(db_session, fair, "A04").id,
        "user_id": staff.id,
    }
    with pytest.raises(ops.ChangeRefused) as caught:
        ops.add_meeting(db_session, fair, **add)
    messages = [p.message for p in caught.value.problems]
    assert any("was marked late, arriving at 11:00" in m for m in messages), messages
    clock.set(9, 40)
    result = ops.check_in(db_session, s003, user_id=staff.id)
    assert s003.day_status == DayStatus.CHECKED_IN and s003.available_from == local(9, 40)
    assert result.entry.details["opened_from"] == {"before": "11:00", "after": "09:40"}
    added = ops.add_meeting(db_session, fair, **add).meetings[0]
    assert added.slot.label == "10:00"
    ops.undo_last(db_session, fair, user_id=staff.id)  # the meeting added
    ops.undo_last(db_session, fair, user_id=staff.id)  # the check-in
    assert s003.day_status == DayStatus.LATE and s003.available_from == local(11, 0)


def test_a_meeting_under_way_is_refused_already_in_the_preview(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """L8: the live check and the confirmation say it, not only the final write."""
    clock.set(10, 5)
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    moved = ops.preview_move(
        db_session, item, slot_id=None, table_id=table(db_session, fair, "A04").id
    )
    assert not moved.ok
    assert any("has already started" in p.message for p in moved.problems)
    other = meeting(db_session, fair, "B003", "S004")  # 10:30
    swapped = ops.preview_swap(db_session, item, other)
    assert any("has already started" in p.message for p in swapped.problems)
    assert ops.preview_cancel(db_session, item).ok  # still under way: it can be cancelled


def test_a_moved_meeting_says_where_it_was(
    client, db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """QA: a participant read "Changed (time)" and had to guess what changed."""
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 at A03
    supplier = participant(db_session, fair, "S002")
    supplier.locale = "en"
    ops.cancel_meeting(db_session, fair, item.id, expected_version=0, user_id=staff.id)
    ops.undo_last(db_session, fair, user_id=staff.id)
    assert item.moved_from_slot_id is None  # cancelled and back in place: no move
    ops.move_meeting(db_session, fair, item.id, expected_version=item.version,
                     slot_id=slot(db_session, fair, "15:00").id, user_id=staff.id)
    assert (item.moved_from_slot.starts_at, item.moved_from_table.label) == (local(10), "A03")
    db_session.commit()
    page = client.get(f"/p/{supplier.access_token}/schedule").get_data(as_text=True)
    card = page.split(f'data-anchor="meeting-{item.id}"', 1)[1].split("</li>", 1)[0]
    assert "Moved from 10:00, table A03" in card
    # Only the table changes: that is what it says.
    ops.move_meeting(db_session, fair, item.id, expected_version=item.version,
                     table_id=table(db_session, fair, "A04").id, user_id=staff.id)
    db_session.commit()
    page = client.get(f"/p/{supplier.access_token}/schedule").get_data(as_text=True)
    card = page.split(f'data-anchor="meeting-{item.id}"', 1)[1].split("</li>", 1)[0]
    assert "Moved from table A03" in card and "Moved from 10:00" not in card
    # Undone, the table move leaves the meeting where it was before it: moved from 10:00.
    ops.undo_last(db_session, fair, user_id=staff.id)
    assert (item.slot.starts_at, item.table.label) == (local(15), "A03")
    assert (item.moved_from_slot.starts_at, item.moved_from_table.label) == (local(10), "A03")
    # Another move, undone: it is back to having moved from 10:00 (not from 15:30,
    # which it did not leave for good).
    ops.move_meeting(db_session, fair, item.id, expected_version=item.version,
                     slot_id=slot(db_session, fair, "15:30").id, user_id=staff.id)
    ops.undo_last(db_session, fair, user_id=staff.id)
    assert item.moved_from_slot.starts_at == local(10)
    # A meeting published without a table and given one in its slot: no time moved.
    item.moved_from_slot_id, item.moved_from_table_id = item.slot_id, None
    db_session.commit()
    page = client.get(f"/p/{supplier.access_token}/schedule").get_data(as_text=True)
    card = page.split(f'data-anchor="meeting-{item.id}"', 1)[1].split("</li>", 1)[0]
    assert "Table assigned" in card and "Moved from" not in card


def test_the_change_notice_says_where_a_moved_meeting_was(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """QA: the change e-mail listed the day as it now stands, and a reader had to compare
    it with the last one to find what moved; it now says so, as the schedule page does."""
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 at A03
    buyer, supplier = participant(db_session, fair, "B003"), participant(db_session, fair, "S002")
    supplier.locale = "en"
    ops.move_meeting(db_session, fair, item.id, expected_version=0,
                     slot_id=slot(db_session, fair, "15:00").id, user_id=staff.id)
    db_session.commit()

    def line(who: Participant, other: Participant) -> str:
        notices, _ = notifications.schedule_notices(
            db_session, fair, [who.id], link_for=lambda p: "https://x.example/", first=False
        )
        (notice,) = notices
        return next(x for x in notice.body.splitlines() if other.display_name in x)

    assert line(buyer, supplier).endswith("（変更前：10:00、テーブルA03）")
    assert line(supplier, buyer).endswith(" (moved from 10:00, table A03)")
    mine = select(Meeting).where(
        (Meeting.participant_a_id == buyer.id) | (Meeting.participant_b_id == buyer.id)
    )
    unmoved = next(m for m in db_session.scalars(mine) if m.id != item.id)
    other = unmoved.participant_b if unmoved.participant_a_id == buyer.id else unmoved.participant_a
    assert "変更前" not in line(buyer, other)
    # Only the table changed: only the table is named.
    ops.move_meeting(db_session, fair, item.id, expected_version=item.version,
                     table_id=table(db_session, fair, "A04").id, user_id=staff.id)
    db_session.commit()
    assert line(buyer, supplier).endswith("（変更前：テーブルA03）")


def test_undo_still_works_after_the_table_a_meeting_moved_from_is_deleted(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    """Review: undo restored the meeting's "moved from" table by id; once the organizer
    had deleted that table, the foreign key refused it as a clash ("taken at the same
    moment … try again"), every time, and staff could undo nothing older either."""
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 at A03
    (z01,) = event_setup.add_tables(db_session, fair.rooms[0], "Z01")
    db_session.commit()
    for label in ("Z01", "A04", "A05"):
        ops.move_meeting(db_session, fair, item.id, expected_version=item.version,
                         table_id=table(db_session, fair, label).id, user_id=staff.id)
    db_session.commit()
    event_setup.delete_table(db_session, z01, user_id=organizer.id)
    db_session.commit()
    ops.undo_last(db_session, fair, user_id=staff.id)
    db_session.commit()
    assert item.table.label == "A04"
    # It had moved from Z01 in its own slot: with Z01 gone there is nothing to say
    # (not "Table assigned", which would be wrong).
    assert (item.moved_from_slot_id, item.moved_from_table_id) == (None, None)

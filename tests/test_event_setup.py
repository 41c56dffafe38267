"""The event set-up services: slot grids (incl. clock changes), table labels, phases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler import event_setup
from scheduler.errors import Conflict, ValidationFailed
from scheduler.event_setup import BreakPlan, DayPlan, expand_labels, parse_breaks, plan_grid
from scheduler.models import AuditEntry, Meeting, Organization, Participant, Slot

JST = ZoneInfo("Asia/Tokyo")


def local(slot_time: datetime, zone: str = "Asia/Tokyo") -> str:
    return slot_time.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def test_grid_skips_lunch_and_keeps_changeover() -> None:
    plan = DayPlan(
        date(2027, 2, 10), time(10), time(16, 30), 25, 5, (BreakPlan(time(12), time(13), "昼休み"),)
    )
    preview = plan_grid(plan, "Asia/Tokyo")
    starts = [local(s.starts_at) for s in preview.slots]
    assert starts == [
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
    ]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=25) for s in preview.slots)
    # stored in UTC: 10:00 JST is 01:00 UTC
    assert preview.slots[0].starts_at == datetime(2027, 2, 10, 1, 0, tzinfo=UTC)


def test_grid_last_meeting_must_end_by_the_end_time() -> None:
    preview = plan_grid(DayPlan(date(2027, 2, 10), time(10), time(11, 20), 30, 0), "Asia/Tokyo")
    assert [local(s.ends_at) for s in preview.slots] == ["10:30", "11:00"]


def test_grid_on_the_day_clocks_go_forward_keeps_full_length_meetings() -> None:
    # Berlin springs forward at 02:00 on 2027-03-28: an overnight grid crosses it.
    plan = DayPlan(date(2027, 3, 27), time(23, 0), time(4, 0), 60, 0, overnight=True)
    preview = plan_grid(plan, "Europe/Berlin")
    assert [local(s.starts_at, "Europe/Berlin") for s in preview.slots] == [
        "23:00",
        "00:00",
        "01:00",
        "03:00",
    ]
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in preview.slots)
    assert preview.notes  # the organizer is told


def test_a_day_that_ends_before_it_starts_runs_overnight_only_when_confirmed() -> None:
    # 17:00 to 10:00 is most likely a typo: refused, naming the end time field, unless
    # the organizer confirms the day runs overnight; then it is a valid grid, and said.
    with pytest.raises(ValidationFailed) as refused:
        plan_grid(DayPlan(date(2027, 3, 12), time(17), time(10), 20, 5), "Asia/Tokyo")
    assert refused.value.field == "end_time"
    assert refused.value.message == (
        "The day ends (10:00) before it starts (17:00). Check the end time, or tick "
        "“The day runs past midnight” if its last meeting ends the next morning."
    )
    overnight = DayPlan(date(2027, 3, 12), time(17), time(10), 20, 5, overnight=True)
    preview = plan_grid(overnight, "Asia/Tokyo")
    assert local(preview.slots[-1].ends_at) == "10:00"
    assert preview.notes == [
        "This day runs past midnight: its last meeting ends the next morning. "
        "If that is not what you meant, check the end time."
    ]
    daytime = plan_grid(DayPlan(date(2027, 3, 12), time(10), time(17), 20, 5), "Asia/Tokyo")
    assert daytime.notes == []
    lunch = (BreakPlan(time(12), time(13), "昼休み"),)
    with pytest.raises(ValidationFailed) as info:
        plan_grid(DayPlan(date(2027, 3, 12), time(17), time(10), 20, 5, lunch, overnight=True),
                  "Asia/Tokyo")
    assert info.value.field == "breaks"
    assert "runs from 17:00 past midnight to 10:00 the next morning" in info.value.message


def test_grid_days_either_side_of_a_clock_change_have_different_utc_offsets() -> None:
    before = plan_grid(DayPlan(date(2027, 3, 27), time(10), time(12), 25, 5), "Europe/Berlin")
    after = plan_grid(DayPlan(date(2027, 3, 28), time(10), time(12), 25, 5), "Europe/Berlin")
    assert before.slots[0].starts_at.hour == 9  # CET, UTC+1
    assert after.slots[0].starts_at.hour == 8  # CEST, UTC+2
    assert local(after.slots[0].starts_at, "Europe/Berlin") == "10:00"


def test_a_time_the_clock_skips_is_refused_with_the_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        plan_grid(DayPlan(date(2027, 3, 28), time(2, 30), time(6), 30, 0), "Europe/Berlin")
    assert info.value.field == "start_time"
    assert "does not exist" in info.value.message


def test_a_day_that_ends_when_it_starts_is_refused_even_as_overnight() -> None:
    # 13:00 to 13:00 made a day of 24 hours (72 slots of 20 minutes).
    for overnight in (False, True):
        with pytest.raises(ValidationFailed) as info:
            plan_grid(
                DayPlan(date(2027, 2, 10), time(13), time(13), 15, 5, overnight=overnight),
                "Asia/Tokyo",
            )
        assert info.value.field == "end_time"
        assert info.value.message == "The day must end at another time than it starts (13:00)."


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        (DayPlan(date(2027, 2, 10), time(10), time(10, 10), 25, 5), "end_time"),
        (DayPlan(date(2027, 2, 10), time(10), time(12), 0, 5), "meeting_minutes"),
        (DayPlan(date(2027, 2, 10), time(10), time(12), 25, -1), "changeover_minutes"),
        (
            DayPlan(date(2027, 2, 10), time(10), time(12), 25, 5, (BreakPlan(time(9), time(11)),)),
            "breaks",
        ),
    ],
)
def test_bad_grids_name_the_field(plan: DayPlan, field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        plan_grid(plan, "Asia/Tokyo")
    assert info.value.field == field


def test_unknown_time_zone() -> None:
    with pytest.raises(ValidationFailed) as info:
        plan_grid(DayPlan(date(2027, 2, 10), time(10), time(12)), "Asia/Tokio")
    assert info.value.field == "timezone"


def test_overlapping_breaks_are_named() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_breaks("12:00-13:00 昼休み\n15:00-15:15 休憩\n12:30-12:45 表彰")
    assert info.value.field == "breaks"
    assert info.value.message == "The breaks 12:00-13:00 and 12:30-12:45 overlap."


def test_parse_breaks_accepts_full_width_and_sorts() -> None:
    breaks = parse_breaks("１５:００－１５:１５ 休憩\n12:00-13:00 昼休み\n")
    assert breaks == (
        BreakPlan(time(12), time(13), "昼休み"),
        BreakPlan(time(15), time(15, 15), "休憩"),
    )


@pytest.mark.parametrize("text", ["noon", "13:00-12:00", "12:00-13:00\n12:30-13:30", "25:00-26:00"])
def test_parse_breaks_refuses(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_breaks(text)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("A01-A03", ["A01", "A02", "A03"]),
        ("A01–A03", ["A01", "A02", "A03"]),
        ("Ａ０１〜Ａ０２", ["A01", "A02"]),
        ("T8-T10", ["T8", "T9", "T10"]),
        ("1-3", ["1", "2", "3"]),
        ("A01, A02、B1", ["A01", "A02", "B1"]),
        ("A01-A02, B01-B02", ["A01", "A02", "B01", "B02"]),
    ],
)
def test_expand_labels(spec: str, expected: list[str]) -> None:
    assert expand_labels(spec) == expected


@pytest.mark.parametrize(
    "spec",
    ["", "A10-A01", "A01-B05", "A1-A600", "A01, A01", "0", "０", "00-05", "A1, 0", "A0",
     "A00-A03"],
)
def test_expand_labels_refuses(spec: str) -> None:
    with pytest.raises(ValidationFailed):
        expand_labels(spec)


def test_save_day_creates_slots_and_regenerates_until_meetings_exist(db_session) -> None:
    event = event_setup.create_event(db_session, name="ものづくり商談会")
    plan = DayPlan(date(2027, 2, 10), time(10), time(12), 25, 5)
    day = event_setup.save_day(db_session, event, plan)
    assert len(day.slots) == 4
    day = event_setup.save_day(
        db_session, event, DayPlan(date(2027, 2, 10), time(10), time(12), 55, 5), day=day
    )
    slots = db_session.scalars(select(Slot).where(Slot.event_id == event.id)).all()
    assert len(slots) == 2
    with pytest.raises(ValidationFailed):  # same date twice
        event_setup.save_day(db_session, event, plan)
    room = event_setup.add_room(db_session, event, "大会議室")
    table = event_setup.add_tables(db_session, room, "A01")[0]
    orgs = [Organization(name=n, name_key=n) for n in ("甲", "乙")]
    db_session.add_all(orgs)
    db_session.flush()
    a, b = (
        Participant(event_id=event.id, organization_id=o.id, role=r)
        for o, r in zip(orgs, ("buyer", "supplier"), strict=True)
    )
    db_session.add_all([a, b])
    db_session.flush()
    db_session.add(
        Meeting(
            event_id=event.id,
            participant_a_id=a.id,
            participant_b_id=b.id,
            slot_id=slots[0].id,
            table_id=table.id,
        )
    )
    db_session.flush()
    assert event_setup.meetings_on_day(db_session, day) == 1
    assert event_setup.meetings_by_day(db_session, event) == {day.id: 1}
    with pytest.raises(Conflict):
        event_setup.save_day(db_session, event, plan, day=day)
    with pytest.raises(Conflict):
        event_setup.delete_slot(db_session, slots[0])
    with pytest.raises(Conflict):
        event_setup.delete_table(db_session, table)
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.event_id == event.id)
    ).all()
    assert "day.save" in actions and "tables.add" in actions


def test_slots_may_not_overlap(db_session) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    event_setup.save_day(db_session, event, DayPlan(date(2027, 2, 10), time(10), time(12), 25, 5))
    start = datetime(2027, 2, 10, 10, 10, tzinfo=JST)
    with pytest.raises(ValidationFailed) as info:
        event_setup.add_slot(
            db_session, event, starts_at=start, ends_at=start + timedelta(minutes=20)
        )
    assert info.value.field == "start"
    late = datetime(2027, 2, 10, 12, 0, tzinfo=JST)
    slot = event_setup.add_slot(
        db_session, event, starts_at=late, ends_at=late + timedelta(minutes=25)
    )
    assert slot.day is not None and slot.day.date == date(2027, 2, 10)


def test_a_slot_belongs_to_one_of_the_events_days(db_session) -> None:
    """A mistyped date (02/01 for 02/10) is refused once the event has days; a slot
    moved to another of its days moves to that day."""
    event = event_setup.create_event(db_session, name="Fair")
    event_setup.save_day(db_session, event, DayPlan(date(2027, 2, 10), time(10), time(12), 25, 5))
    event_setup.save_day(db_session, event, DayPlan(date(2027, 2, 11), time(10), time(12), 25, 5))
    typo = datetime(2027, 2, 1, 12, 0, tzinfo=JST)
    with pytest.raises(ValidationFailed) as info:
        event_setup.add_slot(db_session, event, starts_at=typo,
                             ends_at=typo + timedelta(minutes=25))
    assert info.value.field == "date"
    assert info.value.message == (
        "2027-02-01 is not one of the event's days (2027-02-10, 2027-02-11): check the "
        "date, or add that day first."
    )
    late = datetime(2027, 2, 10, 12, 0, tzinfo=JST)
    slot = event_setup.add_slot(db_session, event, starts_at=late,
                                ends_at=late + timedelta(minutes=25))
    with pytest.raises(ValidationFailed):
        event_setup.update_slot(db_session, slot, starts_at=typo,
                                ends_at=typo + timedelta(minutes=25))
    next_day = late + timedelta(days=1)
    event_setup.update_slot(db_session, slot, starts_at=next_day,
                            ends_at=next_day + timedelta(minutes=25))
    assert slot.day.date == date(2027, 2, 11)
    # An event without days takes slots on any date.
    loose = event_setup.create_event(db_session, name="Loose")
    free = event_setup.add_slot(db_session, loose, starts_at=typo,
                                ends_at=typo + timedelta(minutes=25))
    assert free.day is None


def test_table_labels_are_unique_per_event(db_session) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    room = event_setup.add_room(db_session, event, "Hall A")
    other = event_setup.add_room(db_session, event, "Hall B")
    assert len(event_setup.add_tables(db_session, room, "A01-A40")) == 40
    with pytest.raises(ValidationFailed) as info:
        event_setup.add_tables(db_session, other, "A39-A41")
    assert "A39" in info.value.message and "A40" in info.value.message
    with pytest.raises(ValidationFailed):
        event_setup.add_room(db_session, event, "Hall A")


def test_phase_deadlines_must_follow_each_other(db_session) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    t = datetime(2027, 1, 1, 9, tzinfo=JST)
    with pytest.raises(ValidationFailed) as info:
        event_setup.set_phase_deadlines(
            db_session,
            event,
            {
                "registration": (t, t + timedelta(days=10)),
                "preferences": (t + timedelta(days=5), t + timedelta(days=20)),
            },
        )
    assert info.value.field == "preferences_opens"
    with pytest.raises(ValidationFailed) as info:
        # Preferences with only a closing time, before registration closes.
        event_setup.set_phase_deadlines(
            db_session,
            event,
            {
                "registration": (t, t + timedelta(days=10)),
                "preferences": (None, t + timedelta(days=5)),
            },
        )
    assert info.value.field == "preferences_closes"
    with pytest.raises(ValidationFailed):
        event_setup.set_phase_deadlines(db_session, event, {"registration": (t, t)})
    event_setup.set_phase_deadlines(
        db_session,
        event,
        {
            "registration": (t, t + timedelta(days=10)),
            "preferences": (t + timedelta(days=10), t + timedelta(days=20)),
        },
    )
    assert event_setup.phase_deadline(event, "preferences").closes_at == t + timedelta(days=20)


def test_a_deadline_on_or_after_the_first_fair_day_is_saved_with_a_warning(db_session) -> None:
    """Registration and meeting requests must be over before the fair: a closing time on
    or after its first day is most likely a slip (2026-12-20 for a fair on 11-12)."""
    event = event_setup.create_event(db_session, name="Fair")
    t = datetime(2026, 9, 1, 9, tzinfo=JST)
    late = {
        "registration": (t, datetime(2026, 9, 30, 17, tzinfo=JST)),
        "preferences": (
            datetime(2026, 10, 1, 9, tzinfo=JST), datetime(2026, 12, 20, 17, tzinfo=JST)
        ),
    }
    event_setup.set_phase_deadlines(db_session, event, late)
    assert event_setup.deadline_warnings(event) == []  # no days yet: nothing to compare
    event_setup.save_day(db_session, event, DayPlan(date(2026, 11, 13), time(10), time(12), 25, 5))
    event_setup.save_day(db_session, event, DayPlan(date(2026, 11, 12), time(10), time(12), 25, 5))
    db_session.refresh(event)
    [warning] = event_setup.deadline_warnings(event)
    assert (warning.phase, warning.params) == (
        "preferences", {"closes": "2026-12-20 17:00", "first_day": "2026-11-12"}
    )
    assert "on or after the fair's first day (2026-11-12)" in warning.msgid % warning.params
    # Typed deadlines are judged before they are saved; the evening before is fine.
    eve = datetime(2026, 11, 11, 23, 59, tzinfo=JST)
    typed = {**late, "preferences": (late["preferences"][0], eve)}
    assert event_setup.deadline_warnings(event, typed) == []
    morning = {**typed, "registration": (t, datetime(2026, 11, 12, 8, tzinfo=JST))}
    assert [w.phase for w in event_setup.deadline_warnings(event, morning)] == ["registration"]


def test_japanese_only_names_get_distinct_slugs_that_say_what_they_are(
    db_session, monkeypatch
) -> None:
    """A Japanese name gives fair- and a date: the year it names (in the Western or the
    Reiwa calendar), else the month the event was created in; not its other numbers
    (令和7年度 gave the cryptic fair-7-0151, then the creation month)."""
    created = datetime(2026, 10, 31, 16, tzinfo=UTC)  # already 2026-11-01 in Tokyo
    monkeypatch.setattr(event_setup, "utcnow", lambda: created)
    one = event_setup.create_event(db_session, name="令和7年度 しずおか ものづくり受発注商談会")
    two = event_setup.create_event(db_session, name="令和７年度 食品商談会")
    assert (one.slug, two.slug) == ("fair-2025", "fair-2025-2")
    reiwa = [event_setup.create_event(db_session, name=n).slug
             for n in ("令和元年 商談会", "令和8年2月 商談会", "第12回 商談会 令和10年")]
    assert reiwa == ["fair-2019", "fair-2026-02", "fair-2028"]
    undated = [event_setup.create_event(db_session, name=n).slug
               for n in ("しずおか ものづくり受発注商談会", "食品商談会")]
    assert undated == ["fair-2026-11", "fair-2026-11-2"]
    berlin = event_setup.create_event(db_session, name="第3回 商談会", timezone="Europe/Berlin")
    assert berlin.slug == "fair-2026-10"  # the creation date where the fair is
    named = [event_setup.create_event(db_session, name=n).slug
             for n in ("ものづくり受発注商談会 2027", "食品商談会 2027", "２０２７年３月 商談会")]
    assert named == ["fair-2027", "fair-2027-2", "fair-2027-03"]
    latin = event_setup.create_event(db_session, name="Shizuoka Monozukuri Fair 2027")
    assert latin.slug == "shizuoka-monozukuri-fair-2027"
    # Every slug made from a name is one the form accepts back, so saving the event
    # with its slug untouched never fails: short names, and long ones that clash.
    made = [event_setup.create_event(db_session, name=n).slug
            for n in ("AI 商談会", "X", "International Manufacturing and Engineering "
                      "Partnership Fair Tokyo", "International Manufacturing and "
                      "Engineering Partnership Fair Tokyo",
                      "2027年3月15日〜16日 第12回 " + "1" * 60)]
    for slug in [*made, one.slug, two.slug, *named]:
        assert event_setup.SLUG_PATTERN.fullmatch(slug) and "--" not in slug, slug
        event_setup.check_slug(db_session, slug.upper() + "-x")  # the same rules as typed
    assert made[0] == "fair-ai" and made[2] != made[3] and made[3].endswith("-2")
    assert made[4] == "fair-2027-03-2"


@pytest.mark.parametrize(
    ("name", "part"),
    [("商談会 2027年度", "2027"), ("商談会 2027/11/12", "2027-11"), ("2027.3 商談会", "2027-03"),
     ("商談会 2027-2028", "2027"), ("第12回 商談会", None), ("商談会 12027", None)],
)
def test_the_year_a_japanese_name_gives(name: str, part: str | None) -> None:
    assert event_setup._year_in_name(name) == part


def test_an_event_with_an_old_style_slug_can_still_be_saved(db_session) -> None:
    event = event_setup.create_event(db_session, name="商談会")
    event.slug = "2027"  # made before slugs had rules
    event_setup.update_event(db_session, event, slug="2027", venue="県産業振興センター")
    assert event.slug == "2027" and event.venue == "県産業振興センター"


@pytest.mark.parametrize(
    "typed,stored",
    [("Shizuoka-2027", "shizuoka-2027"), ("ｆｏｏｄ　2027", "food-2027"), ("a_b", "a-b")],
)
def test_organizer_chosen_slug_is_normalised(db_session, typed: str, stored: str) -> None:
    event = event_setup.create_event(db_session, name="商談会", slug=typed)
    assert event.slug == stored


@pytest.mark.parametrize("typed", ["ab", "-fair", "fair-", "商談会", "a--b", "x" * 51, "a/b"])
def test_bad_slugs_are_refused_with_the_field(db_session, typed: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        event_setup.create_event(db_session, name="商談会", slug=typed)
    assert raised.value.field == "slug"


def test_slug_change_is_checked_against_other_events_and_logged(db_session) -> None:
    first = event_setup.create_event(db_session, name="商談会", slug="taken-2027")
    second = event_setup.create_event(db_session, name="別の商談会", slug="other-2027")
    with pytest.raises(ValidationFailed) as raised:
        event_setup.update_event(db_session, second, name="改名", slug="taken-2027")
    assert raised.value.field == "slug" and raised.value.params == {"slug": "taken-2027"}
    assert second.name == "別の商談会" and second.slug == "other-2027"
    event_setup.update_event(db_session, first, slug="taken-2027")  # its own slug: no clash
    event_setup.update_event(db_session, second, slug="Renamed-2027")
    assert second.slug == "renamed-2027"
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "event.update").order_by(AuditEntry.id.desc())
    ).first()
    assert entry.details["slug"] == ["other-2027", "renamed-2027"]


def test_an_event_name_is_kept_on_one_line(db_session) -> None:
    """The name heads every e-mail subject: a pasted line break must not reach a header."""
    event = event_setup.create_event(db_session, name="商談会 2027\r\nBcc: all@example.jp\t")
    assert event.name == "商談会 2027 Bcc: all@example.jp"
    event_setup.update_event(db_session, event, name="秋の\n商談会\u2028")
    assert event.name == "秋の 商談会"

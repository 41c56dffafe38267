"""Re-optimising the rest of the day around what staff decided and what is about to start.

QA on the fair day (4th round): a host's meeting that staff moved to a free table
(its own table's projector broke) was moved back by the repair; every added meeting
was explained as asked for by both sides; a plan computed with screening off could be
applied after screening was turned back on; and the repair changed a slot that started
eleven minutes later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board, pair_rules, problem_builder, repair
from scheduler import day_operations as ops
from scheduler.errors import Conflict
from scheduler.models import (
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    PairRuleKind,
    Participant,
    ParticipantRole,
    Slot,
    Table,
)
from scheduler.problem_builder import CHANGE_LEAD, participant_key, slot_key
from solver.validation import check
from tests.day_fair import Clock, assert_no_double_booking, local
from tests.repair_fair import scheduled_fair


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, repair, board, problem_builder)


@pytest.fixture
def fair(db_session: Session) -> Event:
    return scheduled_fair(db_session)


def _active(session: Session, event: Event) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED)
            .order_by(Meeting.id)
        )
    )


def _free_neutral_table(session: Session, event: Event, slot_id: int) -> Table:
    busy = {m.table_id for m in _active(session, event) if m.slot_id == slot_id}
    return next(
        t
        for t in session.scalars(
            select(Table)
            .where(Table.event_id == event.id, Table.host_participant_id.is_(None))
            .order_by(Table.label)
        )
        if t.id not in busy
    )


def _hosted_meeting_after(session: Session, event: Event, moment: datetime) -> Meeting:
    """A planned meeting at its host's own table in a slot starting after ``moment``."""
    return next(
        m
        for m in _active(session, event)
        if m.table is not None
        and m.table.host_participant_id is not None
        and m.slot.starts_at > moment
    )


def _no_show_at_1130(session: Session, event: Event, clock: Clock) -> Participant:
    """At 11:30 the supplier with the most meetings still to come is marked a no-show."""
    clock.set(11, 30)
    counts: dict[int, int] = {}
    for m in _active(session, event):
        if m.slot.starts_at >= clock.now:
            for side in (m.participant_a, m.participant_b):
                if side.role == ParticipantRole.SUPPLIER:
                    counts[side.id] = counts.get(side.id, 0) + 1
    no_show = session.get(Participant, min(counts, key=lambda pid: (-counts[pid], pid)))
    ops.set_day_status(session, no_show, DayStatus.NO_SHOW, user_id=None)
    session.commit()
    return no_show


# --------------------------------------------------------------- 1. staff decisions


def test_a_host_meeting_staff_moved_to_a_free_table_stays_there(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """The host's own table broke: staff seat its meeting at a table with no host, and
    the repair keeps it there instead of moving it back to the broken table."""
    clock.set(11, 30)
    meeting = _hosted_meeting_after(db_session, fair, clock.now + CHANGE_LEAD)
    own = meeting.table
    spare = _free_neutral_table(db_session, fair, meeting.slot_id)
    ops.move_meeting(
        db_session,
        fair,
        meeting.id,
        expected_version=meeting.version,
        table_id=spare.id,
        user_id=None,
        reason=f"{own.label} のプロジェクター故障",
    )
    db_session.commit()
    _no_show_at_1130(db_session, fair, clock)

    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    problem = repair.problem_from_dict(run.problem)
    schedule = repair.schedule_from_dict(run.result)
    pair = frozenset(
        (participant_key(meeting.participant_a), participant_key(meeting.participant_b))
    )
    assert (pair, slot_key(meeting.slot_id), spare.label) in {
        (m.key, m.slot, m.table) for m in problem.locked
    }
    assert check(problem, schedule.meetings) == []  # the solver accepts the staff's table
    preview = repair.repair_preview(db_session, fair, run)
    assert meeting.id not in {c.meeting.id for c in (*preview.moved, *preview.cancelled)}
    assert preview.changes, "the no-show leaves gaps to fill"
    repair.apply_repair(db_session, fair, preview, user=None)
    db_session.commit()
    db_session.refresh(meeting)
    assert (meeting.table_id, meeting.status) == (spare.id, MeetingStatus.PLANNED)
    assert_no_double_booking(db_session, fair)


def test_staff_placements_are_the_meetings_still_where_staff_put_them(
    db_session: Session, fair: Event, clock: Clock, staff
) -> None:
    """Moved or added by staff and still there; an undone move is not, nor one a later
    publication moved. A new version alone (new slot times, a cancellation undone) does
    not end it (QA review: it did, the lock was tied to the version)."""
    clock.set(11, 30)
    later = [m for m in _active(db_session, fair) if m.slot.starts_at > local(13, 0)]
    kept, undone = later[0], later[1]
    for item in (kept, undone):
        ops.move_meeting(
            db_session,
            fair,
            item.id,
            expected_version=item.version,
            table_id=_free_neutral_table(db_session, fair, item.slot_id).id,
            user_id=staff.id,
        )
        db_session.commit()
    ops.undo_last(db_session, fair, user_id=staff.id)  # puts ``undone`` back
    db_session.commit()
    assert problem_builder.staff_placements(db_session, fair) == {kept.id}
    kept.version += 1  # as new slot times do
    db_session.commit()
    assert problem_builder.staff_placements(db_session, fair) == {kept.id}
    ops.cancel_meeting(db_session, fair, kept.id, expected_version=kept.version, user_id=staff.id)
    db_session.commit()
    assert problem_builder.staff_placements(db_session, fair) == set()
    ops.undo_last(db_session, fair, user_id=staff.id)  # the cancellation taken back
    db_session.commit()
    db_session.refresh(kept)
    assert kept.status == MeetingStatus.PLANNED
    assert problem_builder.staff_placements(db_session, fair) == {kept.id}
    # A later publication that moves it elsewhere ends it.
    kept.table_id = _free_neutral_table(db_session, fair, kept.slot_id).id
    kept.version += 1
    db_session.commit()
    assert problem_builder.staff_placements(db_session, fair) == set()


def test_a_meeting_staff_added_beyond_a_cap_does_not_make_the_repair_impossible(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """Staff may add a meeting beyond a company's cap; it is locked, and the cap rises
    to the locked meetings so the repair still returns a plan."""
    clock.set(11, 30)
    active = _active(db_session, fair)
    met = {frozenset((m.participant_a_id, m.participant_b_id)) for m in active}

    def place(slot: Slot, buyer: Participant, supplier: Participant) -> Table | None:
        """The table a staff member could add their meeting at, if any."""
        own = db_session.scalar(select(Table).where(Table.host_participant_id == buyer.id))
        table = own or _free_neutral_table(db_session, fair, slot.id)
        check_add = ops.preview_add(
            db_session, fair, a_id=buyer.id, b_id=supplier.id, slot_id=slot.id, table_id=table.id
        )
        return table if not check_add.problems else None

    slot, buyer, supplier, table = next(
        (s, b, p, t)
        for s in fair.slots
        if s.starts_at > local(13, 0)
        for b in fair.participants
        if b.role == ParticipantRole.BUYER
        for p in fair.participants
        if p.role == ParticipantRole.SUPPLIER
        and frozenset((b.id, p.id)) not in met
        and (t := place(s, b, p)) is not None
    )
    # Its cap is what it has had so far (locked): the added meeting goes beyond it.
    count = sum(
        1
        for m in active
        if supplier.id in (m.participant_a_id, m.participant_b_id)
        and m.slot.starts_at < clock.now + CHANGE_LEAD
    )
    supplier.max_meetings = count
    db_session.commit()
    added = ops.add_meeting(
        db_session,
        fair,
        a_id=buyer.id,
        b_id=supplier.id,
        slot_id=slot.id,
        table_id=table.id,
        user_id=None,
        reason="walk-in",
    ).meetings[0]
    db_session.commit()
    problem = repair.build_repair_problem(db_session, fair, now=clock.now, change_penalty=6)
    key = frozenset((participant_key(buyer), participant_key(supplier)))
    assert (key, slot_key(slot), table.label) in {(m.key, m.slot, m.table) for m in problem.locked}
    entry = next(p for p in problem.participants if p.id == participant_key(supplier))
    assert entry.max_meetings == count + 1
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    preview = repair.repair_preview(db_session, fair, run)
    assert added.id not in {c.meeting.id for c in (*preview.moved, *preview.cancelled)}


# --------------------------------------------------------------- 2. who asked


def _pair(session: Session, event: Event) -> tuple[Participant, Participant, Slot]:
    buyer = next(p for p in event.participants if p.role == ParticipantRole.BUYER)
    supplier = next(p for p in event.participants if p.role == ParticipantRole.SUPPLIER)
    return buyer, supplier, event.slots[-1]


@pytest.mark.parametrize(
    ("sides", "expected"),
    [
        ("both", "Both sides asked to meet and are free at {when}."),
        ("buyer", "Only the buyer {buyer} asked to meet; both are free at {when}."),
        ("supplier", "Only the supplier {supplier} asked to meet; both are free at {when}."),
        (
            "organizer",
            "Neither side asked to meet, but the organizer set this pair to meet; "
            "both are free at {when}.",
        ),
    ],
)
def test_an_added_meeting_says_which_side_asked(
    db_session: Session, fair: Event, sides: str, expected: str
) -> None:
    buyer, supplier, slot = _pair(db_session, fair)
    pair = frozenset((buyer.id, supplier.id))
    asked = {
        "both": repair.WhoAsked(sides={pair: pair}),
        "buyer": repair.WhoAsked(sides={pair: frozenset({buyer.id})}),
        "supplier": repair.WhoAsked(sides={pair: frozenset({supplier.id})}),
        "organizer": repair.WhoAsked(by_organizer=frozenset({pair})),
    }[sides]
    added = repair.Change("added", buyer, supplier, None, repair.Place(slot, None))
    repair._explain(fair, [], [], [added], asked=asked)
    when = fair.local(slot.starts_at).strftime("%H:%M")
    assert repair.describe(added.reasons) == [
        expected.format(when=when, buyer=buyer.display_name, supplier=supplier.display_name)
    ]


def test_a_mutual_meeting_given_up_for_a_one_sided_one_reads_as_that_trade_off(
    db_session: Session, fair: Event
) -> None:
    """The cancelled meeting says both had asked; the one taking its place, that only
    the supplier did (staff were told the opposite)."""
    buyer = next(p for p in fair.participants if p.role == ParticipantRole.BUYER)
    first, second = [p for p in fair.participants if p.role == ParticipantRole.SUPPLIER][:2]
    slot = fair.slots[-1]
    mutual, one_sided = frozenset((buyer.id, first.id)), frozenset((buyer.id, second.id))
    asked = repair.WhoAsked(sides={mutual: mutual, one_sided: frozenset({second.id})})
    place = repair.Place(slot, None)
    cancelled = repair.Change("cancelled", buyer, first, place, None)
    added = repair.Change("added", buyer, second, None, place)
    repair._explain(fair, [], [cancelled], [added], asked=asked)
    when = fair.local(slot.starts_at).strftime("%H:%M")
    assert repair.describe(cancelled.reasons) == [
        f"Its place at {when} goes to {buyer.code}–{second.code}.",
        "Both sides had asked to meet.",
    ]
    assert repair.describe(added.reasons) == [
        f"Only the supplier {second.display_name} asked to meet; both are free at {when}."
    ]


def test_the_preview_reads_who_asked_from_the_interests(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """End to end: every added meeting's reason matches the pair's interests."""
    _no_show_at_1130(db_session, fair, clock)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    preview = repair.repair_preview(db_session, fair, run)
    assert preview.added
    asked = repair._who_asked(db_session, fair)
    mutual = {frozenset((p.a, p.b)): p.mutual for p in repair.requested_pairs(db_session, fair)}
    for change in preview.added:
        (text,) = repair.describe(change.reasons)
        if mutual.get(change.pair_ids):
            assert text.startswith("Both sides asked")
        else:
            assert not text.startswith("Both sides asked"), text
            (side,) = asked.sides[change.pair_ids]
            asker = change.a if change.a.id == side else change.b
            assert asker.display_name in text


# --------------------------------------------------------------- 3. stale plans


def _prepared(session: Session, event: Event, clock: Clock) -> repair.RepairPreview:
    _no_show_at_1130(session, event, clock)
    run = repair.prepare_repair(session, event, change_penalty=6, workers=1)
    session.commit()
    preview = repair.repair_preview(session, event, run)
    assert not preview.stale and preview.changes
    return preview


def test_a_plan_computed_with_screening_off_is_stale_once_it_is_back_on(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    fair.screening_enabled = False
    db_session.commit()
    preview = _prepared(db_session, fair, clock)
    fair.screening_enabled = True  # declines count again: the plan may pair them
    db_session.commit()
    assert repair.repair_preview(db_session, fair, preview.run).stale
    with pytest.raises(Conflict, match="The schedule changed since this preview"):
        repair.apply_repair(db_session, fair, preview, user=None)
    db_session.rollback()
    assert repair.repair_preview(db_session, fair, preview.run).run.published_at is None


def test_a_pair_rule_set_after_the_preview_makes_it_stale(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    preview = _prepared(db_session, fair, clock)
    change = preview.added[0]
    pair_rules.set_rule(db_session, fair, change.a, change.b, PairRuleKind.FORBID, user_id=None)
    db_session.commit()
    assert repair.repair_preview(db_session, fair, preview.run).stale
    with pytest.raises(Conflict, match="The schedule changed since this preview"):
        repair.apply_repair(db_session, fair, preview, user=None)


# --------------------------------------------------------------- 5. the lead time


def test_what_starts_within_the_lead_time_is_locked(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """At 12:52 the 13:00 slot is about to start: its meetings are locked, nothing new
    goes there, and the preview says from which slot the plan changes things."""
    clock.set(11, 30)
    no_show = _no_show_at_1130(db_session, fair, clock)
    clock.set(12, 52)
    problem = repair.build_repair_problem(db_session, fair, now=clock.now, change_penalty=6)
    soon = {slot_key(s) for s in fair.slots if s.starts_at < clock.now + CHANGE_LEAD}
    assert slot_key(next(s for s in fair.slots if s.starts_at == local(13, 0))) in soon
    live_soon = [m for m in _active(db_session, fair) if slot_key(m.slot_id) in soon]
    assert live_soon
    locked = {(m.key, m.slot) for m in problem.locked}
    for m in live_soon:
        key = frozenset((participant_key(m.participant_a), participant_key(m.participant_b)))
        assert (key, slot_key(m.slot_id)) in locked
    assert problem.now == clock.now + CHANGE_LEAD
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    preview = repair.repair_preview(db_session, fair, run)
    for change in preview.changes:
        for place in (change.before, change.after):
            assert place is None or place.slot.starts_at >= local(13, 30), change
    assert preview.first_open_slot is not None
    assert preview.first_open_slot.starts_at == local(13, 30)
    assert no_show.id is not None


def test_a_plan_is_not_applied_within_the_lead_time_of_a_slot_it_changes(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    preview = _prepared(db_session, fair, clock)
    first = min(
        (p.slot for c in preview.changes for p in (c.before, c.after) if p),
        key=lambda slot: slot.starts_at,
    )
    clock.now = first.starts_at - CHANGE_LEAD + timedelta(minutes=2)  # 8 minutes before
    late = repair.repair_preview(db_session, fair, preview.run)
    assert late.stale and late.started_since is not None and not late.begun
    with pytest.raises(Conflict, match="starts in less than 10 minutes"):
        repair.apply_repair(db_session, fair, late, user=None)


def test_the_preview_page_says_from_when_the_plan_changes_things(
    client, auth, staff, db_session: Session, fair: Event, clock: Clock
) -> None:
    _no_show_at_1130(db_session, fair, clock)
    auth.login(staff.email)
    client.post("/language", data={"lang": "en"})
    start = client.get(f"/events/{fair.id}/day/repair").get_data(as_text=True)
    assert "start within 10 minutes stay as they are" in start
    url = client.post(f"/events/{fair.id}/day/repair", data={"change_penalty": 6}).headers[
        "Location"
    ]
    page = client.get(url).get_data(as_text=True)
    assert 'data-test="repair-changes-from"' in page
    assert "Changes start with the 13:00 slot" in page


# --------------------------------------------------------------- 1. the solver's rule 4


def test_a_lock_may_seat_a_host_at_a_table_with_no_host() -> None:
    """Rule 4 for locks: a host's locked meeting at a table with no host is valid and
    takes that table in its slot (staff moved it there); an unlocked one is not."""
    from solver.engine import solve
    from solver.problem import Meeting as M
    from solver.problem import Pair, Problem
    from solver.problem import Participant as P
    from solver.problem import Table as T
    from solver.validation import objective
    from tests.solver.random_problems import make_slots

    slots = make_slots([2])  # d0s00, d0s01
    problem = Problem(
        slots=slots,
        participants=tuple(P(i) for i in ("H", "S1", "S2", "C", "D")),
        pairs=(Pair("H", "S1", 5), Pair("H", "S2", 5), Pair("C", "D", 9)),
        tables=(T("T1", host="H"), T("P1")),
        locked=(M("H", "S1", "d0s00", "P1"),),
        current=(M("H", "S1", "d0s00", "P1"), M("C", "D", "d0s00", "P1")),
        change_penalty=3,
        meeting_bonus=(10,),
    )
    schedule = solve(problem, time_limit=5, workers=1)
    assert check(problem, schedule.meetings) == []
    assert schedule.objective == objective(problem, schedule.meetings)
    assert schedule.bound >= schedule.objective
    placed = {frozenset((m.a, m.b)): (m.slot, m.table) for m in schedule.meetings}
    assert placed[frozenset(("H", "S1"))] == ("d0s00", "P1")  # kept where staff put it
    assert placed[frozenset(("C", "D"))] == ("d0s01", "P1")  # P1 is taken at d0s00
    assert placed[frozenset(("H", "S2"))] == ("d0s01", "T1")  # H's own table otherwise
    # Only a lock may do so: the solver itself keeps a host at its own tables.
    elsewhere = [M("H", "S1", "d0s00", "P1"), M("H", "S2", "d0s01", "P1")]
    assert [e for e in check(problem, elsewhere) if e.startswith("rule 4")] == [
        "rule 4: meeting H–S2 in slot d0s01 at table P1: H host tables and meet only at "
        "their own, but table P1 has no host"
    ]

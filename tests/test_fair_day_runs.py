"""A solver run started while the fair is under way starts from the day as it is.

QA on the fair day (4th round): run 8, started at 21:41, dropped meetings in slots that
had started, moved one from 20:30 to 21:20 and gave a walk-in's staff-added meetings
nothing; only a no-show stopped its publication, with a message saying it was computed
before the latest changes (it was not).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board, event_setup, problem_builder, publishing, repair, runs
from scheduler import day_operations as ops
from scheduler.demo import generate_demo
from scheduler.errors import Conflict
from scheduler.models import (
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
    Phase,
    RunStatus,
    ScheduleRun,
    Table,
    User,
)
from scheduler.problem_builder import CHANGE_LEAD, build_problem, participant_key, slot_key
from solver.engine import solve
from solver.problem_io import problem_from_dict, schedule_to_dict
from solver.validation import check, meeting_key
from tests.day_fair import Clock, local
from tests.repair_fair import scheduled_fair


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, repair, board, problem_builder, publishing)


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


def _initial(session: Session, event: Event) -> ScheduleRun:
    return session.scalars(
        select(ScheduleRun).where(ScheduleRun.event_id == event.id, ScheduleRun.kind == "initial")
    ).one()


def _walk_in_meeting(session: Session, event: Event) -> Meeting:
    """A walk-in supplier registered at the desk, with a meeting staff add for it at a
    buyer's own table in the afternoon (a pair nobody requested)."""
    walk_in = ops.register_walk_in(
        session,
        event,
        company="飛込精工株式会社",
        role=ParticipantRole.SUPPLIER,
        contact_name="飛込 太郎",
        user_id=None,
    )
    busy = {(m.table_id, m.slot_id) for m in _active(session, event)}
    slot, table = next(
        (s, t)
        for s in event.slots
        if s.starts_at >= local(13, 30)
        for t in session.scalars(select(Table).where(Table.event_id == event.id))
        if t.host_participant_id is not None
        and (t.id, s.id) not in busy
        and session.get(Participant, t.host_participant_id).is_available(s)
        and not any(
            m.slot_id == s.id and t.host_participant_id in (m.participant_a_id, m.participant_b_id)
            for m in _active(session, event)
        )
    )
    result = ops.add_meeting(
        session,
        event,
        a_id=table.host_participant_id,
        b_id=walk_in.id,
        slot_id=slot.id,
        table_id=table.id,
        user_id=None,
        reason="飛び込み",
    )
    session.commit()
    return result.meetings[0]


def _solved(session: Session, event: Event) -> ScheduleRun:
    """A run started now (its problem built now, as runs.create_run does), solved."""
    run = runs.create_run(session, event, parameters={"time_limit": 5})
    problem = problem_from_dict(run.problem)
    schedule = solve(problem, time_limit=5, workers=1, seed=0)
    run.result = schedule_to_dict(schedule)
    run.status = RunStatus.SUCCEEDED
    run.objective, run.bound = schedule.objective, schedule.bound
    session.commit()
    return run


def test_a_run_started_during_the_fair_locks_the_past_and_keeps_the_day(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    added = _walk_in_meeting(db_session, fair)
    no_show = next(
        p
        for p in fair.participants
        if p.role == ParticipantRole.SUPPLIER
        and any(
            p.id in (m.participant_a_id, m.participant_b_id) and m.slot.starts_at < clock.now
            for m in _active(db_session, fair)
        )
    )
    ops.set_day_status(db_session, no_show, DayStatus.NO_SHOW, user_id=None)
    db_session.commit()
    # The organizer's form may say not to keep the published plan; the day is kept anyway.
    problem = build_problem(db_session, fair, parameters={"keep_published": False})
    assert problem.now == clock.now + CHANGE_LEAD
    soon = {slot_key(s) for s in fair.slots if s.starts_at < clock.now + CHANGE_LEAD}
    live = _active(db_session, fair)
    locked = {meeting_key(m) for m in problem.locked}
    current = {meeting_key(m) for m in problem.current}

    def key(m: Meeting):  # type: ignore[no-untyped-def]
        pair = frozenset((participant_key(m.participant_a), participant_key(m.participant_b)))
        return (pair, slot_key(m.slot_id), m.table.label if m.table else None)

    assert {key(m) for m in live if slot_key(m.slot_id) in soon} <= locked
    assert {key(m) for m in live} == current
    assert key(added) in locked and key(added) in current  # placed by staff on the day
    entry = next(p for p in problem.participants if p.id == participant_key(no_show))
    assert entry.available is not None and entry.available <= soon

    run = _solved(db_session, fair)
    schedule = repair.schedule_from_dict(run.result)
    assert check(problem_from_dict(run.problem), schedule.meetings) == []
    kept = {meeting_key(m) for m in schedule.meetings}
    assert {key(m) for m in live if slot_key(m.slot_id) in soon} <= kept
    assert key(added) in kept
    publishing.publish_run(db_session, fair, run)  # it starts from the day: publishable
    db_session.commit()
    db_session.refresh(added)
    assert added.status == MeetingStatus.PLANNED


def test_a_run_from_before_the_fair_is_not_published_during_it(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    added = _walk_in_meeting(db_session, fair)
    before = {m.id: (m.slot_id, m.table_id, m.status, m.version) for m in _active(db_session, fair)}
    initial = _initial(db_session, fair)
    with pytest.raises(Conflict, match="computed before the fair began") as refused:
        publishing.publish_run(db_session, fair, initial)
    assert "Re-optimise the rest of the day" in refused.value.message
    db_session.rollback()
    assert {
        m.id: (m.slot_id, m.table_id, m.status, m.version) for m in _active(db_session, fair)
    } == before
    assert added.id in before
    assert publishing.preview_publication(db_session, fair, initial) is None


def test_a_run_older_than_the_days_changes_is_not_published(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    run = _solved(db_session, fair)
    _walk_in_meeting(db_session, fair)  # staff add a meeting after the run was started
    with pytest.raises(Conflict, match="changed after this run was computed"):
        publishing.publish_run(db_session, fair, run)


def test_a_run_does_not_change_a_slot_that_started_since(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """Computed at 11:30, published at 12:55: the 13:00 slot is within the lead time."""
    clock.set(11, 30)
    run = _solved(db_session, fair)
    problem = problem_from_dict(run.problem)
    at_one = next(
        m
        for m in problem.current
        if m.slot == slot_key(next(s for s in fair.slots if s.starts_at == local(13, 0)))
        and meeting_key(m) not in {meeting_key(x) for x in problem.locked}
    )
    # A schedule that cancels one meeting at 13:00 (valid: it is not locked).
    meetings = [m for m in problem.current if m != at_one]
    assert check(problem, meetings) == []
    run.result = {
        **run.result,
        "meetings": [{"a": m.a, "b": m.b, "slot": m.slot, "table": m.table} for m in meetings],
    }
    db_session.commit()
    clock.set(12, 55)
    with pytest.raises(Conflict, match="The slot at 13:00 has started since this run") as refused:
        publishing.publish_run(db_session, fair, run)
    assert refused.value.params["minutes"] == 10
    db_session.rollback()
    clock.set(11, 35)
    outcome = publishing.publish_run(db_session, fair, run)
    assert outcome.cancelled == 1


def test_a_no_show_refusal_does_not_claim_the_run_is_older_than_the_mark(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """Marked at 9:00, before the first meeting: the day's checks do not apply yet, and
    the refusal says what the run would do, not when it was computed."""
    clock.set(9, 0)
    initial = _initial(db_session, fair)
    no_show = next(
        p
        for p in fair.participants
        if p.role == ParticipantRole.SUPPLIER
        and p.id
        in {
            pid
            for m in _active(db_session, fair)
            for pid in (m.participant_a_id, m.participant_b_id)
        }
    )
    ops.set_day_status(db_session, no_show, DayStatus.NO_SHOW, user_id=None)
    db_session.commit()
    with pytest.raises(Conflict, match="marked as a no-show") as refused:
        publishing.publish_run(db_session, fair, initial)
    assert "computed before" not in refused.value.message
    assert refused.value.params["who"] == no_show.display_name


def test_the_run_pages_during_the_fair_point_to_the_days_re_optimisation(
    client,
    logged_in,
    db_session: Session,
    fair: Event,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import web.runs

    monkeypatch.setattr(web.runs, "utcnow", lambda: clock.now)
    client.post("/language", data={"lang": "en"})
    before = client.get(f"/events/{fair.id}/schedule/").get_data(as_text=True)
    assert 'id="fair-under-way"' not in before and 'name="keep_published"' in before
    clock.set(11, 30)
    page = client.get(f"/events/{fair.id}/schedule/").get_data(as_text=True)
    assert 'id="fair-under-way"' in page and f"/events/{fair.id}/day/repair" in page
    assert 'name="keep_published"' not in page  # the day as it is is always the start
    # The run from before the fair offers no publishing any more.
    initial = _initial(db_session, fair)
    assert f"/events/{fair.id}/schedule/runs/{initial.id}/publish" not in page
    # A re-optimisation of the day links to its preview instead of a publish button.
    initial.kind = "repair"
    db_session.commit()
    shown = client.get(f"/events/{fair.id}/schedule/runs/{initial.id}").get_data(as_text=True)
    assert 'data-test="repair-run"' in shown and 'id="publish"' not in shown


def test_a_plan_of_the_day_does_not_bring_back_what_staff_cancelled_or_the_organizer_forbade(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """Review: a re-optimisation put meetings staff had cancelled back where they were,
    and kept a pair the organizer forbade during the fair."""
    from scheduler.models import PairRule, PairRuleKind

    clock.set(11, 30)
    later = [m for m in _active(db_session, fair) if m.slot.starts_at >= local(13)]
    cancelled, forbidden = later[0], later[1]
    ops.cancel_meeting(
        db_session, fair, cancelled.id, expected_version=cancelled.version, user_id=None
    )
    db_session.add(
        PairRule(
            event_id=fair.id,
            kind=PairRuleKind.FORBID,
            participant_a_id=forbidden.participant_a_id,
            participant_b_id=forbidden.participant_b_id,
        )
    )
    db_session.commit()
    problem = build_problem(db_session, fair, parameters={"kind": "repair"})
    pairs = {frozenset((p.a, p.b)) for p in problem.pairs}
    current = {frozenset((m.a, m.b)) for m in problem.current}
    for meeting in (cancelled, forbidden):
        key = frozenset(participant_key(p) for p in (meeting.participant_a, meeting.participant_b))
        assert key not in pairs and key not in current


def test_on_the_fairs_morning_staff_changes_are_kept_by_runs_and_publishing(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """QA review: before the first meeting (10:00) a run ignored what reception had done
    since 08:00, and publishing a run from the day before brought back a meeting staff
    had cancelled."""
    clock.set(8, 30)
    assert min(s.starts_at for s in fair.slots) > clock.now + CHANGE_LEAD
    # Nothing changed yet on the day: runs plan as before the fair.
    assert build_problem(db_session, fair, parameters={}).now is None
    assert not problem_builder.plans_the_day(db_session, fair, clock.now)

    meeting = next(m for m in _active(db_session, fair) if m.slot.starts_at >= local(13, 0))
    pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
    ops.cancel_meeting(db_session, fair, meeting.id, expected_version=meeting.version, user_id=None)
    db_session.commit()
    assert problem_builder.plans_the_day(db_session, fair, clock.now)

    clock.set(8, 40)
    initial = _initial(db_session, fair)
    with pytest.raises(Conflict, match="changed after this run was computed") as refused:
        publishing.publish_run(db_session, fair, initial)
    assert refused.value.params["time"].count(":") == 1 and "-" in refused.value.params["time"]
    db_session.rollback()
    db_session.refresh(meeting)
    assert meeting.status == MeetingStatus.CANCELLED

    # A run started now starts from the day: the cancelled pair stays out, and it publishes.
    run = _solved(db_session, fair)
    problem = problem_from_dict(run.problem)
    assert problem.now == clock.now + CHANGE_LEAD
    codes = {participant_key(meeting.participant_a), participant_key(meeting.participant_b)}
    assert all({p.a, p.b} != codes for p in problem.pairs)
    publishing.publish_run(db_session, fair, run)
    db_session.commit()
    live_pairs = {
        frozenset((m.participant_a_id, m.participant_b_id)) for m in _active(db_session, fair)
    }
    assert pair not in live_pairs


def test_on_the_fairs_morning_an_undone_staff_change_leaves_runs_as_before(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(8, 30)
    meeting = next(m for m in _active(db_session, fair) if m.slot.starts_at >= local(13, 0))
    result = ops.cancel_meeting(
        db_session, fair, meeting.id, expected_version=meeting.version, user_id=staff.id
    )
    db_session.commit()
    ops.undo_last(db_session, fair, user_id=staff.id, entry_id=result.entry.id)
    db_session.commit()
    assert not problem_builder.plans_the_day(db_session, fair, clock.now)
    assert build_problem(db_session, fair, parameters={}).now is None


def test_a_table_used_today_is_not_given_to_a_host_but_an_unused_one_is(
    db_session: Session, fair: Event, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA review: a table where other companies had met in the morning, given at 11:30 to
    a buyer who had just arrived, made every plan of the day impossible (their locked
    meetings at a table of someone else)."""
    monkeypatch.setattr(event_setup, "utcnow", lambda: clock.now)
    clock.set(11, 30)
    live = _active(db_session, fair)
    tables = list(db_session.scalars(select(Table).where(Table.event_id == fair.id)))
    used = next(m for m in live if m.slot.starts_at < clock.now and m.table_id is not None)
    newcomer = next(
        p
        for p in fair.participants
        if p.id not in (used.participant_a_id, used.participant_b_id)
        and all(t.host_participant_id != p.id for t in tables)
    )
    table = db_session.get(Table, used.table_id)
    host_before = table.host_participant_id
    with pytest.raises(Conflict, match="have already taken place at") as refused:
        event_setup.set_table_host(db_session, table, newcomer.id, user_id=None)
    assert refused.value.params["table"] == table.label
    assert refused.value.params["time"] == fair.local(used.slot.starts_at).strftime("%H:%M")
    db_session.rollback()
    assert db_session.get(Table, table.id).host_participant_id == host_before

    # A table nobody has used yet today may be given; the plan of the day stays possible.
    unused = next(
        t
        for t in tables
        if not any(m.table_id == t.id and m.slot.starts_at < clock.now + CHANGE_LEAD for m in live)
    )
    event_setup.set_table_host(db_session, unused, newcomer.id, user_id=None)
    db_session.commit()
    run = _solved(db_session, fair)
    schedule = repair.schedule_from_dict(run.result)
    assert schedule.status != "INFEASIBLE"
    assert check(problem_from_dict(run.problem), schedule.meetings) == []
    # Making a table shared again, or keeping its host, is never refused.
    event_setup.set_table_host(db_session, table, None, user_id=None)
    event_setup.set_table_host(db_session, unused, newcomer.id, user_id=None)


def test_a_first_publication_while_the_fair_runs_places_nothing_in_slots_that_began(
    db_session: Session, clock: Clock
) -> None:
    """Review: a schedule published for the first time at 11:30 on the day put meetings
    at 10:00 and 11:00, in participants' calendars."""
    event = generate_demo(
        db_session, seed=7, buyers=4, suppliers=40, slug="late-fair", phase=Phase.SCHEDULING
    )
    db_session.commit()
    before = _solved(db_session, event)  # computed before the fair began
    assert problem_from_dict(before.problem).now is None
    clock.set(11, 30)
    assert problem_builder.fair_under_way(event, clock.now)
    run = _solved(db_session, event)
    problem = problem_from_dict(run.problem)
    assert problem.now == clock.now + CHANGE_LEAD
    begun = {slot_key(s) for s in event.slots if s.starts_at < problem.now}
    schedule = repair.schedule_from_dict(run.result)
    assert schedule.meetings and not [m for m in schedule.meetings if m.slot in begun]
    with pytest.raises(Conflict, match="computed before the fair began"):
        publishing.publish_run(db_session, event, before)
    db_session.rollback()
    publishing.publish_run(db_session, event, run)
    db_session.commit()
    assert all(m.slot.starts_at >= problem.now for m in _active(db_session, event))


def test_a_fair_wholly_past_and_never_published_may_still_be_planned(
    db_session: Session, clock: Clock
) -> None:
    event = generate_demo(
        db_session, seed=7, buyers=4, suppliers=40, slug="old-fair", phase=Phase.SCHEDULING
    )
    db_session.commit()
    clock.now = local(9, 0) + timedelta(days=30)
    assert not problem_builder.fair_under_way(event, clock.now)
    assert build_problem(db_session, event, parameters={}).now is None


def test_the_run_page_of_a_fair_begun_unpublished_says_runs_start_from_now(
    client, logged_in, db_session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.runs

    monkeypatch.setattr(web.runs, "utcnow", lambda: clock.now)
    event = generate_demo(
        db_session, seed=7, buyers=4, suppliers=40, slug="late-fair", phase=Phase.SCHEDULING
    )
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    clock.set(11, 30)
    page = client.get(f"/events/{event.id}/schedule/").get_data(as_text=True)
    assert 'id="fair-under-way"' in page and "no schedule is published yet" in page
    assert f"/events/{event.id}/day/repair" not in page  # nothing to re-optimise yet


def test_a_table_holding_a_meeting_staff_placed_is_not_given_to_a_host(
    db_session: Session, fair: Event, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: a walk-in's meeting staff added at 14:00 at a free table, which was then
    made a buyer's own table: every plan of the day was INFEASIBLE (the staff placement
    is locked at a table that now holds only its host's meetings)."""
    monkeypatch.setattr(event_setup, "utcnow", lambda: clock.now)
    clock.set(11, 30)
    room = db_session.scalars(select(Table).where(Table.event_id == fair.id)).first().room
    (spare,) = event_setup.add_tables(db_session, room, "Z99")
    db_session.commit()
    added = _walk_in_meeting(db_session, fair)
    moved = ops.move_meeting(
        db_session, fair, added.id, expected_version=added.version, table_id=spare.id,
        user_id=None,
    ).meetings[0]
    db_session.commit()
    assert moved.table_id == spare.id
    newcomer = next(
        p
        for p in fair.participants
        if p.role == ParticipantRole.BUYER
        and p.id not in (moved.participant_a_id, moved.participant_b_id)
    )
    with pytest.raises(Conflict, match="placed at Z99 by staff or pinned there"):
        event_setup.set_table_host(db_session, spare, newcomer.id, user_id=None)
    db_session.rollback()
    assert db_session.get(Table, spare.id).host_participant_id is None


def test_an_unpublished_fair_plans_from_a_no_show_marked_on_its_morning(
    db_session: Session, clock: Clock, staff: User
) -> None:
    """Review: before the first slot of a fair not yet published, a run ignored a no-show
    reception had marked, and publishing any run that placed it was refused."""
    event = generate_demo(
        db_session, seed=7, buyers=4, suppliers=40, slug="late-fair", phase=Phase.SCHEDULING
    )
    db_session.commit()
    clock.set(8, 30)
    buyer = next(p for p in event.participants if p.role == ParticipantRole.BUYER)
    ops.set_day_status(db_session, buyer, DayStatus.NO_SHOW, user_id=staff.id)
    db_session.commit()
    assert problem_builder.plans_the_day(db_session, event, clock.now)
    problem = build_problem(db_session, event, parameters={})
    entry = next(p for p in problem.participants if p.id == participant_key(buyer))
    assert entry.available == frozenset()


def test_check_ins_are_no_change_that_binds_runs(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """Review: morning check-ins made a run started at 08:00 unpublishable at 08:50."""
    clock.set(8, 0)
    run = _solved(db_session, fair)
    clock.set(8, 30)
    arrived = next(p for p in fair.participants if p.attendances)
    ops.check_in(db_session, arrived, user_id=staff.id)
    db_session.commit()
    assert problem_builder.staff_day_changes(db_session, fair) == []
    assert not problem_builder.plans_the_day(db_session, fair, clock.now)
    clock.set(8, 50)
    publishing.publish_run(db_session, fair, run)  # no Conflict

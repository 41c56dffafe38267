"""Re-optimising the rest of the day: the live state in, a previewed plan, applied atomically.

The end-to-end flow on a small demo fair under a frozen clock: a no-show at 11:30,
re-optimise, nothing before 11:30 moves, every other change is in the preview with its
reason, and the feeds show the changes with a higher SEQUENCE for the same UID.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board, calendars, history, publishing, repair
from scheduler import day_operations as ops
from scheduler.db import make_engine, make_session_factory
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
    ScheduleRun,
    User,
)
from scheduler.problem_builder import CHANGE_LEAD, participant_key, slot_key
from solver.validation import check
from tests.day_fair import Clock, assert_no_double_booking
from tests.repair_fair import scheduled_fair


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, repair, board)


@pytest.fixture
def fair(db_session: Session) -> Event:
    return scheduled_fair(db_session)


Place = tuple[int, int | None, str, int]  # slot, table, status, version


def _places(session: Session, event: Event) -> dict[int, Place]:
    session.expire_all()
    return {
        m.id: (m.slot_id, m.table_id, m.status, m.version)
        for m in session.scalars(select(Meeting).where(Meeting.event_id == event.id))
    }


def _planned_after(session: Session, event: Event, moment: datetime) -> Meeting:
    """A planned meeting that starts after ``moment`` (a staff member may still change it)."""
    return next(
        m
        for m in session.scalars(
            select(Meeting).where(
                Meeting.event_id == event.id, Meeting.status == MeetingStatus.PLANNED
            )
        )
        if m.slot.starts_at > moment
    )


def _busiest_after(session: Session, event: Event, moment: datetime) -> Participant:
    """The supplier with the most meetings still to come at ``moment`` (its buyers, at
    their cap of meetings until then, get room for suppliers who asked and were left out)."""
    counts: dict[int, int] = {}
    for m in session.scalars(
        select(Meeting).where(
            Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
        )
    ):
        if m.slot.starts_at >= moment:
            for side in (m.participant_a, m.participant_b):
                if side.role == ParticipantRole.SUPPLIER:
                    counts[side.id] = counts.get(side.id, 0) + 1
    return session.get(Participant, min(counts, key=lambda pid: (-counts[pid], pid)))


def _no_show_at_1130(session: Session, event: Event, clock: Clock) -> Participant:
    """At 11:30 the company with the most meetings still to come is marked a no-show."""
    clock.set(11, 30)
    no_show = _busiest_after(session, event, clock.now)
    ops.set_day_status(session, no_show, DayStatus.NO_SHOW, user_id=None)
    session.commit()
    return no_show


def _sequences(session: Session, participant: Participant) -> dict[str, int]:
    feed = calendars.participant_feed(session, participant)
    parsed = icalendar.Calendar.from_ical(feed.body)
    return {str(e["UID"]): int(e["SEQUENCE"]) for e in parsed.walk("VEVENT")}


def test_no_show_at_1130_repaired_end_to_end(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    no_show = _busiest_after(db_session, fair, clock.now)
    result = ops.set_day_status(db_session, no_show, DayStatus.NO_SHOW, user_id=None)
    db_session.commit()
    gap_people = {g.participant.id for g in result.gaps} | {no_show.id}
    before = _places(db_session, fair)

    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    preview = repair.repair_preview(db_session, fair, run)
    assert not preview.stale and not preview.applied
    assert preview.added, "the buyers' freed slots go to suppliers who asked and were left out"
    # Nothing that has started is in the preview, and the no-show gets nothing new.
    for change in preview.changes:
        for place in (change.before, change.after):
            assert place is None or place.slot.starts_at >= clock.now
        if change.kind != "cancelled":
            assert no_show.id not in change.pair_ids
        assert change.reasons and all(repair.describe(change.reasons))
    problem_check = check(
        repair.problem_from_dict(run.problem), repair.schedule_from_dict(run.result).meetings
    )
    assert problem_check == []

    # Feeds before, for everyone the preview names.
    sequences_before = {p.id: _sequences(db_session, p) for p in preview.affected}
    outcome = repair.apply_repair(db_session, fair, preview, user=None)
    db_session.commit()
    after = _places(db_session, fair)
    assert_no_double_booking(db_session, fair)

    slot_start = {s.id: s.starts_at for s in fair.slots}
    in_preview = {c.meeting.id: c for c in (*preview.moved, *preview.cancelled)}
    for meeting_id, was in before.items():
        now_is = after[meeting_id]
        if slot_start[was[0]] < clock.now:
            assert now_is == was, "a meeting that had started was changed"
        elif now_is[:3] != was[:3]:
            # Every meeting that changed, of untouched participants or not, is in the
            # preview with its reason, and its version went up.
            assert meeting_id in in_preview, meeting_id
            assert now_is[3] == was[3] + 1
        else:
            assert now_is == was and meeting_id not in in_preview
    # Every added meeting is there, where the preview said.
    for change in preview.added:
        placed = db_session.scalar(
            select(Meeting).where(
                Meeting.participant_a_id.in_(change.pair_ids),
                Meeting.participant_b_id.in_(change.pair_ids),
                Meeting.status == MeetingStatus.PLANNED,
            )
        )
        assert placed is not None and placed.slot_id == change.after.slot.id
        assert placed.table_id == (change.after.table.id if change.after.table else None)
    # Untouched participants' meetings that changed say why.
    for change in preview.changes:
        if not change.pair_ids & gap_people:
            assert change.reasons
    assert outcome.notify == {p.id for p in preview.affected}

    # Feeds: the same UIDs with a higher SEQUENCE for what moved or was cancelled.
    for person in preview.affected:
        seq_after = _sequences(db_session, person)
        for change in (*preview.moved, *preview.cancelled):
            if person.id in change.pair_ids:
                uid = calendars.meeting_uid(change.meeting)
                assert seq_after[uid] > sequences_before[person.id][uid]
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "repair.apply"))
    assert entry is not None and entry.details["added"] == len(preview.added)
    # History's company filter finds the plan under each company it changed (it named
    # them only inside its changes), and not under a company it left alone.
    assert entry.details["affected"] == sorted(p.id for p in preview.affected)
    affected = {p.id for p in preview.affected}
    untouched = next(
        p.id for p in db_session.scalars(select(Participant).where(Participant.event_id == fair.id))
        if p.id not in affected
    )
    for company, found in ((min(affected), True), (max(affected), True), (untouched, False)):
        page = history.history_page(db_session, fair, history.HistoryFilter(participant_id=company))
        assert (entry.id in {i.entry.id for i in page.items}) is found


def test_repair_problem_locks_what_started_and_blocks_the_no_show(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    no_show = _no_show_at_1130(db_session, fair, clock)
    problem = repair.build_repair_problem(db_session, fair, now=clock.now, change_penalty=6)
    started = {slot_key(s) for s in fair.slots if s.starts_at < clock.now}
    live_started = {
        (m.slot_id, m.participant_a_id, m.participant_b_id)
        for m in db_session.scalars(
            select(Meeting).where(
                Meeting.event_id == fair.id, Meeting.status != MeetingStatus.CANCELLED
            )
        )
        if slot_key(m.slot_id) in started
    }
    assert live_started, "the fixture should have meetings before 11:30"
    assert len([m for m in problem.locked if m.slot in started]) == len(live_started)
    key = participant_key(no_show)
    entry = next(p for p in problem.participants if p.id == key)
    assert entry.available is not None and entry.available <= started
    # Nothing new starts within the lead time either (rule 7 of the problem format).
    assert problem.now == clock.now + CHANGE_LEAD and problem.change_penalty == 6
    assert not any(p.must for p in problem.pairs)


def test_a_high_change_penalty_keeps_the_plan(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    run = repair.prepare_repair(db_session, fair, change_penalty=1000, workers=1)
    preview = repair.repair_preview(db_session, fair, run)
    assert preview.moved == [] and preview.cancelled == []


def test_a_stale_preview_is_refused_and_nothing_is_applied(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    _no_show_at_1130(db_session, fair, clock)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    preview = repair.repair_preview(db_session, fair, run)
    # A staff member cancels a meeting after the preview was computed.
    later = _planned_after(db_session, fair, clock.now)
    ops.cancel_meeting(db_session, fair, later.id, expected_version=later.version, user_id=None)
    db_session.commit()
    assert repair.repair_preview(db_session, fair, run).stale
    state = _places(db_session, fair)
    with pytest.raises(Conflict):
        repair.apply_repair(db_session, fair, preview, user=None)
    db_session.rollback()
    assert _places(db_session, fair) == state


def test_checking_companies_in_does_not_make_a_preview_stale(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """Reception checks companies in all day; the plan does not depend on it."""
    no_show = _no_show_at_1130(db_session, fair, clock)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    arriving = db_session.scalars(
        select(Participant).where(Participant.event_id == fair.id, Participant.id != no_show.id)
    ).first()
    ops.set_day_status(db_session, arriving, DayStatus.CHECKED_IN, user_id=None)
    db_session.commit()
    preview = repair.repair_preview(db_session, fair, run)
    assert not preview.stale and preview.changes
    repair.apply_repair(db_session, fair, preview, user=None)
    db_session.commit()
    # A second no-show does change the plan's ground.
    second = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    ops.set_day_status(db_session, arriving, DayStatus.NO_SHOW, user_id=None)
    db_session.commit()
    assert repair.repair_preview(db_session, fair, second).stale


def test_a_plan_that_changes_a_slot_started_since_is_refused(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    """Computed before a slot began, applied after: its meetings are under way."""
    _no_show_at_1130(db_session, fair, clock)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    preview = repair.repair_preview(db_session, fair, run)
    first = min(
        (p.slot for c in preview.changes for p in (c.before, c.after) if p),
        key=lambda slot: slot.starts_at,
    )
    clock.now = first.starts_at + timedelta(seconds=40)
    late = repair.repair_preview(db_session, fair, run)
    assert late.stale and late.started_since is not None
    assert late.started_since.id == first.id
    state = _places(db_session, fair)
    with pytest.raises(Conflict) as refused:
        repair.apply_repair(db_session, fair, late, user=None)
    assert "has started since this preview" in refused.value.message
    db_session.rollback()
    assert _places(db_session, fair) == state


def test_a_preview_is_applied_once(db_session: Session, fair: Event, clock: Clock) -> None:
    _no_show_at_1130(db_session, fair, clock)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    preview = repair.repair_preview(db_session, fair, run)
    repair.apply_repair(db_session, fair, preview, user=None)
    db_session.commit()
    with pytest.raises(Conflict):
        repair.apply_repair(db_session, fair, preview, user=None)


def test_an_applied_repair_is_in_the_day_log_and_stops_undo(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(11, 30)
    no_show = _busiest_after(db_session, fair, clock.now)
    ops.set_day_status(db_session, no_show, DayStatus.NO_SHOW, user_id=staff.id)
    db_session.commit()
    assert ops.last_undoable(db_session, fair, staff.id) is not None  # the no-show
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    preview = repair.repair_preview(db_session, fair, run)
    repair.apply_repair(db_session, fair, preview, user=staff)
    db_session.commit()
    newest = ops.day_log(db_session, fair)[0]
    assert newest.action == ops.REPAIR_ACTION and newest.user_id == staff.id
    assert newest.details["added"] == len(preview.added)
    # Undo cannot revert the plan, and must not reach back past it to the no-show.
    assert ops.last_undoable(db_session, fair, staff.id) is None


def test_repair_needs_a_published_schedule_and_time_left(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(18, 0)
    with pytest.raises(ValidationFailed):
        repair.prepare_repair(db_session, fair, workers=1)
    clock.set(11, 0)
    with pytest.raises(ValidationFailed):
        repair.prepare_repair(db_session, fair, change_penalty=-1, workers=1)
    fair.published_at = None
    with pytest.raises(ValidationFailed):
        repair.prepare_repair(db_session, fair, workers=1)


# --------------------------------------------------------------------------- web


def test_staff_run_preview_and_apply_through_the_pages(
    client, auth, staff, db_session: Session, fair: Event, clock: Clock
) -> None:
    _no_show_at_1130(db_session, fair, clock)
    base = f"/events/{fair.id}/day/repair"
    assert client.get(base).status_code == 302  # login first
    auth.login(staff.email)
    form = client.get(base).get_data(as_text=True)
    assert 'name="change_penalty"' in form and 'type="hidden"' in form  # staff cannot set it
    # Staff cannot override the organizer's penalty: a posted value is ignored.
    response = client.post(base, data={"change_penalty": 999})
    assert response.status_code == 302
    run_url = response.headers["Location"]
    run_id = int(run_url.rstrip("/").rsplit("/", 1)[1])
    assert db_session.get(repair.ScheduleRun, run_id).parameters["change_penalty"] == 6
    page = client.get(run_url).get_data(as_text=True)
    assert 'data-test="repair-apply"' in page
    planned = repair.repair_preview(db_session, fair, db_session.get(repair.ScheduleRun, run_id))
    assert planned.added
    assert page.count('data-kind="added"') == len(planned.added)
    assert all(p.display_name in page for p in planned.affected)
    applied = client.post(f"{base}/{run_id}/apply")
    assert applied.status_code == 302
    client.post("/language", data={"lang": "en"})
    after = client.get(run_url).get_data(as_text=True)
    assert 'data-test="repair-applied"' in after
    assert 'data-test="repair-apply"' not in after
    # What the plan did, not its difference from the live meetings (now none).
    note = re.search(r'data-test="repair-applied">(.*?)</p>', after, re.S)
    assert note is not None
    moved, cancelled, added = len(planned.moved), len(planned.cancelled), len(planned.added)
    assert f"{moved} moved, {cancelled} cancelled, {added} added" in note.group(1)
    assert staff.name in note.group(1)
    assert "Nobody: the current plan is already the best" not in after
    # ... and pair by pair, as recorded when it was applied, to tell the people concerned.
    for kind, changes in (("moved", planned.moved), ("cancelled", planned.cancelled),
                          ("added", planned.added)):
        assert after.count(f'data-kind="{kind}"') == len(changes)
        for change in changes:
            assert f"{change.a.code} {change.a.display_name}" in after
    db_session.expire_all()
    assert db_session.get(repair.ScheduleRun, run_id).published_at is not None


def test_apply_needs_the_csrf_token(csrf_app, db_session: Session, staff, clock: Clock) -> None:
    event = scheduled_fair(db_session, slug="repair-csrf")
    clock.set(11, 30)
    run = repair.prepare_repair(db_session, event, workers=1)
    db_session.commit()
    client = csrf_app.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/auth/login",
        data={"email": staff.email, "password": "correct horse battery", "csrf_token": token},
    )
    response = client.post(f"/events/{event.id}/day/repair/{run.id}/apply")
    assert response.status_code == 400
    db_session.expire_all()
    assert db_session.get(repair.ScheduleRun, run.id).published_at is None


def test_the_organizer_sets_the_penalty_staff_then_use(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    response = client.post(f"/events/{fair.id}/day/repair", data={"change_penalty": 40})
    assert response.status_code == 302
    db_session.expire_all()
    assert repair.default_change_penalty(db_session, fair) == 40
    refused = client.post(f"/events/{fair.id}/day/repair", data={"change_penalty": 5000})
    assert refused.status_code == 200  # the form again, with the range error
    assert repair.default_change_penalty(db_session, fair) == 40


def test_a_second_repair_keeps_the_organizers_objective(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    published = db_session.scalars(
        select(repair.ScheduleRun).where(repair.ScheduleRun.published_at.is_not(None))
    ).one()
    published.parameters = {**published.parameters, "meeting_bonus": [30, 1], "break_penalty": 9}
    db_session.commit()
    clock.set(11, 30)
    ops.set_day_status(
        db_session, _busiest_after(db_session, fair, clock.now), DayStatus.NO_SHOW, user_id=None
    )
    first = repair.prepare_repair(db_session, fair, workers=1)
    repair.apply_repair(db_session, fair, repair.repair_preview(db_session, fair, first), user=None)
    db_session.commit()
    assert first.published_at is not None  # the repair is now the last published run
    clock.set(13, 0)
    problem = repair.build_repair_problem(db_session, fair, now=clock.now, change_penalty=6)
    assert problem.meeting_bonus == (30, 1) and problem.break_penalty == 9


def test_a_repair_run_cannot_be_published_from_the_run_list(
    client, auth, organizer, db_session: Session, fair: Event, clock: Clock
) -> None:
    """Publishing a repair plan directly would skip the check that nothing changed since
    its preview; the run page sends the organizer to the preview instead."""
    _no_show_at_1130(db_session, fair, clock)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    versions = {m.id: m.version for m in db_session.scalars(select(Meeting))}
    auth.login(organizer.email)
    response = client.post(f"/events/{fair.id}/schedule/runs/{run.id}/publish")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/day/repair/{run.id}")
    db_session.expire_all()
    assert db_session.get(repair.ScheduleRun, run.id).published_at is None
    assert {m.id: m.version for m in db_session.scalars(select(Meeting))} == versions


def test_a_stale_plan_page_lists_no_changes(
    client, auth, staff, db_session: Session, fair: Event, clock: Clock
) -> None:
    """Its difference from the live meetings mixes in changes made since (a walk-in
    meeting added later showed up as one the plan would cancel)."""
    _no_show_at_1130(db_session, fair, clock)
    auth.login(staff.email)
    run_url = client.post(f"/events/{fair.id}/day/repair", data={"change_penalty": 6}).headers[
        "Location"
    ]
    assert 'data-kind="' in client.get(run_url).get_data(as_text=True)
    later = _planned_after(db_session, fair, clock.now)
    ops.cancel_meeting(db_session, fair, later.id, expected_version=later.version, user_id=None)
    db_session.commit()
    page = client.get(run_url).get_data(as_text=True)
    assert 'data-test="repair-stale"' in page
    assert 'data-kind="' not in page and 'data-test="repair-apply"' not in page


@pytest.mark.postgres
def test_applying_a_repair_while_someone_publishes_does_not_deadlock(
    database_url: str,
    db_session: Session,
    fair: Event,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both take the event's row first (the writers' lock order): the second waits for
    the first instead of each holding what the other needs."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL")
    clock.set(11, 30)
    ops.set_day_status(
        db_session, _busiest_after(db_session, fair, clock.now), DayStatus.NO_SHOW, user_id=None
    )
    db_session.commit()
    run_id = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1).id
    db_session.commit()
    initial_id = db_session.scalar(
        select(ScheduleRun.id).where(ScheduleRun.event_id == fair.id, ScheduleRun.kind == "initial")
    )
    fingerprint = repair.state_fingerprint

    def slow_fingerprint(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.4)  # the repair holds its locks while the publisher arrives
        return fingerprint(*args, **kwargs)

    monkeypatch.setattr(repair, "state_fingerprint", slow_fingerprint)
    engine = make_engine(database_url, pool_size=3)
    factory = make_session_factory(engine)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def apply() -> None:
        with factory() as session:
            try:
                event = session.get(Event, fair.id)
                preview = repair.repair_preview(session, event, session.get(ScheduleRun, run_id))
                barrier.wait(timeout=10)
                repair.apply_repair(session, event, preview, user=None)
                session.commit()
            except BaseException as error:
                failures.append(error)

    def publish() -> None:
        with factory() as session:
            try:
                event = session.get(Event, fair.id)
                barrier.wait(timeout=10)
                time.sleep(0.2)  # after the repair took its locks
                publishing.publish_run(session, event, session.get(ScheduleRun, initial_id))
                session.commit()
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=apply), threading.Thread(target=publish)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    # No deadlock (a 500): the repair applies; the publication waits for it and is
    # then refused cleanly, as the run from before the day would undo the no-show.
    assert all(isinstance(f, Conflict) and "no-show" in f.message for f in failures), failures
    db_session.expire_all()
    assert db_session.get(ScheduleRun, run_id).published_at is not None


def test_publishing_a_run_from_before_the_day_cannot_undo_a_no_show(
    db_session: Session, fair: Event, clock: Clock
) -> None:
    no_show = _no_show_at_1130(db_session, fair, clock)
    before = _places(db_session, fair)
    initial = db_session.scalar(
        select(ScheduleRun).where(ScheduleRun.event_id == fair.id, ScheduleRun.kind == "initial")
    )
    with pytest.raises(Conflict, match="marked as a no-show") as refused:
        publishing.publish_run(db_session, fair, initial)
    assert refused.value.params["who"] == no_show.display_name
    db_session.rollback()
    assert _places(db_session, fair) == before
    assert publishing.preview_publication(db_session, fair, initial) is None
    # The day's own re-optimisation is what publishes around the no-show.
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    repair.apply_repair(db_session, fair, repair.repair_preview(db_session, fair, run), user=None)
    db_session.commit()


def test_the_preview_says_whether_the_affected_are_e_mailed(
    app, client, auth, staff, db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(11, 30)
    ops.set_day_status(
        db_session, _busiest_after(db_session, fair, clock.now), DayStatus.NO_SHOW, user_id=None
    )
    db_session.commit()
    auth.login(staff.email)
    client.post("/language", data={"lang": "en"})
    run_url = client.post(f"/events/{fair.id}/day/repair", data={"change_penalty": 6}).headers[
        "Location"
    ]
    page = client.get(run_url).get_data(as_text=True)
    assert "nobody is e-mailed: tell them at the venue" in page
    assert "They are e-mailed when the plan is applied" not in page
    app.config["MAIL_SERVER"] = "127.0.0.1"
    page = client.get(run_url).get_data(as_text=True)
    assert "They are e-mailed when the plan is applied" in page


# ------------------------------------------------------------- QA 2 (the day of the fair)


def test_a_table_change_within_its_slot_is_not_explained_as_filling_a_gap(
    db_session: Session, fair: Event
) -> None:
    """L13: the same slot at another table gives its own reason."""
    from scheduler.models import Table

    item = next(
        m
        for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if m.table is not None and m.table.host_participant_id is not None
    )
    own = item.table
    host = next(
        s for s in (item.participant_a, item.participant_b) if s.id == own.host_participant_id
    )
    spare = db_session.scalars(
        select(Table).where(Table.event_id == fair.id, Table.host_participant_id.is_(None))
    ).first()
    assert spare is not None
    a, b = item.participant_a, item.participant_b
    back_home = repair.Change(
        "moved", a, b, repair.Place(item.slot, spare), repair.Place(item.slot, own), item
    )
    elsewhere = repair.Change(
        "moved", a, b, repair.Place(item.slot, own), repair.Place(item.slot, spare), item
    )
    repair._explain(fair, [back_home], [], [])
    repair._explain(fair, [elsewhere], [], [])
    texts = [reason[0] % reason[1] for c in (back_home, elsewhere) for reason in c.reasons]
    assert texts[0] == f"Same time, at the own table of {host.display_name} ({own.label})."
    assert texts[1] == f"Same time; only the table changes, to {spare.label}."
    assert all("gap" not in text for text in texts)


def test_no_change_is_called_best_only_when_the_solver_proved_it(
    client, auth, staff, db_session: Session, fair: Event, clock: Clock
) -> None:
    """L13: a plan stopped by the time limit (bound above the score) is not 'the best'."""
    clock.set(11, 30)
    run = repair.prepare_repair(db_session, fair, change_penalty=1000, workers=1)
    db_session.commit()
    assert repair.repair_preview(db_session, fair, run).affected == []
    auth.login(staff.email)
    client.post("/language", data={"lang": "en"})
    url = f"/events/{fair.id}/day/repair/{run.id}"
    for status, best in (("OPTIMAL", True), ("FEASIBLE", False)):
        run.result = {**run.result, "status": status}
        db_session.commit()
        page = client.get(url).get_data(as_text=True)
        assert ("the current plan is already the best" in page) is best
        assert ("no better plan for the rest of the day was found" in page) is not best


def test_the_run_history_offers_no_publish_button_for_a_repair(
    client, auth, organizer, db_session: Session, fair: Event, clock: Clock
) -> None:
    """L14: a re-optimisation is applied from its preview; the history links there."""
    clock.set(11, 30)
    run = repair.prepare_repair(db_session, fair, change_penalty=6, workers=1)
    db_session.commit()
    auth.login(organizer.email)
    client.post("/language", data={"lang": "en"})
    page = client.get(f"/events/{fair.id}/schedule/").get_data(as_text=True)
    row = page.split(f'id="run-{run.id}"')[1].split("</tr>")[0]
    assert f"/runs/{run.id}/publish" not in row
    assert f'href="/events/{fair.id}/day/repair/{run.id}"' in row

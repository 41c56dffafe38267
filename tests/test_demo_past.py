"""The past demo fair: closed, with a published schedule, no-shows and the reports both
sides made afterwards, so the results page has something to show."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db import Base, make_engine, make_session_factory
from scheduler.demo_past import PAST_DAY, PAST_SLUG, generate_past_demo
from scheduler.models import (
    DayStatus,
    Event,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    NextStep,
    Phase,
    Prospect,
)
from scheduler.outcomes import fair_results


@pytest.fixture(scope="module")
def past() -> Iterator[tuple[Session, Event]]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    event = generate_past_demo(session)
    session.commit()
    yield session, event
    session.close()


def test_the_past_fair_is_closed_published_and_in_the_past(past) -> None:  # type: ignore[no-untyped-def]
    _session, event = past
    assert (event.slug, event.phase) == (PAST_SLUG, Phase.CLOSED)
    assert event.published_at is not None and event.published_version == 1
    assert all(slot.starts_at.date() == PAST_DAY for slot in event.slots)
    assert event.slots[-1].ends_at < datetime.now(UTC)


def test_no_shows_lost_their_meetings_and_nobody_reported_on_those(past) -> None:  # type: ignore[no-untyped-def]
    session, event = past
    no_shows = {p.id for p in event.participants if p.day_status == DayStatus.NO_SHOW}
    assert no_shows
    meetings = session.scalars(select(Meeting).where(Meeting.event_id == event.id)).all()
    cancelled = {m.id for m in meetings if m.status == MeetingStatus.CANCELLED}
    assert cancelled == {m.id for m in meetings if no_shows & {m.participant_a_id,
                                                               m.participant_b_id}}
    reports = session.scalars(select(MeetingOutcome)).all()
    assert reports and not {r.meeting_id for r in reports} & cancelled


def test_reports_are_consistent_and_results_look_like_a_real_fair(past) -> None:  # type: ignore[no-untyped-def]
    session, event = past
    reports = session.scalars(select(MeetingOutcome)).all()
    for report in reports:
        meeting = session.get(Meeting, report.meeting_id)
        assert report.participant_id in (meeting.participant_a_id, meeting.participant_b_id)
        assert report.is_current(meeting)
        if not report.took_place:
            assert (report.prospect, report.next_steps, report.order_amount) == (None, [], None)
            continue
        assert set(report.next_steps) <= {s.value for s in NextStep}
        assert (report.order_amount is not None) == (NextStep.ORDER.value in report.next_steps)
        if report.prospect == Prospect.NONE:
            assert report.next_steps == []
    results = fair_results(session, event, datetime.now(UTC))
    assert results.upcoming == 0 and results.started > 50
    answered = (results.buyers.reported + results.suppliers.reported) / (
        results.buyers.participants + results.suppliers.participants)
    assert 0.6 < answered < 0.9  # most, not all: the reminder and the chase list matter
    steps = results.step_counts
    assert steps["further_talks"] > steps["quotation"] > steps["order"] > 0
    assert results.order_total > 0 and results.waiting and results.not_held > 0


def test_about_two_thirds_of_the_companies_that_came_answered_the_survey(past) -> None:  # type: ignore[no-untyped-def]
    from scheduler.feedback import survey_results

    session, event = past
    survey = survey_results(session, event).total
    assert 0.55 < survey.response_rate < 0.75
    assert 0.55 < survey.satisfied_share < 0.9 and set(survey.levels) <= {1, 2, 3, 4, 5}
    assert len(survey.levels) >= 4  # not all of one mind
    assert survey.join_again["yes"] > survey.join_again["no"] > 0
    no_shows = {p.id for p in event.participants if p.day_status == DayStatus.NO_SHOW}
    assert not {a.participant_id for a in survey.answers} & no_shows


def test_loading_again_adds_nothing(past) -> None:  # type: ignore[no-untyped-def]
    session, event = past
    counts = [session.scalar(select(func.count()).select_from(m))
              for m in (Event, Meeting, MeetingOutcome)]
    assert generate_past_demo(session).id == event.id
    assert counts == [session.scalar(select(func.count()).select_from(m))
                      for m in (Event, Meeting, MeetingOutcome)]


def test_companies_of_both_demo_fairs_are_in_the_directory_once() -> None:
    from scheduler.demo import generate_demo
    from scheduler.models import Organization

    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    upcoming = generate_demo(session)  # the default size, as `make demo` loads it
    past = generate_past_demo(session)
    session.commit()
    keys = session.scalars(select(Organization.name_key)).all()
    assert len(keys) == len(set(keys))
    again = {p.organization_id for p in upcoming.participants} & {
        p.organization_id for p in past.participants}
    assert again  # some companies took part in both fairs, as one directory record
    for participant in past.participants:
        assert participant.organization.people  # its attendees moved with it
    session.close()

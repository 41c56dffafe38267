"""A company that cancels is withdrawn (辞退): its meetings to come are cancelled (calendars
see a higher SEQUENCE), the counterparts are told, it leaves whatever lists the companies
taking part; refused on the fair's day (the no-show is the way), once it has met, and
while a run is queued or running. Undoing it does not bring the meetings back."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import withdrawal
from scheduler.day_operations import meetings_of
from scheduler.directory import counterpart_profile, search
from scheduler.errors import Conflict
from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantStatus,
    RunStatus,
    ScheduleRun,
    User,
)
from scheduler.problem_builder import build_problem, participant_key
from tests.conftest import AuthActions
from tests.day_fair import local
from tests.participant_fair import read_in_english
from tests.published_fair import busiest_participant, published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    """The published demo fair of 17 February 2027: its meetings are still to come."""
    return published_fair(db_session)


@pytest.fixture
def english(client: FlaskClient) -> None:
    read_in_english(client)


def _planned(session: Session, participant: Participant) -> list[Meeting]:
    return [m for m in meetings_of(session, participant) if m.status == MeetingStatus.PLANNED]


def _other(meeting: Meeting, participant: Participant) -> Participant:
    return meeting.participant_b if meeting.participant_a_id == participant.id else (
        meeting.participant_a
    )


def _access(event: Event, participant: Participant, action: str = "access") -> str:
    return f"/events/{event.id}/participants/{participant.id}/{action}"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --------------------------------------------------------------------------- the service


def test_withdrawal_cancels_the_meetings_to_come_with_a_new_version_and_is_audited(
    db_session: Session, fair: Event, organizer: User
) -> None:
    company = busiest_participant(db_session, fair)
    planned = _planned(db_session, company)
    assert len(planned) >= 2
    versions = {m.id: m.version for m in planned}
    counterparts = {_other(m, company).id for m in planned}
    others = {
        m.id: (m.status, m.version)
        for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if m.id not in versions
    }

    plan = withdrawal.plan_withdrawal(db_session, company)
    assert plan.refusal is None and {m.id for m in plan.meetings} == set(versions)
    result = withdrawal.withdraw(db_session, company, user_id=organizer.id, reason=" 社内事情 ")
    db_session.commit()
    db_session.expire_all()

    assert company.status == ParticipantStatus.WITHDRAWN
    for meeting_id, version in versions.items():
        meeting = db_session.get(Meeting, meeting_id)
        assert meeting.status == MeetingStatus.CANCELLED  # kept, never deleted
        assert meeting.version == version + 1  # the counterpart's feed: a higher SEQUENCE
    # Nobody else's meeting changed.
    assert {
        m.id: (m.status, m.version)
        for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if m.id not in versions
    } == others
    assert {p.id for p in result.counterparts} == counterparts
    entry = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "participant.withdraw")
    )
    assert entry.user_id == organizer.id and entry.participant_id == company.id
    assert entry.reason == "社内事情"
    assert {line["id"] for line in entry.details["cancelled"]} == set(versions)
    assert set(entry.details["counterparts"]) == counterparts
    # Once is enough.
    with pytest.raises(Conflict, match="already withdrawn"):
        withdrawal.withdraw(db_session, company, user_id=organizer.id)


def test_a_withdrawn_company_leaves_the_directory_the_runs_its_pages_and_its_calendar(
    client: FlaskClient, db_session: Session, fair: Event, organizer: User
) -> None:
    company = busiest_participant(db_session, fair)
    other = _other(_planned(db_session, company)[0], company)
    feed = f"/cal/{company.feed_token}.ics"
    assert icalendar.Calendar.from_ical(client.get(feed).data).walk("VEVENT")
    withdrawal.withdraw(db_session, company, user_id=organizer.id)
    db_session.commit()

    assert company.id not in {e.participant.id for e in search(db_session, fair, other.role)}
    assert counterpart_profile(db_session, other, company.id) is None
    problem = build_problem(db_session, fair, parameters={})
    assert participant_key(company) not in {p.id for p in problem.participants}
    assert client.get(f"/p/{company.access_token}/").status_code == 404
    response = client.get(feed)
    assert response.status_code == 200  # emptied, not broken: calendars drop the meetings
    assert not icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    # The counterpart's own calendar shows the meeting cancelled, with a higher SEQUENCE.
    cancelled = [
        e for e in icalendar.Calendar.from_ical(client.get(f"/cal/{other.feed_token}.ics").data)
        .walk("VEVENT") if str(e.get("status")) == "CANCELLED"
    ]
    assert cancelled and all(int(e.get("sequence")) >= 1 for e in cancelled)


def test_a_withdrawal_is_refused_while_a_run_is_queued_or_running(
    db_session: Session, fair: Event, organizer: User
) -> None:
    company = busiest_participant(db_session, fair)
    run = ScheduleRun(
        event_id=fair.id, kind="initial", status=RunStatus.RUNNING, parameters={},
        problem={}, progress=[], heartbeat_at=local(0).replace(year=2100),
    )
    db_session.add(run)
    db_session.commit()
    with pytest.raises(Conflict, match=f"Solver run {run.id} of this event is queued or running"):
        withdrawal.withdraw(db_session, company, user_id=organizer.id)
    db_session.rollback()
    assert company.status == ParticipantStatus.APPROVED
    assert all(m.status == MeetingStatus.PLANNED for m in _planned(db_session, company))
    run.status = RunStatus.SUCCEEDED
    db_session.commit()
    withdrawal.withdraw(db_session, company, user_id=organizer.id)
    assert company.status == ParticipantStatus.WITHDRAWN


def test_on_the_fairs_day_a_withdrawal_points_to_the_no_show_and_after_it_is_refused(
    db_session: Session, fair: Event, organizer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = busiest_participant(db_session, fair)
    monkeypatch.setattr(withdrawal, "utcnow", lambda: local(8, 0))  # before the first slot
    plan = withdrawal.plan_withdrawal(db_session, company)
    assert plan.refused_for == "under_way" and "no-show" in plan.refusal.message
    with pytest.raises(Conflict, match="no-show"):
        withdrawal.withdraw(db_session, company, user_id=organizer.id)
    db_session.rollback()
    # The day after: it has met companies, and its meetings count in the fair's results.
    monkeypatch.setattr(withdrawal, "utcnow", lambda: local(12) + timedelta(days=1))
    with pytest.raises(Conflict, match="already had meetings"):
        withdrawal.withdraw(db_session, company, user_id=organizer.id)
    db_session.rollback()
    assert company.status == ParticipantStatus.APPROVED


def test_only_a_company_taking_part_can_withdraw(
    db_session: Session, fair: Event, organizer: User
) -> None:
    company = busiest_participant(db_session, fair)
    company.status = ParticipantStatus.PENDING
    db_session.commit()
    with pytest.raises(Conflict, match="not approved"):
        withdrawal.withdraw(db_session, company, user_id=organizer.id)


def test_undoing_a_withdrawal_keeps_the_meetings_cancelled(
    db_session: Session, fair: Event, organizer: User
) -> None:
    company = busiest_participant(db_session, fair)
    planned = [m.id for m in _planned(db_session, company)]
    withdrawal.withdraw(db_session, company, user_id=organizer.id)
    db_session.commit()
    withdrawal.reinstate(db_session, company, user_id=organizer.id, reason="やはり参加")
    db_session.commit()
    db_session.expire_all()
    assert company.status == ParticipantStatus.APPROVED
    assert all(db_session.get(Meeting, i).status == MeetingStatus.CANCELLED for i in planned)
    entry = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "participant.reinstate")
    )
    assert entry.participant_id == company.id and entry.reason == "やはり参加"
    with pytest.raises(Conflict, match="nothing to undo"):
        withdrawal.reinstate(db_session, company, user_id=organizer.id)


# --------------------------------------------------------------------------- the pages


def test_the_access_page_states_what_a_withdrawal_does_and_the_post_withdraws(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, logged_in: User,
    english: None, smtp_server,
) -> None:
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    company = busiest_participant(db_session, fair)
    planned = _planned(db_session, company)
    counterparts = {_other(m, company) for m in planned}
    page = _text(client.get(_access(fair, company)))
    section = page.split('data-test="withdrawal"')[1].split("</section>")[0]
    assert f"Its {len(planned)} planned meetings are cancelled" in section
    assert f"{len(counterparts)} counterparts are e-mailed the change notice" in section
    assert "the cancelled meetings are not restored" in section
    for other in counterparts:
        assert other.display_name in section
    assert 'onsubmit="return confirm(' in section and "Withdraw this company" in section

    done = _text(client.post(
        _access(fair, company, "withdraw"), data={"reason": "都合により"}, follow_redirects=True
    ))
    assert f"has withdrawn. {len(planned)} planned meetings were cancelled." in done
    assert f"{len(counterparts)} participants were e-mailed" in done
    # The counterparts get the change notice with their own schedule link; the company
    # that withdrew gets none (its pages are closed).
    links = {
        re.search(r"/p/([\w-]+)/schedule", m.get_payload(decode=True).decode()).group(1)
        for m in inbox.messages
    }
    assert links == {p.access_token for p in counterparts}
    db_session.expire_all()
    assert company.status == ParticipantStatus.WITHDRAWN
    # The page now offers to undo it, saying the meetings stay cancelled.
    section = done.split('data-test="withdrawn"')[1].split("</section>")[0]
    assert f"{len(planned)} meetings were cancelled." in section and "都合により" in section
    assert "its cancelled meetings stay cancelled" in section

    back = _text(client.post(_access(fair, company, "reinstate"), follow_redirects=True))
    assert "takes part again. Its cancelled meetings stay cancelled" in back
    db_session.expire_all()
    assert company.status == ParticipantStatus.APPROVED
    # Undoing twice (two tabs): said, never an error page.
    again = client.post(_access(fair, company, "reinstate"), follow_redirects=True)
    assert again.status_code == 200 and "nothing to undo" in _text(again)


def test_without_mail_the_page_says_the_counterparts_are_not_e_mailed(
    client: FlaskClient, db_session: Session, fair: Event, logged_in: User, english: None
) -> None:
    company = busiest_participant(db_session, fair)
    section = _text(client.get(_access(fair, company))).split('data-test="withdrawal"')[1]
    assert "No mail server is configured: the counterparts are not e-mailed" in section
    done = _text(client.post(_access(fair, company, "withdraw"), follow_redirects=True))
    assert "participants were not e-mailed" in done


def test_the_page_offers_no_withdrawal_while_a_run_works_or_on_the_day(
    client: FlaskClient, db_session: Session, fair: Event, logged_in: User, english: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    company = busiest_participant(db_session, fair)
    run = ScheduleRun(event_id=fair.id, kind="initial", status=RunStatus.QUEUED,
                      parameters={}, problem={}, progress=[])
    db_session.add(run)
    db_session.commit()
    section = _text(client.get(_access(fair, company))).split('data-test="withdrawal"')[1]
    section = section.split("</section>")[0]
    assert "queued or running" in section and "Withdraw this company" not in section
    assert f"/schedule/runs/{run.id}" in section
    # Posted all the same (a page open from before): refused, said, nothing changed.
    refused = client.post(_access(fair, company, "withdraw"), follow_redirects=True)
    assert refused.status_code == 200 and "queued or running" in _text(refused)
    db_session.expire_all()
    assert company.status == ParticipantStatus.APPROVED

    db_session.delete(run)
    db_session.commit()
    monkeypatch.setattr(withdrawal, "utcnow", lambda: local(10, 0))
    section = _text(client.get(_access(fair, company))).split('data-test="withdrawal"')[1]
    section = section.split("</section>")[0]
    assert "no-show" in section and "Withdraw this company" not in section
    assert f"/day/participants/{company.id}" in section  # its card at reception


def test_only_an_organizer_withdraws_and_the_form_needs_its_csrf_token(
    client: FlaskClient, db_session: Session, fair: Event, staff: User, auth: AuthActions,
    csrf_app: Flask,
) -> None:
    company = busiest_participant(db_session, fair)
    assert auth.login("staff@example.jp").status_code == 302
    assert client.post(_access(fair, company, "withdraw")).status_code == 403
    assert client.post(_access(fair, company, "reinstate")).status_code == 403
    other = csrf_app.test_client()
    assert other.post(_access(fair, company, "withdraw")).status_code == 400
    db_session.expire_all()
    assert company.status == ParticipantStatus.APPROVED


def test_runs_finished_before_the_withdrawal_are_named_before_anyone_publishes_one(
    client: FlaskClient, db_session: Session, fair: Event, solved: ScheduleRun,
    logged_in: User, english: None,
) -> None:
    """Such a run still places the company: publishing it would bring its meetings back."""
    company = busiest_participant(db_session, fair)
    assert withdrawal.plan_withdrawal(db_session, company).stale_runs == [solved.id]
    section = _text(client.get(_access(fair, company))).split('data-test="stale-runs"')[1]
    assert f"({solved.id}) still give it meetings" in section.split("</li>")[0]
    done = _text(client.post(_access(fair, company, "withdraw"), follow_redirects=True))
    assert f"({solved.id}) still give it meetings" in done


def test_runs_are_read_by_the_company_each_code_meant_not_by_todays_codes(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    """Review: a company re-coded since a run was found by nobody, and the company that
    now holds its old code was named instead."""
    company = busiest_participant(db_session, fair)
    other = next(p for p in fair.participants if p.id != company.id and p.role == company.role)
    old_code = company.code
    assert solved.parameters["participant_ids"][old_code] == company.id
    company.code, other.code = "S900", old_code  # re-coded, and its code given away
    db_session.commit()
    assert withdrawal.runs_placing(db_session, company) == [solved.id]
    placed_other = any(
        other.id == solved.parameters["participant_ids"].get(side)
        for m in solved.result["meetings"]
        for side in (m["a"], m["b"])
    )
    assert withdrawal.runs_placing(db_session, other) == ([solved.id] if placed_other else [])


def test_a_run_finished_before_the_withdrawal_cannot_bring_the_company_back(
    db_session: Session, fair: Event, solved: ScheduleRun, organizer: User
) -> None:
    """QA: publishing such a run put all 8 meetings of the withdrawn company back."""
    from scheduler import publishing

    company = busiest_participant(db_session, fair)
    withdrawal.withdraw(db_session, company, user_id=organizer.id)
    db_session.commit()
    with pytest.raises(Conflict, match="changed since this run"):
        publishing.publish_run(db_session, fair, solved, user_id=organizer.id)
    db_session.rollback()
    assert _planned(db_session, company) == []


def test_the_participant_list_leads_to_undoing_a_withdrawal(
    client: FlaskClient, db_session: Session, fair: Event, logged_in: User, english: None,
) -> None:
    company = busiest_participant(db_session, fair)
    withdrawal.withdraw(db_session, company, user_id=logged_in.id)
    db_session.commit()
    listing = _text(client.get(f"/events/{fair.id}/participants?status=all"))
    assert f"{_access(fair, company)}#withdrawal" in listing and "Undo the withdrawal" in listing

"""Publishing a run: atomic, idempotent, stable meeting rows (uid, version), e-mail notices."""

from __future__ import annotations

import dataclasses
import threading
import time
from email.header import decode_header, make_header

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import notifications, publishing, runs
from scheduler.db import make_engine, make_session_factory
from scheduler.demo import generate_demo
from scheduler.errors import Conflict
from scheduler.models import (
    Attendance,
    AuditEntry,
    Event,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    Participant,
    Person,
    Phase,
    RunStatus,
    ScheduleRun,
    Table,
)
from solver.problem import Meeting as SolverMeeting
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.validation import check
from tests.mail_inbox import free_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:aiosmtpd")


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=7, buyers=4, suppliers=14)
    db_session.commit()
    return event


def _meetings(run: ScheduleRun) -> list[SolverMeeting]:
    return schedule_from_dict(run.result).meetings


def _variant(session: Session, base: ScheduleRun, meetings: list[SolverMeeting]) -> ScheduleRun:
    """A finished run of the same problem whose schedule is ``meetings`` (checked valid)."""
    problem = problem_from_dict(base.problem)
    assert check(problem, meetings) == []
    result = dict(base.result)
    result["meetings"] = [{"a": m.a, "b": m.b, "slot": m.slot, "table": m.table} for m in meetings]
    run = ScheduleRun(
        event_id=base.event_id,
        status=RunStatus.SUCCEEDED,
        parameters=base.parameters,
        problem=base.problem,
        result=result,
        objective=base.objective,
        bound=base.bound,
    )
    session.add(run)
    session.commit()
    return run


def _free_place(run: ScheduleRun, meetings: list[SolverMeeting], meeting: SolverMeeting):
    """``meeting`` at another slot/table where the schedule stays valid, or None."""
    problem = problem_from_dict(run.problem)
    others = [m for m in meetings if m.key != meeting.key]
    for slot in problem.slots:
        for table in [t.id for t in problem.tables or ()]:
            moved = dataclasses.replace(meeting, slot=slot.id, table=table)
            if moved == meeting:
                continue
            if not check(problem, [*others, moved]):
                return moved
    return None


def _rows(session: Session, event: Event) -> dict[str, tuple]:
    session.expire_all()
    return {
        m.uid: (m.id, m.slot_id, m.table_id, m.status, m.version)
        for m in session.scalars(select(Meeting).where(Meeting.event_id == event.id))
    }


def test_first_publication_creates_every_meeting_and_publishes_the_event(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    outcome = publishing.publish_run(db_session, fair, solved, user_id=None)
    db_session.commit()
    meetings = db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id)).all()
    assert outcome.first and outcome.inserted == len(_meetings(solved)) == len(meetings)
    assert fair.published_version == 1 and fair.published_at is not None
    assert fair.phase == Phase.PUBLISHED and solved.published_at is not None
    assert {m.version for m in meetings} == {0}
    assert len({m.uid for m in meetings}) == len(meetings)
    approved = db_session.scalars(select(Participant.id).where(Participant.event_id == fair.id))
    assert outcome.notify == set(approved.all())


def test_publishing_the_same_run_twice_changes_nothing(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    before, published_at = _rows(db_session, fair), fair.published_at
    again = publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    assert not again.changed and again.notify == set()
    assert again.unchanged == len(before)
    assert _rows(db_session, fair) == before
    assert fair.published_version == 1 and fair.published_at == published_at


def test_republishing_moves_cancels_and_adds_keeping_each_pairs_row(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    first = _rows(db_session, fair)
    meetings = _meetings(solved)
    dropped = meetings[0]
    kept = meetings[1:]
    moved = next((m, place) for m in kept if (place := _free_place(solved, kept, m)) is not None)
    second = [moved[1] if m.key == moved[0].key else m for m in kept]
    outcome = publishing.publish_run(db_session, fair, _variant(db_session, solved, second))
    db_session.commit()
    assert (outcome.moved, outcome.cancelled, outcome.inserted) == (1, 1, 0)
    after = _rows(db_session, fair)
    assert after.keys() == first.keys(), "no row deleted, no new uid for a moved meeting"
    changed = {uid for uid in first if after[uid] != first[uid]}
    assert len(changed) == 2
    assert sorted(after[uid][3:] for uid in changed) == [
        (MeetingStatus.CANCELLED, 1),
        (MeetingStatus.PLANNED, 1),
    ]
    assert fair.published_version == 2
    # The moved meeting remembers where it was (the participants' "moved from …").
    [moved_uid] = [uid for uid in changed if after[uid][3] == MeetingStatus.PLANNED]
    moved_row = db_session.scalar(select(Meeting).where(Meeting.uid == moved_uid))
    assert (moved_row.moved_from_slot_id, moved_row.moved_from_table_id) == first[moved_uid][1:3]
    assert after[moved_uid][1:3] != first[moved_uid][1:3]
    moved_ids = {p.id for p in fair.participants if p.code in moved[0].key}
    dropped_ids = {p.id for p in fair.participants if p.code in dropped.key}
    assert outcome.notify == moved_ids | dropped_ids

    # The dropped pair meets again: its cancelled row comes back (same uid, higher version).
    third = publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    final = _rows(db_session, fair)
    assert final.keys() == first.keys() and third.moved == 2
    revived = next(uid for uid in changed if after[uid][3] == MeetingStatus.CANCELLED)
    assert final[revived][3:] == (MeetingStatus.PLANNED, 2)


def test_a_pair_meeting_again_is_asked_afresh_about_its_meeting(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    """Reports on a cancelled meeting do not carry over to the pair's new meeting."""
    publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    rows = db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id)).all()
    code = {p.id: p.code for p in fair.participants}
    by_key = {frozenset((code[m.participant_a_id], code[m.participant_b_id])): m for m in rows}
    meetings = _meetings(solved)
    dropped, other = by_key[meetings[0].key], by_key[meetings[1].key]
    for meeting in (dropped, other):
        db_session.add(
            MeetingOutcome(
                event_id=fair.id,
                meeting_id=meeting.id,
                participant_id=meeting.participant_a_id,
                slot_id=meeting.slot_id,
                took_place=False,
            )
        )
    db_session.commit()
    publishing.publish_run(db_session, fair, _variant(db_session, solved, meetings[1:]))
    db_session.commit()
    again = publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    assert again.moved == 1 and dropped.status == MeetingStatus.PLANNED
    reported = db_session.scalars(
        select(MeetingOutcome.meeting_id).where(MeetingOutcome.event_id == fair.id)
    ).all()
    assert reported == [other.id]


def test_swapping_two_tables_in_one_slot_publishes(
    db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    # Pooled tables (no hosts), so two meetings of one slot may trade tables.
    for table in db_session.scalars(select(Table).where(Table.event_id == fair.id)):
        table.host_participant_id = None
    db_session.commit()
    solved = runs.create_run(db_session, fair, parameters={"time_limit": 1})
    db_session.commit()
    assert runs.execute_run(solved.id, factory, threads=1) == RunStatus.SUCCEEDED
    db_session.expire_all()
    publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    meetings = _meetings(solved)
    problem = problem_from_dict(solved.problem)
    swapped = None
    for x in meetings:
        for y in meetings:
            if x.key == y.key or x.slot != y.slot:
                continue
            trial = [
                dataclasses.replace(x, table=y.table),
                dataclasses.replace(y, table=x.table),
                *[m for m in meetings if m.key not in (x.key, y.key)],
            ]
            if not check(problem, trial):
                swapped = trial
                break
        if swapped:
            break
    assert swapped is not None
    outcome = publishing.publish_run(db_session, fair, _variant(db_session, solved, swapped))
    db_session.commit()
    assert outcome.moved == 2


def test_readers_see_the_old_or_the_new_schedule_never_a_mix(
    db_session: Session, fair: Event, solved: ScheduleRun, factory: sessionmaker
) -> None:
    def snapshot() -> tuple[int, int]:
        with factory() as reader:
            version = reader.scalar(select(Event.published_version).where(Event.id == fair.id))
            count = reader.scalar(
                select(func.count(Meeting.id)).where(
                    Meeting.event_id == fair.id, Meeting.status != MeetingStatus.CANCELLED
                )
            )
            return version, count

    assert snapshot() == (0, 0)
    publishing.publish_run(db_session, fair, solved)  # flushed, not yet committed
    assert snapshot() == (0, 0)
    db_session.commit()
    assert snapshot() == (1, len(_meetings(solved)))


def test_only_a_finished_run_with_a_schedule_can_be_published(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    failed = ScheduleRun(
        event_id=fair.id, status=RunStatus.FAILED, parameters={}, problem=solved.problem
    )
    db_session.add(failed)
    db_session.commit()
    with pytest.raises(Conflict):
        publishing.publish_run(db_session, fair, failed)
    assert fair.published_version == 0


def test_a_run_whose_participant_withdrew_is_refused(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    code = _meetings(solved)[0].a
    participant = db_session.scalar(
        select(Participant).where(Participant.event_id == fair.id, Participant.code == code)
    )
    participant.code = "GONE"
    db_session.commit()
    with pytest.raises(Conflict) as error:
        publishing.publish_run(db_session, fair, solved)
    assert code in error.value.message


# --------------------------------------------------------------------------- e-mail


def _link(participant: Participant) -> str:
    return f"https://fair.example.jp/p/{participant.access_token}/schedule"


def test_notices_reach_each_contact_in_the_participants_language(
    db_session: Session, fair: Event, solved: ScheduleRun, smtp_server
) -> None:
    controller, inbox = smtp_server
    outcome = publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    english = next(p for p in fair.participants if p.attendances)
    english.locale = "en"
    db_session.commit()
    notices, unreachable = notifications.schedule_notices(
        db_session, fair, outcome.notify, link_for=_link, first=outcome.first
    )
    settings = notifications.MailSettings.from_config(
        {
            "MAIL_SERVER": controller.hostname,
            "MAIL_PORT": controller.port,
            "MAIL_FROM": "office@fair.example.jp",
        }
    )
    assert notifications.send_notices(notices, settings) == []
    assert len(inbox.messages) == len(notices) == len(outcome.notify) - len(unreachable)

    by_link = {_link(p): p for p in fair.participants}
    for message in inbox.messages:
        body = message.get_payload(decode=True).decode("utf-8")
        link = next(url for url in by_link if url in body)
        participant = by_link[link]
        contacts = {
            a.person.email for a in participant.attendances if a.is_contact and a.person.email
        } or {a.person.email for a in participant.attendances if a.person.email}
        assert set(message["To"].split(", ")) == contacts
        assert message["From"] == "office@fair.example.jp"
        subject = str(make_header(decode_header(message["Subject"])))
        if participant.id == english.id:
            assert subject == f"{fair.name}: your meeting schedule"
        else:
            assert subject == f"【{fair.name}】商談スケジュールのお知らせ"


def test_contact_people_are_preferred_over_other_attendees(
    db_session: Session, fair: Event
) -> None:
    participant = fair.participants[0]
    participant.attendances.clear()
    db_session.flush()
    for name, email, contact in (
        ("担当 一郎", "tanto@a.jp", True),
        ("同行 二郎", "doko@a.jp", False),
    ):
        person = Person(name=name, email=email)
        db_session.add(Attendance(participant=participant, person=person, is_contact=contact))
    db_session.commit()
    notices, unreachable = notifications.schedule_notices(
        db_session, fair, [participant.id], link_for=_link, first=True
    )
    assert unreachable == [] and notices[0].recipients == ("tanto@a.jp",)
    assert _link(participant) in notices[0].body and "担当 一郎" in notices[0].body


def test_an_unreachable_mail_server_reports_every_notice_as_failed(
    db_session: Session, fair: Event
) -> None:
    notices, _ = notifications.schedule_notices(
        db_session, fair, [p.id for p in fair.participants], link_for=_link, first=True
    )
    settings = notifications.MailSettings(server="127.0.0.1", port=free_port(), timeout=2)
    failures = notifications.send_notices(notices, settings)
    assert notices and [f.participant_id for f in failures] == [n.participant_id for n in notices]


def test_mail_is_off_without_a_server() -> None:
    assert notifications.MailSettings.from_config({"MAIL_SERVER": ""}) is None
    settings = notifications.MailSettings.from_config(
        {"MAIL_SERVER": "smtp.example.jp", "MAIL_PORT": "587", "MAIL_USE_TLS": "true"}
    )
    assert settings is not None and settings.port == 587 and settings.use_tls


def test_english_notice_counts_meetings_in_good_english(db_session: Session, fair: Event) -> None:
    """QA: the English notice read "You have 1 meetings." / "You have 0 meetings."."""
    assert notifications.meeting_count("en", 1) == "1 meeting"
    assert notifications.meeting_count("en", 7) == "7 meetings"
    assert notifications.meeting_count("ja", 1) == "1"
    participant = fair.participants[0]
    participant.locale = "en"
    db_session.commit()
    notices, _ = notifications.schedule_notices(
        db_session, fair, [participant.id], link_for=_link, first=True
    )
    assert "You have no meetings." in notices[0].body  # nothing placed for it yet


def test_a_subject_with_a_line_break_is_sent_on_one_line(smtp_server) -> None:
    controller, inbox = smtp_server
    settings = notifications.MailSettings(server=controller.hostname, port=controller.port)
    notices = [
        notifications.Notice(1, ("a@example.jp",), "商談会\r\nBcc: all@example.jp", "本文"),
        notifications.Notice(2, ("b@example.jp",), "商談会", "本文"),
    ]
    assert notifications.send_notices(notices, settings) == []
    assert len(inbox.messages) == 2
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in inbox.messages]
    assert subjects[0] == "商談会 Bcc: all@example.jp" and "Bcc" not in inbox.messages[0]


def test_notices_carry_a_date_and_a_message_id_of_the_senders_domain(smtp_server) -> None:
    controller, inbox = smtp_server
    settings = notifications.MailSettings(
        server=controller.hostname,
        port=controller.port,
        sender="商談会事務局 <office@fair.example.jp>",
    )
    notice = notifications.Notice(1, ("a@example.jp",), "件名", "本文")
    assert notifications.send_notices([notice], settings) == []
    [message] = inbox.messages
    assert message["Date"] and message["Message-ID"].endswith("@fair.example.jp>")


@pytest.mark.parametrize("round_", range(2))
def test_two_publications_at_the_same_moment_get_their_own_versions(
    database_url: str,
    db_session: Session,
    fair: Event,
    solved: ScheduleRun,
    monkeypatch: pytest.MonkeyPatch,
    round_: int,
) -> None:
    """Each publisher loaded the event before the other committed (as two organizers'
    requests do): the versions and the first-publication flag are read under the lock."""
    meetings = _meetings(solved)
    other = _variant(db_session, solved, meetings[1:])  # one meeting fewer: a real change
    original = publishing._plan

    def slow_plan(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.1)  # both publishers are surely inside their transactions at once
        return original(*args, **kwargs)

    monkeypatch.setattr(publishing, "_plan", slow_plan)
    engine = make_engine(database_url, pool_size=3)
    factory = make_session_factory(engine)
    barrier = threading.Barrier(2)
    outcomes: list[publishing.PublishOutcome] = []
    errors: list[BaseException] = []

    def publish(run_id: int) -> None:
        session = factory()
        try:
            event, run = session.get(Event, fair.id), session.get(ScheduleRun, run_id)
            assert event is not None and run is not None
            assert event.published_version == 0
            barrier.wait(timeout=10)
            outcomes.append(publishing.publish_run(session, event, run))
            session.commit()
        except BaseException as error:
            session.rollback()
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=publish, args=(r.id,)) for r in (solved, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert errors == []
    assert sorted(o.version for o in outcomes) == [1, 2]
    assert [o.first for o in outcomes].count(True) == 1
    db_session.expire_all()
    assert db_session.get(Event, fair.id).published_version == 2
    versions = db_session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "schedule.publish")
    ).all()
    assert sorted(d["version"] for d in versions) == [1, 2]


def test_schedule_notices_list_each_meeting_with_time_counterpart_and_table(
    db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    outcome = publishing.publish_run(db_session, fair, solved)
    db_session.commit()
    notices, _unreachable = notifications.schedule_notices(
        db_session, fair, outcome.notify, link_for=_link, first=True
    )
    by_id = {n.participant_id: n for n in notices}
    meeting = db_session.scalars(
        select(Meeting).where(Meeting.event_id == fair.id).order_by(Meeting.id)
    ).first()
    body = by_id[meeting.participant_a_id].body
    begins = fair.local(meeting.slot.starts_at).strftime("%H:%M")
    line = next(x for x in body.splitlines() if meeting.participant_b.display_name in x)
    assert line.startswith("・") and begins in line
    if meeting.table is not None:
        assert meeting.table.label in line and meeting.table.room.name in line
    listed = [x for x in body.splitlines() if x.startswith("・")]
    mine = db_session.scalars(
        select(Meeting).where(
            (Meeting.participant_a_id == meeting.participant_a_id)
            | (Meeting.participant_b_id == meeting.participant_a_id)
        )
    ).all()
    assert len(listed) == len(mine)

"""The fair survey (satisfaction, coming again, a comment): answering it, entering it on
a participant's behalf, and the results page and workbook that sum it up."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import ValidationFailed
from scheduler.feedback import (
    FeedbackInput,
    FeedbackInvalid,
    save_feedback,
    survey_results,
)
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    FairFeedback,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Phase,
)
from tests.published_fair import ReportsClock as Clock
from tests.published_fair import busiest_participant, fair_on_the_day


@pytest.fixture
def fair(db_session: Session) -> Event:
    return fair_on_the_day(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _first_start(event: Event):  # type: ignore[no-untyped-def]
    return min(slot.starts_at for slot in event.slots)


def _by_role(event: Event, role: str) -> list[Participant]:
    return sorted((p for p in event.participants if p.role == role), key=lambda p: p.id)


GOOD = FeedbackInput(satisfaction="4", join_again="yes", comment="商談時間をもう少し長く")


# --------------------------------------------------------------------------- service


def test_the_survey_opens_when_the_fair_begins_and_an_answer_can_be_changed(
    db_session: Session, fair: Event
) -> None:
    participant = _by_role(fair, ParticipantRole.SUPPLIER)[0]
    before = _first_start(fair) - timedelta(minutes=1)
    with pytest.raises(ValidationFailed, match="opens when the fair begins"):
        save_feedback(db_session, participant, GOOD, now=before)
    assert db_session.scalar(select(FairFeedback)) is None

    at_start = _first_start(fair)
    save_feedback(db_session, participant, GOOD, now=at_start)
    # Full-width digits (an IME) are read; a changed mind replaces the answer.
    save_feedback(
        db_session, participant, FeedbackInput(satisfaction="５", comment="  良かった "),
        now=at_start,
    )
    stored = db_session.scalars(select(FairFeedback)).all()
    assert [(f.participant_id, f.satisfaction, f.join_again, f.comment) for f in stored] == [
        (participant.id, 5, None, "良かった")
    ]
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "feedback.answer")
    ).all()
    assert [e.details["satisfaction"] for e in entries] == [4, 5]
    assert all(e.participant_id == participant.id and e.user_id is None for e in entries)

    # A closed fair takes answers whatever the clock says (a paper form typed in later).
    fair.phase = Phase.CLOSED
    save_feedback(db_session, participant, GOOD, now=before)
    assert db_session.scalar(select(FairFeedback.satisfaction)) == 4


def test_every_problem_of_an_answer_is_named_at_once_and_nothing_is_written(
    db_session: Session, fair: Event
) -> None:
    participant = _by_role(fair, ParticipantRole.BUYER)[0]
    bad = FeedbackInput(satisfaction="6", join_again="maybe", comment="x" * 2001)
    with pytest.raises(FeedbackInvalid) as raised:
        save_feedback(db_session, participant, bad, now=_first_start(fair))
    assert [p.field for p in raised.value.problems] == ["satisfaction", "join_again", "comment"]
    with pytest.raises(FeedbackInvalid, match="how satisfied"):
        save_feedback(db_session, participant, FeedbackInput(comment="only a comment"),
                      now=_first_start(fair))
    assert db_session.scalar(select(FairFeedback)) is None


def test_a_comment_counts_a_line_break_as_one_character(db_session: Session, fair: Event) -> None:
    participant = _by_role(fair, ParticipantRole.BUYER)[0]
    comment = "\r\n".join(["良い"] * 667)  # 2000 characters as typed, 2666 as sent
    saved = save_feedback(db_session, participant, FeedbackInput("4", "", comment),
                          now=_first_start(fair))
    assert saved.comment == "\n".join(["良い"] * 667)


def test_a_withdrawn_participant_cannot_answer(db_session: Session, fair: Event) -> None:
    participant = _by_role(fair, ParticipantRole.SUPPLIER)[0]
    participant.status = ParticipantStatus.WITHDRAWN
    with pytest.raises(ValidationFailed, match="Only the fair's participants"):
        save_feedback(db_session, participant, GOOD, now=_first_start(fair))


def test_results_count_by_side_without_the_absent_and_withdrawn(
    db_session: Session, fair: Event
) -> None:
    now = _first_start(fair)
    buyers = _by_role(fair, ParticipantRole.BUYER)
    suppliers = _by_role(fair, ParticipantRole.SUPPLIER)
    approved = [p for p in fair.participants if p.status == ParticipantStatus.APPROVED]
    assert len(buyers) >= 2 and len(suppliers) >= 4
    save_feedback(db_session, buyers[0], FeedbackInput("5", "yes", "また参加したい"), now=now)
    save_feedback(db_session, buyers[1], FeedbackInput("3", "", ""), now=now)
    save_feedback(db_session, suppliers[0], FeedbackInput("4", "perhaps", ""), now=now)
    save_feedback(db_session, suppliers[1], FeedbackInput("1", "no", "相手が合わない"), now=now)
    # An absent company that did not answer is not counted as asked; one that answered
    # all the same is. A company that withdrew since is left out, answer and all.
    suppliers[2].day_status = DayStatus.NO_SHOW
    suppliers[1].day_status = DayStatus.NO_SHOW
    suppliers[3].status = ParticipantStatus.WITHDRAWN
    save_feedback(db_session, suppliers[0], FeedbackInput("4", "perhaps", ""), now=now)
    db_session.flush()

    results = survey_results(db_session, fair)
    buyer_side, supplier_side = results.sides["buyer"], results.sides["supplier"]
    approved_buyers = sum(1 for p in approved if p.role == ParticipantRole.BUYER)
    approved_suppliers = sum(1 for p in approved if p.role == ParticipantRole.SUPPLIER)
    assert (buyer_side.answered, buyer_side.asked) == (2, approved_buyers)
    assert (supplier_side.answered, supplier_side.asked) == (2, approved_suppliers - 2)
    assert buyer_side.satisfied_share == 0.5 and buyer_side.average == 4.0
    assert supplier_side.levels == {4: 1, 1: 1} and supplier_side.satisfied == 1
    assert supplier_side.join_again == {"perhaps": 1, "no": 1}
    total = results.total
    assert (total.answered, total.satisfied) == (4, 2)
    assert total.asked == buyer_side.asked + supplier_side.asked
    # Comments: buyers first, only those with one.
    assert [a.comment for a in results.comments] == ["また参加したい", "相手が合わない"]


# --------------------------------------------------------------------------- pages


def test_a_participant_answers_below_its_reports_and_a_mistake_keeps_what_was_typed(
    client, db_session: Session, fair: Event, clock: Clock
) -> None:
    participant = busiest_participant(db_session, fair)
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    page_url = f"/p/{participant.access_token}/outcomes"
    survey_url = f"{page_url}/survey"

    clock.now = _first_start(fair) - timedelta(hours=1)
    early = client.get(page_url).get_data(as_text=True)
    assert 'id="survey"' in early and "The survey opens when the fair begins" in early
    assert 'name="satisfaction"' not in early
    refused = client.post(survey_url, data={"satisfaction": "5"})
    assert refused.status_code == 400
    assert "please answer it afterwards" in refused.get_data(as_text=True)

    clock.now = _first_start(fair) + timedelta(minutes=5)
    page = client.get(page_url).get_data(as_text=True)
    assert 'href="#survey"' in page  # asked for at the top while not answered
    assert f'action="{survey_url}#survey"' in page and "Not answered yet" in page

    bad = client.post(survey_url, data={"join_again": "perhaps", "comment": "会場が<b>狭い</b>"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Choose how satisfied you were with the fair." in body
    assert 'aria-describedby="survey-satisfaction-err" aria-invalid="true" autofocus' in body
    assert 'value="perhaps" checked' in body and "会場が&lt;b&gt;狭い&lt;/b&gt;</textarea>" in body
    assert db_session.scalar(select(FairFeedback)) is None
    # Reloading the form's address goes back to the page, at the survey.
    reload = client.get(survey_url)
    assert reload.status_code == 302 and reload.headers["Location"].endswith("/outcomes#survey")

    done = client.post(
        survey_url, data={"satisfaction": "2", "join_again": "perhaps", "comment": "会場が狭い"}
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/outcomes?answered=1#survey")
    card = client.get(done.headers["Location"]).get_data(as_text=True).split('id="survey"')[1]
    assert "your answer was saved" in card and "Update answer" in card
    assert 'value="2" checked' in card and "会場が狭い</textarea>" in card
    stored = db_session.scalar(select(FairFeedback))
    assert (stored.participant_id, stored.satisfaction, stored.join_again) == (
        participant.id, 2, "perhaps"
    )
    assert 'href="#survey"' not in client.get(page_url).get_data(as_text=True)


def test_the_organizer_enters_a_paper_answer_and_sees_the_survey_in_the_results(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    clock.now = max(slot.starts_at for slot in fair.slots) + timedelta(minutes=30)
    buyer = _by_role(fair, ParticipantRole.BUYER)[0]
    supplier = _by_role(fair, ParticipantRole.SUPPLIER)[0]
    client.post(f"/p/{supplier.access_token}/outcomes/survey",
                data={"satisfaction": "4", "join_again": "yes", "comment": "=1+1 効率が良い"})

    record_url = f"/events/{fair.id}/participants/{buyer.id}/outcomes"
    # Any company can be picked on the results page, with meetings or not.
    picker = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert f'<option value="{buyer.id}">' in picker
    picked = client.get(f"/events/{fair.id}/outcomes/enter?participant={buyer.id}")
    assert picked.headers["Location"].endswith(f"{record_url}#survey")
    nobody = client.get(f"/events/{fair.id}/outcomes/enter?participant=", follow_redirects=True)
    assert "Choose a company from the list." in nobody.get_data(as_text=True)
    assert 'id="survey"' in client.get(record_url).get_data(as_text=True)
    entered = client.post(f"{record_url}/survey", data={"satisfaction": "3", "join_again": "no"})
    assert entered.status_code == 302 and entered.headers["Location"].endswith("#survey")
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "feedback.answer")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.user_id == logged_in.id and entry.participant_id == buyer.id

    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    survey = page.split('<section class="card" id="survey">', 1)[1].split("</section>", 1)[0]
    results = survey_results(db_session, fair)
    total = results.total
    assert total.answered == 2
    assert f"<td class=\"num\">2 / {total.asked}<br><small>(" in survey
    satisfied = survey.split("Satisfied (very satisfied or satisfied)</th>", 1)[1]
    satisfied = satisfied.split("</tr>", 1)[0]
    # Buyers: none of one satisfied; suppliers: one of one; in all one of two.
    assert satisfied.count("</td>") == 3
    assert '0%</td><td class="num">100%</td><td class="num">50%' in satisfied
    assert "Would not take part again" in survey
    # The comment, linked to where the organizer can read or correct the answer.
    assert "=1+1 効率が良い" in survey
    assert f"/events/{fair.id}/participants/{supplier.id}/outcomes#survey" in survey

    book = load_workbook(io.BytesIO(client.get(f"/events/{fair.id}/outcomes.xlsx").data))
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Answered"][:3] == (
        results.sides["buyer"].answered, results.sides["supplier"].answered, 2
    )
    assert summary["Satisfied (very satisfied or satisfied)"][2] == 0.5
    assert summary["Average (5 = very satisfied)"][2] == 3.5
    rows = list(book["Fair survey"].iter_rows(values_only=True))
    assert len(rows) == 3
    answers = {r[1]: r for r in rows[1:]}
    assert answers[buyer.display_name][3:6] == (
        "Neither satisfied nor dissatisfied", 3, "Would not take part again"
    )
    # A comment that looks like a formula stays text.
    comment_cell = next(
        c for row in book["Fair survey"].iter_rows(min_row=2) for c in row
        if c.value == "=1+1 効率が良い"
    )
    assert comment_cell.data_type == "s"


def test_the_survey_is_the_organizers_and_the_participants_own(
    client, auth, staff, organizer, db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.now = _first_start(fair) + timedelta(minutes=5)
    participant = _by_role(fair, ParticipantRole.SUPPLIER)[0]
    auth.login("staff@example.jp")
    url = f"/events/{fair.id}/participants/{participant.id}/outcomes/survey"
    assert client.post(url, data={"satisfaction": "5"}).status_code == 403
    enter = f"/events/{fair.id}/outcomes/enter?participant={participant.id}"
    assert client.get(enter).status_code == 403
    auth.logout()
    # This event's participant is not reachable through another event's address.
    from tests.participant_fair import make_fair

    other_fair = make_fair(db_session, slug="elsewhere").event
    db_session.commit()
    auth.login()
    assert client.post(
        f"/events/{other_fair.id}/participants/{participant.id}/outcomes/survey",
        data={"satisfaction": "5"},
    ).status_code == 404
    wrong = client.get(f"/events/{other_fair.id}/outcomes/enter?participant={participant.id}")
    assert wrong.status_code == 302, wrong.status_code
    assert "/participants/" not in wrong.headers["Location"]
    assert db_session.scalar(select(FairFeedback)) is None

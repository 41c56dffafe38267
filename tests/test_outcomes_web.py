"""Meeting results through the pages: the participant's reports, the organizer's results,
reports entered on a participant's behalf, and the Excel workbook."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db import utcnow
from scheduler.models import AuditEntry, Event, Meeting, MeetingOutcome, Participant, Phase
from scheduler.participant_import import contact_of
from scheduler.schedule_view import event_meetings
from tests.published_fair import ReportsClock as Clock
from tests.published_fair import english_participant, fair_on_the_day


@pytest.fixture
def fair(db_session: Session) -> Event:
    return fair_on_the_day(db_session)


@pytest.fixture
def participant(db_session: Session, fair: Event) -> Participant:
    return english_participant(db_session, fair)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _after_the_fair(client, session: Session, fair: Event, clock: Clock) -> list[Meeting]:  # type: ignore[no-untyped-def]
    """The fair's meetings, with the clock half an hour after the last one starts and the
    pages in English (the msgids the tests quote)."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    meetings = event_meetings(session, fair, include_cancelled=False)
    clock.now = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    return meetings


def _mine(session: Session, fair: Event, participant: Participant) -> list[Meeting]:
    return event_meetings(session, fair, include_cancelled=False, participant_id=participant.id)


def test_participant_reports_after_its_meetings_and_a_mistake_keeps_what_was_typed(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    meetings = _mine(db_session, fair, participant)
    first, second = meetings[0], meetings[1]
    clock.now = first.slot.starts_at + timedelta(minutes=5)
    page_url = f"/p/{participant.access_token}/outcomes"
    home = client.get(f"/p/{participant.access_token}/").get_data(as_text=True)
    assert page_url in home  # linked from the portal on the day
    page = client.get(page_url).get_data(as_text=True)
    assert f'id="meeting-{first.id}"' in page and f'id="meeting-{second.id}"' not in page
    assert f"{len(meetings) - 1} more meetings can be reported on" in page

    # A meeting that has not started (or was cancelled meanwhile) takes no report: the
    # page says why.
    early = client.post(
        f"{page_url}/{second.id}", data={"took_place": "yes"}, follow_redirects=True
    )
    assert "This meeting has not started yet" in early.get_data(as_text=True)

    bad = client.post(
        f"{page_url}/{first.id}",
        data={
            "took_place": "yes",
            "prospect": "some",
            "next_steps": ["quotation"],
            "order_amount": "300万",
            "note": "見積依頼あり",
        },
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "An amount goes with an order" in body
    assert 'value="300万"' in body and "見積依頼あり</textarea>" in body
    assert 'value="quotation" checked' in body and 'value="some" checked' in body
    # The error, then the field's hint, are read with the field.
    assert (f'aria-describedby="m{first.id}-order_amount-err m{first.id}-order_amount-hint"'
            ' aria-invalid="true" autofocus') in body
    assert f'id="m{first.id}-order_amount-hint"' in body
    # The form posts to an address that lands back on its own card, and reloading that
    # address (a GET) goes back to the list instead of an error page.
    assert f'action="/p/{participant.access_token}/outcomes/{first.id}#meeting-{first.id}"' in body
    reload = client.get(f"{page_url}/{first.id}")
    assert reload.status_code == 302
    assert reload.headers["Location"].endswith(f"/outcomes#meeting-{first.id}")
    assert db_session.scalar(select(MeetingOutcome)) is None

    done = client.post(
        f"{page_url}/{first.id}",
        data={
            "took_place": "yes",
            "prospect": "some",
            "next_steps": ["quotation", "order"],
            "order_amount": "300万",
            "note": "見積依頼あり",
        },
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"?saved={first.id}#meeting-{first.id}")
    card = (
        client.get(done.headers["Location"])
        .get_data(as_text=True)
        .split(f'id="meeting-{first.id}"', 1)[1]
    )
    assert "Your report was saved" in card.split("</li>", 1)[0]  # said where the page lands
    saved = db_session.scalar(select(MeetingOutcome))
    assert (saved.participant_id, saved.meeting_id, saved.order_amount) == (
        participant.id,
        first.id,
        3_000_000,
    )
    page = client.get(page_url).get_data(as_text=True)
    assert 'value="3,000,000"' in page and "1 of 1 meeting reported." in page


def test_another_participants_meeting_is_a_404(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    theirs = next(
        m
        for m in event_meetings(db_session, fair, include_cancelled=False)
        if participant.id not in (m.participant_a_id, m.participant_b_id)
    )
    clock.now = theirs.slot.starts_at + timedelta(minutes=5)
    response = client.post(
        f"/p/{participant.access_token}/outcomes/{theirs.id}", data={"took_place": "no"}
    )
    assert response.status_code == 404
    assert db_session.scalar(select(MeetingOutcome)) is None


def test_organizer_sees_results_enters_answers_and_downloads_excel(
    client, logged_in, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    meetings = _after_the_fair(client, db_session, fair, clock)
    first = _mine(db_session, fair, participant)[0]
    other = first.participant_b if first.participant_a_id == participant.id else first.participant_a
    client.post(
        f"/p/{participant.access_token}/outcomes/{first.id}",
        data={
            "took_place": "yes",
            "prospect": "high",
            "next_steps": ["factory_visit", "order"],
            "order_amount": "1,200,000",
        },
    )
    # The other side answered by phone; the organizer enters it for them.
    record_url = f"/events/{fair.id}/participants/{other.id}/outcomes"
    assert f'id="meeting-{first.id}"' in client.get(record_url).get_data(as_text=True)
    entered = client.post(
        f"{record_url}/{first.id}",
        data={
            "took_place": "yes",
            "prospect": "high",
            "next_steps": ["order"],
            "order_amount": "120万",
            "note": '=HYPERLINK("http://x") 電話で聞き取り<b>済</b>',
        },
    )
    assert entered.status_code == 302
    entry = db_session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "outcome.report")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.user_id == logged_in.id and entry.participant_id == other.id

    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert f"/events/{fair.id}/outcomes" in page.split('aria-current="page"')[0][-200:]
    stats = page.split('<div class="stats">', 1)[1].split("</div>\n</div>", 1)[0]
    # One order reported by both sides: counted once, at its amount.
    assert "¥1,200,000" in stats and "¥2,400,000" not in stats
    assert "電話で聞き取り&lt;b&gt;済&lt;/b&gt;" in page  # notes are shown as typed, escaped
    with_one_meeting_left = {
        p
        for m in meetings
        for p in (m.participant_a_id, m.participant_b_id)
        if m.id != first.id or p not in (participant.id, other.id)
    }
    # Everyone with a meeting not reported on is listed to chase (the two reporters too,
    # when they have other meetings).
    assert page.split('id="waiting"', 1)[1].count('class="btn small"') == len(with_one_meeting_left)

    workbook = client.get(f"/events/{fair.id}/outcomes.xlsx")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.data))
    assert book.sheetnames == [
        "Summary", "Meetings", "By industry", "By location", "Fair survey",
        "Companies not reported yet",
    ]
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Meetings planned"][0] == len(meetings)
    # Which fair, when and where, and when the figures were taken: a report names them.
    assert summary["Days"][0] == ", ".join(d.date.isoformat() for d in fair.days)
    assert isinstance(summary["Figures as of"][0], datetime)
    if fair.venue:
        assert summary["Venue"][0] == fair.venue
    assert (
        summary["Reported as held"][0] == 1
        and summary["Meetings not reported yet"][0] == len(meetings) - 1
    )
    assert summary["Order"][0] == 1 and summary["Factory visit"][0] == 1
    assert summary["Ordered amount (yen)"][0] == 1_200_000
    rows = list(book["Meetings"].iter_rows(values_only=True))
    assert len(rows) == len(meetings) + 1
    reported = next(r for r in rows[1:] if r[12] or r[17])
    assert sorted(x for x in (reported[12], reported[17]) if x) == [1_200_000, 1_200_000]
    assert reported[2] and reported[4]  # both companies' codes
    # A note that looks like a formula stays text in Excel, exactly as written (no
    # apostrophe shown in the cell).
    cells = book["Meetings"][rows.index(reported) + 1]
    note = next(c for c in cells if "HYPERLINK" in str(c.value))
    assert note.data_type == "s" and note.value.startswith('=HYPERLINK("http://x")')
    assert len(list(book["Companies not reported yet"].iter_rows())) == (
        page.split('id="waiting"', 1)[1].count('class="btn small"') + 1
    )
    # A note wider than its column is wrapped, not as wide as the note: the sheet must
    # print readably (QA: its 20 columns printed at about 24%).
    sheet = book["Meetings"]
    wide = sum(2 if ord(c) > 0x2E80 else 1 for c in note.value)  # longer than the default 40
    width = sheet.column_dimensions[note.column_letter].width
    assert wide > width and note.alignment.wrap_text
    assert all(d.width <= 60 for d in sheet.column_dimensions.values())
    workbook.close()


def test_results_are_for_organizers_only(
    client, auth, staff, db_session: Session, fair: Event, participant: Participant
) -> None:
    auth.login("staff@example.jp")
    meeting = _mine(db_session, fair, participant)[0]
    record = f"/events/{fair.id}/participants/{participant.id}/outcomes"
    assert client.get(f"/events/{fair.id}/outcomes").status_code == 403
    assert client.get(f"/events/{fair.id}/outcomes.xlsx").status_code == 403
    assert client.get(record).status_code == 403
    assert client.post(f"{record}/{meeting.id}", data={"took_place": "no"}).status_code == 403
    assert client.post(f"/events/{fair.id}/outcomes/remind").status_code == 403
    assert db_session.scalar(select(MeetingOutcome)) is None


def test_results_before_any_meeting_say_so(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    clock.now = min(m.slot.starts_at for m in meetings) - timedelta(hours=1)
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "No meeting has started yet" in page and "outcomes.xlsx" not in page


def test_reminders_go_to_those_who_have_not_reported_with_their_own_link(
    app,
    client,
    logged_in,
    db_session: Session,
    fair: Event,
    participant: Participant,
    clock: Clock,
    smtp_server,
) -> None:
    meetings = _after_the_fair(client, db_session, fair, clock)
    for meeting in _mine(db_session, fair, participant):  # it reports on every meeting
        client.post(
            f"/p/{participant.access_token}/outcomes/{meeting.id}", data={"took_place": "no"}
        )
    # Without a mail server nobody is e-mailed, and the page says so.
    results_page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "reminders cannot be e-mailed" in results_page  # said before anyone presses
    page = client.post(f"/events/{fair.id}/outcomes/remind", follow_redirects=True)
    assert "participants were not e-mailed" in page.get_data(as_text=True)

    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    page = client.post(f"/events/{fair.id}/outcomes/remind", follow_redirects=True)
    body = page.get_data(as_text=True)
    waiting = {p for m in meetings for p in (m.participant_a, m.participant_b)} - {participant}
    reachable = [p for p in waiting if any(a.person.email for a in p.attendances)]
    assert f"{len(inbox.messages)} participants were e-mailed." in body
    assert len(inbox.messages) == len(reachable) > 0
    assert "Last reminder:" in body
    tokens = set()
    for message in inbox.messages:
        text = message.get_payload(decode=True).decode("utf-8")
        tokens.add(text.split("/p/", 1)[1].split("/outcomes", 1)[0])
        assert "survey" in text or "アンケート" in text  # on the same page, asked for too
    assert tokens == {p.access_token for p in reachable}
    assert participant.access_token not in tokens  # it has reported on all its meetings

    # A second click (or a second organizer) within half an hour sends nothing.
    sent = len(inbox.messages)
    again = client.post(f"/events/{fair.id}/outcomes/remind", follow_redirects=True)
    assert "A reminder went out at" in again.get_data(as_text=True)
    assert len(inbox.messages) == sent


def test_the_event_overview_sums_up_the_results_on_the_day_and_after(
    client,
    logged_in,
    db_session: Session,
    fair: Event,
    participant: Participant,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    meetings = _after_the_fair(client, db_session, fair, clock)
    monkeypatch.setattr("web.events.utcnow", lambda: clock.now)
    first = _mine(db_session, fair, participant)[0]
    client.post(
        f"/p/{participant.access_token}/outcomes/{first.id}",
        data={
            "took_place": "yes",
            "prospect": "high",
            "next_steps": ["order"],
            "order_amount": "1",
        },
    )
    page = client.get(f"/events/{fair.id}").get_data(as_text=True)
    summary = f"1 of {len(meetings)} meetings reported on; 1 led to a next step, 1 to an order."
    assert summary in page
    assert f"/events/{fair.id}/outcomes" in page
    # Before the fair there is nothing to sum up, and the card is not shown.
    fair.phase = Phase.PUBLISHED
    db_session.commit()
    assert "meetings reported on" not in client.get(f"/events/{fair.id}").get_data(as_text=True)


def test_the_schedule_page_asks_for_reports_once_meetings_have_taken_place(
    client,
    db_session: Session,
    fair: Event,
    participant: Participant,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = _mine(db_session, fair, participant)
    schedule = f"/p/{participant.access_token}/schedule"
    clock.now = mine[0].slot.starts_at - timedelta(minutes=5)
    assert "Report on your meetings" not in client.get(schedule).get_data(as_text=True)
    clock.now = mine[1].slot.starts_at + timedelta(minutes=5)
    page = client.get(schedule).get_data(as_text=True)
    assert "2 meetings await your report" in page
    assert f"/p/{participant.access_token}/outcomes" in page
    client.post(f"/p/{participant.access_token}/outcomes/{mine[0].id}", data={"took_place": "no"})
    assert "1 meeting awaits your report" in client.get(schedule).get_data(as_text=True)
    # The portal home says it first among what to do now.
    home = client.get(f"/p/{participant.access_token}/").get_data(as_text=True)
    todo = home.split('class="todo-list"', 1)[1].split("</ul>", 1)[0]
    assert "1 meeting awaits your report" in todo and "/outcomes" in todo
    client.post(f"/p/{participant.access_token}/outcomes/{mine[1].id}", data={"took_place": "no"})
    assert "Report on your meetings" not in client.get(schedule).get_data(as_text=True)


def test_the_organizer_sees_both_sides_but_a_participant_only_its_own(
    client, logged_in, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _after_the_fair(client, db_session, fair, clock)
    first = _mine(db_session, fair, participant)[0]
    other = first.participant_b if first.participant_a_id == participant.id else first.participant_a
    client.post(f"/p/{participant.access_token}/outcomes/{first.id}", data={"took_place": "no"})
    client.post(
        f"/p/{other.access_token}/outcomes/{first.id}",
        data={"took_place": "yes", "prospect": "some"},
    )
    # Neither participant's page shows what the other side reported.
    for side in (participant, other):
        page = client.get(f"/p/{side.access_token}/outcomes").get_data(as_text=True)
        assert "The other side reported" not in page
    # The organizer entering answers for one side sees the other's report...
    record = client.get(f"/events/{fair.id}/participants/{other.id}/outcomes")
    card = record.get_data(as_text=True).split(f'id="meeting-{first.id}"', 1)[1]
    assert "The other side reported:" in card.split("</li>", 1)[0]
    assert "Did not take place" in card.split("</li>", 1)[0]
    # ...and the results mark the meeting whose reports disagree.
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "1 meeting has reports that disagree" in results
    row = results.split(f'<tr id="meeting-{first.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Reports disagree" in row


def test_another_events_participant_is_not_reachable_and_withdrawn_ones_are_not_chased(
    client, logged_in, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    from scheduler.models import ParticipantStatus
    from tests.participant_fair import make_fair

    _after_the_fair(client, db_session, fair, clock)
    other_fair = make_fair(db_session, slug="elsewhere").event
    db_session.commit()  # the other event exists: only the participant is not its own
    meeting = _mine(db_session, fair, participant)[0]
    wrong = f"/events/{other_fair.id}/participants/{participant.id}/outcomes"
    assert client.get(wrong).status_code == 404
    assert client.post(f"{wrong}/{meeting.id}", data={"took_place": "no"}).status_code == 404
    assert db_session.scalar(select(MeetingOutcome)) is None

    before = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert participant.display_name in before.split('id="waiting"', 1)[1]
    participant.status = ParticipantStatus.WITHDRAWN
    db_session.commit()
    after = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert participant.display_name not in after.split('id="waiting"', 1)[1]


def test_each_side_reports_the_order_in_its_own_words(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    """A buyer places the order a supplier receives (発注 / 受注): its form, its error and
    the organizer's view of the other side's report each use that side's words."""
    meeting = _after_the_fair(client, db_session, fair, clock)[0]
    buyer, supplier = (
        (meeting.participant_a, meeting.participant_b)
        if meeting.participant_a.role == "buyer"
        else (meeting.participant_b, meeting.participant_a)
    )
    buyers = client.get(f"/p/{buyer.access_token}/outcomes").get_data(as_text=True)
    assert re.search(r'value="order"[^>]*> Order placed</label>', buyers)
    assert "Amount ordered (yen)" in buyers and "If you placed an order" in buyers
    assert "Order amount (yen)" not in buyers and "an order placed." in buyers
    suppliers = client.get(f"/p/{supplier.access_token}/outcomes").get_data(as_text=True)
    assert re.search(r'value="order"[^>]*> Order</label>', suppliers)
    assert "Order amount (yen)" in suppliers
    assert "Order placed" not in suppliers and "Amount ordered" not in suppliers
    # An amount without the order is refused in the words of the buyer's form.
    refused = client.post(
        f"/p/{buyer.access_token}/outcomes/{meeting.id}",
        data={"took_place": "yes", "prospect": "some", "order_amount": "50万"},
    ).get_data(as_text=True)
    assert "tick “Order placed”" in refused
    # The organizer recording the buyer's answers reads the supplier's report as such.
    client.post(
        f"/p/{supplier.access_token}/outcomes/{meeting.id}",
        data={"took_place": "yes", "prospect": "high", "next_steps": ["order"]},
    )
    record = client.get(f"/events/{fair.id}/participants/{buyer.id}/outcomes")
    card = record.get_data(as_text=True).split(f'id="meeting-{meeting.id}"', 1)[1]
    reported = card.split("The other side reported:", 1)[1].split("</p>", 1)[0]
    assert '<span class="tag">Order</span>' in reported


def test_results_report_companies_breakdowns_and_differing_amounts_on_the_page_and_workbook(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    from scheduler.models import DayStatus
    from scheduler.outcomes import fair_results

    meetings = _after_the_fair(client, db_session, fair, clock)
    fair.venue = "産業振興センター"
    participants = list(db_session.scalars(select(Participant).where(
        Participant.event_id == fair.id).order_by(Participant.id)))
    for number, p in enumerate(participants):
        p.organization.industry = ("切削加工", "表面処理")[number % 2]
        p.organization.prefecture = "静岡県"
        p.organization.city = ("浜松市", "沼津市")[number % 3 % 2]
    absent = next(p for p in participants
                  if p.role == "supplier" and all(p.id not in (m.participant_a_id,
                                                               m.participant_b_id)
                                                  for m in meetings[:2]))
    absent.day_status = DayStatus.NO_SHOW.value
    db_session.commit()
    first, second = meetings[0], meetings[1]
    results = fair_results(db_session, fair, clock.now)
    pair = {r.meeting.id: r for r in results.meetings}
    buyer, supplier = pair[first.id].buyer, pair[first.id].supplier
    # The two sides give different amounts; another order comes without one.
    client.post(f"/p/{buyer.access_token}/outcomes/{first.id}", data={
        "took_place": "yes", "prospect": "high", "next_steps": ["order"],
        "order_amount": "1億2000万"})
    client.post(f"/p/{supplier.access_token}/outcomes/{first.id}", data={
        "took_place": "yes", "prospect": "some", "next_steps": ["order"],
        "order_amount": "1200千円"})
    client.post(f"/p/{pair[second.id].supplier.access_token}/outcomes/{second.id}", data={
        "took_place": "yes", "prospect": "some", "next_steps": ["order"]})
    stored = {o.participant_id: o.order_amount for o in db_session.scalars(
        select(MeetingOutcome).where(MeetingOutcome.meeting_id == first.id))}
    assert stored == {buyer.id: 120_000_000, supplier.id: 1_200_000}

    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    # The heading a printed copy needs, and honest names for the counts.
    head = page.split('<div class="stats">', 1)[0]
    assert "Figures as of" in head and "産業振興センター" in head
    assert all(d.date.isoformat() in head for d in fair.days)
    stats = page.split('<div class="stats">', 1)[1].split("</div>\n</div>", 1)[0]
    assert "Meetings that started" not in page
    assert f'{len(meetings)}</span><span class="label">Meetings planned' in stats
    assert '</span><span class="label">Meetings not reported yet' in stats
    assert "1 of 2 orders have an amount" in stats and "¥120,000,000" in stats
    assert "1 meeting has two different order amounts" in page
    row = page.split(f'id="meeting-{first.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Amounts differ" in row and row.startswith(' class="row-warning"')
    # The buyer's report in the buyer's words: it placed the order.
    buyer_cell, supplier_cell = row.split("<td>")[4], row.split("<td>")[6]
    assert "Order placed" in buyer_cell and "Order placed" not in supplier_cell
    # Companies by what they did, recounted.
    approved = [p for p in participants if p.status == "approved"]
    scheduled = {p for m in meetings for p in (m.participant_a_id, m.participant_b_id)}
    section = page.split("<h2>Participating companies</h2>", 1)[1].split("</section>", 1)[0]
    cells = next(line for line in section.split("<tr") if "Approved participants" in line)
    buyers = sum(1 for p in approved if p.role == "buyer")
    assert f'<td class="num">{buyers}</td><td class="num">{len(approved) - buyers}</td>' \
        f'<td class="num">{len(approved)}</td>' in cells
    absent_row = next(line for line in section.split("<tr") if "Absent on the day" in line)
    assert '<td class="num">0</td><td class="num">1</td><td class="num">1</td>' in absent_row
    with_row = next(line for line in section.split("<tr") if "Had meetings" in line)
    assert f'<td class="num">{len(scheduled - {absent.id})}</td></tr>' in with_row
    # Meetings by the supplier's industry and place, recounted.
    industry = page.split("Meetings by supplier’s industry", 1)[1].split("</section>", 1)[0]
    for name in ("切削加工", "表面処理"):
        count = sum(1 for r in results.meetings if r.supplier.organization.industry == name)
        if count:
            assert f'{name}</span></th><td class="num">' in industry
            assert industry.split(f"{name}</span></th>", 1)[1].split("</tr>")[0].count(
                f'<td class="num">{count}</td>') >= 1
    assert "静岡県 浜松市" in page.split("Meetings by supplier’s location", 1)[1]
    # The chase list: distinct name, each company's secret link, buttons not printed.
    waiting = page.split('id="waiting"', 1)[1]
    assert "<h2>Companies not reported yet" in waiting
    assert f'/events/{fair.id}/participants/{supplier.id}/access"' in waiting or \
        f'/events/{fair.id}/participants/{buyer.id}/access"' in waiting
    assert waiting.count('class="no-print waiting-actions"') == waiting.count(">Enter answers<")

    book = load_workbook(io.BytesIO(client.get(f"/events/{fair.id}/outcomes.xlsx").data))
    rows = list(book["Summary"].iter_rows(values_only=True))
    summary = {row[0]: row[1:] for row in rows if row[0]}
    # Prospects sit under their own heading (counts of reports, not of companies), and the
    # response rate is there as on the page.
    prospects = rows.index(("Reports by prospect", "Buyers", "Suppliers", None))
    assert [r[0] for r in rows[prospects + 1:prospects + 4]] == [
        "Very promising", "Some prospect", "No prospect for now"]
    assert rows[prospects + 1][1] == 1 and rows[prospects + 2][2] == 2
    side = results.buyers
    assert summary["Response rate"][0] == pytest.approx(1 / side.participants)
    assert summary["Approved participants"] == (buyers, len(approved) - buyers, len(approved))
    assert summary["Absent on the day"] == (0, 1, 1)
    assert summary["Orders without an amount"][0] == 1
    assert summary["Meetings with two different amounts (the larger is counted)"][0] == 1
    assert summary["Ordered amount (yen)"][0] == 120_000_000
    sheet = book["Meetings"]
    header = [c.value for c in sheet[1]]
    assert header[6:9] == ["Supplier: Industry", "Supplier: Prefecture", "Supplier: City"]
    assert "Buyer: Amount ordered (yen)" in header and "Supplier: Order amount (yen)" in header
    line = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[12] == 120_000_000)
    assert line[6] == supplier.organization.industry and line[8] == supplier.organization.city
    assert line[11] == "Order placed" and line[16] == "Order" and line[-1] == "Amounts differ"
    by_industry = {r[0]: r[1:] for r in book["By industry"].iter_rows(min_row=2, values_only=True)}
    for name, (_suppliers, planned, *_rest) in by_industry.items():
        assert planned == sum(1 for r in results.meetings
                              if r.supplier.organization.industry == name)
    assert sum(r[1] for r in by_industry.values()) == len(meetings)
    by_place = list(book["By location"].iter_rows(min_row=2, values_only=True))
    assert sum(r[2] for r in by_place) == len(meetings)
    # Printable: landscape, one page wide, the header row on every page of the tables.
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
    for ws in book.worksheets[1:]:
        assert ws.print_title_rows == "$1:$1"


def test_two_reminder_clicks_at_once_e_mail_each_company_once(
    app, client, logged_in, db_session: Session, fair: Event, clock: Clock, smtp_server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A double click (or two organizers) while the first reminder is still being sent:
    the second waits for the first's claim and sends nothing."""
    import threading
    import time

    from scheduler import notifications
    from tests.conftest import PASSWORD

    _after_the_fair(client, db_session, fair, clock)
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    send = notifications.send_notices

    def slow_send(notices, settings):  # type: ignore[no-untyped-def]
        time.sleep(0.5)  # hundreds of companies take seconds over SMTP
        return send(notices, settings)

    monkeypatch.setattr(notifications, "send_notices", slow_send)
    second = app.test_client()
    assert second.post("/auth/login", data={"email": "org@example.jp",
                                            "password": PASSWORD}).status_code == 302
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def click(one) -> None:  # type: ignore[no-untyped-def]
        barrier.wait(timeout=10)
        answers.append(one.post(f"/events/{fair.id}/outcomes/remind").status_code)

    threads = [threading.Thread(target=click, args=(one,)) for one in (client, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [302, 302]
    recipients = [m["To"] for m in inbox.messages]
    assert recipients and len(recipients) == len(set(recipients))
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "outcome.remind")).all()
    assert len(entries) == 1 and entries[0].details["sent"] == len(recipients)


def test_a_reminder_interrupted_by_an_error_says_so_and_does_not_hold_the_next_back(
    app, client, logged_in, db_session: Session, fair: Event, clock: Clock, smtp_server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scheduler import notifications

    _after_the_fair(client, db_session, fair, clock)
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    send = notifications.send_notices

    def broken(notices, settings):  # type: ignore[no-untyped-def]
        raise RuntimeError("the mail relay hung up")

    monkeypatch.setattr(notifications, "send_notices", broken)
    page = client.post(f"/events/{fair.id}/outcomes/remind", follow_redirects=True)
    assert page.status_code == 200
    assert "The reminder was interrupted" in page.get_data(as_text=True)
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "outcome.remind"))
    assert entry.details["interrupted"] is True
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "interrupted by an error: some participants may have been e-mailed." in results
    assert "0 e-mailed" not in results  # not "nobody was e-mailed": some may have been
    # Sent again at once: the interrupted one does not count as a reminder that went out.
    monkeypatch.setattr(notifications, "send_notices", send)
    again = client.post(f"/events/{fair.id}/outcomes/remind", follow_redirects=True)
    assert "A reminder went out at" not in again.get_data(as_text=True)
    assert inbox.messages
    assert f"{len(inbox.messages)} e-mailed." in again.get_data(as_text=True)


def test_the_last_reminder_line_says_a_reminder_is_still_being_sent(
    client, logged_in, db_session: Session, fair: Event, clock: Clock,
) -> None:
    _after_the_fair(client, db_session, fair, clock)
    entry = audit.record(db_session, "outcome.remind", event_id=fair.id, target=fair,
                         details={"sending": True})
    db_session.commit()
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "still being sent." in results and "0 e-mailed" not in results
    # A claim left "sending" longer than any sending takes was cut off.
    entry.created_at = utcnow() - timedelta(minutes=11)
    db_session.commit()
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "interrupted by an error" in results and "still being sent" not in results


def test_the_on_behalf_page_shows_whom_to_call(client, logged_in, db_session, fair) -> None:
    """The organizer enters answers taken by phone: the page names the contact, with a
    link to call and to write, and says so when the company has none."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    buyer, supplier = (
        next(p for p in fair.participants if p.role == role) for role in ("buyer", "supplier")
    )
    person = contact_of(buyer)
    assert person is not None  # the demo gives every company a contact
    person.name, person.title = "山田 花子", "購買部 課長"
    person.phone, person.email = "052 123 4567", "hanako@example.jp"
    for attendance in supplier.attendances:
        db_session.delete(attendance)
    db_session.commit()
    page = client.get(f"/events/{fair.id}/participants/{buyer.id}/outcomes").get_data(
        as_text=True
    )
    line = page.split('data-test="contact"', 1)[1].split("</p>", 1)[0]
    assert "Contact: " in line and "山田 花子" in line and "(購買部 課長)" in line
    assert 'href="tel:0521234567"' in line and 'href="mailto:hanako@example.jp"' in line
    page = client.get(f"/events/{fair.id}/participants/{supplier.id}/outcomes").get_data(
        as_text=True
    )
    assert "No contact person is recorded for this participant." in page

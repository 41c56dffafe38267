"""The reporting and reminder side of the meeting results, as QA found it wanting:

* the reports page is one form: whichever button is pressed, every card typed into and
  the survey are saved (each on its own: a card with a mistake comes back with it, the
  others are saved), a card left as it was is not touched;
* the reminders warn when their links would point at this computer (and so does the
  participant's access-link page);
* the reminder asks each company for what it has left in its own words, is signed,
  gives the deadline, reaches the companies with only the survey left, and its button
  says when it is held back;
* Japanese punctuation, a 0-yen order, maxlength on the long text boxes, the survey in
  the portal's to-do list, an English amount example.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit, feedback
from scheduler.errors import ValidationFailed
from scheduler.models import (
    AuditEntry,
    Event,
    FairFeedback,
    Meeting,
    MeetingOutcome,
    Participant,
    Phase,
)
from scheduler.outcomes import OutcomeInput, parse_yen, save_outcome
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
def clock(monkeypatch: pytest.MonkeyPatch, fair: Event, db_session: Session) -> Clock:
    """Half an hour after the fair's last meeting starts (every meeting reportable)."""
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    return Clock(monkeypatch, max(m.slot.starts_at for m in meetings) + timedelta(minutes=30))


def _english(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _mine(session: Session, fair: Event, participant: Participant) -> list[Meeting]:
    return sorted(
        event_meetings(session, fair, include_cancelled=False, participant_id=participant.id),
        key=lambda m: (m.slot.starts_at, m.id),
    )


class _Form(HTMLParser):
    """The values a browser sends from the page's form as it is served (no script: every
    field enabled): text and hidden fields, ticked boxes, text areas."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._area: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.values.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._area = name
            self.values.setdefault(name, []).append("")

    def handle_data(self, data: str) -> None:
        if self._area:
            self.values[self._area][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._area = None


def _whole_page(page: str, **cards: dict[str, object]) -> dict[str, object]:
    """The page's form as a browser sends it: every field as the page shows it, with
    what was typed over it (``m12={"took_place": "yes", ...}``, ``survey={...}``)."""
    form = _Form()
    form.feed(page.split('id="outcomes-form"', 1)[1].split("</form>", 1)[0])
    data: dict[str, object] = dict(form.values)
    data.pop("csrf_token", None)
    for card, fields in cards.items():
        if card != "survey":  # what was typed replaces the whole card
            for name in [n for n in data if n.startswith(f"{card}-") and n != f"{card}-shown"]:
                del data[name]
        for name, value in fields.items():
            data[name if card == "survey" else f"{card}-{name}"] = value
    return data


def _card(page: str, meeting: Meeting) -> str:
    """One meeting's card of the page."""
    return page.split(f'id="meeting-{meeting.id}"', 1)[1].split(
        '<li class="meeting-card', 1)[0].split("</ol>", 1)[0]


def _reports(session: Session, participant: Participant) -> dict[int, MeetingOutcome]:
    session.expire_all()
    return {o.meeting_id: o for o in session.scalars(
        select(MeetingOutcome).where(MeetingOutcome.participant_id == participant.id))}


# --------------------------------------------------------------------------- 1. one form


def test_the_page_is_one_form_and_any_button_saves_every_card_typed_into_and_the_survey(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _english(client)
    mine = _mine(db_session, fair, participant)
    assert len(mine) >= 4
    url = f"/p/{participant.access_token}/outcomes"
    page = client.get(url).get_data(as_text=True)
    main = page.split("<main", 1)[1]
    # One form for the cards and the survey; each card's button posts it to the card's
    # own address (landing back there), the survey's to the survey's.
    assert main.count("<form") == 1 and 'id="outcomes-form"' in main
    assert f'formaction="{url}/{mine[3].id}#meeting-{mine[3].id}"' in main
    assert f'formaction="{url}/survey#survey"' in main
    assert f'name="m{mine[0].id}-took_place"' in main and 'name="took_place"' not in main
    assert "Save all" in main and "Each button saves everything typed on this page" in main
    # Cards 2, 3 and 4 and the survey are filled in; the button of card 4 is pressed.
    two, three, four = mine[1], mine[2], mine[3]
    done = client.post(f"{url}/{four.id}", data=_whole_page(
        page,
        **{f"m{two.id}": {"took_place": "yes", "prospect": "high",
                          "next_steps": ["quotation"], "note": "見積を依頼"},
           f"m{three.id}": {"took_place": "no", "note": "先方欠席"},
           f"m{four.id}": {"took_place": "yes", "prospect": "some",
                           "next_steps": ["order"], "order_amount": "1.2M"}},
        survey={"satisfaction": "4", "comment": "よかった"},
    ))
    assert done.status_code == 302
    # Back at card 4, which says how many others were saved with it.
    assert done.headers["Location"].endswith(
        f"?saved={four.id},{two.id},{three.id}&answered=1#meeting-{four.id}")
    reports = _reports(db_session, participant)
    assert set(reports) == {two.id, three.id, four.id}  # card 1, left empty, is not touched
    assert reports[two.id].next_steps == ["quotation"] and reports[two.id].note == "見積を依頼"
    assert reports[three.id].took_place is False
    assert reports[four.id].order_amount == 1_200_000
    assert db_session.scalar(select(FairFeedback.satisfaction)) == 4
    landed = client.get(done.headers["Location"]).get_data(as_text=True)
    card = _card(landed, four)
    assert "Your report was saved." in card and "2 other reports were saved with it." in card
    assert "The survey answer was saved too." in card
    other = _card(landed, two)
    assert "Your report was saved." in other and "other reports" not in other


def test_a_mistake_in_one_card_keeps_it_as_typed_and_the_others_are_saved(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _english(client)
    mine = _mine(db_session, fair, participant)
    url = f"/p/{participant.access_token}/outcomes"
    page = client.get(url).get_data(as_text=True)
    one, two, three = mine[0], mine[1], mine[2]
    sent = client.post(f"{url}/{three.id}", data=_whole_page(
        page,
        **{f"m{one.id}": {"took_place": "yes", "prospect": "high"},
           # An amount without the order: refused, as typed.
           f"m{two.id}": {"took_place": "yes", "prospect": "some",
                          "next_steps": ["quotation"], "order_amount": "300万",
                          "note": "要再見積"},
           f"m{three.id}": {"took_place": "no"}},
        survey={"satisfaction": "5"},
    ))
    body = sent.get_data(as_text=True)
    assert sent.status_code == 400
    assert set(_reports(db_session, participant)) == {one.id, three.id}
    assert db_session.scalar(select(FairFeedback.satisfaction)) == 5
    wrong = _card(body, two)
    assert "has-error-card" in body.split(f'id="meeting-{two.id}"', 1)[0][-120:]
    assert "this report is not saved yet" in wrong and "An amount goes with an order" in wrong
    assert 'value="300万"' in wrong and "要再見積</textarea>" in wrong
    assert 'value="quotation" checked' in wrong
    # The field to fix has the focus (the only autofocus of the page), and says why.
    assert body.count(" autofocus") == 1
    assert (f'aria-describedby="m{two.id}-order_amount-err m{two.id}-order_amount-hint"'
            ' aria-invalid="true" autofocus') in wrong
    # The saved ones say so; above the list, what was saved and what is left to fix.
    for saved in (one, three):
        card = _card(body, saved)
        assert "Your report was saved." in card
    summary = body.split('class="flash flash-warning save-summary"', 1)[1].split("</div>", 1)[0]
    assert "2 reports were saved." in summary and "1 report has a mistake" in summary
    assert f'href="#meeting-{two.id}"' in summary
    assert "Thank you: your answer was saved." in body.split('id="survey"', 1)[1]
    # The card with the mistake still counts as changed: sent again fixed, it is saved.
    fixed = client.post(f"{url}/{two.id}", data=_whole_page(
        body, **{f"m{two.id}": {"took_place": "yes", "prospect": "some",
                                "next_steps": ["quotation", "order"], "order_amount": "300万"}},
    ))
    assert fixed.status_code == 302
    assert _reports(db_session, participant)[two.id].order_amount == 3_000_000


def test_a_card_left_as_it_was_is_not_saved_again_nor_overwritten(
    client, logged_in, db_session: Session, fair: Event, participant: Participant,
    clock: Clock,
) -> None:
    _english(client)
    mine = _mine(db_session, fair, participant)
    one, two = mine[0], mine[1]
    save_outcome(db_session, participant, one.id,
                 OutcomeInput(took_place="yes", prospect="high", next_steps=("order",),
                              order_amount="1,000,000", note="行1\n行2"), now=clock.now)
    db_session.commit()
    url = f"/p/{participant.access_token}/outcomes"
    page = client.get(url).get_data(as_text=True)  # the participant opens the page...
    # ...meanwhile the organizer corrects card 1 from a call.
    record = f"/events/{fair.id}/participants/{participant.id}/outcomes"
    organizer_page = client.get(record).get_data(as_text=True)
    assert organizer_page.split("<main", 1)[1].count("<form") == 1
    changed = client.post(f"{record}/{one.id}", data=_whole_page(
        organizer_page, **{f"m{one.id}": {"took_place": "yes", "prospect": "some",
                                          "next_steps": ["order"], "order_amount": "2M"}}))
    assert changed.status_code == 302
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "outcome.report")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.user_id == logged_in.id and entry.participant_id == participant.id
    before = db_session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    # The participant, on its older page, reports on card 2: card 1 goes as it showed it
    # (CRLF line breaks, as browsers send them), untouched, and is not saved over.
    stale = client.post(f"{url}/{two.id}", data=_whole_page(
        page, **{f"m{one.id}": {"took_place": "yes", "prospect": "high",
                                "next_steps": ["order"], "order_amount": "1,000,000",
                                "note": "行1\r\n行2"},
                 f"m{two.id}": {"took_place": "no"}}))
    assert stale.status_code == 302
    reports = _reports(db_session, participant)
    assert reports[one.id].order_amount == 2_000_000 and reports[one.id].prospect == "some"
    new = db_session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert [(e.action, e.details["meeting_id"]) for e in new] == [("outcome.report", two.id)]
    # "Save all" with nothing typed saves nothing, and says so.
    page = client.get(url).get_data(as_text=True)
    nothing = client.post(url, data=_whole_page(page), follow_redirects=True)
    assert "Nothing was changed" in nothing.get_data(as_text=True)
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all() == new


def test_save_all_lands_on_the_first_card_saved_and_the_survey_alone_on_the_survey(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _english(client)
    mine = _mine(db_session, fair, participant)
    url = f"/p/{participant.access_token}/outcomes"
    page = client.get(url).get_data(as_text=True)
    saved = client.post(url, data=_whole_page(
        page, **{f"m{mine[2].id}": {"took_place": "no"}}))
    assert saved.headers["Location"].endswith(f"?saved={mine[2].id}#meeting-{mine[2].id}")
    page = client.get(url).get_data(as_text=True)
    # The survey's button with a card typed into: both saved, back at the survey.
    both = client.post(f"{url}/survey", data=_whole_page(
        page, **{f"m{mine[0].id}": {"took_place": "no"}}, survey={"satisfaction": "3"}))
    assert both.headers["Location"].endswith(f"?saved={mine[0].id}&answered=1#survey")
    survey = client.get(both.headers["Location"]).get_data(as_text=True).split('id="survey"')[1]
    assert "your answer was saved" in survey and "1 report was saved with it." in survey


# --------------------------------------------------------------------------- 2. addresses


def test_the_reminder_and_the_access_page_warn_when_links_point_at_this_computer(
    app, client, organizer_en, db_session: Session, fair: Event, participant: Participant,
    clock: Clock, smtp_server,
) -> None:
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    # The tests' site is served as http://localhost: this computer's own address.
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    warning = results.split('data-test="reminder-address-warning">', 1)[1].split("</p>", 1)[0]
    assert "http://localhost" in warning and "PUBLIC_URL" in warning
    assert "participants cannot open them" in warning
    # Said in the confirmation too: sending stays possible (a test send to oneself).
    confirm = results.split('class="actions outcome-remind" data-kind="reports"', 1)[1]
    assert "an address of this computer only" in confirm.split(">", 1)[0]
    access = client.get(f"/events/{fair.id}/participants/{participant.id}/access")
    text = access.get_data(as_text=True)
    assert 'data-test="link-address-warning"' in text and "http://localhost" in text
    client.post(f"/events/{fair.id}/outcomes/remind")
    assert inbox.messages  # warned, not refused
    # At the address participants use, no warning.
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "reminder-address-warning" not in results
    assert "this computer only" not in results.split('data-kind="reports"', 1)[1][:600]
    access = client.get(f"/events/{fair.id}/participants/{participant.id}/access")
    assert "link-address-warning" not in access.get_data(as_text=True)


# --------------------------------------------------------------------------- 3. reminders


def _text(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_payload(decode=True).decode("utf-8")


def _by_token(inbox) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {_text(m).split("/p/", 1)[1].split("/outcomes", 1)[0]: _text(m)
            for m in inbox.messages}


def test_each_reminder_asks_for_what_is_missing_in_the_companys_own_words_and_is_signed(
    app, client, organizer_en, db_session: Session, fair: Event, clock: Clock, smtp_server,
) -> None:
    from scheduler.event_setup import phase_deadline

    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    sides = {p for m in meetings for p in (m.participant_a, m.participant_b)
             if any(a.person.email for a in p.attendances)}
    buyer = next(p for p in sides if p.role == "buyer")
    supplier = next(p for p in sides if p.role == "supplier")
    answered = next(p for p in sides if p not in (buyer, supplier))
    for p in (buyer, supplier, answered):
        p.locale = "ja"
    feedback.save_feedback(db_session, answered, feedback.FeedbackInput(satisfaction="4"),
                           now=clock.now)
    closes = clock.now + timedelta(days=14)
    phase_deadline(fair, Phase.CLOSED).closes_at = closes
    fair.contact_email = "shodankai@example.jp"
    db_session.commit()

    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "The e-mails ask for an answer by" in results
    client.post(f"/events/{fair.id}/outcomes/remind")
    mails = _by_token(inbox)
    to_buyer, to_supplier = mails[buyer.access_token], mails[supplier.access_token]
    # A buyer places orders (発注), a supplier receives them (受注).
    assert "試作・テスト発注、発注など" in to_buyer and "受注" not in to_buyer
    assert "試作・テスト発注、受注など" in to_supplier
    # Only what is missing: the survey is asked of those who have not answered it.
    assert "アンケート" in to_buyer
    assert "アンケート" not in mails[answered.access_token]
    assert "まだご報告いただいていない商談が" in to_buyer
    # Signed by the fair, with the organizer's address, and the deadline given.
    assert f"{fair.name} 事務局" in to_buyer and "お問い合わせ：shodankai@example.jp" in to_buyer
    local = fair.local(closes)
    assert f"{local.year}年{local.month}月{local.day}日" in to_buyer
    assert "ご報告・ご回答は" in to_buyer and "ご報告は" in mails[answered.access_token]


def test_companies_with_only_the_survey_left_are_reminded_by_their_own_button(
    app, client, organizer_en, db_session: Session, fair: Event, participant: Participant,
    clock: Clock, smtp_server,
) -> None:
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    for meeting in _mine(db_session, fair, participant):  # every meeting reported
        save_outcome(db_session, participant, meeting.id, OutcomeInput(took_place="no"),
                     now=clock.now)
    db_session.commit()
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    survey_form = results.split('data-kind="survey"', 1)[1].split("</form>", 1)[0]
    assert "Remind 1 participant to answer the survey by e-mail" in survey_form
    assert "reported on every meeting but have not answered the survey" in survey_form
    assert 'name="which" value="survey"' in survey_form
    # The reports' reminder does not reach it (nothing to report)...
    client.post(f"/events/{fair.id}/outcomes/remind")
    assert participant.access_token not in _by_token(inbox)
    # ...the survey's does, asking for the survey alone, in the company's language.
    sent = len(inbox.messages)
    client.post(f"/events/{fair.id}/outcomes/remind", data={"which": "survey"})
    assert len(inbox.messages) == sent + 1
    text = _text(inbox.messages[-1])
    assert participant.access_token in text and inbox.messages[-1]["Subject"].endswith(
        "a three-question survey about the fair")
    assert "One thing is left: a three-question survey" in text
    assert "not reported on yet" not in text and "The organizers of" in text
    # Once every company has answered, there is no such button.
    feedback.save_feedback(db_session, participant, feedback.FeedbackInput(satisfaction="5"),
                           now=clock.now)
    db_session.commit()
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert 'data-kind="survey"' not in results


def test_within_half_an_hour_of_a_reminder_its_button_says_when_the_next_can_go(
    app, client, organizer_en, db_session: Session, fair: Event, clock: Clock,
) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_FROM="o@f.jp")
    form = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True).split(
        'data-kind="reports"', 1)[1].split("</form>", 1)[0]
    assert "onsubmit" in form.split(">", 1)[0] and " disabled" not in form
    assert re.search(r"Remind \d+ participants by e-mail", form)
    audit.record(db_session, "outcome.remind", event_id=fair.id, target=fair,
                 details={"sent": 3, "failed": 0, "without_email": 0})
    db_session.commit()
    form = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True).split(
        'data-kind="reports"', 1)[1].split("</form>", 1)[0]
    button = form.split("<button", 1)[1].split("</button>", 1)[0]
    assert " disabled" in button and "Reminder sent at" in button
    assert "the next can be sent from" in button and not re.search(r"Remind \d", button)
    assert "onsubmit" not in form.split(">", 1)[0]  # no promise to send
    # An interrupted one does not hold the next back (as the server decides).
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "outcome.remind"))
    entry.details = {"interrupted": True}
    db_session.commit()
    form = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True).split(
        'data-kind="reports"', 1)[1].split("</form>", 1)[0]
    assert "Reminder sent at" not in form and "onsubmit" in form.split(">", 1)[0]


# --------------------------------------------------------------------------- 4.–8.


def test_japanese_lists_use_japanese_punctuation(
    client, logged_in, db_session: Session, fair: Event, participant: Participant,
    clock: Clock,
) -> None:
    mine = _mine(db_session, fair, participant)
    save_outcome(db_session, participant, mine[0].id, OutcomeInput(took_place="no"),
                 now=clock.now)
    db_session.commit()
    participant.locale = "ja"
    db_session.commit()
    page = client.get(f"/p/{participant.access_token}/outcomes").get_data(as_text=True)
    jump = page.split('class="outcome-jump"', 1)[1].split("</p>", 1)[0]
    assert "</a>、<a" in jump and "</a>, <a" not in jump
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    picker = results.split('id="survey-company"', 1)[1].split("</select>", 1)[0]
    assert "（バイヤー）</option>" in picker and "(バイヤー)" not in picker
    _english(client)
    results = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    picker = results.split('id="survey-company"', 1)[1].split("</select>", 1)[0]
    assert " (Buyer)</option>" in picker


def test_an_order_of_0_yen_is_refused_and_k_and_m_amounts_are_read() -> None:
    for typed in ("0", "０円", "0万", "¥0"):
        with pytest.raises(ValidationFailed) as refused:
            parse_yen(typed)
        assert refused.value.field == "order_amount"
        assert "cannot be 0 yen" in refused.value.msgid
    assert parse_yen("1.2M") == 1_200_000 and parse_yen("500k") == 500_000
    assert parse_yen("１．５Ｍ円") == 1_500_000 and parse_yen("1,200k") == 1_200_000
    for typed in ("5 million", "1.2MM", "k", "1.2B"):
        with pytest.raises(ValidationFailed):
            parse_yen(typed)


def test_a_0_yen_order_is_sent_back_on_the_page(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _english(client)
    meeting = _mine(db_session, fair, participant)[0]
    sent = client.post(f"/p/{participant.access_token}/outcomes/{meeting.id}", data={
        "took_place": "yes", "prospect": "high", "next_steps": ["order"], "order_amount": "0"})
    assert sent.status_code == 400
    assert "An order amount cannot be 0 yen" in sent.get_data(as_text=True)
    assert db_session.scalar(select(MeetingOutcome)) is None


def test_long_text_boxes_have_the_servers_limit_and_english_amount_examples(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _english(client)
    page = client.get(f"/p/{participant.access_token}/outcomes").get_data(as_text=True)
    notes = re.findall(r'<textarea id="m\d+-note"[^>]*>', page)
    assert notes and all('maxlength="2000"' in n for n in notes)
    comment = re.search(r'<textarea id="survey-comment"[^>]*>', page).group(0)
    assert f'maxlength="{feedback.COMMENT_MAX_CHARS}"' in comment
    hint = page.split('-order_amount-hint">', 1)[1].split("</small>", 1)[0]
    assert "1.2M" in hint and "万" not in hint


def test_the_portal_asks_for_the_survey_once_every_meeting_is_reported(
    client, db_session: Session, fair: Event, participant: Participant, clock: Clock
) -> None:
    _english(client)
    home = f"/p/{participant.access_token}/"

    def todo() -> str:
        page = client.get(home).get_data(as_text=True)
        return page.split('class="todo-list"', 1)[1].split("</ul>", 1)[0]

    assert "await your report" in todo() and "answer-survey" not in todo()
    for meeting in _mine(db_session, fair, participant):
        save_outcome(db_session, participant, meeting.id, OutcomeInput(took_place="no"),
                     now=clock.now)
    db_session.commit()
    item = todo().split('data-test="answer-survey"', 1)[1].split("</li>", 1)[0]
    assert "Please answer the fair survey" in item
    assert f"/p/{participant.access_token}/outcomes#survey" in item
    feedback.save_feedback(db_session, participant, feedback.FeedbackInput(satisfaction="4"),
                           now=clock.now)
    db_session.commit()
    assert "answer-survey" not in todo()


def test_a_tampered_page_saves_the_own_cards_and_says_the_other_is_not_found(
    client, db_session: Session, fair: Event, participant: Participant,
    clock: Clock,
) -> None:
    """Review: a card of someone else's meeting added to the page's form: the own card
    before it was saved and the page answered 404."""
    from scheduler.models import MeetingOutcome
    from scheduler.schedule_view import event_meetings

    _english(client)
    mine = _mine(db_session, fair, participant)
    foreign = next(
        m for m in event_meetings(db_session, fair, include_cancelled=False)
        if participant.id not in (m.participant_a_id, m.participant_b_id)
    )
    url = f"/p/{participant.access_token}/outcomes"
    data = _whole_page(
        client.get(url).get_data(as_text=True),
        **{f"m{mine[0].id}": {"took_place": "no", "note": "x"}},
    )
    data[f"m{foreign.id}-shown"] = "zzz"
    data[f"m{foreign.id}-took_place"] = "no"
    response = client.post(url, data=data)
    assert response.status_code == 302
    assert mine[0].id in _reports(db_session, participant)
    assert not db_session.scalars(
        select(MeetingOutcome).where(MeetingOutcome.meeting_id == foreign.id)
    ).all()

"""The event's history (web/history.py, scheduler/history.py): every audit entry of the
event for its organizers, newest first, by area and by company, a page at a time and as
CSV; readable for every action, an unknown one too, and never showing a secret."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit, pair_rules, registration
from scheduler import history as events_history
from scheduler.db import recorded_statements
from scheduler.history import HistoryFilter, area_of, history_page
from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    PairRuleKind,
    ParticipantRole,
    Phase,
    Slot,
    User,
)
from tests.conftest import AuthActions
from tests.participant_fair import Fair, add_company, make_fair, read_in_english
from web.database import get_engine

JA = '<span lang="ja">'


@pytest.fixture
def fair(db_session: Session) -> Fair:
    made = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return made


def _history(fair: Fair, query: str = "") -> str:
    return f"/events/{fair.event.id}/history{query}"


def _csv(fair: Fair, query: str = "") -> str:
    return f"/events/{fair.event.id}/history.csv{query}"


def _entry_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="entry-(\d+)"', page)]


def _record(session: Session, fair: Fair, action: str, **kwargs: object) -> AuditEntry:
    entry = audit.record(session, action, event_id=fair.event.id, **kwargs)  # type: ignore[arg-type]
    session.commit()
    return entry


# --------------------------------------------------------------------------- the page


def test_entries_are_listed_newest_first_with_who_what_and_details(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    first = _record(db_session, fair, "event.update", user_id=organizer_en.id,
                    target=fair.event, details={"venue": ["旧会場", "新会場"],
                                                "max_requests": [None, 5]})
    # The company changing its own profile through its link: no account acted.
    second = _record(db_session, fair, "profile.update", participant_id=fair.supplier.id,
                     target=fair.supplier.organization,
                     details={"changed": ["website", "technologies"]})
    third = _record(db_session, fair, "run.cancel")  # a background job: nobody
    typed = _record(db_session, fair, "event.update", user_id=organizer_en.id,
                    details={"address": ["", "<script>alert(1)</script>"]})
    page = client.get(_history(fair)).get_data(as_text=True)

    assert _entry_ids(page) == [typed.id, third.id, second.id, first.id]
    assert "<script>alert(1)" not in page and "Address: — → &lt;script&gt;alert(1)" in page
    rows = {entry_id: row for entry_id, row in
            re.findall(r'<tr id="entry-(\d+)"(.*?)</tr>', page, flags=re.S)}
    assert "Event details changed" in rows[str(first.id)]
    assert f"{JA}主催 花子</span>" in rows[str(first.id)]
    assert f"Venue: {JA}旧会場 → 新会場</span>" in rows[str(first.id)]
    assert "Requests per participant (cap): — → 5" in rows[str(first.id)]
    assert "Company profile changed" in rows[str(second.id)]
    assert "the company itself" in rows[str(second.id)]
    assert "Changed: Website, Technologies" in rows[str(second.id)]
    # The company concerned, linked to its organizer page.
    edit = f"/events/{fair.event.id}/participants/{fair.supplier.id}/edit"
    assert f'href="{edit}"' in rows[str(second.id)] and "S001" in rows[str(second.id)]
    assert "system" in rows[str(third.id)]
    # The local time in the event's zone, with the date.
    local = fair.event.local(first.created_at).strftime("%Y-%m-%d %H:%M")
    assert local in rows[str(first.id)]


def test_japanese_page_uses_full_width_colon_and_the_catalogs_words(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User
) -> None:
    _record(db_session, fair, "event.update", user_id=logged_in.id, target=fair.event,
            details={"venue": ["旧会場", "新会場"]})
    page = client.get(_history(fair)).get_data(as_text=True)
    assert "会場：旧会場 → 新会場" in page
    assert "<h1>履歴</h1>" in page


def test_details_of_results_requests_and_publication_read_as_words(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    event = fair.event
    slot = Slot(event=event, starts_at=_utc(1, 0), ends_at=_utc(1, 20))
    db_session.add(slot)
    db_session.flush()
    meeting = Meeting(event_id=event.id, participant_a_id=fair.buyer.id,
                      participant_b_id=fair.supplier.id, slot_id=slot.id)
    db_session.add(meeting)
    db_session.flush()
    report = _record(db_session, fair, "outcome.report", participant_id=fair.supplier.id,
                     details={"meeting_id": meeting.id, "took_place": True, "prospect": "high",
                              "next_steps": ["quotation", "order"], "order_amount": 1200000})
    request_entry = _record(db_session, fair, "preference.request",
                            participant_id=fair.supplier.id,
                            details={"to": fair.buyer.id, "level": 3, "source": "manual"})
    publish = _record(db_session, fair, "schedule.publish", user_id=organizer_en.id,
                      details={"version": 2, "inserted": 10, "moved": 3, "cancelled": 1,
                               "unchanged": 40})
    page = client.get(_history(fair)).get_data(as_text=True)
    rows = dict(re.findall(r'<tr id="entry-(\d+)"(.*?)</tr>', page, flags=re.S))
    shown = rows[str(report.id)]
    assert "Meeting result reported" in shown
    assert f"Counterpart: {JA}B001 発注重工株式会社</span>" in shown
    assert "Took place" in shown and "Prospect: Very promising" in shown
    assert "Next steps: Quotation, Order" in shown and "Ordered amount: ¥1,200,000" in shown
    assert "Meeting requested" in rows[str(request_entry.id)]
    assert "Level: High" in rows[str(request_entry.id)]
    assert "Version 2: 10 new, 3 moved, 1 cancelled meetings" in rows[str(publish.id)]
    assert "{" not in shown and "meeting_id" not in shown  # no stored JSON


def _utc(hour: int, minute: int) -> datetime:
    return datetime(2031, 10, 3, hour, minute, tzinfo=UTC)


def test_an_unknown_action_shows_its_code_and_nothing_it_stores(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    _record(db_session, fair, "mystery.thing", user_id=organizer_en.id,
            details={"note": "stored-but-unknown"})
    _record(db_session, fair, "nodot")
    response = client.get(_history(fair))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<code>mystery.thing</code>" in page and "<code>nodot</code>" in page
    assert "stored-but-unknown" not in page
    # In the "other changes" area, whose filter shows them.
    other = client.get(_history(fair, "?area=other")).get_data(as_text=True)
    assert len(_entry_ids(other)) == 2
    data = client.get(_csv(fair)).get_data(as_text=True)
    assert "mystery.thing" in data and "stored-but-unknown" not in data


def test_no_secret_link_or_password_hash_reaches_the_page_or_the_csv(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    old_token = fair.supplier.access_token
    token = registration.reissue_token(db_session, fair.supplier, user_id=organizer_en.id)
    # A record call that stored more than it should (a token in its details) is still
    # shown field by field, never as stored.
    _record(db_session, fair, "participant.token_reissue", user_id=organizer_en.id,
            participant_id=fair.supplier.id, target=fair.supplier,
            details={"token": token, "password_hash": organizer_en.password_hash})
    db_session.commit()
    secrets = [old_token, token, fair.supplier.feed_token, organizer_en.password_hash]
    page = client.get(_history(fair)).get_data(as_text=True)
    data = client.get(_csv(fair)).get_data(as_text=True)
    assert page.count("Secret link reissued") == 2 and "Secret link reissued" in data
    for secret in secrets:
        assert secret not in page and secret not in data


#: Details as no record call stores them: every known action must still be shown.
GARBAGE = {
    "to": [1], "level": [3], "supplier": {"a": 1}, "need": "x", "a": [1], "b": None,
    "slot": ["s1"], "table": {"x": 1}, "kind": ["pin"], "from": 1, "to_": [], "before": 7,
    "after": "x", "changed": "abc", "lines": "x", "opened_from": [1], "meeting_id": [2],
    "took_place": "yes", "prospect": {}, "next_steps": 5, "order_amount": "many",
    "satisfaction": [5], "join_again": {}, "date": ["2031-10-03"], "slots": "x",
    "starts_at": 12, "labels": {"A": 1}, "label": [], "host_participant_id": ["x"],
    "venue": "not a pair", "max_requests": [1, 2, 3], "pairs": "many", "version": [],
    "sheets": None, "sent": "x", "cancelled": 3, "filename": ["x"], "meetings": 4,
    "overrides_decline_of": "B001", "source_name": {"x": 1}, "unavailable": 3,
}


@pytest.mark.parametrize("details", [{}, GARBAGE], ids=["empty", "garbage"])
def test_every_known_action_is_shown_whatever_its_details(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User,
    details: dict[str, object],
) -> None:
    from web.history import ACTION_LABELS

    for action in ACTION_LABELS:
        audit.record(db_session, action, event_id=fair.event.id, user_id=organizer_en.id,
                     participant_id=fair.supplier.id, target=fair.supplier, details=details)
    db_session.commit()
    for number in (1, 2):
        response = client.get(_history(fair, f"?page={number}"))
        assert response.status_code == 200
        assert "<code>" not in response.get_data(as_text=True)  # every one has its label
    assert client.get(_csv(fair)).status_code == 200


# --------------------------------------------------------------------------- filters


ACTIONS = [
    ("event.update", events_history.SETUP),
    ("day.save", events_history.SETUP),
    ("tables.add", events_history.SETUP),
    ("phase.change", events_history.SETUP),
    ("participant.update", events_history.PARTICIPANTS),
    ("participants.import", events_history.PARTICIPANTS),
    ("profile.update", events_history.PARTICIPANTS),
    ("preference.request", events_history.REQUESTS),
    ("pair_rule.remove", events_history.REQUESTS),
    ("availability.change", events_history.REQUESTS),
    ("run.start", events_history.SCHEDULE),
    ("repair.apply", events_history.DAY),  # review: it is the day's, as in the staff log
    ("sheets.prepare", events_history.SCHEDULE),
    ("day.no_show", events_history.DAY),
    ("day.undo", events_history.DAY),
    ("outcome.report", events_history.AFTER),
    ("feedback.answer", events_history.AFTER),
    ("mystery.thing", events_history.OTHER),
    ("pairXrule.remove", events_history.OTHER),  # "_" is no wildcard
    ("nodot", events_history.OTHER),
    ("day", events_history.OTHER),
]


def test_every_entry_is_in_exactly_the_area_its_action_names(
    db_session: Session, fair: Fair
) -> None:
    for action, _area in ACTIONS:
        audit.record(db_session, action, event_id=fair.event.id)
    db_session.flush()
    for action, area in ACTIONS:
        assert area_of(action) == area, action
    found: dict[str, list[str]] = {}
    for area in events_history.AREAS:
        page = history_page(db_session, fair.event, HistoryFilter(area=area), per_page=100)
        found[area] = sorted(item.action for item in page.items)
        assert all(item.area == area for item in page.items)
    for area in events_history.AREAS:
        assert found[area] == sorted(a for a, ar in ACTIONS if ar == area), area
    assert history_page(db_session, fair.event, per_page=100).total == len(ACTIONS)


def test_area_filter_shows_only_its_entries_and_keeps_its_value(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    setup = _record(db_session, fair, "room.add", user_id=organizer_en.id)
    day = _record(db_session, fair, "day.check_in", user_id=organizer_en.id,
                  participant_id=fair.buyer.id)
    page = client.get(_history(fair, "?area=day")).get_data(as_text=True)
    assert _entry_ids(page) == [day.id]
    assert '<option value="day" selected>' in page
    page = client.get(_history(fair, "?area=setup")).get_data(as_text=True)
    assert _entry_ids(page) == [setup.id]
    # An area that does not exist is no filter.
    assert _entry_ids(client.get(_history(fair, "?area=nope")).get_data(as_text=True)) == [
        day.id, setup.id]
    assert "No change matches the filter." in client.get(
        _history(fair, "?area=after")).get_data(as_text=True)


def test_company_filter_finds_what_it_did_and_what_was_done_to_it(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    acted = _record(db_session, fair, "preference.request", participant_id=fair.supplier.id,
                    details={"to": fair.buyer.id, "level": 2})
    # Acted on, with the company as the target only.
    approved = _record(db_session, fair, "participant.approve", user_id=organizer_en.id,
                       target=fair.supplier)
    _record(db_session, fair, "preference.request", participant_id=fair.other_supplier.id,
            details={"to": fair.buyer.id, "level": 2})
    _record(db_session, fair, "event.update", user_id=organizer_en.id)
    page = client.get(_history(fair, f"?participant={fair.supplier.id}")).get_data(as_text=True)
    assert _entry_ids(page) == [approved.id, acted.id]
    assert f'<option value="{fair.supplier.id}" selected>' in page
    # Both filters at once, and in the CSV.
    both = f"?participant={fair.supplier.id}&area=requests"
    assert _entry_ids(client.get(_history(fair, both)).get_data(as_text=True)) == [acted.id]
    rows = list(csv.reader(io.StringIO(client.get(_csv(fair, both)).get_data(as_text=True))))
    assert len(rows) == 2 and rows[1][3] == "Meeting requested"
    # A company of another event is no filter (and shows nothing of that event).
    other = make_fair(db_session, slug="other-fair")
    db_session.commit()
    page = client.get(_history(fair, f"?participant={other.buyer.id}")).get_data(as_text=True)
    assert len(_entry_ids(page)) == 4


# --------------------------------------------------------------------------- paging, CSV


def test_pages_of_fifty_newest_first_with_links_that_keep_the_filter(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    ids = [audit.record(db_session, "room.add", event_id=fair.event.id).id for _ in range(120)]
    db_session.commit()
    newest_first = sorted(ids, reverse=True)
    first = client.get(_history(fair, "?area=setup")).get_data(as_text=True)
    assert _entry_ids(first) == newest_first[:50]
    assert "1–50 of 120" in first
    assert f'href="/events/{fair.event.id}/history?area=setup&amp;page=2"' in first
    third = client.get(_history(fair, "?area=setup&page=3")).get_data(as_text=True)
    assert _entry_ids(third) == newest_first[100:]
    # Other arguments in the address are no filter, and the links leave them out.
    odd = client.get(_history(fair, "?event_id=9&area=setup&junk=1"))
    pager = re.findall(r'href="([^"]*page=2)"', odd.get_data(as_text=True))
    assert odd.status_code == 200 and pager
    assert all("junk" not in link and "event_id" not in link for link in pager)
    # Beyond the last page: the last page.
    assert _entry_ids(client.get(_history(fair, "?page=99")).get_data(as_text=True)) == \
        newest_first[100:]


def test_the_whole_list_is_read_a_chunk_at_a_time_in_order(
    db_session: Session, fair: Fair
) -> None:
    ids = [audit.record(db_session, "room.add", event_id=fair.event.id).id for _ in range(20)]
    audit.record(db_session, "day.late", event_id=fair.event.id)
    read = events_history.all_history(db_session, fair.event, HistoryFilter(area="setup"),
                                      chunk=7)
    assert [item.entry.id for item in read] == sorted(ids, reverse=True)


def test_csv_is_the_whole_filtered_list_for_excel(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    for _ in range(60):
        audit.record(db_session, "room.add", event_id=fair.event.id, user_id=organizer_en.id)
    _record(db_session, fair, "participant.reject", user_id=organizer_en.id,
            participant_id=fair.other_buyer.id, target=fair.other_buyer,
            reason="=HYPERLINK(\"http://x\")")
    response = client.get(_csv(fair))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert text.count("\r\n") == 62 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["When", "Who", "Area", "What", "Company", "Details", "Reason"]
    assert len(rows) == 62  # every page, not only the first 50
    newest = rows[1]
    assert newest[1] == "主催 花子" and newest[3] == "Registration declined"
    assert newest[4] == "B002 ビー電機株式会社"
    assert newest[6] == "'=HYPERLINK(\"http://x\")"  # text in Excel, not a formula
    assert all(row[3] == "Room added" for row in rows[2:])


# --------------------------------------------------------------------------- access


def test_only_organizers_see_the_history(
    client: FlaskClient, fair: Fair, auth: AuthActions, staff: User, organizer: User
) -> None:
    event_id = fair.event.id
    # Nobody logged in, or a participant with its secret link: the login page.
    for path in (_history(fair), _csv(fair)):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get(f"/p/{fair.supplier.access_token}/").status_code == 200
    response = client.get(_history(fair))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # Staff: refused, as on the other organizer pages, and no tab leads there.
    auth.login("staff@example.jp")
    assert client.get(_history(fair)).status_code == 403
    assert client.get(_csv(fair)).status_code == 403
    assert client.get(f"/events/{event_id}/outcomes").status_code == 403
    participants = client.get(f"/events/{event_id}/participants").get_data(as_text=True)
    assert f"/events/{event_id}/history" not in participants
    # An event that does not exist.
    auth.logout()
    auth.login()
    assert client.get("/events/987654/history").status_code == 404
    page = client.get(f"/events/{event_id}/participants").get_data(as_text=True)
    assert f'href="/events/{event_id}/history"' in page


def test_a_page_takes_a_fixed_number_of_queries(
    app: Flask, client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    def queries() -> int:
        client.get(_history(fair))  # warm-up
        with recorded_statements(get_engine(app)) as statements:
            assert client.get(_history(fair)).status_code == 200
        return len(statements)

    companies = [fair.buyer, fair.other_buyer, fair.supplier, fair.other_supplier]
    _record(db_session, fair, "preference.request", participant_id=fair.supplier.id,
            user_id=organizer_en.id, details={"to": fair.buyer.id, "level": 1})
    few = queries()
    others = [User(email=f"u{i}@example.jp", name=f"係員{i}", password_hash="x")
              for i in range(8)]
    db_session.add_all(others)
    db_session.flush()
    for i in range(40):
        who, to = companies[i % 4], companies[(i + 1) % 4]
        audit.record(db_session, "preference.request", event_id=fair.event.id,
                     participant_id=who.id, user_id=others[i % 8].id,
                     details={"to": to.id, "level": 1})
    db_session.commit()
    assert queries() == few


def test_history_of_another_event_is_not_shown(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    other = make_fair(db_session, slug="elsewhere")
    db_session.commit()
    mine = _record(db_session, fair, "event.update", user_id=organizer_en.id)
    audit.record(db_session, "event.update", event_id=other.event.id, user_id=organizer_en.id)
    audit.record(db_session, "account.create", user_id=organizer_en.id)  # no event
    db_session.commit()
    assert _entry_ids(client.get(_history(fair)).get_data(as_text=True)) == [mine.id]
    read_in_english(client)
    empty = client.get(f"/events/{_empty_event(db_session).id}/history").get_data(as_text=True)
    assert "No change has been recorded for this event yet." in empty


def _empty_event(session: Session) -> Event:
    event = Event(name="空の商談会", slug="empty")
    session.add(event)
    session.commit()
    return event


def test_the_company_filter_finds_the_days_changes_and_requests_made_to_it(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    """Review: a meeting moved on the day names its two companies only in its details
    (``affected``), and a request names its counterpart under ``to``: filtering by either
    company found neither."""
    moved = _record(db_session, fair, "day.meeting_move", user_id=organizer_en.id,
                    details={"affected": [fair.supplier.id, fair.buyer.id],
                             "lines": [{"pair": "B001 × S001", "before": "10:00 A01",
                                        "after": "15:00 A01"}]})
    asked = _record(db_session, fair, "preference.request", participant_id=fair.other_supplier.id,
                    details={"to": fair.buyer.id, "level": 1})
    _record(db_session, fair, "day.meeting_move", user_id=organizer_en.id,
            details={"affected": [fair.other_buyer.id, fair.other_supplier.id]})
    # Neither an object's values nor text name a company; a NUL in another entry's
    # details (json keeps it, jsonb would refuse it) breaks nothing.
    _record(db_session, fair, "run.move_meeting", user_id=organizer_en.id,
            details={"to": {"slot": fair.supplier.id, "table": fair.buyer.id}})
    _record(db_session, fair, "phase.change", user_id=organizer_en.id,
            details={"to": str(fair.supplier.id)})
    _record(db_session, fair, "participants.import", user_id=organizer_en.id,
            details={"file": "a\x00b.csv", "to": None})
    for company, expected in ((fair.supplier, [moved.id]), (fair.buyer, [asked.id, moved.id])):
        page = client.get(_history(fair, f"?participant={company.id}")).get_data(as_text=True)
        assert _entry_ids(page) == expected, company.code
    page = client.get(_history(fair, f"?participant={fair.supplier.id}")).get_data(as_text=True)
    row = re.search(rf'<tr id="entry-{moved.id}"(.*?)</tr>', page, flags=re.S)[1]
    company_cell = row.split('data-label="Company">', 1)[1].split("</td>", 1)[0]
    assert company_cell.count("<a ") == 2  # both sides of the meeting, linked
    rows = list(csv.reader(io.StringIO(
        client.get(_csv(fair, f"?participant={fair.supplier.id}")).data.decode("utf-8-sig"))))
    assert len(rows) == 2 and fair.supplier.organization.name in rows[1][4]


def test_the_company_filter_finds_the_pair_rules_of_the_company(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    """QA: a pair rule names its companies by code (and its removal by id, as ``a`` and
    ``b``): filtering by either company found neither entry. Both sides are now named."""
    rule = pair_rules.set_rule(db_session, fair.event, fair.buyer, fair.supplier,
                               PairRuleKind.FORBID, user_id=organizer_en.id)
    pair_rules.remove_rule(db_session, fair.event, rule.id, user_id=organizer_en.id)
    pair_rules.set_rule(db_session, fair.event, fair.other_buyer, fair.other_supplier,
                        PairRuleKind.FORCE, user_id=organizer_en.id)
    db_session.commit()
    set_and_removed = db_session.scalars(
        select(AuditEntry.id).where(AuditEntry.action.in_(("pair_rule.forbid",
                                                           "pair_rule.remove")))
        .order_by(AuditEntry.id.desc())).all()
    for company in (fair.buyer, fair.supplier):
        page = client.get(_history(fair, f"?participant={company.id}")).get_data(as_text=True)
        assert _entry_ids(page) == set_and_removed, company.code
        row = re.search(rf'<tr id="entry-{set_and_removed[0]}"(.*?)</tr>', page, flags=re.S)[1]
        assert row.split('data-label="Company">', 1)[1].split("</td>", 1)[0].count("<a ") == 2


def test_an_entry_concerning_many_companies_names_the_first_few(
    client: FlaskClient, db_session: Session, fair: Fair, organizer_en: User
) -> None:
    """A plan for the rest of the day can change dozens of companies' meetings: the
    Company cell names six and counts the rest, instead of a wall of links."""
    extra = [add_company(db_session, fair.event, f"追加精工{i}株式会社", ParticipantRole.SUPPLIER,
                         email=f"extra{i}@example.jp", code=f"S9{i}") for i in range(5)]
    everyone = [fair.buyer, fair.other_buyer, fair.supplier, fair.other_supplier, *extra]
    entry = _record(db_session, fair, "repair.apply", user_id=organizer_en.id,
                    details={"affected": [p.id for p in everyone], "moved": 9})
    page = client.get(_history(fair)).get_data(as_text=True)
    row = re.search(rf'<tr id="entry-{entry.id}"(.*?)</tr>', page, flags=re.S)[1]
    cell = row.split('data-label="Company">', 1)[1].split("</td>", 1)[0]
    assert cell.count("<a ") == 6 and "and 3 others" in cell
    _record(db_session, fair, "day.meeting_move", user_id=organizer_en.id,
            details={"affected": [fair.buyer.id, fair.supplier.id]})
    last = everyone[-1]
    page = client.get(_history(fair, f"?participant={last.id}")).get_data(as_text=True)
    assert _entry_ids(page) == [entry.id]  # the filter still finds it under every one

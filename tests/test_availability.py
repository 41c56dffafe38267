"""Availability: per-day windows, single slots, meeting cap and desks; service and pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import availability, event_setup
from scheduler.errors import DeadlinePassed, ValidationFailed
from scheduler.models import AuditEntry, Event, Participant, Phase, PhaseDeadline, Slot, User
from tests.participant_fair import Fair, make_fair, read_in_english

DAY1 = date(2027, 2, 17)
DAY2 = date(2027, 2, 18)


@pytest.fixture
def fair(db_session: Session) -> Fair:
    """The small fair in the preferences phase, with two days of four slots (10:00–12:00 JST)."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    for day in (DAY1, DAY2):
        event_setup.save_day(db_session, fair.event, event_setup.DayPlan(
            day, time(10, 0), time(12, 0), meeting_minutes=25, changeover_minutes=5))
    db_session.commit()
    return fair


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


def _slots(event: Event, day: date) -> list[Slot]:
    return [s for d, slots in availability.day_grid(event) if d == day for s in slots]


def _p(participant: Participant, path: str = "/availability") -> str:
    return f"/p/{participant.access_token}{path}"


def _form(event: Event, **overrides: object) -> dict[str, object]:
    """A submission that keeps every day whole, with ``overrides`` on top."""
    data: dict[str, object] = {"max_meetings": "", "parallel_desks": "1"}
    for day, slots in availability.day_grid(event):
        data[f"arrive-{day.isoformat()}"] = str(slots[0].id)
        data[f"leave-{day.isoformat()}"] = str(slots[-1].id)
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- the service


def test_grid_is_grouped_by_local_day(fair: Fair) -> None:
    grid = availability.day_grid(fair.event)
    assert [d for d, _ in grid] == [DAY1, DAY2]
    assert [f"{fair.event.local(s.starts_at):%H:%M}" for s in grid[0][1]] == [
        "10:00", "10:30", "11:00", "11:30"]


def test_window_is_stored_in_utc_and_read_back(db_session: Session, fair: Fair) -> None:
    day1, day2 = _slots(fair.event, DAY1), _slots(fair.event, DAY2)
    data = availability.AvailabilityInput(
        windows={DAY1: (str(day1[1].id), str(day1[3].id)),  # arrive 10:30 on day 1
                 DAY2: (str(day2[0].id), str(day2[2].id))},  # leave 11:25 on day 2
        unavailable=[str(day1[2].id)], max_meetings="６", parallel_desks="2",
    )
    availability.save_availability(db_session, fair.buyer, data)
    db_session.commit()
    db_session.expire_all()
    buyer = db_session.get(Participant, fair.buyer.id)
    # 10:30 JST is 01:30 UTC; the stored value is aware and in UTC.
    assert buyer.available_from == datetime(2027, 2, 17, 1, 30, tzinfo=UTC)
    assert buyer.available_until == datetime(2027, 2, 18, 2, 25, tzinfo=UTC)
    assert buyer.available_from.utcoffset() == timedelta(0)
    assert {s.id for s in buyer.unavailable_slots} == {day1[2].id}
    assert (buyer.max_meetings, buyer.parallel_desks) == (6, 2)
    days = availability.current_availability(buyer)
    assert (days[0].arrive_slot_id, days[0].leave_slot_id) == (day1[1].id, day1[3].id)
    assert days[0].unavailable_ids == {day1[2].id}
    assert (days[1].arrive_slot_id, days[1].leave_slot_id) == (day2[0].id, day2[2].id)


def test_a_late_second_day_is_kept_as_blocked_slots(db_session: Session, fair: Fair) -> None:
    """Only the first day's arrival and the last day's departure fit the stored window."""
    day1, day2 = _slots(fair.event, DAY1), _slots(fair.event, DAY2)
    data = availability.AvailabilityInput(
        windows={DAY1: (str(day1[0].id), str(day1[1].id)),
                 DAY2: (str(day2[2].id), str(day2[3].id))})
    availability.save_availability(db_session, fair.supplier, data)
    assert fair.supplier.available_from is None and fair.supplier.available_until is None
    blocked = {day1[2].id, day1[3].id, day2[0].id, day2[1].id}
    assert {s.id for s in fair.supplier.unavailable_slots} == blocked
    assert [s.id for s in day1 + day2 if fair.supplier.is_available(s)] == [
        day1[0].id, day1[1].id, day2[2].id, day2[3].id]
    # The page reads it back as the same windows, so saving it again changes nothing.
    days = availability.current_availability(fair.supplier)
    assert (days[1].arrive_slot_id, days[1].unavailable_ids) == (day2[2].id, frozenset())


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"max_meetings": "-1"}, "max_meetings", "cannot be negative"),
        ({"max_meetings": "－２"}, "max_meetings", "cannot be negative"),
        ({"max_meetings": "0"}, "max_meetings", "at least 1, or leave it empty"),
        ({"max_meetings": "8"}, "max_meetings", "At most 5 meetings"),
        ({"max_meetings": "たくさん"}, "max_meetings", "whole number"),
        ({"parallel_desks": "4"}, "parallel_desks", "between 1 and 3"),
    ],
)
def test_bad_numbers_are_refused_with_the_field(
    db_session: Session, fair: Fair, overrides: dict[str, str], field: str, message: str
) -> None:
    fair.event.default_max_meetings = 5
    data = availability.AvailabilityInput(**overrides)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as raised:
        availability.save_availability(db_session, fair.buyer, data)
    assert raised.value.field == field
    assert message in raised.value.message


def test_the_cap_counts_per_desk(db_session: Session, fair: Fair) -> None:
    fair.event.default_max_meetings = 5
    availability.save_availability(db_session, fair.buyer, availability.AvailabilityInput(
        max_meetings="１０", parallel_desks="2"))
    assert (fair.buyer.max_meetings, fair.buyer.parallel_desks) == (10, 2)
    # A supplier has no desks to ask for: the field is ignored, its cap is the plain one.
    availability.save_availability(db_session, fair.supplier, availability.AvailabilityInput(
        max_meetings="5", parallel_desks="3"))
    assert fair.supplier.parallel_desks == 1
    with pytest.raises(ValidationFailed):
        availability.save_availability(db_session, fair.supplier,
                                       availability.AvailabilityInput(max_meetings="6"))


def test_leaving_before_arriving_and_no_slot_at_all(db_session: Session, fair: Fair) -> None:
    day1, day2 = _slots(fair.event, DAY1), _slots(fair.event, DAY2)
    with pytest.raises(ValidationFailed) as raised:
        availability.save_availability(db_session, fair.buyer, availability.AvailabilityInput(
            windows={DAY1: (str(day1[2].id), str(day1[1].id))}))
    assert raised.value.field == f"leave-{DAY1.isoformat()}"
    assert "10:55" in raised.value.message and "11:00" in raised.value.message
    every_slot = [str(s.id) for s in day1 + day2]
    with pytest.raises(ValidationFailed) as raised:
        availability.save_availability(db_session, fair.buyer, availability.AvailabilityInput(
            unavailable=every_slot))
    assert raised.value.field == "unavailable"
    # Another event's slot is not a choice.
    other = make_fair(db_session, slug="other")
    event_setup.save_day(db_session, other.event, event_setup.DayPlan(DAY1, time(10), time(11)))
    foreign = str(other.event.slots[0].id)
    with pytest.raises(ValidationFailed) as raised:
        availability.save_availability(db_session, fair.buyer, availability.AvailabilityInput(
            windows={DAY1: (foreign, str(day1[1].id))}))
    assert raised.value.field == f"arrive-{DAY1.isoformat()}"


def test_every_problem_is_named_at_once(db_session: Session, fair: Fair) -> None:
    """QA: leaving before arriving and a count that is not a number were said one after
    the other, the count only once the times were put right."""
    fair.event.default_max_meetings = 5
    day1, day2 = _slots(fair.event, DAY1), _slots(fair.event, DAY2)
    with pytest.raises(availability.AvailabilityInvalid) as raised:
        availability.save_availability(db_session, fair.buyer, availability.AvailabilityInput(
            windows={DAY1: (str(day1[2].id), str(day1[1].id)),  # leaves before it arrives
                     DAY2: ("999999", str(day2[3].id))},  # a time not on the grid
            max_meetings="５件", parallel_desks="4"))
    problems = {p.field: p.message for p in raised.value.problems}
    assert set(problems) == {f"leave-{DAY1.isoformat()}", f"arrive-{DAY2.isoformat()}",
                             "max_meetings", "parallel_desks"}
    assert "before you arrive" in problems[f"leave-{DAY1.isoformat()}"]
    assert "whole number" in problems["max_meetings"]
    assert "between 1 and 3" in problems["parallel_desks"]
    # A count over the limit is named beside a time error too; nothing was stored.
    with pytest.raises(availability.AvailabilityInvalid) as raised:
        availability.save_availability(db_session, fair.supplier, availability.AvailabilityInput(
            windows={DAY1: (str(day1[3].id), str(day1[0].id))}, max_meetings="8"))
    assert [p.field for p in raised.value.problems] == [
        f"leave-{DAY1.isoformat()}", "max_meetings"]
    assert "At most 5 meetings" in raised.value.problems[1].message
    assert fair.buyer.max_meetings is None and fair.supplier.max_meetings is None


def _close_preferences(db_session: Session, event: Event, closes: datetime) -> None:
    db_session.add(PhaseDeadline(event=event, phase=Phase.PREFERENCES, closes_at=closes))
    db_session.commit()


def test_phase_lock_at_the_deadline_edge(
    db_session: Session, fair: Fair, monkeypatch: pytest.MonkeyPatch
) -> None:
    closes = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    _close_preferences(db_session, fair.event, closes)
    data = availability.AvailabilityInput(max_meetings="3")
    availability.save_availability(db_session, fair.supplier, data,
                                   now=closes - timedelta(seconds=1))
    assert fair.supplier.max_meetings == 3
    with pytest.raises(DeadlinePassed):
        availability.save_availability(db_session, fair.supplier, data,
                                       now=closes + timedelta(seconds=1))
    with pytest.raises(DeadlinePassed, match="deadline for stating your availability"):
        availability.save_availability(db_session, fair.supplier, data, now=closes)


def test_registration_phase_says_when_it_opens(db_session: Session, fair: Fair) -> None:
    fair.event.phase = Phase.REGISTRATION
    with pytest.raises(DeadlinePassed, match="preferences phase"):
        availability.check_editable(fair.event, None)
    availability.check_editable(fair.event, 1)  # the organizer may
    fair.event.phase = Phase.PUBLISHED
    with pytest.raises(DeadlinePassed, match="published"):
        availability.check_editable(fair.event, 1)


# --------------------------------------------------------------------------- the pages


def _frozen(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Freeze the clock the phase rule reads."""
    from scheduler import preferences

    monkeypatch.setattr(preferences, "utcnow", lambda: moment)


def test_page_shows_the_window_in_the_event_zone_and_saves(
    client: FlaskClient, db_session: Session, fair: Fair
) -> None:
    day1 = _slots(fair.event, DAY1)
    body = client.get(_p(fair.buyer)).get_data(as_text=True)
    assert "10:00" in body and "11:55" in body  # Tokyo times, not UTC (01:00)
    assert "Parallel desks" in body and "still has to give you the tables" in body
    response = client.post(_p(fair.buyer), data=_form(
        fair.event, **{f"arrive-{DAY1.isoformat()}": str(day1[2].id)}, max_meetings="７"))
    assert response.status_code == 302
    db_session.expire_all()
    buyer = db_session.get(Participant, fair.buyer.id)
    assert buyer.available_from == datetime(2027, 2, 17, 2, 0, tzinfo=UTC)
    assert buyer.max_meetings == 7
    again = client.get(_p(fair.buyer)).get_data(as_text=True)
    assert f'<option value="{day1[2].id}" selected>11:00</option>' in again
    # A supplier's page has no desks; the home page links the page.
    assert "Parallel desks" not in client.get(_p(fair.supplier)).get_data(as_text=True)
    assert "/availability" in client.get(_p(fair.supplier, "/")).get_data(as_text=True)


def test_page_keeps_what_was_typed_and_names_the_error(
    client: FlaskClient, db_session: Session, fair: Fair
) -> None:
    fair.event.default_max_meetings = 4
    db_session.commit()
    day1 = _slots(fair.event, DAY1)
    response = client.post(_p(fair.supplier), data=_form(
        fair.event, max_meetings="99", off=[str(day1[1].id)],
        **{f"arrive-{DAY1.isoformat()}": str(day1[1].id)}))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "At most 4 meetings" in body
    assert 'value="99"' in body
    assert f'<option value="{day1[1].id}" selected>10:30</option>' in body
    assert f'value="{day1[1].id}" checked' in body
    assert "organizer’s limit of 4 meetings per desk" in body
    db_session.expire_all()
    assert db_session.get(Participant, fair.supplier.id).max_meetings is None

    response = client.post(_p(fair.supplier), data=_form(
        fair.event, **{f"arrive-{DAY2.isoformat()}": str(_slots(fair.event, DAY2)[3].id),
                       f"leave-{DAY2.isoformat()}": str(_slots(fair.event, DAY2)[0].id)}))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "before you arrive" in body and f"leave-{DAY2.isoformat()}-err" in body


@pytest.mark.parametrize("who", ["participant", "organizer"])
@pytest.mark.parametrize("count", ["５件", "abc"], ids=["full-width with 件", "letters"])
def test_page_shows_every_error_at_its_field_at_once(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User, who: str,
    count: str,
) -> None:
    """A leave time before the start time and a meeting count that is not a number are
    both flagged on the first submit, each at its field, with everything typed kept;
    on the participant's page and on the organizer's."""
    day1 = _slots(fair.event, DAY1)
    url = (_p(fair.supplier) if who == "participant"
           else f"/events/{fair.event.id}/participants/{fair.supplier.id}/availability")
    response = client.post(url, data=_form(
        fair.event, max_meetings=count, off=[str(_slots(fair.event, DAY2)[1].id)],
        **{f"arrive-{DAY1.isoformat()}": str(day1[3].id),
           f"leave-{DAY1.isoformat()}": str(day1[0].id)}))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    leave_error = re.search(rf'id="leave-{DAY1.isoformat()}-err"><li>([^<]*)</li>', body)
    assert leave_error and "before you arrive" in leave_error.group(1)
    count_field = re.search(r'<div class="field [^"]*has-error[^"]*">(.*?)</div>', body, re.S)
    assert count_field and 'name="max_meetings"' in count_field.group(1)
    assert "Please enter a whole number" in count_field.group(1)
    assert f'value="{count}"' in body
    assert f'<option value="{day1[3].id}" selected>11:30</option>' in body
    assert f'<option value="{day1[0].id}" selected>10:25</option>' in body
    assert f'value="{_slots(fair.event, DAY2)[1].id}" checked' in body
    db_session.expire_all()
    assert db_session.get(Participant, fair.supplier.id).max_meetings is None


@pytest.mark.parametrize(("offset", "saved"), [(-1, True), (1, False)])
def test_page_phase_lock_under_a_frozen_clock(
    client: FlaskClient, db_session: Session, fair: Fair, monkeypatch: pytest.MonkeyPatch,
    offset: int, saved: bool,
) -> None:
    closes = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    _close_preferences(db_session, fair.event, closes)
    _frozen(monkeypatch, closes + timedelta(seconds=offset))
    response = client.post(_p(fair.supplier), data=_form(fair.event, max_meetings="3"))
    assert response.status_code == (302 if saved else 403)
    db_session.expire_all()
    assert db_session.get(Participant, fair.supplier.id).max_meetings == (3 if saved else None)
    page = client.get(_p(fair.supplier)).get_data(as_text=True)
    assert ("deadline for stating your availability has passed" in page) is not saved
    assert ('name="max_meetings"' in page) is saved


def test_organizer_edits_on_behalf_audited(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User
) -> None:
    fair.event.phase = Phase.SCHEDULING  # participants are locked out; the organizer is not
    db_session.commit()
    url = f"/events/{fair.event.id}/participants/{fair.buyer.id}/availability"
    assert "Changes made here are on the participant" in client.get(url).get_data(as_text=True)
    assert client.post(_p(fair.buyer), data=_form(fair.event)).status_code == 403
    response = client.post(url, data=_form(fair.event, max_meetings="4", parallel_desks="2"))
    assert response.status_code == 302
    db_session.expire_all()
    buyer = db_session.get(Participant, fair.buyer.id)
    assert (buyer.max_meetings, buyer.parallel_desks) == (4, 2)
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "availability.change"))
    assert entry.user_id == logged_in.id and entry.participant_id == buyer.id
    assert entry.details["before"]["max_meetings"] is None
    assert entry.details["after"]["parallel_desks"] == 2
    # A participant of another event is not reachable through this event's address.
    other = make_fair(db_session, slug="elsewhere")
    db_session.commit()
    assert client.get(
        f"/events/{fair.event.id}/participants/{other.buyer.id}/availability").status_code == 404
    fair.event.phase = Phase.PUBLISHED
    db_session.commit()
    assert client.post(url, data=_form(fair.event)).status_code == 403


def test_organizer_page_needs_an_organizer(client: FlaskClient, fair: Fair) -> None:
    url = f"/events/{fair.event.id}/participants/{fair.buyer.id}/availability"
    assert client.get(url).status_code in {302, 401, 403}
    assert client.post(url, data=_form(fair.event, max_meetings="1")).status_code in {
        302, 401, 403}


def test_a_stale_change_after_the_deadline_is_refused_once(
    client: FlaskClient, db_session: Session, fair: Fair
) -> None:
    """The refusal's message, not the same notice a second time under it."""
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    url = _p(fair.supplier)
    page = client.post(url, data=_form(fair.event, max_meetings="3"),
                       headers={"Referer": f"http://localhost{url}"},
                       follow_redirects=True).get_data(as_text=True)
    assert page.count("deadline for stating your availability has passed") == 1
    assert 'class="flash flash-error"' in page
    db_session.expire_all()
    assert db_session.get(Participant, fair.supplier.id).max_meetings is None

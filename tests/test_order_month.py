"""The month of a reported order, and the orders by fiscal year (年度) that a local
government reports: orders come months after the fair, often in the next fiscal year."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import ValidationFailed
from scheduler.models import AuditEntry, Event, Meeting
from scheduler.outcomes import (
    OutcomeInput,
    OutcomeInvalid,
    fair_results,
    fiscal_year,
    parse_month,
    save_outcome,
)
from scheduler.schedule_view import event_meetings
from tests.published_fair import ReportsClock as Clock
from tests.published_fair import fair_on_the_day

# The fair is on 2027-02-17 (fiscal year 2026); the follow-up survey in June 2027.
JUNE = datetime(2027, 6, 10, 3, 0, tzinfo=UTC)



@pytest.fixture
def fair(db_session: Session) -> Event:
    return fair_on_the_day(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, JUNE)


def _meetings(session: Session, fair: Event) -> list[Meeting]:
    return sorted(event_meetings(session, fair, include_cancelled=False),
                  key=lambda m: (m.slot.starts_at, m.id))


def _order(month: str = "", amount: str = "") -> OutcomeInput:
    return OutcomeInput(took_place="yes", prospect="high", next_steps=("order",),
                        order_amount=amount, order_month=month)


@pytest.mark.parametrize(("typed", "month"), [
    ("2027-05", date(2027, 5, 1)),
    ("2027/5", date(2027, 5, 1)),
    ("２０２７年５月", date(2027, 5, 1)),
    (" 2027.11 ", date(2027, 11, 1)),
    ("", None),
])
def test_a_month_is_read_as_people_type_it(typed: str, month: date | None) -> None:
    assert parse_month(typed) == month


@pytest.mark.parametrize(
    "typed", ["2027-13", "2027-00", "May 2027", "27-05", "2027-05-10", "0000-05", "9999-01"]
)
def test_a_month_that_is_none_is_refused_by_name(typed: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_month(typed)
    assert error.value.field == "order_month" and "2027-05" in error.value.msgid


def test_the_fiscal_year_runs_from_april() -> None:
    assert [fiscal_year(date(2027, m, 1)) for m in (1, 3, 4, 12)] == [2026, 2026, 2027, 2027]


def test_an_orders_month_is_saved_shown_and_audited(db_session: Session, fair: Event) -> None:
    meeting = _meetings(db_session, fair)[0]
    saved = save_outcome(db_session, meeting.participant_a, meeting.id,
                         _order("2027年5月", "120万"), now=JUNE)
    assert saved.order_month == date(2027, 5, 1)
    assert OutcomeInput.of(saved).order_month == "2027-05"
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "outcome.report")
    ).one()
    assert entry.details["order_month"] == "2027-05"
    # A meeting that did not take place keeps no month (as it keeps no amount).
    again = save_outcome(db_session, meeting.participant_a, meeting.id,
                         OutcomeInput(took_place="no", order_month="2027-05"), now=JUNE)
    assert again.order_month is None


@pytest.mark.parametrize(("report", "message"), [
    (OutcomeInput(took_place="yes", prospect="high", next_steps=("quotation",),
                  order_month="2027-05"), "goes with an order"),
    (_order("2027-01"), "cannot be before the meeting (2027-02)"),
    (_order("2027-07"), "has not come yet"),
    (_order("2027-5-"), "e.g. 2027-05"),
])
def test_a_month_that_cannot_be_the_orders_is_refused(
    db_session: Session, fair: Event, report: OutcomeInput, message: str
) -> None:
    meeting = _meetings(db_session, fair)[0]
    with pytest.raises(OutcomeInvalid) as error:
        save_outcome(db_session, meeting.participant_a, meeting.id, report, now=JUNE)
    [problem] = error.value.problems
    assert problem.field == "order_month"
    text = problem.msgid % problem.params if problem.params else problem.msgid
    assert message in text


def test_orders_are_counted_by_the_fiscal_year_of_their_month(
    db_session: Session, fair: Event
) -> None:
    first, second, third = _meetings(db_session, fair)[:3]
    # Both sides report the same order with different months: the earlier counts.
    save_outcome(db_session, first.participant_a, first.id, _order("2027-05", "1,000,000"),
                 now=JUNE)
    save_outcome(db_session, first.participant_b, first.id, _order("2027-03"), now=JUNE)
    save_outcome(db_session, second.participant_a, second.id, _order("2027-04", "500000"),
                 now=JUNE)
    save_outcome(db_session, third.participant_b, third.id, _order(), now=JUNE)
    results = fair_results(db_session, fair, JUNE)
    by_meeting = {m.meeting.id: m for m in results.meetings}
    assert by_meeting[first.id].order_month == date(2027, 3, 1)
    assert by_meeting[first.id].order_months_differ
    assert not by_meeting[second.id].order_months_differ
    years = [(g.year, g.orders, g.order_total, g.without_amount)
             for g in results.orders_by_fiscal_year()]
    assert years == [(2026, 1, 1_000_000, 0), (2027, 1, 500_000, 0), (None, 1, 0, 1)]


def test_the_form_takes_the_month_and_keeps_a_mistake_as_typed(
    client, db_session: Session, fair: Event, clock: Clock
) -> None:
    meeting = _meetings(db_session, fair)[0]
    buyer = meeting.participant_a
    buyer.locale = "en"
    db_session.commit()
    page = client.get(f"/p/{buyer.access_token}/outcomes").get_data(as_text=True)
    field = page.split(f'name="m{meeting.id}-order_month"', 1)[1].split(">", 1)[0]
    assert 'min="2027-02"' in field and 'max="2027-06"' in field
    wrong = client.post(f"/p/{buyer.access_token}/outcomes/{meeting.id}", data={
        "took_place": "yes", "prospect": "high", "next_steps": ["order"],
        "order_month": "2027年13月",
    })
    assert wrong.status_code == 400
    body = wrong.get_data(as_text=True)
    assert "Enter the month as year and month, e.g. 2027-05." in body
    assert 'value="2027年13月"' in body
    saved = client.post(f"/p/{buyer.access_token}/outcomes/{meeting.id}", data={
        "took_place": "yes", "prospect": "high", "next_steps": ["order"],
        "order_month": "2027-04", "order_amount": "300万",
    })
    assert saved.status_code == 302
    db_session.expire_all()
    results = fair_results(db_session, fair, JUNE)
    assert [(g.year, g.orders) for g in results.orders_by_fiscal_year()] == [(2027, 1)]


def test_results_page_and_workbook_show_orders_by_fiscal_year(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    first, second = _meetings(db_session, fair)[:2]
    save_outcome(db_session, first.participant_a, first.id, _order("2027-03", "1,000,000"),
                 now=JUNE)
    save_outcome(db_session, second.participant_a, second.id, _order("2027-05"), now=JUNE)
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    table = page.split('id="orders-by-year"', 1)[1].split("</section>", 1)[0]
    assert "FY2026 (April 2026 to March 2027)" in table
    assert "FY2027 (April 2027 to March 2028)" in table
    assert "¥1,000,000" in table and "Month not given" not in table
    assert "(March 2027)" in page  # the month beside the report in the meetings' list

    book = load_workbook(io.BytesIO(client.get(f"/events/{fair.id}/outcomes.xlsx").data))
    rows = [row for row in book["Summary"].iter_rows(values_only=True) if row[0]]
    heading = rows.index(("Orders by fiscal year", "Orders", "Ordered amount (yen)",
                          "Orders without an amount"))
    assert rows[heading + 1] == ("FY2026 (April 2026 to March 2027)", 1, 1_000_000, 0)
    assert rows[heading + 2] == ("FY2027 (April 2027 to March 2028)", 1, 0, 1)
    sheet = book["Meetings"]
    headers = [c.value for c in sheet[1]]
    month_col, year_col = headers.index("Order month"), headers.index("Fiscal year")
    by_time = {row[month_col].value: row for row in sheet.iter_rows(min_row=2)
               if row[month_col].value}
    assert set(by_time) == {datetime(2027, 3, 1), datetime(2027, 5, 1)}
    assert by_time[datetime(2027, 3, 1)][year_col].value == 2026
    assert by_time[datetime(2027, 3, 1)][month_col].number_format == "yyyy-mm"

    client.post("/language", data={"lang": "ja"})
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "2026年度（2026年4月〜2027年3月）" in page and "（2027年3月）" in page

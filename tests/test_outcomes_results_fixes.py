"""The organizer's results page and workbook as a council report quotes them (QA 9):
figures rounded as Excel shows them, a printed summary without the notes and contacts,
a Meetings sheet readable on paper, Summary labels that fit, the meetings cancelled on
the day next to those scheduled, the survey's base, distinct labels, one date format."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import day_operations
from scheduler.feedback import FeedbackInput, save_feedback, survey_results, took_part
from scheduler.models import (
    Attendance,
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
    Person,
    Phase,
)
from scheduler.outcomes import OutcomeInput, fair_results, save_outcome
from scheduler.schedule_view import event_meetings
from tests.published_fair import ReportsClock as Clock
from tests.published_fair import fair_on_the_day
from web.filters import half_up, percent
from web.outcomes import _text_width

CSS = Path(__file__).resolve().parents[1] / "web" / "static" / "css" / "app.css"



@pytest.fixture
def fair(db_session: Session) -> Event:
    return fair_on_the_day(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _live(session: Session, fair: Event) -> list[Meeting]:
    return event_meetings(session, fair, include_cancelled=False)


def _after_the_fair(client, session: Session, fair: Event, clock: Clock,  # type: ignore[no-untyped-def]
                    lang: str = "en") -> datetime:
    assert client.post("/language", data={"lang": lang}).status_code == 302
    clock.now = max(s.starts_at for s in fair.slots) + timedelta(minutes=30)
    return clock.now


def _participants(session: Session, fair: Event) -> list[Participant]:
    return list(session.scalars(
        select(Participant).where(Participant.event_id == fair.id).order_by(Participant.id)
    ))


def _summary(client, fair: Event) -> tuple[object, dict[str, tuple]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/events/{fair.id}/outcomes.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = {row[0]: row[1:] for row in book.worksheets[0].iter_rows(values_only=True) if row[0]}
    return book, rows


def _stat(page: str, label: str) -> int:
    found = re.search(r'<span class="value">(\d+)</span><span class="label">'
                      + re.escape(label) + "<", page)
    assert found, label
    return int(found[1])


# --------------------------------------------------------------------------- 1. rounding


def test_rounding_is_half_up_as_excel_shows_the_cells() -> None:
    # Python's own formatting rounds the binary float to even: what the page used to say.
    assert f"{4.25:.1f}" == "4.2" and f"{62.5:.0f}" == "62"
    assert half_up(4.25, 1) == "4.3" and half_up(4.35, 1) == "4.4" and half_up(2.5) == "3"
    assert percent(0.625) == "63%" and percent(5 / 8) == "63%" and percent(23 / 40) == "58%"
    assert percent(1) == "100%" and percent(0.0) == "0%" and percent(1 / 3) == "33%"
    assert half_up(None) == "" and percent(None) == ""


def test_the_page_rounds_averages_and_percentages_as_the_workbook_shows_them(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    now = _after_the_fair(client, db_session, fair, clock)
    people = [p for p in _participants(db_session, fair) if p.status == "approved"]
    # Eight answers: five satisfied (62.5%), an average of 34 / 8 = 4.25.
    for participant, level in zip(people, (5, 5, 5, 5, 5, 3, 3, 3), strict=False):
        save_feedback(db_session, participant, FeedbackInput(str(level)), now=now)
    # Five of the eight suppliers report on a meeting: a response rate of 62.5%.
    suppliers = [p for p in people if p.role == ParticipantRole.SUPPLIER]
    assert len(suppliers) == 8
    for supplier in suppliers[:5]:
        meeting = next(m for m in _live(db_session, fair)
                       if supplier.id in (m.participant_a_id, m.participant_b_id))
        save_outcome(db_session, supplier, meeting.id,
                     OutcomeInput("yes", "some", ()), now=now)
    db_session.commit()
    survey = survey_results(db_session, fair).total
    assert survey.average == 4.25 and survey.satisfied_share == 0.625

    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    table = page.split('id="survey"', 1)[1].split("</table>", 1)[0]
    average = table.split("Average (5 = very satisfied)</th>", 1)[1].split("</tr>", 1)[0]
    assert average.endswith('<td class="num">4.3</td>') and "4.2<" not in average
    share = table.split("Satisfied (very satisfied or satisfied)</th>", 1)[1].split("</tr>")[0]
    assert share.endswith('<td class="num">63%</td>') and "62%" not in share
    sides = page.split("<h2>Reports by side</h2>", 1)[1].split("</table>", 1)[0]
    assert "5 / 8 (63%)" in sides and "(62%)" not in sides

    # The workbook holds the exact values, shown by Excel with the same rounding.
    book, summary = _summary(client, fair)
    assert summary["Average (5 = very satisfied)"][2] == 4.25
    assert summary["Satisfied (very satisfied or satisfied)"][2] == 0.625
    sheet = book["Summary"]
    row = next(r for r in sheet.iter_rows() if r[0].value == "Average (5 = very satisfied)")
    assert row[3].number_format == "0.0"


# --------------------------------------------------------------------------- 2. printing


def test_the_printed_page_is_a_summary_unless_the_full_list_is_asked_for(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    now = _after_the_fair(client, db_session, fair, clock)
    meeting = _live(db_session, fair)[0]
    note = "長いメモ" * 500  # 2,000 characters
    save_outcome(db_session, meeting.participant_a, meeting.id,
                 OutcomeInput("yes", "high", ("quotation",), note=note), now=now)
    save_feedback(db_session, meeting.participant_b, FeedbackInput("4", "", "会場が狭い"), now=now)
    db_session.commit()
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)

    # Printed by default as a summary; a visible choice of the two on the screen.
    assert '<div class="results-page" id="results-page" data-print="summary">' in page
    assert 'data-print-mode="summary">Print summary</button>' in page
    assert 'data-print-mode="full">Print the full list</button>' in page
    assert "without each meeting’s notes, the survey comments and the companies’ contacts" in page
    # What the summary leaves out: each meeting with its notes, the comments, the chase
    # list with its contacts; what it keeps: the figures, breakdowns and survey table.
    assert '<section class="card print-full" id="meetings">' in page
    assert '<section class="card print-full" id="waiting">' in page
    comments = page.split('<div class="print-full">', 1)[1]
    assert comments.index("会場が狭い") < comments.index("</table></div>\n  </div>")
    for kept in ('<div class="stats">', "Meetings by supplier’s industry", "survey-table",
                 "Participating companies"):
        body = page.split(kept, 1)[0]
        assert body.count('class="card print-full"') == 0, kept
    assert f'<div class="prewrap small"><span lang="ja">{note}</span>' in page  # in full

    css = CSS.read_text(encoding="utf-8")
    prints = "\n".join(block.split("\n}\n", 1)[0] for block in css.split("@media print {")[1:])
    assert '.results-page:not([data-print="full"]) .print-full { display: none !important; }' \
        in prints
    assert '.results-page[data-print="full"] .print-only { display: block; }' in prints
    # In the full list a 2,000-character note is cut short instead of running over pages.
    clamp = prints.split(".outcome-table td > .prewrap {", 1)[1].split("}", 1)[0]
    assert "-webkit-line-clamp: 8" in clamp and "overflow: hidden" in clamp
    assert "the Excel workbook has every note in full" in page


# --------------------------------------------------------------------------- 3, 4, 10. workbook


def test_the_meetings_sheet_prints_readably_and_summary_labels_fit(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    now = _after_the_fair(client, db_session, fair, clock)
    meeting = _live(db_session, fair)[0]
    long_note = "図面を受領し見積を作成中。" * 20
    save_outcome(db_session, meeting.participant_a, meeting.id,
                 OutcomeInput("yes", "high", ("quotation", "factory_visit"), note=long_note),
                 now=now)
    db_session.commit()
    book, _rows = _summary(client, fair)

    sheet = book["Meetings"]
    assert sheet.max_column == 22  # with the order's month and fiscal year
    widths = [sheet.column_dimensions[c[0].column_letter].width for c in sheet.iter_cols()]
    # One page wide, landscape A4, narrow margins: about 230 characters across (printed
    # at some 60%), not 375 and more (24%); the long note wraps in its column.
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$1:$1"
    assert sheet.page_margins.left == sheet.page_margins.right == 0.25
    assert sum(widths) <= 235, widths
    note = next(c for row in sheet.iter_rows(min_row=2) for c in row if c.value == long_note)
    assert note.alignment.wrap_text and note.alignment.vertical == "top"
    for header, width in zip(sheet[1], widths, strict=True):  # a long header wraps
        assert bool(header.alignment.wrap_text) == (_text_width(header.value) + 2 > width)
    assert sheet.oddFooter.center.text == "&P / &N"

    # The Summary sheet stays one page wide; its labels' column is as wide as its labels
    # (up to 60), a longer one wraps.
    summary = book["Summary"]
    assert summary.page_setup.fitToWidth == 1 and summary.sheet_properties.pageSetUpPr.fitToPage
    width_a = summary.column_dimensions["A"].width
    longest = "Meetings whose reports disagree on whether they took place (counted as held)"
    assert len(longest) == 76 and width_a == 60
    cell = next(r[0] for r in summary.iter_rows() if r[0].value == longest)
    assert cell.alignment.wrap_text
    assert summary.column_dimensions["B"].width >= 17  # a date and time is not "#####"


def test_the_japanese_workbook_sizes_its_labels_and_joins_them_with_a_colon(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    now = _after_the_fair(client, db_session, fair, clock, lang="ja")
    participant = _participants(db_session, fair)[0]
    save_feedback(db_session, participant, FeedbackInput("4", "yes"), now=now)
    db_session.commit()
    book, summary = _summary(client, fair)
    sheet = book.worksheets[0]
    labels = [r[0].value for r in sheet.iter_rows() if isinstance(r[0].value, str)]
    longest = "実施の有無について報告が食い違う商談（実施として集計）"
    assert longest in labels
    # Two columns per full-width character: 54, and room around it; never cut at 44.
    assert sheet.column_dimensions["A"].width >= 56
    assert not next(r[0] for r in sheet.iter_rows() if r[0].value == longest).alignment.wrap_text
    # Joined as the app writes a label and its value, never with a bare space.
    assert "満足度：満足" in labels and "満足度：大変満足" in labels
    assert any(label.endswith("：参加したい") for label in labels)
    assert not any(label.endswith(" 参加したい") for label in labels)
    header = [c.value for c in book.worksheets[1][1]]
    assert header[6] == "サプライヤー：業種" and not any(": " in h for h in header)
    # One date format, as the Japanese pages write it.
    assert summary["開催日"][0] == "2027/02/17"
    as_of = next(r for r in sheet.iter_rows() if r[0].value == "集計時点")
    assert as_of[1].number_format == "yyyy/mm/dd hh:mm"
    assert book.worksheets[1]["A2"].number_format == "yyyy/mm/dd hh:mm"


# --------------------------------------------------------------------------- 5. cancelled


def test_meetings_cancelled_on_the_day_are_counted_and_the_totals_add_up(
    client, logged_in, db_session: Session, fair: Event, clock: Clock, staff
) -> None:
    meetings = sorted(_live(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    total = len(meetings)
    people = {p.id: p for p in _participants(db_session, fair)}
    # A supplier does not come: staff mark it absent (the day's log), its meetings go.
    absent = people[meetings[0].participant_b_id]
    its = [m for m in meetings if absent.id in (m.participant_a_id, m.participant_b_id)]
    day_operations.set_day_status(db_session, absent, "no_show", user_id=staff.id)
    # Staff cancel another meeting on the day.
    other = next(m for m in meetings if m not in its)
    day_operations.cancel_meeting(db_session, fair, other.id, expected_version=other.version,
                                  user_id=staff.id, reason="体調不良")
    # A pair dropped before the fair by a new version of the schedule: never on it.
    dropped = next(m for m in meetings if m not in its and m is not other)
    dropped.status = MeetingStatus.CANCELLED
    db_session.commit()
    now = _after_the_fair(client, db_session, fair, clock)
    first = next(m for m in meetings if m not in its and m not in (other, dropped))
    save_outcome(db_session, first.participant_a, first.id, OutcomeInput("yes", "high", ()),
                 now=now)
    second = next(m for m in meetings if m not in its and m not in (other, dropped, first))
    save_outcome(db_session, second.participant_b, second.id, OutcomeInput("no"), now=now)
    db_session.commit()

    results = fair_results(db_session, fair, now)
    assert results.cancelled_no_show == len(its) >= 1
    assert results.cancelled_other == 1
    assert results.scheduled == total - 1  # the dropped pair was not scheduled
    assert results.planned == total - 1 - len(its) - 1
    assert results.scheduled == (results.reported_held + results.not_held + results.unreported
                                 + results.upcoming + results.cancelled_no_show
                                 + results.cancelled_other)
    assert (results.reported_held, results.not_held) == (1, 1)

    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    stats = page.split('<div class="stats">', 1)[1]
    assert _stat(stats, "Meetings scheduled (with those cancelled on the day)") == total - 1
    assert _stat(stats, "Cancelled: a company absent on the day") == len(its)
    assert _stat(stats, "Cancelled on the day for another reason") == 1
    assert _stat(stats, "Meetings planned") == results.planned
    assert "Meetings cancelled before the fair (a new version of the schedule, a withdrawal)" \
        " are not counted." in page

    _book, summary = _summary(client, fair)
    assert summary["Meetings scheduled (with those cancelled on the day)"][0] == total - 1
    assert summary["Cancelled: a company absent on the day"][0] == len(its)
    assert summary["Cancelled on the day for another reason"][0] == 1
    assert summary["Meetings planned"][0] == results.planned
    assert summary["Meetings scheduled (with those cancelled on the day)"][0] == sum(
        summary[label][0] for label in (
            "Cancelled: a company absent on the day", "Cancelled on the day for another reason",
            "Reported as held", "Reported as not held", "Meetings not reported yet"))


def test_an_undone_no_show_cancels_nothing_and_a_mark_without_its_log_still_counts(
    db_session: Session, fair: Event, staff
) -> None:
    meetings = sorted(_live(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    people = {p.id: p for p in _participants(db_session, fair)}
    undone = people[meetings[0].participant_b_id]
    day_operations.set_day_status(db_session, undone, "no_show", user_id=staff.id)
    day_operations.undo_last(db_session, fair, user_id=staff.id)
    assert undone.day_status != DayStatus.NO_SHOW
    # Marked absent without the day's pages (as the past demo fair is built): its
    # cancelled meetings count as cancelled for its absence.
    unlogged = next(p for p in people.values()
                    if p.role == ParticipantRole.SUPPLIER and p.id != undone.id)
    unlogged.day_status = DayStatus.NO_SHOW
    its = [m for m in meetings if unlogged.id in (m.participant_a_id, m.participant_b_id)]
    for m in its:
        m.status = MeetingStatus.CANCELLED
    db_session.flush()
    after = max(m.slot.starts_at for m in meetings) + timedelta(hours=1)
    results = fair_results(db_session, fair, after)
    assert (results.cancelled_no_show, results.cancelled_other) == (len(its), 0)
    assert results.scheduled == len(meetings)


# --------------------------------------------------------------------------- 6. survey base


def test_the_survey_is_asked_of_the_companies_that_took_part(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    suppliers = [p for p in _participants(db_session, fair) if p.role == ParticipantRole.SUPPLIER]
    meetings = _live(db_session, fair)
    # Two suppliers end up with no meeting at all (dropped before the fair): one never
    # came, the other checked in all the same (it came to the fair).
    unmet, came = suppliers[-1], suppliers[-2]
    for m in meetings:
        if {m.participant_a_id, m.participant_b_id} & {unmet.id, came.id}:
            m.status = MeetingStatus.CANCELLED
    person = Person(name="受付 花子", organization=came.organization)
    db_session.add(Attendance(participant=came, person=person,
                              checked_in_at=datetime.now(UTC)))
    db_session.commit()
    assert unmet.id not in took_part(db_session, fair) and came.id in took_part(db_session, fair)
    results = survey_results(db_session, fair)
    assert results.sides["supplier"].asked == len(suppliers) - 1
    # A company that answered is in the base, whatever it did.
    now = _after_the_fair(client, db_session, fair, clock)
    save_feedback(db_session, unmet, FeedbackInput("3"), now=now)
    db_session.commit()
    assert survey_results(db_session, fair).sides["supplier"].asked == len(suppliers)

    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    assert "Asked: the companies that took part (checked in, or had a meeting that was not " \
        "cancelled; not absent from the fair), and any other that answered." in page
    _book, summary = _summary(client, fair)
    assert summary["Asked (companies that took part: checked in or had a meeting)"][1] == len(
        suppliers)
    assert "Asked (approved, not absent)" not in summary


# --------------------------------------------------------------------------- 7, 8, 9. labels


def test_the_survey_rows_have_distinct_labels(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    now = _after_the_fair(client, db_session, fair, clock)
    save_feedback(db_session, _participants(db_session, fair)[0], FeedbackInput("4"), now=now)
    db_session.commit()
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    table = page.split('id="survey"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th>', table)
    assert len(rows) == len(set(rows)), rows
    assert "Satisfied (very satisfied or satisfied)" in rows and "Satisfied" in rows
    share = table.split("Satisfied (very satisfied or satisfied)</th>", 1)[1].split("</tr>")[0]
    level = table.split('<th scope="row">Satisfied</th>', 1)[1].split("</tr>")[0]
    assert "100%" in share and "%" not in level


def test_labels_of_the_heading_keep_whole_on_a_phone() -> None:
    css = CSS.read_text(encoding="utf-8")
    rule = css.split(".results-meta dt {", 1)[1].split("}", 1)[0]
    assert "flex: none" in rule and "white-space: nowrap" in rule
    value = css.split(".results-meta dd {", 1)[1].split("}", 1)[0]
    assert "min-width: 0" in value and "overflow-wrap: anywhere" in value


def test_the_page_writes_its_dates_in_one_format_per_language(
    client, logged_in, db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 3, 5, tzinfo=UTC)  # 12:05 in Tokyo
    assert client.post("/language", data={"lang": "ja"}).status_code == 302
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    meta = page.split('<dl class="results-meta">', 1)[1].split("</dl>", 1)[0]
    assert '<time datetime="2027-02-17">2027/02/17</time>' in meta
    assert "2027/03/01 12:05" in meta
    assert re.sub(r'datetime="[^"]*"', "", meta).count("-") == 0  # no ISO date beside them
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    meta = page.split('<dl class="results-meta">', 1)[1].split("</dl>", 1)[0]
    assert ">Feb 17, 2027</time>" in meta and "Mar 1, 2027 12:05" in meta


def test_a_pair_cancelled_for_an_absence_and_added_back_is_counted_once(
    db_session: Session, fair: Event, staff
) -> None:
    """Review: a company marked absent that came after all, its meeting added back by
    staff, counted both as cancelled for its absence and as planned (scheduled 21 of 20)."""
    from datetime import timedelta

    from scheduler import day_operations
    from scheduler.models import Table
    from scheduler.outcomes import cancelled_on_the_day, fair_results

    meetings = sorted(_live(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    total = len(meetings)
    tables = list(db_session.scalars(select(Table).where(Table.event_id == fair.id)))

    def free(a, b, after):  # type: ignore[no-untyped-def]
        live = _live(db_session, fair)
        busy = {(m.slot_id, p) for m in live for p in (m.participant_a_id, m.participant_b_id)}
        used = {(m.slot_id, m.table_id) for m in live}
        for s in sorted(fair.slots, key=lambda s: s.starts_at):
            if s.starts_at > after and (s.id, a.id) not in busy and (s.id, b.id) not in busy \
                    and a.is_available(s) and b.is_available(s):
                for t in tables:
                    if (s.id, t.id) not in used:
                        return s
        return None

    first = next(m for m in meetings if free(m.participant_a, m.participant_b, m.slot.starts_at))
    a, b = first.participant_a, first.participant_b
    day_operations.set_day_status(db_session, b, "no_show", user_id=staff.id)
    db_session.commit()
    b.day_status = "checked_in"  # it turns up after all
    db_session.commit()
    slot = free(a, b, first.slot.starts_at)
    added = None
    for table_id in (first.table_id, *(t.id for t in tables)):
        try:
            added = day_operations.add_meeting(
                db_session, fair, a_id=a.id, b_id=b.id, slot_id=slot.id, table_id=table_id,
                user_id=staff.id,
            )
            break
        except day_operations.ChangeRefused:
            db_session.rollback()
    assert added is not None
    db_session.commit()
    results = fair_results(
        db_session, fair, max(s.starts_at for s in fair.slots) + timedelta(hours=1)
    )
    assert first.id not in cancelled_on_the_day(db_session, fair)
    assert results.scheduled == results.cancelled + results.planned
    assert results.scheduled <= total


def test_a_company_that_came_but_lost_every_meeting_is_asked_and_reminded(
    app, db_session: Session, fair: Event
) -> None:
    """Review: such a company lowered the response rate (it is asked) but no reminder
    ever reached it."""
    from datetime import UTC, datetime, timedelta

    from scheduler.feedback import took_part
    from scheduler.models import Attendance, MeetingStatus, ParticipantRole, Person
    from scheduler.outcomes import fair_results
    from web.outcomes import reminder_targets

    suppliers = [p for p in _participants(db_session, fair) if p.role == ParticipantRole.SUPPLIER]
    came = suppliers[-2]
    for meeting in _live(db_session, fair):
        if came.id in (meeting.participant_a_id, meeting.participant_b_id):
            meeting.status = MeetingStatus.CANCELLED
    db_session.add(Attendance(
        participant=came, person=Person(name="来場 太郎", organization=came.organization),
        checked_in_at=datetime.now(UTC),
    ))
    db_session.commit()
    after = max(s.starts_at for s in fair.slots) + timedelta(hours=1)
    with app.test_request_context():
        targets = reminder_targets(db_session, fair, fair_results(db_session, fair, after))
    assert came.id in took_part(db_session, fair)
    target = next(t for t in targets if t.participant.id == came.id)
    assert target.needs.survey and not target.needs.unreported


def test_the_survey_reminder_waits_until_a_companys_meetings_are_behind_it(
    app, db_session: Session, fair: Event
) -> None:
    """Review: on a fair of two days, a survey reminder after day 1 asked companies with
    meetings on day 2 to judge the fair already (their portal does not ask them yet)."""
    from scheduler.models import Attendance, Person
    from web.outcomes import reminder_targets

    meetings = sorted(_live(db_session, fair), key=lambda m: m.slot.starts_at)
    first = meetings[0]
    company = first.participant_a
    mine = [m for m in meetings if company.id in (m.participant_a_id, m.participant_b_id)]
    assert len(mine) >= 2 and mine[-1].slot.starts_at > first.slot.starts_at
    between = mine[0].slot.ends_at  # its first meeting behind it, the others to come
    save_outcome(db_session, company, first.id, OutcomeInput("yes", "some"), now=between)
    db_session.add(Attendance(participant=company, checked_in_at=between,
                              person=Person(name="来場 花子", organization=company.organization)))
    db_session.commit()

    def needs(now: datetime):  # type: ignore[no-untyped-def]
        with app.test_request_context():
            targets = reminder_targets(db_session, fair, fair_results(db_session, fair, now))
        return next((t.needs for t in targets if t.participant.id == company.id), None)

    assert needs(between) is None  # reported all it can; the survey comes later
    after = mine[-1].slot.starts_at + timedelta(minutes=1)
    later = needs(after)
    assert later is not None and later.survey and later.unreported == len(mine) - 1
    fair.phase = Phase.CLOSED  # the organizer closed the fair: asked whatever is left
    db_session.commit()
    assert needs(between).survey

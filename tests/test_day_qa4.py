"""QA 4 on the day of the fair: a tablet in Japanese.

A status that cancels nothing, the cancelled badge, a leave announced in the morning,
the times in the log, a meeting added twice, the re-optimisation's navigation, what
the code box says, and tap targets on a tablet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board, repair
from scheduler import day_operations as ops
from scheduler.models import DayStatus, Event, Meeting, MeetingStatus, User
from tests.conftest import AuthActions
from tests.day_fair import Clock, local, meeting, participant, slot, table
from tests.day_fair import day_path as _day
from tests.day_fair import flashes as _flashes
from tests.day_fair import page_text as _text
from tests.published_fair import published_fair
from tests.repair_fair import scheduled_fair

CSS = (Path(__file__).resolve().parents[1] / "web" / "static" / "css" / "app.css").read_text()


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(monkeypatch, repair, board)
    monkeypatch.setattr("web.staff.utcnow", lambda: clock.now)
    return clock


def _rules(selector_part: str) -> list[str]:
    """The CSS rules (selector and declarations) whose selector names ``selector_part``."""
    return [
        f"{sel.strip()} {{{body}}}"
        for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS)
        if selector_part in sel
    ]


# --------------------------------------------------------------------------- 1 nothing cancelled


@pytest.mark.parametrize(("status", "at"), [("late", "10:00"), ("left_early", "16:00")])
def test_a_status_that_cancels_nothing_says_nothing_about_cancelling(
    client: FlaskClient,
    db_session: Session,
    fair: Event,
    as_staff: User,
    clock: Clock,
    status: str,
    at: str,
) -> None:
    s006 = participant(db_session, fair, "S006")  # 13:00 and 13:30
    page = _text(
        client.post(
            _day(fair, f"/participants/{s006.id}/status"),
            data={"status": status, "at": at},
            follow_redirects=True,
        )
    )
    message = _flashes(page)
    label = "Late" if status == "late" else "Left early"
    assert f"{s006.display_name}: {label}." in message
    assert "cancelled" not in message and " 0 " not in message


def test_a_status_that_cancels_meetings_still_counts_them(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    s006 = participant(db_session, fair, "S006")
    page = _text(
        client.post(
            _day(fair, f"/participants/{s006.id}/status"),
            data={"status": "left_early", "at": "12:00"},
            follow_redirects=True,
        )
    )
    assert "Left early. 2 meetings cancelled." in _flashes(page)


# --------------------------------------------------------------------------- 3 cancelled badge


def test_a_cancelled_row_is_struck_through_but_not_its_badge() -> None:
    # The link is a flex box: a line through it would reach the badge, a flex item.
    whole = [r for r in _rules(".day-meeting.status-cancelled a") if "line-through" in r]
    assert whole, "the cancelled row is struck through"
    for rule in whole:
        selector = rule.split("{")[0]
        assert ":not(.badge)" in selector, rule


# --------------------------------------------------------------------------- 4 leave announced


def test_a_leave_announced_in_the_morning_offers_no_came_back(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    s006 = participant(db_session, fair, "S006")
    client.post(
        _day(fair, f"/participants/{s006.id}/status"),
        data={"status": "left_early", "at": "14:00"},
    )
    card = _text(client.get(_day(fair, f"/participants/{s006.id}")))
    assert 'data-test="left-early"' in card and "Marked as leaving at 14:00" in card
    assert 'data-test="came-back"' not in card and "If it has come back" not in card
    clock.set(14, 10)  # it has gone now: it may come back
    card = _text(client.get(_day(fair, f"/participants/{s006.id}")))
    assert 'data-test="came-back"' in card


def test_checking_in_before_an_announced_leave_keeps_the_leaving_time(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    s006 = participant(db_session, fair, "S006")
    ops.set_day_status(db_session, s006, "left_early", at=local(14, 0), user_id=staff.id)
    clock.set(9, 30)  # it arrives
    result = ops.check_in(db_session, s006, user_id=staff.id)
    assert s006.day_status == DayStatus.CHECKED_IN
    assert s006.available_until == local(14, 0)
    assert "reopened_until" not in result.entry.details
    assert not s006.is_available(slot(db_session, fair, "14:30"))


# --------------------------------------------------------------------------- 5 times in the log


def test_the_log_shows_the_time_of_a_late_arrival_and_an_early_leave(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    s003, s006 = participant(db_session, fair, "S003"), participant(db_session, fair, "S006")
    client.post(
        _day(fair, f"/participants/{s003.id}/status"), data={"status": "late", "at": "10:40"}
    )
    client.post(
        _day(fair, f"/participants/{s006.id}/status"),
        data={"status": "left_early", "at": "14:00"},
    )
    clock.set(9, 5)
    card = _text(client.get(_day(fair, f"/participants/{s003.id}")))
    seen = re.search(r'name="seen" value="([^"]*)"', card).group(1)
    client.post(  # a corrected time changes no status: the log still says it
        _day(fair, f"/participants/{s003.id}/status"),
        data={"status": "late", "at": "10:50", "seen": seen},
    )
    log = re.sub(r"<[^>]+>", "", _text(client.get(_day(fair, "/log"))))
    log = re.sub(r"\s+", " ", log)
    assert "Expected → Late 10:40" in log
    assert "Expected → Left early 14:00" in log
    assert f"S003 {s003.organization.name}: Late 10:50" in log


# --------------------------------------------------------------------------- 6 added twice


def test_adding_a_meeting_that_is_already_there_says_so_once(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    data = {
        "op": "add",
        "a": item.participant_a_id,
        "b": item.participant_b_id,
        "slot": item.slot_id,
        "table": item.table_id,
    }
    for confirm in ("", "1"):  # the confirmation page, and its form sent again
        page = _text(
            client.post(
                _day(fair, "/meetings/change"),
                data={**data, "confirm": confirm},
                follow_redirects=True,
            )
        )
        shown = _flashes(page) if confirm else page
        assert shown.count("This meeting is already in the schedule") == 1
        assert "10:00, table A03." in shown
        for derived in ("already has a meeting", "is taken at", "already meet at"):
            assert derived not in shown
    # Another slot for a pair that meets: that is still "already meet".
    preview = ops.preview_add(
        db_session,
        fair,
        a_id=item.participant_a_id,
        b_id=item.participant_b_id,
        slot_id=slot(db_session, fair, "16:00").id,
        table_id=table(db_session, fair, "A05").id,
    )
    msgids = [p.msgid for p in preview.problems]
    assert "%(pair)s already meet at %(when)s." in msgids
    assert not any("already in the schedule" in m for m in msgids)


# --------------------------------------------------------------------------- 7 repair nav


def test_the_re_optimisation_pages_have_the_day_navigation(
    client: FlaskClient,
    auth: AuthActions,
    staff: User,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = scheduled_fair(db_session, slug="repair-nav")
    clock = Clock(monkeypatch, repair, board)
    clock.set(11, 30)
    item = next(
        m
        for m in db_session.scalars(
            select(Meeting).where(
                Meeting.event_id == event.id, Meeting.status == MeetingStatus.PLANNED
            )
        )
        if m.slot.starts_at > clock.now
    )
    ops.cancel_meeting(db_session, event, item.id, expected_version=0, user_id=staff.id)
    run = repair.prepare_repair(db_session, event, workers=1)
    db_session.commit()
    auth.login(staff.email)
    for path in ("/repair", f"/repair/{run.id}"):
        page = _text(client.get(_day(event, path)))
        nav = page.split('<nav class="daynav"')[1].split("</nav>")[0]
        current = re.search(r'<a href="([^"]*)" aria-current="page"', nav)
        assert current is not None and current.group(1) == _day(event, "/repair")
        assert 'data-test="undo"' in page  # the undo bar of every day page
        assert '<body class="day-console">' in page


# --------------------------------------------------------------------------- 8 the code box


def test_a_name_typed_in_the_code_box_points_to_the_results(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    name = participant(db_session, fair, "S002").organization.name
    page = _text(client.post(_day(fair, "/scan"), data={"code": name}, follow_redirects=True))
    assert "No participant has the code" not in page
    assert "is not a code: the companies found by that name are listed below" in page
    assert "S002" in page.split('class="day-results"')[1]


def test_what_the_code_box_says_fits_what_was_typed(
    client: FlaskClient, fair: Event, as_staff: User
) -> None:
    def said(code: str, **extra: str) -> str:
        return _flashes(
            _text(
                client.post(
                    _day(fair, "/scan"), data={"code": code, **extra}, follow_redirects=True
                )
            )
        )

    assert "No participant has the code “Z999”." in said("Z999")
    assert "No participant has the code or name “存在しない会社”." in said("存在しない会社")
    long = said("x" * 45)
    assert "QR" not in long and "x" * 45 not in long
    assert "not a participant&#39;s code" in long
    assert "This QR code is not a schedule link" in said("x" * 45, scanned="1")
    assert "This QR code is not a schedule link" in said("https://example.jp/s/abc")


# --------------------------------------------------------------------------- 9 tap targets


@pytest.mark.parametrize(
    "selector",
    [
        ".day-console .btn.small",
        ".day-console .breadcrumb a",
        ".day-console .gap-row a:not(.btn)",
        ".day-console .current-meeting a",
    ],
)
def test_the_day_pages_tap_targets_are_44_px_on_a_tablet(selector: str) -> None:
    # Outside the phones' media query: a tablet is wider than 640 px.
    outside = CSS.split("@media (max-width: 640px) {\n  .btn, button.btn")[0]
    rules = [
        f"{sel.strip()} {{{body}}}"
        for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", outside)
        if selector in [s.strip() for s in sel.split(",")]
    ]
    heights = [int(h) for r in rules for h in re.findall(r"min-height:\s*(\d+)px", r)]
    assert heights and max(heights) >= 44, selector


def test_the_card_after_a_change_uses_those_classes(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    done = client.post(
        _day(fair, f"/participants/{s001.id}/status"), data={"status": "no_show"}
    )
    card = _text(client.get(done.headers["Location"]))
    assert '<body class="day-console">' in card
    assert 'class="gap-row"' in card and 'class="btn small"' in card
    assert '<p class="breadcrumb">' in card


@pytest.mark.parametrize("status", ["pending", "rejected", "withdrawn"])
def test_a_company_not_taking_part_has_no_card_and_cannot_be_checked_in(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, status: str
) -> None:
    """QA (security): reception's search hid a declined or pending registration, but its
    card opened by address, and 受付する checked it in."""
    company = participant(db_session, fair, "S003")
    company.status = status
    db_session.commit()
    assert client.get(_day(fair, f"/participants/{company.id}")).status_code == 404
    checked = client.post(_day(fair, f"/participants/{company.id}/check-in"),
                          data={"version": "0"})
    assert checked.status_code == 404
    db_session.expire_all()
    assert company.day_status != "checked_in"

"""Reports on what came of the meetings, and the fair's results built from them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import outcomes
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
)
from scheduler.outcomes import OutcomeInput, fair_results, parse_yen, save_outcome
from tests.published_fair import published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def _meetings(session: Session, event: Event) -> list[Meeting]:
    from scheduler.schedule_view import event_meetings

    return event_meetings(session, event, include_cancelled=False)


def _after(meeting: Meeting, minutes: int = 1):  # type: ignore[no-untyped-def]
    return meeting.slot.starts_at + timedelta(minutes=minutes)


GOOD = OutcomeInput(took_place="yes", prospect="high", next_steps=("quotation",), note="図面を送付")


def test_only_meetings_that_have_started_can_be_reported(db_session: Session, fair: Event) -> None:
    meetings = _meetings(db_session, fair)
    first = min(meetings, key=lambda m: m.slot.starts_at)
    buyer = first.participant_a
    mine = [m for m in meetings if buyer.id in (m.participant_a_id, m.participant_b_id)]
    assert len(mine) >= 2
    now = _after(first)
    items = outcomes.reportable_meetings(db_session, buyer, now)
    assert [i.meeting.id for i in items] == [m.id for m in mine if m.slot.starts_at <= now]
    assert all(i.counterpart.id != buyer.id and i.outcome is None for i in items)
    assert outcomes.upcoming_count(db_session, buyer, now) == len(mine) - len(items)
    later = max(mine, key=lambda m: m.slot.starts_at)
    with pytest.raises(ValidationFailed, match="has not started yet"):
        save_outcome(db_session, buyer, later.id, GOOD, now=now)
    # A cancelled meeting is not listed and takes no report.
    first.status = MeetingStatus.CANCELLED
    db_session.flush()
    listed = outcomes.reportable_meetings(db_session, buyer, now)
    assert first.id not in [i.meeting.id for i in listed]
    with pytest.raises(ValidationFailed, match="cancelled"):
        save_outcome(db_session, buyer, first.id, GOOD, now=now)


def test_a_report_is_saved_updated_and_audited(db_session: Session, fair: Event) -> None:
    meeting = _meetings(db_session, fair)[0]
    supplier = meeting.participant_b
    now = _after(meeting, 30)
    saved = save_outcome(db_session, supplier, meeting.id, GOOD, now=now)
    assert (saved.took_place, saved.prospect, saved.next_steps, saved.note) == (
        True, "high", ["quotation"], "図面を送付"
    )
    update = OutcomeInput(took_place="yes", prospect="high",
                          next_steps=("order", "factory_visit", "quotation"),
                          order_amount="１２０万円")
    again = save_outcome(db_session, supplier, meeting.id, update, now=now, user_id=None)
    assert again.id == saved.id
    assert again.next_steps == ["factory_visit", "quotation", "order"]  # in the list's order
    assert again.order_amount == 1_200_000 and again.note == ""
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "outcome.report")
    ).all()
    assert len(entries) == 2 and entries[-1].details["order_amount"] == 1_200_000
    assert OutcomeInput.of(again).order_amount == "1,200,000"


def test_another_participants_meeting_is_not_found(db_session: Session, fair: Event) -> None:
    meeting = _meetings(db_session, fair)[0]
    outsider = db_session.scalars(
        select(Participant).where(
            Participant.event_id == fair.id,
            Participant.id.not_in([meeting.participant_a_id, meeting.participant_b_id]),
        )
    ).first()
    with pytest.raises(NotFound):
        save_outcome(db_session, outsider, meeting.id, GOOD, now=_after(meeting))
    with pytest.raises(NotFound):
        save_outcome(db_session, outsider, 999_999, GOOD, now=_after(meeting))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (OutcomeInput(took_place=""), "took_place"),
        (OutcomeInput(took_place="yes"), "prospect"),
        (OutcomeInput(took_place="yes", prospect="great"), "prospect"),
        (OutcomeInput(took_place="yes", prospect="some", next_steps=("lunch",)), "next_steps"),
        (OutcomeInput(took_place="yes", prospect="some", order_amount="500000"), "order_amount"),
        (OutcomeInput(took_place="yes", prospect="some", next_steps=("order",),
                      order_amount="5 million"), "order_amount"),
        (OutcomeInput(took_place="yes", prospect="some", note="あ" * 2001), "note"),
    ],
    ids=["took-place-missing", "prospect-missing", "prospect-unknown", "step-unknown",
         "amount-without-order", "amount-not-a-number", "note-too-long"],
)
def test_a_bad_report_names_the_field_and_writes_nothing(
    db_session: Session, fair: Event, data: OutcomeInput, field: str
) -> None:
    meeting = _meetings(db_session, fair)[0]
    with pytest.raises(ValidationFailed) as raised:
        save_outcome(db_session, meeting.participant_a, meeting.id, data, now=_after(meeting))
    assert raised.value.field == field
    assert outcomes.reportable_meetings(
        db_session, meeting.participant_a, _after(meeting)
    )[0].outcome is None


def test_every_problem_of_a_report_is_named_at_once(db_session: Session, fair: Event) -> None:
    meeting = _meetings(db_session, fair)[0]
    bad = OutcomeInput(took_place="yes", prospect="", next_steps=("quotation",),
                       order_amount="1.5万", note="x" * 2001)
    with pytest.raises(outcomes.OutcomeInvalid) as raised:
        save_outcome(db_session, meeting.participant_a, meeting.id, bad, now=_after(meeting))
    assert [p.field for p in raised.value.problems] == ["note", "prospect", "order_amount"]
    assert raised.value.field == "note"  # read as one error, it is the first


def test_a_meeting_that_did_not_take_place_keeps_only_the_note(
    db_session: Session, fair: Event
) -> None:
    meeting = _meetings(db_session, fair)[0]
    save_outcome(db_session, meeting.participant_a, meeting.id, GOOD, now=_after(meeting))
    # Changed to "did not take place": the radio buttons still send the old prospect (a
    # radio cannot be unticked), and the steps and amount are left as they were typed.
    changed = OutcomeInput(took_place="no", prospect="high", next_steps=("order",),
                           order_amount="not a number", note="先方が来場せず")
    saved = save_outcome(db_session, meeting.participant_a, meeting.id, changed,
                         now=_after(meeting))
    assert (saved.took_place, saved.prospect, saved.next_steps, saved.order_amount) == (
        False, None, [], None
    )
    assert saved.note == "先方が来場せず"


def test_a_note_counts_a_line_break_as_one_character(db_session: Session, fair: Event) -> None:
    """Browsers send line breaks as CRLF: a note of 2000 characters with line breaks fits."""
    meeting = _meetings(db_session, fair)[0]
    lines = "\r\n".join(["見積"] * 667)  # 1334 + 666 = 2000 characters as typed
    saved = save_outcome(db_session, meeting.participant_a, meeting.id,
                         OutcomeInput(took_place="no", note=lines), now=_after(meeting))
    assert saved.note == "\n".join(["見積"] * 667) and "\r" not in saved.note


@pytest.mark.parametrize(
    ("typed", "yen"),
    [("1,200,000", 1_200_000), ("１２０万", 1_200_000), ("¥50万円", 500_000),
     ("￥３，０００", 3000), ("1.5億", 150_000_000), ("12.5万", 125_000), ("", None),
     ("  ", None), ("1,000万", 10_000_000),
     # Japanese units together, and 千円 as business questionnaires ask for amounts.
     ("1億2000万", 120_000_000), ("１億２，０００万円", 120_000_000), ("1200千円", 1_200_000),
     ("3万5000", 35_000), ("5千万円", 50_000_000), ("1億5千万", 150_000_000),
     ("1万2千", 12_000)],
)
def test_amounts_are_read_as_people_write_them(typed: str, yen: int | None) -> None:
    assert parse_yen(typed) == yen


@pytest.mark.parametrize(
    "typed",
    # "1,2000,000" is a typo: read without its commas it was ten times the order.
    ["-5", "1.5", "abc", "10000000000000", "5 million", "1" * 5000, "١٢٣", "1,2000,000", "12,00",
     # A smaller part must fit under the larger unit, and a decimal goes with one unit only.
     "1億20000万", "1.5億2000万", "1万20千", "1千5000", "億", "万円", "約120万", "1億20千万"],
)
def test_unreadable_amounts_are_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_yen(typed)
    assert refused.value.field == "order_amount"
    assert refused.value.msgid in ("Enter an amount in yen, such as 1,200,000 or 1.2M.",
                                   "This amount is too large.")


def test_results_count_each_meeting_once_and_list_who_has_not_reported(
    db_session: Session, fair: Event
) -> None:
    meetings = sorted(_meetings(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    one, two, three = meetings[:3]
    # Half-way through the day: the first meetings' companies have more behind them.
    now = meetings[len(meetings) // 2].slot.starts_at + timedelta(minutes=1)
    assert now < meetings[-1].slot.starts_at

    def report(meeting: Meeting, side: Participant, data: OutcomeInput) -> None:
        save_outcome(db_session, side, meeting.id, data, now=now)

    # Both sides report the same order on meeting one: it counts once, at the larger amount.
    report(one, one.participant_a, OutcomeInput("yes", "high", ("quotation", "order"), "100万"))
    report(one, one.participant_b, OutcomeInput("yes", "high", ("order", "factory_visit"),
                                                "1,000,000"))
    # Meeting two: one side says it did not take place.
    report(two, two.participant_b, OutcomeInput("no", note="不参加"))
    # Meeting three: one side, no next step.
    report(three, three.participant_a, OutcomeInput("yes", "none"))

    results = fair_results(db_session, fair, now)
    begun = [m for m in meetings if m.slot.starts_at <= now]
    assert results.started == len(begun)
    assert results.upcoming == len(meetings) - len(begun)
    assert results.not_held == 1 and results.reported_held == 2
    assert results.with_report == 3 and results.unreported == len(begun) - 3
    assert results.with_any_step == 1
    assert results.step_counts == {"further_talks": 0, "factory_visit": 1, "quotation": 1,
                                   "test_order": 0, "order": 1}
    assert results.order_total == 1_000_000
    by_meeting = {r.meeting.id: r for r in results.meetings}
    assert by_meeting[one.id].buyer.role == ParticipantRole.BUYER
    assert by_meeting[one.id].supplier.role == ParticipantRole.SUPPLIER
    # Prospects are counted per report, by the reporting side.
    prospects = results.buyers.prospects + results.suppliers.prospects
    assert prospects == {"high": 2, "none": 1}
    reporters = {one.participant_a_id, one.participant_b_id, two.participant_b_id,
                 three.participant_a_id}
    with_meetings = {p for m in begun for p in (m.participant_a_id, m.participant_b_id)}
    assert results.buyers.participants + results.suppliers.participants == len(with_meetings)
    assert results.buyers.reported + results.suppliers.reported == len(reporters)
    # Everyone with a started meeting it has not reported on is listed, with how many
    # it has reported: one that reported on one meeting of several is still chased.
    reported_pairs = {(one.id, one.participant_a_id), (one.id, one.participant_b_id),
                      (two.id, two.participant_b_id), (three.id, three.participant_a_id)}
    open_of = {
        p: sum(1 for m in begun if p in (m.participant_a_id, m.participant_b_id)
               and (m.id, p) not in reported_pairs)
        for p in with_meetings
    }
    assert {w.participant.id for w in results.waiting} == {p for p, n in open_of.items() if n}
    assert all(w.started - w.reported == open_of[w.participant.id] for w in results.waiting)
    assert any(w.reported for w in results.waiting)  # partial reporters are chased too
    # Buyers are listed first.
    roles = [w.participant.role for w in results.waiting]
    assert roles == sorted(roles, key=lambda r: r != ParticipantRole.BUYER)


def test_a_meeting_cancelled_after_its_report_and_split_answers(
    db_session: Session, fair: Event
) -> None:
    meetings = sorted(_meetings(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    one, two = meetings[:2]
    now = max(one.slot.starts_at, two.slot.starts_at) + timedelta(minutes=1)
    save_outcome(db_session, one.participant_a, one.id,
                 OutcomeInput("yes", "high", ("order",), "50万"), now=now)
    # One side says it took place (with a visit), the other that it did not: it counts
    # as held, with the visit.
    save_outcome(db_session, two.participant_a, two.id,
                 OutcomeInput("yes", "some", ("factory_visit",)), now=now)
    save_outcome(db_session, two.participant_b, two.id, OutcomeInput("no"), now=now)
    one.status = MeetingStatus.CANCELLED  # moved off the schedule after the report
    db_session.flush()
    results = fair_results(db_session, fair, now)
    assert one.id not in {r.meeting.id for r in results.meetings}
    assert results.order_total == 0 and results.step_counts["order"] == 0
    assert results.not_held == 0 and results.step_counts["factory_visit"] == 1


def test_before_publication_there_is_nothing_to_report(db_session: Session, fair: Event) -> None:
    meeting = _meetings(db_session, fair)[0]
    fair.published_at = None
    db_session.flush()
    assert outcomes.reportable_meetings(db_session, meeting.participant_a, _after(meeting)) == []
    assert fair_results(db_session, fair, _after(meeting)).started == 0
    with pytest.raises(NotFound):
        save_outcome(db_session, meeting.participant_a, meeting.id, GOOD, now=_after(meeting))


def test_a_report_on_a_meeting_moved_since_no_longer_counts(
    db_session: Session, fair: Event
) -> None:
    """A supplier arrives late; the buyer reports 'did not take place' at 10:05 and staff
    then move the meeting to a free later slot, where it happens."""
    meeting = sorted(_meetings(db_session, fair), key=lambda m: m.slot.starts_at)[0]
    buyer = meeting.participant_a
    save_outcome(db_session, buyer, meeting.id, OutcomeInput("no"), now=_after(meeting, 5))
    later = max(fair.slots, key=lambda s: s.starts_at)
    meeting.slot_id = later.id
    db_session.flush()
    db_session.expire(meeting)
    now = later.starts_at + timedelta(minutes=30)
    item = next(i for i in outcomes.reportable_meetings(db_session, buyer, now)
                if i.meeting.id == meeting.id)
    assert item.outcome is None and item.earlier is not None
    assert fair_results(db_session, fair, now).not_held == 0
    again = save_outcome(db_session, buyer, meeting.id, GOOD, now=now)
    assert again.slot_id == later.id and again.is_current(meeting)
    assert fair_results(db_session, fair, now).step_counts["quotation"] == 1


def test_results_flag_differing_amounts_count_orders_without_one_and_companies_by_what_they_did(
    db_session: Session, fair: Event
) -> None:
    from scheduler.models import DayStatus, ParticipantStatus

    meetings = sorted(_meetings(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    one, two, three = meetings[:3]
    now = meetings[len(meetings) // 2].slot.starts_at + timedelta(minutes=1)
    # Meeting one: two different amounts (the larger is counted, and it is flagged).
    save_outcome(db_session, one.participant_a, one.id,
                 OutcomeInput("yes", "high", ("order",), "100万"), now=now)
    save_outcome(db_session, one.participant_b, one.id,
                 OutcomeInput("yes", "high", ("order",), "30万"), now=now)
    # Meeting two: an order without an amount. Meeting three: the same amount on both sides.
    save_outcome(db_session, two.participant_a, two.id,
                 OutcomeInput("yes", "some", ("order",)), now=now)
    for side in (three.participant_a, three.participant_b):
        save_outcome(db_session, side, three.id,
                     OutcomeInput("yes", "some", ("order",), "50万"), now=now)
    # One company did not come, one withdrew, one has its meetings all cancelled.
    participants = list(db_session.scalars(
        select(Participant).where(Participant.event_id == fair.id).order_by(Participant.id)
    ))
    absent, withdrawn = participants[-1], participants[-2]
    absent.day_status = DayStatus.NO_SHOW.value
    withdrawn.status = ParticipantStatus.WITHDRAWN.value
    unmet = participants[-3]
    for m in meetings:
        if unmet.id in (m.participant_a_id, m.participant_b_id) and m.id not in (
            one.id, two.id, three.id
        ):
            m.status = MeetingStatus.CANCELLED
    db_session.flush()

    results = fair_results(db_session, fair, now)
    by_id = {r.meeting.id: r for r in results.meetings}
    assert by_id[one.id].amounts_differ and by_id[one.id].order_amount == 1_000_000
    assert not by_id[three.id].amounts_differ and not by_id[two.id].amounts_differ
    assert results.amount_disagreements == 1
    assert results.orders == 3 and results.orders_without_amount == 1
    assert results.order_total == 1_500_000
    # Planned: every meeting not cancelled, started or not.
    live = _meetings(db_session, fair)
    assert results.planned == len(live) == results.started + results.upcoming
    assert results.planned == (results.reported_held + results.not_held + results.unreported
                               + results.upcoming)
    # Companies: approved ones only, each in exactly one group, recounted here.
    scheduled = {p for m in live for p in (m.participant_a_id, m.participant_b_id)}
    for role in ParticipantRole:
        mine = [p for p in participants if p.role == role and p.status == "approved"]
        side = results.participation[role.value]
        assert side.approved == len(mine)
        assert side.no_show == sum(1 for p in mine if p.day_status == DayStatus.NO_SHOW)
        assert side.with_meetings == sum(
            1 for p in mine if p.id in scheduled and p.day_status != DayStatus.NO_SHOW
        )
        assert side.approved == side.with_meetings + side.no_show + side.without_meetings
    assert sum(s.no_show for s in results.participation.values()) == 1


def test_results_by_the_suppliers_industry_and_place_add_up_to_the_totals(
    db_session: Session, fair: Event
) -> None:
    meetings = sorted(_meetings(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    now = meetings[-1].slot.starts_at + timedelta(minutes=1)
    suppliers = sorted({m.participant_b for m in meetings if m.participant_b.role == "supplier"}
                       | {m.participant_a for m in meetings if m.participant_a.role == "supplier"},
                       key=lambda p: p.id)
    places = [("静岡県", "浜松市"), ("静岡県", "静岡市"), ("", "")]
    for number, supplier in enumerate(suppliers):
        supplier.organization.industry = ["切削加工", "表面処理", ""][number % 3]
        supplier.organization.prefecture, supplier.organization.city = places[number % 3]
    first = meetings[0]
    save_outcome(db_session, first.participant_a, first.id,
                 OutcomeInput("yes", "high", ("order", "quotation"), "120万"), now=now)
    second = meetings[1]
    save_outcome(db_session, second.participant_b, second.id, OutcomeInput("no"), now=now)

    results = fair_results(db_session, fair, now)
    for groups, key in (
        (results.by_industry(), lambda p: p.organization.industry),
        (results.by_location(), lambda p: " ".join(
            x for x in (p.organization.prefecture, p.organization.city) if x)),
    ):
        assert [g.key for g in groups][-1] == ""  # suppliers that did not say come last
        for group in groups:
            mine = [r for r in results.meetings if key(r.supplier) == group.key]
            assert group.meetings == len(mine)
            assert group.suppliers == {r.supplier.id for r in mine}
            assert group.held == sum(1 for r in mine if r.reports and not r.reported_not_held)
            assert group.orders == sum(1 for r in mine if "order" in r.next_steps)
            assert group.order_total == sum(r.order_amount or 0 for r in mine)
        assert sum(g.meetings for g in groups) == results.started
        assert sum(g.held for g in groups) == results.reported_held == 1
        assert sum(g.with_any_step for g in groups) == results.with_any_step == 1
        assert sum(g.order_total for g in groups) == results.order_total == 1_200_000
    assert {g.key for g in results.by_location()} == {"静岡県 浜松市", "静岡県 静岡市", ""}

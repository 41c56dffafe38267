"""What came of the meetings: each side's report afterwards, and the fair's results.

After a meeting has started, each of its two participants may report on it: whether
it took place, how promising it was (:class:`~scheduler.models.Prospect`), and what
followed (:class:`~scheduler.models.NextStep`: further talks, a factory visit, a
quotation, a trial order, an order with its amount). Reports stay editable, since
a quotation comes a week later and an order months later. The organizer may record
a report on a participant's behalf (a phone survey, a paper questionnaire).

:func:`fair_results` sums the reports up the way a local government has to show
what its fair achieved (its 成果報告): how many companies took part, how many meetings
were planned and reported as held, how many led to each next step (counted once per
meeting, whichever side reported it), the ordered amount (the larger when the two
sides differ, which is flagged; orders without an amount are counted), how each side
rated the prospects, the meetings by the supplier's industry and place, and who has not
reported yet. Amounts are read as people write them (``1,200,000``, ``120万``,
``1億2000万``, ``1200千円``, ``1.2M``).

Services only flush; the caller commits.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.day_operations import (
    ACTION_PREFIX,
    REPAIR_ACTION,
    UNDO_ACTION,
    absent_from_fair,
    fair_day_of,
    fair_days,
)
from scheduler.errors import NotFound, ProblemsFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    AuditEntry,
    DayStatus,
    Event,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    NextStep,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Prospect,
)
from scheduler.profiles import typed_text
from scheduler.schedule_view import event_meetings, is_published

NOTE_MAX_CHARS = 2000
MAX_ORDER_AMOUNT = 10**12  # yen; anything larger is a typing slip
NEXT_STEP_ORDER: tuple[NextStep, ...] = tuple(NextStep)


@dataclass(frozen=True)
class OutcomeInput:
    """A report as typed: ``took_place`` "yes"/"no", the rest as text from the form."""

    took_place: str = "yes"
    prospect: str = ""
    next_steps: Sequence[str] = ()
    order_amount: str = ""
    order_month: str = ""  # "2027-05" as an <input type="month"> sends it
    note: str = ""

    @classmethod
    def of(cls, outcome: MeetingOutcome | None) -> OutcomeInput:
        """The stored report as the form shows it (an empty form when there is none)."""
        if outcome is None:
            return cls(took_place="")
        return cls(
            took_place="yes" if outcome.took_place else "no",
            prospect=outcome.prospect or "",
            next_steps=tuple(outcome.next_steps),
            order_amount="" if outcome.order_amount is None else f"{outcome.order_amount:,}",
            order_month="" if outcome.order_month is None else f"{outcome.order_month:%Y-%m}",
            note=outcome.note,
        )


@dataclass
class ReportableMeeting:
    """A meeting of one participant that has started, with that side's report (if any).

    ``earlier`` is a report made when the meeting was in another slot (it was moved
    since, e.g. after a late arrival): it no longer counts, and the form asks again.
    """

    meeting: Meeting
    counterpart: Participant
    outcome: MeetingOutcome | None
    earlier: MeetingOutcome | None = None


def _counterpart(meeting: Meeting, participant: Participant) -> Participant:
    return meeting.participant_b if meeting.participant_a_id == participant.id else (
        meeting.participant_a
    )


def started(meeting: Meeting, now: datetime) -> bool:
    """Whether ``meeting`` can be reported on: published, not cancelled, begun by ``now``."""
    return meeting.status != MeetingStatus.CANCELLED and meeting.slot.starts_at <= now


def reportable_meetings(
    session: Session, participant: Participant, now: datetime
) -> list[ReportableMeeting]:
    """The participant's meetings that have started, by time, each with its report."""
    event = participant.event
    if not is_published(event):
        return []
    meetings = [
        m
        for m in event_meetings(
            session, event, include_cancelled=False, participant_id=participant.id
        )
        if started(m, now)
    ]
    outcomes = {
        o.meeting_id: o
        for o in session.scalars(
            select(MeetingOutcome).where(
                MeetingOutcome.participant_id == participant.id,
                MeetingOutcome.meeting_id.in_([m.id for m in meetings]),
            )
        )
    }
    items = []
    for m in meetings:
        report = outcomes.get(m.id)
        current = report if report is not None and report.is_current(m) else None
        earlier = report if report is not None and current is None else None
        items.append(ReportableMeeting(m, _counterpart(m, participant), current, earlier))
    return items


def counterpart_reports(
    session: Session, items: Sequence[ReportableMeeting]
) -> dict[int, MeetingOutcome]:
    """The other side's current report on each of ``items``' meetings (meeting id -> report)."""
    wanted = {(i.meeting.id, i.counterpart.id): i.meeting for i in items}
    if not wanted:
        return {}
    reports = session.scalars(
        select(MeetingOutcome).where(MeetingOutcome.meeting_id.in_([m for m, _ in wanted]))
    )
    return {
        r.meeting_id: r
        for r in reports
        if (r.meeting_id, r.participant_id) in wanted
        and r.is_current(wanted[r.meeting_id, r.participant_id])
    }


def awaiting_report(session: Session, participant: Participant, now: datetime) -> int:
    """How many of the participant's meetings have started and still await its report."""
    return sum(1 for item in reportable_meetings(session, participant, now) if item.outcome is None)


def upcoming_count(session: Session, participant: Participant, now: datetime) -> int:
    """How many of the participant's meetings have not started yet."""
    event = participant.event
    if not is_published(event):
        return 0
    return sum(
        1
        for m in event_meetings(
            session, event, include_cancelled=False, participant_id=participant.id
        )
        if m.slot.starts_at > now
    )


# --------------------------------------------------------------------------- saving


_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d{1,15})(?:\.(\d{1,8}))?"
# An amount as written in Japanese: 億, 万 and 千 parts from the largest down, then plain
# yen ("1億2000万", "1200千", "3万5000"); each part a number, with commas grouping by three.
_AMOUNT = re.compile(
    "".join(f"(?:{_NUMBER}{unit})?" for unit in ("億", "万", "千")) + f"(?:{_NUMBER})?",
    re.ASCII,
)
_UNITS = (100_000_000, 10_000, 1_000, 1)
# An amount as written in English: one number with "k" (thousand) or "M" (million),
# "500k", "1.2M", "1,200k".
_LATIN_AMOUNT = re.compile(f"{_NUMBER}([kKmM])", re.ASCII)
_LATIN_UNITS = {"k": 1_000, "m": 1_000_000}


def _amount_problem() -> ValidationFailed:
    return ValidationFailed(
        N_("Enter an amount in yen, such as 1,200,000 or 1.2M."),
        field="order_amount",
    )


def parse_yen(text: str) -> int | None:
    """An amount in yen as typed: ``1,200,000``, ``１２０万``, ``¥50万円``, ``1億2000万``,
    ``1200千円``, ``1.2M``, ``500k``; ``None`` when empty.

    A part under a larger unit must be smaller than that unit ("1億20000万" is a slip),
    and a decimal goes only with a single unit ("1.5万", not "1.5" or "1.5億2000万").
    An amount of 0 yen is refused: an order has an amount, or none is given (empty).
    """
    value = unicodedata.normalize("NFKC", text or "").strip()
    value = re.sub(r"[\s¥\\]|円$", "", value.replace("￥", "¥"))
    if not value:
        return None
    latin = _LATIN_AMOUNT.fullmatch(value)
    if latin is not None:
        whole, fraction, unit = latin[1].replace(",", ""), latin[2] or "", latin[3].lower()
        size = _LATIN_UNITS[unit]
        return _checked_amount(
            int(whole) * size + round(int(fraction or "0") * size / 10 ** len(fraction))
        )
    # "5千万" is 5000万 (千 multiplies 万 there, not yen).
    value = re.sub(r"(?<![\d.,])(\d{1,4})千万", lambda m: f"{int(m[1]) * 1000}万", value)
    match = _AMOUNT.fullmatch(value)
    if match is None:
        raise _amount_problem()
    groups = match.groups()
    # (unit, whole, fraction) for each part written, largest unit first.
    parts = [
        (unit, groups[2 * i].replace(",", ""), groups[2 * i + 1] or "")
        for i, unit in enumerate(_UNITS)
        if groups[2 * i] is not None
    ]
    if not parts:
        raise _amount_problem()
    if any(fraction and (unit == 1 or len(parts) > 1) for unit, _, fraction in parts):
        raise _amount_problem()
    amount = 0
    for (unit, whole, fraction), above in zip(parts, [None, *parts[:-1]], strict=True):
        if above is not None and int(whole) * unit >= above[0]:
            raise _amount_problem()  # "1億20000万": the smaller part overflows the larger
        amount += int(whole) * unit + round(int(fraction or "0") * unit / 10 ** len(fraction))
    return _checked_amount(amount)


def _checked_amount(amount: int) -> int:
    """``amount`` if it can be an order's: more than 0 yen, not past :data:`MAX_ORDER_AMOUNT`."""
    if amount > MAX_ORDER_AMOUNT:
        raise ValidationFailed(N_("This amount is too large."), field="order_amount")
    if amount <= 0:
        # "0" is no amount an order has: the amount is not known or not to be shared
        # (leave it empty), or there was no order. Counted, it would pass for an answer.
        raise ValidationFailed(
            N_("An order amount cannot be 0 yen: enter the amount, or leave it empty if "
               "you cannot share it."),
            field="order_amount",
        )
    return amount


# A month as the form sends it (2027-05) or as people type it where the browser offers
# no month picker: 2027/5, 2027.5, 2027年5月 (digits of any width: NFKC first).
_MONTH = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?", re.ASCII)


def parse_month(text: str) -> date | None:
    """The first day of the month ``text`` names, None when it is empty."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    match = _MONTH.fullmatch(text)
    # (A year such as 0000 is a typing slip, and no date Python can make.)
    if match is None or not 1 <= int(match[2]) <= 12 or not 1900 <= int(match[1]) <= 2999:
        raise ValidationFailed(
            N_("Enter the month as year and month, e.g. 2027-05."), field="order_month"
        )
    return date(int(match[1]), int(match[2]), 1)


def fiscal_year(day: date) -> int:
    """The Japanese fiscal year (年度, April to March) ``day`` is in, named by the year it
    starts: February 2027 is in 2026年度."""
    return day.year if day.month >= 4 else day.year - 1


class OutcomeInvalid(ProblemsFound):
    """A report with one or more problems (each field's in ``problems``)."""


@dataclass(frozen=True)
class CheckedReport:
    """A report's values as stored."""

    took_place: bool
    prospect: str | None
    next_steps: list[str]
    order_amount: int | None
    order_month: date | None
    note: str


def _checked(data: OutcomeInput, role: str, *, met_on: date, today: date) -> CheckedReport:
    """The report's values, or every problem in one :class:`OutcomeInvalid`. An order's
    month lies between the meeting's (``met_on``) and the present's (``today``)."""
    problems: list[ValidationFailed] = []
    took_place = data.took_place
    if took_place not in ("yes", "no"):
        problems.append(
            ValidationFailed(N_("Say whether the meeting took place."), field="took_place")
        )
    note = typed_text(data.note)
    if len(note) > NOTE_MAX_CHARS:
        problems.append(ValidationFailed(
            N_("The note is too long: at most %(max)s characters."),
            field="note",
            params={"max": NOTE_MAX_CHARS},
        ))
    if took_place == "no":
        # A radio button cannot be unticked: a prospect (or steps) chosen before the
        # answer became "no" is dropped rather than refused, or the form would be stuck.
        if problems:
            raise OutcomeInvalid(problems)
        return CheckedReport(False, None, [], None, None, note)
    steps = {unicodedata.normalize("NFKC", s).strip() for s in data.next_steps if s.strip()}
    if steps - {s.value for s in NextStep}:
        problems.append(
            ValidationFailed(N_("Please choose next steps from the list."), field="next_steps")
        )
    if took_place == "yes" and data.prospect not in {p.value for p in Prospect}:
        problems.append(
            ValidationFailed(N_("Choose how promising the meeting was."), field="prospect")
        )
    amount = None
    try:
        amount = parse_yen(data.order_amount)
    except ValidationFailed as error:
        problems.append(error)
    if amount is not None and NextStep.ORDER not in steps:
        # Named as the reporter's form labels the step: a buyer's order is one it placed.
        problems.append(ValidationFailed(
            N_("An amount goes with an order: tick “Order placed” or leave the amount empty.")
            if role == ParticipantRole.BUYER
            else N_("An amount goes with an order: tick “Order” or leave the amount empty."),
            field="order_amount",
        ))
    month = None
    try:
        month = parse_month(data.order_month)
    except ValidationFailed as error:
        problems.append(error)
    if month is not None:
        problem = _month_problem(month, ordered=NextStep.ORDER in steps, role=role,
                                 met_on=met_on, today=today)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise OutcomeInvalid(problems)
    ordered = [s.value for s in NEXT_STEP_ORDER if s.value in steps]
    return CheckedReport(True, data.prospect, ordered, amount, month, note)


def _month_problem(
    month: date, *, ordered: bool, role: str, met_on: date, today: date
) -> ValidationFailed | None:
    """Why ``month`` cannot be the order's month: there is no order, or the month is
    before the meeting's or after the present's."""
    if not ordered:
        return ValidationFailed(
            N_("A month goes with an order: tick “Order placed” or leave the month empty.")
            if role == ParticipantRole.BUYER
            else N_("A month goes with an order: tick “Order” or leave the month empty."),
            field="order_month",
        )
    if month < met_on.replace(day=1):
        return ValidationFailed(
            N_("The order cannot be before the meeting (%(month)s)."),
            field="order_month",
            params={"month": f"{met_on:%Y-%m}"},
        )
    if month > today:
        return ValidationFailed(
            N_("This month has not come yet: enter the month the order was placed."),
            field="order_month",
        )
    return None


def save_outcome(
    session: Session,
    participant: Participant,
    meeting_id: int,
    data: OutcomeInput,
    *,
    now: datetime,
    user_id: int | None = None,
) -> MeetingOutcome:
    """Store (or replace) the participant's report on one of its meetings.

    ``user_id`` is the organizer recording it on the participant's behalf (audited).
    """
    meeting = session.get(Meeting, meeting_id)
    if (
        meeting is None
        or meeting.event_id != participant.event_id
        or participant.id not in (meeting.participant_a_id, meeting.participant_b_id)
        or not is_published(participant.event)
    ):
        raise NotFound(N_("This meeting is not one of yours."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationFailed(N_("This meeting was cancelled: there is nothing to report."))
    if meeting.slot.starts_at > now:
        raise ValidationFailed(N_("This meeting has not started yet: report on it afterwards."))
    checked = _checked(
        data,
        participant.role,
        met_on=participant.event.local(meeting.slot.starts_at).date(),
        today=participant.event.local(now).date(),
    )
    outcome = session.scalar(
        select(MeetingOutcome).where(
            MeetingOutcome.meeting_id == meeting.id,
            MeetingOutcome.participant_id == participant.id,
        )
    )
    if outcome is None:
        outcome = MeetingOutcome(
            event_id=participant.event_id, meeting_id=meeting.id, participant_id=participant.id
        )
        session.add(outcome)
    outcome.slot_id = meeting.slot_id
    outcome.took_place = checked.took_place
    outcome.prospect = checked.prospect
    outcome.next_steps = checked.next_steps
    outcome.order_amount = checked.order_amount
    outcome.order_month = checked.order_month
    outcome.note = checked.note
    session.flush()
    audit.record(
        session,
        "outcome.report",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=outcome,
        details={
            "meeting_id": meeting.id,
            "took_place": checked.took_place,
            "prospect": checked.prospect,
            "next_steps": checked.next_steps,
            "order_amount": checked.order_amount,
            "order_month": (
                None if checked.order_month is None else f"{checked.order_month:%Y-%m}"
            ),
        },
    )
    return outcome


# --------------------------------------------------------------------------- results


@dataclass
class MeetingResult:
    """A meeting that has started, with both sides' reports (buyer first)."""

    meeting: Meeting
    buyer: Participant
    supplier: Participant
    buyer_report: MeetingOutcome | None
    supplier_report: MeetingOutcome | None

    @property
    def reports(self) -> list[MeetingOutcome]:
        return [r for r in (self.buyer_report, self.supplier_report) if r is not None]

    @property
    def reported_not_held(self) -> bool:
        """Every report on it says it did not take place (and there is at least one)."""
        return bool(self.reports) and not any(r.took_place for r in self.reports)

    @property
    def disagree(self) -> bool:
        """Both sides reported, one that it took place and the other that it did not."""
        return len({r.took_place for r in self.reports}) == 2

    @property
    def next_steps(self) -> set[str]:
        """The next steps either side reported."""
        return {step for r in self.reports if r.took_place for step in r.next_steps}

    @property
    def order_amount(self) -> int | None:
        """The ordered amount: both sides report the same order, so the larger, not the sum."""
        amounts = [r.order_amount for r in self.reports if r.order_amount is not None]
        return max(amounts) if amounts else None

    @property
    def amounts_differ(self) -> bool:
        """Both sides gave an order amount, and not the same one (the larger is counted)."""
        amounts = {r.order_amount for r in self.reports if r.order_amount is not None}
        return len(amounts) == 2

    @property
    def ordered(self) -> bool:
        """Either side reported an order."""
        return NextStep.ORDER.value in self.next_steps

    @property
    def order_month(self) -> date | None:
        """The month of the order, as a side reporting it gave it: both sides report the
        same order, so when their months differ the earlier, when it was placed."""
        months = [
            r.order_month
            for r in self.reports
            if r.order_month is not None and NextStep.ORDER.value in r.next_steps
        ]
        return min(months) if months else None

    @property
    def order_months_differ(self) -> bool:
        """Both sides gave the order's month, and not the same one (the earlier counts)."""
        months = {
            r.order_month
            for r in self.reports
            if r.order_month is not None and NextStep.ORDER.value in r.next_steps
        }
        return len(months) == 2

    @property
    def held(self) -> bool:
        """At least one side reported that it took place."""
        return bool(self.reports) and not self.reported_not_held


@dataclass
class SideResponse:
    """How one side (buyers or suppliers) has answered."""

    participants: int = 0  # with at least one meeting that has started
    reported: int = 0  # of which reported on at least one
    prospects: Counter[str] = field(default_factory=Counter)  # reports per prospect

    @property
    def rate(self) -> float:
        return self.reported / self.participants if self.participants else 0.0


@dataclass
class Participation:
    """One side's approved companies, split by what they did at the fair: each is in
    exactly one of ``with_meetings``, ``no_show`` and ``without_meetings``."""

    approved: int = 0
    with_meetings: int = 0  # meetings scheduled (not cancelled), and not absent
    no_show: int = 0  # marked absent on the day (their meetings are usually cancelled)
    without_meetings: int = 0  # no meeting scheduled, or all cancelled


@dataclass
class Breakdown:
    """The meetings of one group of suppliers (an industry, a place)."""

    key: str  # "" when the suppliers did not say
    suppliers: set[int] = field(default_factory=set)  # with meetings that started
    meetings: int = 0  # started, not cancelled
    held: int = 0  # reported as held
    with_any_step: int = 0
    orders: int = 0
    order_total: int = 0


@dataclass
class FiscalYearOrders:
    """The orders placed in one fiscal year (年度), or whose month nobody gave."""

    year: int | None  # the fiscal year (April of ``year`` to March); None: not given
    orders: int = 0
    order_total: int = 0
    without_amount: int = 0


@dataclass(frozen=True)
class Waiting:
    """A participant with started meetings it has not reported on (all or some)."""

    participant: Participant
    reported: int
    started: int


@dataclass
class FairResults:
    """The fair's results as its organizer reports them."""

    event: Event
    meetings: list[MeetingResult]
    buyers: SideResponse
    suppliers: SideResponse
    waiting: list[Waiting]  # with started meetings not reported on yet (buyers first)
    upcoming: int  # meetings that have not started yet
    participation: dict[str, Participation] = field(default_factory=dict)  # by role
    # Meetings of the schedule cancelled on the day (see :func:`cancelled_on_the_day`):
    # because a company was marked absent, or for another reason.
    cancelled_no_show: int = 0
    cancelled_other: int = 0
    # The participants with meetings that have not started yet (on a fair of several
    # days, after the first): their survey is asked for once those are behind them.
    still_to_come: set[int] = field(default_factory=set)

    @property
    def started(self) -> int:
        return len(self.meetings)

    @property
    def planned(self) -> int:
        """Meetings scheduled and not cancelled (started or not)."""
        return self.started + self.upcoming

    @property
    def cancelled(self) -> int:
        """Meetings of the schedule cancelled on the day, for whatever reason."""
        return self.cancelled_no_show + self.cancelled_other

    @property
    def scheduled(self) -> int:
        """Every meeting the fair had scheduled: the published schedule as it stood when
        the day's changes began, with the meetings added on the day, cancelled or not
        (the "planned N" of a report). Adds up: reported held + reported not held + not
        reported + not started + cancelled on the day."""
        return self.planned + self.cancelled

    @property
    def amount_disagreements(self) -> int:
        """Meetings whose two sides gave different order amounts (the larger is counted)."""
        return sum(1 for m in self.meetings if m.amounts_differ)

    @property
    def orders(self) -> int:
        """Meetings that led to an order (either side)."""
        return sum(1 for m in self.meetings if m.ordered)

    @property
    def orders_without_amount(self) -> int:
        """Orders for which neither side gave an amount (not in :attr:`order_total`)."""
        return sum(1 for m in self.meetings if m.ordered and m.order_amount is None)

    def orders_by_fiscal_year(self) -> list[FiscalYearOrders]:
        """The orders by the fiscal year of their month, the earliest first, then those
        whose month neither side gave (empty when there are no orders)."""
        years: dict[int | None, FiscalYearOrders] = {}
        for m in self.meetings:
            if not m.ordered:
                continue
            month = m.order_month
            year = None if month is None else fiscal_year(month)
            group = years.setdefault(year, FiscalYearOrders(year))
            group.orders += 1
            if m.order_amount is None:
                group.without_amount += 1
            else:
                group.order_total += m.order_amount
        return sorted(years.values(), key=lambda g: (g.year is None, g.year or 0))

    def breakdown(self, key: Callable[[Participant], str]) -> list[Breakdown]:
        """The meetings grouped by ``key`` of their supplier, the most meetings first
        (suppliers that did not say last)."""
        groups: dict[str, Breakdown] = {}
        for m in self.meetings:
            group = groups.setdefault(key(m.supplier), Breakdown(key(m.supplier)))
            group.suppliers.add(m.supplier.id)
            group.meetings += 1
            group.held += m.held
            group.with_any_step += bool(m.next_steps)
            group.orders += m.ordered
            group.order_total += m.order_amount or 0
        return sorted(groups.values(), key=lambda g: (not g.key, -g.meetings, g.key))

    def by_industry(self) -> list[Breakdown]:
        """The meetings by their supplier's industry."""
        return self.breakdown(lambda p: p.organization.industry.strip())

    def by_location(self) -> list[Breakdown]:
        """The meetings by their supplier's prefecture and city."""
        return self.breakdown(
            lambda p: " ".join(
                x for x in (p.organization.prefecture.strip(), p.organization.city.strip()) if x
            )
        )

    @property
    def with_report(self) -> int:
        """Meetings at least one side reported on."""
        return sum(1 for m in self.meetings if m.reports)

    @property
    def not_held(self) -> int:
        return sum(1 for m in self.meetings if m.reported_not_held)

    @property
    def disagreements(self) -> int:
        """Meetings whose two reports disagree on whether they took place (counted as held)."""
        return sum(1 for m in self.meetings if m.disagree)

    @property
    def reported_held(self) -> int:
        """Meetings reported as held (by at least one side)."""
        return self.with_report - self.not_held

    @property
    def unreported(self) -> int:
        """Meetings that started and that neither side has reported on yet."""
        return self.started - self.with_report

    @property
    def step_counts(self) -> dict[str, int]:
        """Meetings per next step (each meeting once, whichever side reported it)."""
        counts = Counter(step for m in self.meetings for step in m.next_steps)
        return {s.value: counts[s.value] for s in NEXT_STEP_ORDER}

    @property
    def with_any_step(self) -> int:
        """Meetings that led to at least one next step."""
        return sum(1 for m in self.meetings if m.next_steps)

    @property
    def order_total(self) -> int:
        return sum(m.order_amount or 0 for m in self.meetings)


def fair_results(session: Session, event: Event, now: datetime) -> FairResults:
    """Both sides' reports on every meeting that has started, summed up."""
    meetings = (
        event_meetings(session, event, include_cancelled=False) if is_published(event) else []
    )
    begun = [m for m in meetings if started(m, now)]
    slot_of = {m.id: m.slot_id for m in begun}
    reports: dict[tuple[int, int], MeetingOutcome] = {
        (o.meeting_id, o.participant_id): o
        for o in session.scalars(
            select(MeetingOutcome).where(MeetingOutcome.event_id == event.id)
        )
        if o.meeting_id in slot_of and o.slot_id == slot_of[o.meeting_id]  # current only
    }
    results: list[MeetingResult] = []
    meetings_of: dict[int, Participant] = {}
    reported_by: set[int] = set()
    open_count: Counter[int] = Counter()  # started meetings a participant has not reported on
    started_count: Counter[int] = Counter()
    for meeting in begun:
        a, b = meeting.participant_a, meeting.participant_b
        buyer, supplier = (b, a) if b.role == ParticipantRole.BUYER and (
            a.role != ParticipantRole.BUYER
        ) else (a, b)
        results.append(
            MeetingResult(
                meeting,
                buyer,
                supplier,
                reports.get((meeting.id, buyer.id)),
                reports.get((meeting.id, supplier.id)),
            )
        )
        for side in (a, b):
            meetings_of[side.id] = side
            started_count[side.id] += 1
            if (meeting.id, side.id) in reports:
                reported_by.add(side.id)
            else:
                open_count[side.id] += 1
    sides = {ParticipantRole.BUYER: SideResponse(), ParticipantRole.SUPPLIER: SideResponse()}
    for participant in meetings_of.values():
        if participant.status != ParticipantStatus.APPROVED:
            continue  # withdrawn since: neither counted nor chased
        side = sides[ParticipantRole(participant.role)]
        side.participants += 1
        side.reported += participant.id in reported_by
    for report in reports.values():
        if report.took_place and report.prospect:
            sides[ParticipantRole(report.participant.role)].prospects[report.prospect] += 1
    waiting = [
        Waiting(p, started_count[p.id] - open_count[p.id], started_count[p.id])
        for p in sorted(
            meetings_of.values(),
            key=lambda p: (p.role != ParticipantRole.BUYER, p.code or "~", p.display_name),
        )
        if open_count[p.id] and p.status == ParticipantStatus.APPROVED
    ]
    cancelled = cancelled_on_the_day(session, event)
    if waiting:  # their contacts, for the chase list and the reminders: one query
        session.scalars(
            select(Participant)
            .where(Participant.id.in_([w.participant.id for w in waiting]))
            .options(selectinload(Participant.attendances).selectinload(Attendance.person))
        ).all()
    return FairResults(
        event=event,
        meetings=results,
        buyers=sides[ParticipantRole.BUYER],
        suppliers=sides[ParticipantRole.SUPPLIER],
        waiting=waiting,
        upcoming=len(meetings) - len(begun),
        participation=_participation(session, event, meetings),
        cancelled_no_show=sum(1 for why in cancelled.values() if why == NO_SHOW_CANCELLED),
        cancelled_other=sum(1 for why in cancelled.values() if why != NO_SHOW_CANCELLED),
        still_to_come={
            side for m in meetings if not started(m, now)
            for side in (m.participant_a_id, m.participant_b_id)
        },
    )


#: Why a meeting was cancelled on the day (:func:`cancelled_on_the_day`).
NO_SHOW_CANCELLED, OTHER_CANCELLED = "no_show", "other"


def cancelled_on_the_day(session: Session, event: Event) -> dict[int, str]:
    """The event's cancelled meetings that were part of the fair's schedule, by id, with
    why: :data:`NO_SHOW_CANCELLED` (a company was marked absent, ``day.no_show``) or
    :data:`OTHER_CANCELLED` (a late arrival, an early leave, cancelled by staff, a
    re-optimisation applied on the day).

    The day's log says it: the latest change of the day (not undone) that left the
    meeting cancelled. A meeting cancelled before the fair (dropped by a new version of
    the schedule, a company that withdrew) was never on the schedule the fair ran and is
    not counted; nor is one added on the day whose addition was undone. A company
    marked absent without a log entry of it (marked outside the day's pages, as the past
    demo fair is built): its cancelled meetings of the day of the mark count as cancelled
    for its absence.
    """
    if not is_published(event):
        return {}
    cancelled = {
        m.id: m
        for m in session.scalars(
            select(Meeting)
            .where(Meeting.event_id == event.id, Meeting.status == MeetingStatus.CANCELLED)
            .options(selectinload(Meeting.slot))
        )
    }
    if not cancelled:
        return {}
    by_pair = {frozenset((m.participant_a_id, m.participant_b_id)): m.id
               for m in cancelled.values()}
    why: dict[int, str] = {}
    logged_no_shows: set[int] = set()
    for entry in session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.event_id == event.id,
            AuditEntry.action.like(f"{ACTION_PREFIX}%") | (AuditEntry.action == REPAIR_ACTION),
        )
        .order_by(AuditEntry.created_at, AuditEntry.id)
    ):
        details = entry.details or {}
        if entry.action == UNDO_ACTION or details.get("undone_at"):
            continue  # an undone change is as if it had not been made
        reason = NO_SHOW_CANCELLED if entry.action == f"{ACTION_PREFIX}{DayStatus.NO_SHOW}" \
            else OTHER_CANCELLED
        if reason == NO_SHOW_CANCELLED and entry.participant_id is not None:
            logged_no_shows.add(entry.participant_id)
        if entry.action == REPAIR_ACTION:
            for change in details.get("changes", []):
                meeting_id = by_pair.get(frozenset((change.get("a"), change.get("b"))))
                if meeting_id is not None and change.get("kind") == "cancelled":
                    why[meeting_id] = OTHER_CANCELLED
                elif meeting_id is not None:
                    why.pop(meeting_id, None)  # moved or added again: cancelled later, if at all
            continue
        for item in (details.get("undo") or {}).get("meetings", []):
            after = item.get("after") or {}
            if item.get("id") not in cancelled:
                continue
            if after.get("status") == MeetingStatus.CANCELLED:
                why[item["id"]] = reason
            else:
                why.pop(item["id"], None)
    # Absent companies marked without the day's pages (no log entry of the mark).
    days = fair_days(event)
    for participant in session.scalars(
        select(Participant).where(
            Participant.event_id == event.id,
            Participant.day_status == DayStatus.NO_SHOW,
            Participant.id.not_in(logged_no_shows),
        )
    ):
        day = fair_day_of(event, participant.day_status_at, days)
        for meeting in cancelled.values():
            if (
                meeting.id not in why
                and participant.id in (meeting.participant_a_id, meeting.participant_b_id)
                and (day is None or event.local(meeting.slot.starts_at).date() == day)
            ):
                why[meeting.id] = NO_SHOW_CANCELLED
    # A pair that has a live meeting again (staff added it back, or a repair placed it
    # anew) is counted once, in that meeting: its cancelled row is no meeting lost
    # (review: a company marked absent that came after all counted twice, whether the
    # pair came back by a re-optimisation, which reuses the row, or by staff, which add one).
    live = {
        frozenset(pair)
        for pair in session.execute(
            select(Meeting.participant_a_id, Meeting.participant_b_id).where(
                Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
            )
        )
    }
    return {
        meeting_id: reason
        for meeting_id, reason in why.items()
        if frozenset((cancelled[meeting_id].participant_a_id,
                      cancelled[meeting_id].participant_b_id)) not in live
    }


def _participation(
    session: Session, event: Event, meetings: Sequence[Meeting]
) -> dict[str, Participation]:
    """The approved companies of each side, by what they did (see :class:`Participation`).

    Absent: marked as a no-show and not at the fair on another day either (a company
    that left after the first day of two, marked a no-show on the second, took part)."""
    scheduled = {p for m in meetings for p in (m.participant_a_id, m.participant_b_id)}
    absent = absent_from_fair(session, event)
    counts = {role.value: Participation() for role in ParticipantRole}
    for participant in session.scalars(
        select(Participant).where(
            Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
        )
    ):
        side = counts.setdefault(participant.role, Participation())
        side.approved += 1
        if participant.id in absent:
            side.no_show += 1
        elif participant.id in scheduled:
            side.with_meetings += 1
        else:
            side.without_meetings += 1
    return counts

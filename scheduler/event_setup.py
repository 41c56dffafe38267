"""Setting up an event: its details, days and slot grid, rooms and tables, phases.

Services only flush; the caller commits. Times given by organizers are wall-clock
times in the event's time zone; slots are stored in UTC.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.calendars import retire_feeds
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Event,
    EventDay,
    Meeting,
    MeetingStatus,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantUnavailableSlot,
    Phase,
    PhaseDeadline,
    Room,
    Slot,
    Table,
)
from scheduler.problem_builder import changes_from, staff_placements

MAX_SLOTS_PER_DAY = 96
MAX_TABLES_PER_BULK = 500
ROOM_NAME_MAX = 100  # rooms.name holds 100 characters


# --------------------------------------------------------------------------- event


_LINE_BREAKS_AND_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and control characters become one space.

    An event's name heads every e-mail's subject, calendar and sheet; a line break
    pasted into it made every e-mail fail (mail headers cannot hold one).
    """
    return " ".join(_LINE_BREAKS_AND_CONTROLS.sub(" ", text).split())


def check_timezone(name: str) -> ZoneInfo:
    """The zone called ``name`` (IANA, e.g. ``Asia/Tokyo``), or a clear error."""
    try:
        if name not in available_timezones():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            N_("Unknown time zone '%(name)s'; use a name such as Asia/Tokyo."),
            field="timezone",
            params={"name": name},
        ) from None


SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])")


def make_slug(session: Session, name: str, *, today: date) -> str:
    """A URL-safe, unique slug derived from an event name.

    The Latin letters and digits of the name are kept. A name with no Latin letter (a
    Japanese name) says nothing in a link, and its other numbers (令和7年度, 第12回)
    mean little out of it: such an event gets ``fair-`` and the year the name gives
    (``fair-2027``, ``fair-2027-03`` for 2027年3月, ``fair-2025`` for 令和7年度), else the
    year and month of
    ``today``, the day it is created (``fair-2026-11``). The fair has no days yet when
    its slug is made, so their date cannot be used. A slug already taken gets -2, -3…
    The organizer may type another one.
    """
    normalized = unicodedata.normalize("NFKC", name)
    # Anything but ASCII letters and digits separates words (2027年3月 gives 2027-3).
    base = re.sub(r"[^a-z0-9]+", "-", normalized.lower()).strip("-")
    if not re.search(r"[a-z]", base):
        base = f"fair-{_year_in_name(normalized) or f'{today:%Y-%m}'}"
    elif len(base) < 3:
        base = f"fair-{base}"  # "AI 商談会" gives ai: too short for a link of its own
    # At most 44 characters, so a "-NN" added on a clash keeps within the 50 allowed.
    base = _cut_at_word(base, 44)
    slug, number = base, 2
    while _slug_taken(session, slug):
        slug = f"{base}-{number}"
        number += 1
    return slug


def _cut_at_word(base: str, limit: int) -> str:
    """``base`` (words joined by hyphens) in at most ``limit`` characters: cut at the last
    hyphen before the limit rather than in the middle of a word ("…-2027-spri" said
    nothing), unless that leaves fewer than 3 characters."""
    if len(base) <= limit:
        return base.strip("-")
    cut = base[:limit]
    if base[limit] != "-":  # the limit falls inside a word
        hyphen = cut.rfind("-")
        if hyphen >= 3:
            cut = cut[:hyphen]
    return cut.strip("-")


# A Western year in a name (2027), with the month when one follows (2027年3月, 2027/3).
_YEAR_AND_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)(?:\s*(?:年|/|\.|-)\s*(\d{1,2})(?!\d))?")


# A year of the Reiwa era (令和7年度 is 2025's fiscal year, 令和元年 is 2019), with the
# month when one follows. Japanese public bodies name their fairs by it.
_REIWA_YEAR_AND_MONTH = re.compile(r"令和\s*(元|\d{1,2})\s*年(?:度|\s*(\d{1,2})\s*月)?")


def _year_in_name(name: str) -> str | None:
    """``2027`` or ``2027-03`` from the first year written in ``name``, if any: a
    Western one, or one of Reiwa (令和7年度 gives 2025)."""
    found = [m for m in (_YEAR_AND_MONTH.search(name), _REIWA_YEAR_AND_MONTH.search(name)) if m]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    if match.re is _REIWA_YEAR_AND_MONTH:
        year = str(2018 + (1 if match[1] == "元" else int(match[1])))
    else:
        year = match[1]
    month = match[2]
    return f"{year}-{int(month):02d}" if month and 1 <= int(month) <= 12 else year


def _slug_taken(session: Session, slug: str, event_id: int | None = None) -> bool:
    query = select(Event.id).where(Event.slug == slug)
    if event_id is not None:
        query = query.where(Event.id != event_id)
    return session.scalar(query) is not None


def check_slug(session: Session, text: str, event_id: int | None = None) -> str:
    """The organizer's short name for links and file names, normalised, or a clear error.

    Full-width letters and capitals are accepted (NFKC, lower-cased); spaces and
    underscores become hyphens.
    """
    slug = unicodedata.normalize("NFKC", text).strip().lower()
    slug = re.sub(r"[\s_]+", "-", slug)
    if not SLUG_PATTERN.fullmatch(slug) or "--" in slug:
        raise ValidationFailed(
            N_(
                "Use 3 to 50 Latin letters, digits and hyphens, starting and ending "
                "with a letter or digit (for example shizuoka-2027)."
            ),
            field="slug",
        )
    if _slug_taken(session, slug, event_id):
        raise _slug_in_use(slug)
    return slug


def _slug_in_use(slug: str) -> ValidationFailed:
    return ValidationFailed(
        N_("Another event already uses '%(slug)s'."), field="slug", params={"slug": slug}
    )


def flush_slug(session: Session, slug: str) -> None:
    """Flush an event whose slug was just checked as free; another event saved with the
    same slug in the meantime (two organizers at once) is the same error as a slug
    already taken, not a failure (the caller rolls back, as after any domain error)."""
    try:
        session.flush()
    except IntegrityError:
        raise _slug_in_use(slug) from None


def create_event(
    session: Session,
    *,
    name: str,
    slug: str | None = None,
    user_id: int | None = None,
    **details: object,
) -> Event:
    """Create an event with the six phases in order (no deadlines yet).

    ``slug`` (the short name in its links and file names) is derived from the name
    when not given.
    """
    name = one_line(name)
    if not name:
        raise ValidationFailed(N_("The event needs a name."), field="name")
    zone = check_timezone(str(details.get("timezone") or "Asia/Tokyo"))
    if slug and slug.strip():
        slug = check_slug(session, slug)
    else:
        slug = make_slug(session, name, today=utcnow().astimezone(zone).date())
    event = Event(name=name, slug=slug)
    _apply_details(event, details)
    event.phases = [PhaseDeadline(phase=phase, sort_order=i) for i, phase in enumerate(Phase)]
    session.add(event)
    flush_slug(session, slug)
    audit.record(session, "event.create", event_id=event.id, user_id=user_id, target=event)
    return event


EVENT_FIELDS = (
    "venue",
    "address",
    "description",
    "timezone",
    "contact_email",
    "max_requests",
    "screening_enabled",
    "default_max_meetings",
)


def update_event(
    session: Session, event: Event, *, user_id: int | None = None, **details: object
) -> Event:
    """Change an event's details. Changing the time zone keeps slots at the same instants."""
    old_slug = event.slug
    slug = str(details.pop("slug", "") or "").strip()
    if slug == old_slug:
        slug = ""  # unchanged: kept as it is, even one made before the rules were stricter
    if slug:
        slug = check_slug(session, slug, event.id)
    if "name" in details:
        name = one_line(str(details.pop("name") or ""))
        if not name:
            raise ValidationFailed(N_("The event needs a name."), field="name")
        event.name = name
    if slug:
        event.slug = slug
    if "timezone" in details:
        check_timezone(str(details["timezone"]))
    before = {f: getattr(event, f) for f in EVENT_FIELDS}
    _apply_details(event, details)
    changed = {
        f: [before[f], getattr(event, f)] for f in EVENT_FIELDS if before[f] != getattr(event, f)
    }
    if event.slug != old_slug:
        changed["slug"] = [old_slug, event.slug]
    flush_slug(session, event.slug)
    audit.record(
        session, "event.update", event_id=event.id, user_id=user_id, target=event, details=changed
    )
    return event


def _apply_details(event: Event, details: dict[str, object]) -> None:
    for key, value in details.items():
        if key not in EVENT_FIELDS:
            raise TypeError(f"unknown event field {key}")
        if key in ("max_requests", "default_max_meetings") and value is not None and int(value) < 0:  # type: ignore[call-overload]
            raise ValidationFailed(N_("Must be zero or more."), field=key)
        if key == "default_max_meetings" and value is not None and int(value) == 0:  # type: ignore[call-overload]
            # 0 would give no meeting to everyone without a cap of their own (QA).
            raise ValidationFailed(
                N_("Enter at least 1, or leave it empty for no cap."), field=key
            )
        setattr(event, key, value)


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


# --------------------------------------------------------------------------- slot grid


@dataclass(frozen=True)
class BreakPlan:
    start: time
    end: time
    label: str = ""


@dataclass(frozen=True)
class DayPlan:
    """What an organizer types for one day: the grid is computed from it."""

    date: date
    start: time
    end: time
    meeting_minutes: int = 25
    changeover_minutes: int = 5
    breaks: tuple[BreakPlan, ...] = ()
    # The organizer confirmed that the day runs past midnight (an end time before the
    # start time): without it such an end is taken for a typo and refused.
    overnight: bool = False


@dataclass(frozen=True)
class PlannedSlot:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    label: str = ""


@dataclass
class GridPreview:
    """The slots a day plan gives, with notes for the organizer (e.g. a clock change)."""

    slots: list[PlannedSlot]
    breaks: list[tuple[datetime, datetime, str]]
    notes: list[str] = field(default_factory=list)


def parse_breaks(text: str) -> tuple[BreakPlan, ...]:
    """Breaks typed one per line as ``12:00-13:00 昼休み`` (full-width digits are fine)."""
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line:
            continue
        match = re.match(r"^(\d{1,2}):(\d{2})\s*[-~〜–—]\s*(\d{1,2}):(\d{2})\s*(.*)$", line)
        if not match:
            raise ValidationFailed(
                N_("Line %(number)s: write a break as 12:00-13:00 and an optional name."),
                field="breaks",
                params={"number": number},
            )
        h1, m1, h2, m2, label = match.groups()
        try:
            start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            raise ValidationFailed(
                N_("Line %(number)s: %(line)s is not a valid time."),
                field="breaks",
                params={"number": number, "line": line},
            ) from None
        if end <= start:
            raise ValidationFailed(
                N_("Line %(number)s: the break must end after it starts."),
                field="breaks",
                params={"number": number},
            )
        result.append(BreakPlan(start, end, label.strip()))
    result.sort(key=lambda b: b.start)
    for first, second in itertools.pairwise(result):
        if second.start < first.end:
            raise ValidationFailed(
                N_("The breaks %(first)s and %(second)s overlap."),
                field="breaks",
                params={
                    "first": f"{first.start:%H:%M}-{first.end:%H:%M}",
                    "second": f"{second.start:%H:%M}-{second.end:%H:%M}",
                },
            )
    return tuple(result)


def format_breaks(breaks: list[dict[str, str]]) -> str:
    return "\n".join(f"{b['start']}-{b['end']} {b.get('label', '')}".rstrip() for b in breaks)


def _localize(day: date, moment: time, zone: ZoneInfo, what: str) -> datetime:
    """A wall-clock time on ``day`` as an aware UTC datetime; a time the clock skips is an error."""
    local = datetime.combine(day, moment, tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationFailed(
            N_(
                "%(time)s does not exist on %(date)s in %(zone)s: the clocks change then. "
                "Choose another time."
            ),
            field=what,
            params={"time": f"{moment:%H:%M}", "date": day.isoformat(), "zone": zone.key},
        )
    return local.astimezone(UTC)


def plan_grid(plan: DayPlan, timezone: str) -> GridPreview:
    """The slots of one day: meetings of ``meeting_minutes`` separated by the changeover.

    Slots are laid out in elapsed time, so a meeting always lasts its full length even
    on a day when the clocks change; a slot never overlaps a break (the next slot starts
    when the break ends).
    """
    zone = check_timezone(timezone)
    if plan.meeting_minutes <= 0:
        raise ValidationFailed(
            N_("A meeting must last at least one minute."), field="meeting_minutes"
        )
    if plan.changeover_minutes < 0:
        raise ValidationFailed(N_("The changeover cannot be negative."), field="changeover_minutes")
    if plan.end == plan.start:
        # Taken as a whole day of 24 hours this made 72 slots: always a slip.
        raise ValidationFailed(
            N_("The day must end at another time than it starts (%(time)s)."),
            field="end_time",
            params={"time": f"{plan.start:%H:%M}"},
        )
    if plan.end < plan.start and not plan.overnight:
        # A fair that runs past midnight is possible (the grid and its breaks handle
        # the next morning and a clock change in the night), but 17:00 to 13:00 is far
        # more often a slip than a night fair: the organizer says which it is.
        raise ValidationFailed(
            N_(
                "The day ends (%(end)s) before it starts (%(start)s). Check the end time, "
                "or tick “The day runs past midnight” if its last meeting ends "
                "the next morning."
            ),
            field="end_time",
            params={"start": f"{plan.start:%H:%M}", "end": f"{plan.end:%H:%M}"},
        )
    start = _localize(plan.date, plan.start, zone, "start_time")
    end_day = plan.date if plan.end > plan.start else plan.date + timedelta(days=1)
    end = _localize(end_day, plan.end, zone, "end_time")
    meeting = timedelta(minutes=plan.meeting_minutes)
    if end - start < meeting:
        raise ValidationFailed(N_("The day is shorter than one meeting."), field="end_time")
    breaks = []
    for b in plan.breaks:
        b_day = plan.date if b.start >= plan.start else end_day
        b_start = _localize(b_day, b.start, zone, "breaks")
        b_end = _localize(
            b_day if b.end > b.start else b_day + timedelta(days=1), b.end, zone, "breaks"
        )
        if b_start < start or b_end > end:
            overnight = end_day != plan.date
            raise ValidationFailed(
                N_(
                    "The break %(start)s-%(end)s is outside the day, which runs from "
                    "%(day_start)s past midnight to %(day_end)s the next morning: check the "
                    "end time."
                )
                if overnight
                else N_("The break %(start)s-%(end)s is outside the day."),
                field="breaks",
                params={
                    "start": f"{b.start:%H:%M}",
                    "end": f"{b.end:%H:%M}",
                    "day_start": f"{plan.start:%H:%M}",
                    "day_end": f"{plan.end:%H:%M}",
                },
            )
        breaks.append((b_start, b_end, b.label))
    slots: list[PlannedSlot] = []
    cursor = start
    step = meeting + timedelta(minutes=plan.changeover_minutes)
    while cursor + meeting <= end:
        clash = next((b for b in breaks if cursor < b[1] and b[0] < cursor + meeting), None)
        if clash is not None:
            cursor = clash[1]
            continue
        slots.append(PlannedSlot(cursor, cursor + meeting))
        if len(slots) > MAX_SLOTS_PER_DAY:
            raise ValidationFailed(
                N_("That gives more than %(max)s slots in a day."),
                field="meeting_minutes",
                params={"max": MAX_SLOTS_PER_DAY},
            )
        cursor += step
    if not slots:
        raise ValidationFailed(
            N_("No meeting fits between the start, the end and the breaks."), field="end_time"
        )
    notes = []
    if end_day != plan.date:
        notes.append(
            N_(
                "This day runs past midnight: its last meeting ends the next morning. "
                "If that is not what you meant, check the end time."
            )
        )
    offsets = {s.starts_at.astimezone(zone).utcoffset() for s in slots}
    if len(offsets) > 1:
        notes.append(N_("The clocks change during this day; meetings keep their full length."))
    return GridPreview(slots=slots, breaks=breaks, notes=notes)


def _meetings_in(session: Session, slot_ids: list[int]) -> int:
    if not slot_ids:
        return 0
    return (
        session.scalar(
            select(func.count(Meeting.id)).where(
                Meeting.slot_id.in_(slot_ids), Meeting.status != MeetingStatus.CANCELLED
            )
        )
        or 0
    )


def meetings_on_day(session: Session, day: EventDay) -> int:
    """How many meetings (not cancelled) are scheduled in the slots of ``day``: a day
    with any cannot have its grid regenerated nor be deleted."""
    return _meetings_in(session, [s.id for s in day.slots])


def meetings_by_day(session: Session, event: Event) -> dict[int, int]:
    """The number of meetings (not cancelled) on each day of ``event`` that has any, by
    day id, so the days list says which days can no longer be regenerated."""
    rows = session.execute(
        select(Slot.day_id, func.count(Meeting.id))
        .join(Meeting, Meeting.slot_id == Slot.id)
        .where(
            Slot.event_id == event.id,
            Slot.day_id.is_not(None),
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .group_by(Slot.day_id)
    ).all()
    return {day_id: count for day_id, count in rows}


def check_day_date(
    session: Session, event: Event, when: date, *, day: EventDay | None = None
) -> None:
    """Refuse a date the event already has as another day (checked at the preview too,
    so the grid is never offered for a day that cannot be saved)."""
    clash = session.scalar(
        select(EventDay).where(EventDay.event_id == event.id, EventDay.date == when)
    )
    if clash is not None and clash is not day:
        raise ValidationFailed(
            N_("%(date)s is already a day of this event."),
            field="date",
            params={"date": when.isoformat()},
        )


@dataclass(frozen=True)
class LostAvailability:
    """Participants' marks "cannot attend this slot" that a new grid cannot keep.

    A mark stays with the new slot of exactly the same start and end; a slot of the
    old grid that no new slot matches takes its marks with it. ``companies`` names
    whose marks are lost, each once.
    """

    marks: int = 0
    companies: tuple[str, ...] = ()


def _unavailability_marks(session: Session, day: EventDay) -> list[tuple[int, datetime, datetime]]:
    """(participant id, slot start, slot end) of each mark on ``day``'s slots."""
    return [
        (participant_id, starts_at, ends_at)
        for participant_id, starts_at, ends_at in session.execute(
            select(ParticipantUnavailableSlot.participant_id, Slot.starts_at, Slot.ends_at)
            .join(Slot, Slot.id == ParticipantUnavailableSlot.slot_id)
            .where(Slot.day_id == day.id)
            .order_by(ParticipantUnavailableSlot.participant_id, Slot.starts_at)
        )
    ]


def unavailability_lost(
    session: Session, day: EventDay | None, planned: Sequence[PlannedSlot]
) -> LostAvailability:
    """The marks on ``day``'s slots that regenerating it as ``planned`` would lose (the
    preview says so before the organizer saves; nothing for a new day)."""
    if day is None:
        return LostAvailability()
    kept = {(p.starts_at, p.ends_at) for p in planned}
    lost = [
        pid for pid, starts_at, ends_at in _unavailability_marks(session, day)
        if (starts_at, ends_at) not in kept
    ]
    if not lost:
        return LostAvailability()
    names = session.scalars(
        select(Participant).where(Participant.id.in_(set(lost))).order_by(Participant.code)
    ).all()
    return LostAvailability(len(lost), tuple(p.display_name for p in names))


@dataclass
class _HoursMove:
    """What postponing a day does to participants' arrival and leaving times on it
    (:func:`_move_hours`): times shifted to the new date, and times that become marks
    "cannot attend" on the moved day's new slots (``before``: slots starting before
    that local time; ``after``: slots ending after it), by participant id."""

    shifted: int = 0
    before: dict[int, time] = field(default_factory=dict)
    after: dict[int, time] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.shifted + len(self.before) + len(self.after)


def _move_hours(session: Session, event: Event, day: EventDay, new: date) -> _HoursMove:
    """Carry participants' arrival and leaving times on ``day`` (before it moves to
    ``new``) along with it: a postponed day keeps who comes late and who leaves early,
    instead of leaving them on a date without slots (QA: every company with such a time
    lost all its meetings).

    An arrival time is that of the first day and a leaving time that of the last
    (:mod:`scheduler.availability`). While the day stays first (or last), the time moves
    to the same local time on ``new``; once another day comes before it (or after it),
    the time would shut the company out of that other day, so it becomes marks "cannot
    attend" on the moved day's slots before the arrival (or after the leaving) instead.
    """
    zone = ZoneInfo(event.timezone)
    old = day.date
    others = [d.date for d in event.days if d.id != day.id]
    stays_first = all(new < other for other in others)
    stays_last = all(new > other for other in others)
    move = _HoursMove()
    for participant in session.scalars(
        select(Participant).where(Participant.event_id == event.id)
    ):
        for name, stays, marks in (
            ("available_from", stays_first, move.before),
            ("available_until", stays_last, move.after),
        ):
            moment = getattr(participant, name)
            if moment is None:
                continue
            local = moment.astimezone(zone)
            if local.date() != old:
                continue
            if stays:
                shifted = datetime.combine(new, local.time(), tzinfo=zone).astimezone(UTC)
                setattr(participant, name, shifted)
                move.shifted += 1
            else:
                setattr(participant, name, None)
                marks[participant.id] = local.time()
    return move


def save_day(
    session: Session,
    event: Event,
    plan: DayPlan,
    *,
    day: EventDay | None = None,
    user_id: int | None = None,
) -> EventDay:
    """Create or replace a day and its slot grid.

    A day whose slots already hold meetings cannot be regenerated (edit single slots
    instead), so a schedule is never silently orphaned. Participants' marks "cannot
    attend this slot" move to the new slot of exactly the same times; the others are
    lost (:func:`unavailability_lost` says which, before and after), as no other slot
    is the one they meant.
    """
    preview = plan_grid(plan, event.timezone)
    check_day_date(session, event, plan.date, day=day)
    marks: list[tuple[int, datetime, datetime]] = []
    lost = LostAvailability()
    if day is None:
        day = EventDay(event=event, date=plan.date, start_time=plan.start, end_time=plan.end)
        session.add(day)
    else:
        if meetings_on_day(session, day):
            raise Conflict(
                N_(
                    "Meetings are already scheduled on this day: edit single slots instead "
                    "of regenerating the grid."
                )
            )
        lost = unavailability_lost(session, day, preview.slots)
        marks = _unavailability_marks(session, day)
        for slot in list(day.slots):
            session.delete(slot)
        session.flush()
    hours = _HoursMove()
    if day.date is not None and day.date != plan.date:
        hours = _move_hours(session, event, day, plan.date)
    day.date, day.start_time, day.end_time = plan.date, plan.start, plan.end
    day.meeting_minutes, day.changeover_minutes = plan.meeting_minutes, plan.changeover_minutes
    day.breaks = [
        {"start": f"{b.start:%H:%M}", "end": f"{b.end:%H:%M}", "label": b.label}
        for b in plan.breaks
    ]
    session.flush()
    others = session.scalars(
        select(Slot).where(Slot.event_id == event.id, Slot.day_id != day.id)
    ).all()
    new_slots: dict[tuple[datetime, datetime], Slot] = {}
    for planned in preview.slots:
        for other in others:
            if planned.starts_at < other.ends_at and other.starts_at < planned.ends_at:
                raise ValidationFailed(
                    N_("These slots overlap slots of another day."), field="date"
                )
        slot = Slot(event=event, day=day, starts_at=planned.starts_at, ends_at=planned.ends_at)
        session.add(slot)
        new_slots[(planned.starts_at, planned.ends_at)] = slot
    session.flush()
    kept = 0
    added: set[tuple[int, int]] = set()
    for participant_id, starts_at, ends_at in marks:
        slot = new_slots.get((starts_at, ends_at))
        if slot is not None:
            session.add(ParticipantUnavailableSlot(participant_id=participant_id, slot_id=slot.id))
            added.add((participant_id, slot.id))
            kept += 1
    # Arrival and leaving times that became marks on the moved day's slots.
    zone = ZoneInfo(event.timezone)
    for slot in new_slots.values():
        starts, ends = slot.starts_at.astimezone(zone).time(), slot.ends_at.astimezone(zone).time()
        away = {pid for pid, arrival in hours.before.items() if starts < arrival}
        away |= {pid for pid, leaving in hours.after.items() if ends > leaving}
        for participant_id in sorted(away):
            if (participant_id, slot.id) not in added:
                session.add(ParticipantUnavailableSlot(participant_id=participant_id,
                                                       slot_id=slot.id))
                added.add((participant_id, slot.id))
                marks.append((participant_id, slot.starts_at, slot.ends_at))
    session.flush()
    # Participants already loaded still list the deleted slots as their holes.
    marked = {participant_id for participant_id, _start, _end in marks}
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Participant) and loaded.id in marked:
            session.expire(loaded, ["unavailable_slots"])
    session.refresh(event)
    details: dict[str, object] = {"date": plan.date.isoformat(), "slots": len(preview.slots)}
    if hours.count:
        details["hours_moved"] = hours.count
    if marks:
        details["unavailability"] = {"kept": kept, "lost": lost.marks}
    audit.record(
        session, "day.save", event_id=event.id, user_id=user_id, target=day, details=details
    )
    return day


def delete_day(session: Session, day: EventDay, *, user_id: int | None = None) -> None:
    if _meetings_in(session, [s.id for s in day.slots]):
        raise Conflict(N_("Meetings are scheduled on this day; it cannot be deleted."))
    event_id = day.event_id
    for slot in list(day.slots):
        session.delete(slot)
    session.delete(day)
    session.flush()
    audit.record(
        session,
        "day.delete",
        event_id=event_id,
        user_id=user_id,
        details={"date": day.date.isoformat()},
    )


@dataclass(frozen=True)
class SlotMove:
    """The meetings (not cancelled) that a new time for a slot moves with it.

    Empty when the times stay (a new label moves nothing). ``away`` names the
    companies whose availability (arriving later, leaving earlier) does not cover the
    new time: the organizer sees them before confirming.
    """

    slot: Slot
    meeting_ids: tuple[int, ...] = ()
    participant_ids: frozenset[int] = frozenset()
    companies: tuple[str, ...] = ()
    away: tuple[str, ...] = ()

    @property
    def meetings(self) -> int:
        return len(self.meeting_ids)


class UnconfirmedMove(Conflict):
    """A new time for a slot would move meetings the organizer has not confirmed (none
    confirmed yet, or others than the page showed): ``move`` is what it moves now."""

    def __init__(self, move: SlotMove) -> None:
        super().__init__(
            N_("Meetings are scheduled in this slot: confirm that they move to the new time.")
        )
        self.move = move


def _active_meetings(session: Session, slot: Slot) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.slot_id == slot.id, Meeting.status != MeetingStatus.CANCELLED)
            .order_by(Meeting.id)
        )
    )


def slot_move(
    session: Session, slot: Slot, *, starts_at: datetime, ends_at: datetime
) -> SlotMove:
    """What giving ``slot`` the times ``starts_at``–``ends_at`` does to its meetings."""
    if (starts_at, ends_at) == (slot.starts_at, slot.ends_at):
        return SlotMove(slot)
    meetings = _active_meetings(session, slot)
    people = {pid for m in meetings for pid in (m.participant_a_id, m.participant_b_id)}
    participants = (
        session.scalars(
            select(Participant).where(Participant.id.in_(people)).order_by(Participant.code)
        ).all()
        if people
        else []
    )
    return SlotMove(
        slot,
        meeting_ids=tuple(m.id for m in meetings),
        participant_ids=frozenset(people),
        companies=tuple(p.display_name for p in participants),
        away=tuple(
            p.display_name
            for p in participants
            if (p.available_from is not None and starts_at < p.available_from)
            or (p.available_until is not None and ends_at > p.available_until)
        ),
    )


def update_slot(
    session: Session,
    slot: Slot,
    *,
    starts_at: datetime,
    ends_at: datetime,
    label: str = "",
    user_id: int | None = None,
    confirmed_meetings: Collection[int] | None = None,
) -> SlotMove:
    """Move or resize one slot; it may not overlap another slot of the event.

    Its meetings move with it. Participants have them in their calendars, so a new
    time for a slot that holds meetings needs the organizer's confirmation: the ids of
    the meetings the organizer saw move (``confirmed_meetings``), else, or when others
    are in the slot now, :class:`UnconfirmedMove`. Each meeting moved gets a new
    version and ``updated_at``, as a meeting moved on the day does, so subscribed
    calendars take the new time (a higher SEQUENCE). Returns what moved; the caller
    tells those participants once it has committed.
    """
    if ends_at <= starts_at:
        raise ValidationFailed(N_("A slot must end after it starts."), field="end")
    day = _day_of(slot.event, starts_at)
    _check_no_overlap(session, slot.event_id, starts_at, ends_at, exclude=slot.id)
    new_times = (starts_at, ends_at) != (slot.starts_at, slot.ends_at)
    if new_times:
        # Lazily: day_operations imports this module (through registration).
        from scheduler.day_operations import lock_for_change

        # Before reading what the slot holds: every writer of meetings locks the
        # participants it changes (after the event), so holding all of the event's
        # makes the read below current and keeps a meeting from being placed in the
        # slot unseen until this is committed. Slot times change rarely; a fair's
        # participants are a few hundred rows.
        everyone = session.scalars(
            select(Participant.id).where(Participant.event_id == slot.event_id)
        ).all()
        lock_for_change(session, slot.event_id, participant_ids=everyone, lock_event=True)
    move = slot_move(session, slot, starts_at=starts_at, ends_at=ends_at)
    if move.meeting_ids and set(move.meeting_ids) != set(confirmed_meetings or ()):
        raise UnconfirmedMove(move)
    before = [slot.starts_at.isoformat(), slot.ends_at.isoformat()]
    slot.starts_at, slot.ends_at, slot.label = starts_at, ends_at, label.strip()
    slot.day = day  # moved to another date: listed, printed and copied with that day
    now = utcnow()
    moved = []
    # Cancelled meetings too: feeds keep them (marked cancelled) at the slot's time, so
    # they also need a higher SEQUENCE for calendars to take the new one.
    in_slot = select(Meeting).where(Meeting.slot_id == slot.id) if new_times else None
    for meeting in session.scalars(in_slot) if in_slot is not None else ():
        meeting.version = (meeting.version or 0) + 1
        meeting.updated_at = now
        if meeting.id in move.meeting_ids:
            moved.append({"id": meeting.id, "version": meeting.version})
    session.flush()
    details: dict[str, object] = {
        "before": before,
        "after": [starts_at.isoformat(), ends_at.isoformat()],
    }
    if moved:
        details["meetings"] = sorted(moved, key=lambda m: m["id"])
        details["participants"] = sorted(move.participant_ids)
    audit.record(
        session, "slot.update", event_id=slot.event_id, user_id=user_id, target=slot,
        details=details,
    )
    return move


def add_slot(
    session: Session,
    event: Event,
    *,
    starts_at: datetime,
    ends_at: datetime,
    label: str = "",
    user_id: int | None = None,
) -> Slot:
    if ends_at <= starts_at:
        raise ValidationFailed(N_("A slot must end after it starts."), field="end")
    day = _day_of(event, starts_at)
    _check_no_overlap(session, event.id, starts_at, ends_at)
    if day is not None:
        _check_not_in_break(event, day, starts_at, ends_at)
    slot = Slot(event=event, day=day, starts_at=starts_at, ends_at=ends_at, label=label.strip())
    session.add(slot)
    session.flush()
    audit.record(session, "slot.add", event_id=event.id, user_id=user_id, target=slot)
    return slot


def delete_slot(session: Session, slot: Slot, *, user_id: int | None = None) -> None:
    if _meetings_in(session, [slot.id]):
        raise Conflict(N_("Meetings are scheduled in this slot; move them first."))
    event_id = slot.event_id
    session.delete(slot)
    session.flush()
    audit.record(
        session,
        "slot.delete",
        event_id=event_id,
        user_id=user_id,
        details={"starts_at": slot.starts_at.isoformat()},
    )


def _day_of(event: Event, starts_at: datetime) -> EventDay | None:
    """The event's day a slot starting at ``starts_at`` belongs to.

    Once the event has days, a slot on any other date is refused: a mistyped date
    (12/01 for 11/12) would otherwise become a slot of its own day, filled by the
    solver and printed on every sheet. An event without days takes slots on any date.
    """
    local_date = starts_at.astimezone(event.tz).date()
    day = next((d for d in event.days if d.date == local_date), None)
    if day is None and event.days:
        raise ValidationFailed(
            N_(
                "%(date)s is not one of the event's days (%(days)s): check the date, "
                "or add that day first."
            ),
            field="date",
            params={
                "date": local_date.isoformat(),
                "days": ", ".join(sorted(d.date.isoformat() for d in event.days)),
            },
        )
    return day


def _check_no_overlap(
    session: Session,
    event_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude: int | None = None,
) -> None:
    query = select(Slot).where(
        Slot.event_id == event_id, Slot.starts_at < ends_at, Slot.ends_at > starts_at
    )
    if exclude is not None:
        query = query.where(Slot.id != exclude)
    clash = session.scalars(query.order_by(Slot.starts_at)).first()
    if clash is not None:
        event = session.get(Event, event_id)
        assert event is not None
        raise ValidationFailed(
            N_("This overlaps the slot %(slot)s."),
            field="start",
            params={
                "slot": f"{event.local(clash.starts_at):%Y-%m-%d %H:%M}"
                f"–{event.local(clash.ends_at):%H:%M}"
            },
        )


def day_breaks(event: Event, day: EventDay) -> list[tuple[datetime, datetime, str]]:
    """The breaks declared for ``day`` as (start, end, name), aware UTC: as the grid lays
    them out (:func:`plan_grid`), a break before the day's start is the next morning's."""
    zone = event.tz
    result = []
    for b in day.breaks or []:
        try:
            b_start = time.fromisoformat(b["start"])
            b_end = time.fromisoformat(b["end"])
        except (KeyError, TypeError, ValueError):
            continue
        b_day = day.date if b_start >= day.start_time else day.date + timedelta(days=1)
        end_day = b_day if b_end > b_start else b_day + timedelta(days=1)
        result.append((
            datetime.combine(b_day, b_start, tzinfo=zone).astimezone(UTC),
            datetime.combine(end_day, b_end, tzinfo=zone).astimezone(UTC),
            str(b.get("label") or ""),
        ))
    return result


def _check_not_in_break(
    event: Event, day: EventDay, starts_at: datetime, ends_at: datetime
) -> None:
    """Refuse a slot that overlaps a break declared for its day (QA: a slot added at
    12:00-12:30 inside the lunch break 12:00-13:00 was accepted)."""
    for b_start, b_end, name in day_breaks(event, day):
        if starts_at < b_end and b_start < ends_at:
            times = f"{event.local(b_start):%H:%M}–{event.local(b_end):%H:%M}"
            if name:
                raise ValidationFailed(
                    N_("This overlaps the break %(name)s (%(times)s) of %(date)s."),
                    field="start",
                    params={"name": name, "times": times, "date": day.date.isoformat()},
                )
            raise ValidationFailed(
                N_("This overlaps the break %(times)s of %(date)s."),
                field="start",
                params={"times": times, "date": day.date.isoformat()},
            )


def local_datetime(event: Event, day: date, moment: time, what: str = "start") -> datetime:
    """An organizer's wall-clock input as an aware UTC datetime (errors name ``what``)."""
    return _localize(day, moment, event.tz, what)


# --------------------------------------------------------------------------- rooms and tables


_RANGE = re.compile(r"^(?P<p1>\D*?)(?P<n1>\d+)\s*(?:-|–|—|~|〜|\.\.)\s*(?P<p2>\D*?)(?P<n2>\d+)$")


def expand_labels(spec: str) -> list[str]:
    """Table labels from ``A01-A40``, ``T1–T12``, ``A01, A02, B1`` or a mix of them.

    Zero padding is kept as typed (``A01-A40`` gives A01…A40, ``A1-A40`` gives A1…A40).
    """
    text = unicodedata.normalize("NFKC", spec).strip()
    if not text:
        raise ValidationFailed(N_("Give table labels such as A01-A40."), field="labels")
    labels: list[str] = []
    for part in re.split(r"[,、;\s]+(?![-–—~〜.])", text):
        part = part.strip()
        if not part:
            continue
        match = _RANGE.match(part)
        if match is None:
            labels.append(part)
            continue
        p1, p2 = match["p1"], match["p2"]
        if p2 and p2 != p1:
            raise ValidationFailed(
                N_("%(range)s: both ends of a range need the same prefix."),
                field="labels",
                params={"range": part},
            )
        first, last = int(match["n1"]), int(match["n2"])
        if last < first:
            raise ValidationFailed(
                N_("%(range)s: the range runs backwards."), field="labels", params={"range": part}
            )
        if last - first + 1 > MAX_TABLES_PER_BULK:
            raise ValidationFailed(
                N_("%(range)s: at most %(max)s tables at once."),
                field="labels",
                params={"range": part, "max": MAX_TABLES_PER_BULK},
            )
        width = len(match["n1"]) if match["n1"].startswith("0") else 0
        labels.extend(f"{p1}{n:0{width}d}" for n in range(first, last + 1))
    if not labels:  # only commas or separators (" , , "): no table named
        raise ValidationFailed(N_("Give table labels such as A01-A40."), field="labels")
    if len(labels) > MAX_TABLES_PER_BULK:
        raise ValidationFailed(
            N_("At most %(max)s tables at once."),
            field="labels",
            params={"max": MAX_TABLES_PER_BULK},
        )
    seen: set[str] = set()
    duplicates = [lab for lab in labels if lab in seen or seen.add(lab)]  # type: ignore[func-returns-value]
    if duplicates:
        raise ValidationFailed(
            N_("Listed twice: %(labels)s."),
            field="labels",
            params={"labels": ", ".join(duplicates[:5])},
        )
    if any(len(lab) > 30 for lab in labels):
        raise ValidationFailed(N_("A table label has at most 30 characters."), field="labels")
    zeros = [lab for lab in labels if re.fullmatch(r"\D*0+", lab)]  # 0, 00, A0, T000
    if zeros:
        # Typed as "no tables" or as a count; a table called 0 is never meant.
        raise ValidationFailed(
            N_(
                "%(label)s is not a table label: table numbers start at 1 "
                "(for example 1-20 or A01-A20)."
            ),
            field="labels",
            params={"label": zeros[0]},
        )
    return labels


def add_room(session: Session, event: Event, name: str, *, user_id: int | None = None) -> Room:
    name = name.strip()
    if not name:
        raise ValidationFailed(N_("The room needs a name."), field="name")
    if any(r.name == name for r in event.rooms):
        raise ValidationFailed(
            N_("There is already a room called %(name)s."), field="name", params={"name": name}
        )
    _check_room_name_length(name)
    room = Room(event=event, name=name, sort_order=len(event.rooms))
    session.add(room)
    session.flush()
    audit.record(session, "room.add", event_id=event.id, user_id=user_id, target=room)
    return room


def _check_room_name_length(name: str) -> None:
    if len(name) > ROOM_NAME_MAX:
        raise ValidationFailed(
            N_("A room name has at most %(max)s characters."),
            field="name",
            params={"max": ROOM_NAME_MAX},
        )


def rename_room(session: Session, room: Room, name: str, *, user_id: int | None = None) -> Room:
    name = name.strip()
    if not name:
        raise ValidationFailed(N_("The room needs a name."), field="name")
    if any(r.name == name and r is not room for r in room.event.rooms):
        raise ValidationFailed(
            N_("There is already a room called %(name)s."), field="name", params={"name": name}
        )
    _check_room_name_length(name)
    before = room.name
    if name == before:
        return room  # nothing changed: nothing to record
    room.name = name
    session.flush()
    audit.record(
        session,
        "room.rename",
        event_id=room.event_id,
        user_id=user_id,
        target=room,
        details={"from": before, "to": name},
    )
    return room


def delete_room(session: Session, room: Room, *, user_id: int | None = None) -> None:
    table_ids = [t.id for t in room.tables]
    if table_ids and session.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.table_id.in_(table_ids), Meeting.status != MeetingStatus.CANCELLED
        )
    ):
        raise Conflict(N_("Meetings are scheduled at tables of this room; it cannot be deleted."))
    event_id = room.event_id
    session.delete(room)
    session.flush()
    audit.record(
        session, "room.delete", event_id=event_id, user_id=user_id, details={"name": room.name}
    )


def add_tables(
    session: Session, room: Room, spec: str, *, user_id: int | None = None
) -> list[Table]:
    """Create the tables ``spec`` names in ``room``; no label may exist in the event yet."""
    labels = expand_labels(spec)
    existing = set(session.scalars(select(Table.label).where(Table.event_id == room.event_id)))
    taken = [lab for lab in labels if lab in existing]
    if taken:
        raise ValidationFailed(
            N_("These tables exist already: %(labels)s."),
            field="labels",
            params={"labels": ", ".join(taken[:8]) + ("…" if len(taken) > 8 else "")},
        )
    start = len(room.tables)
    tables = [
        Table(event_id=room.event_id, room=room, label=lab, sort_order=start + i)
        for i, lab in enumerate(labels)
    ]
    session.add_all(tables)
    session.flush()
    audit.record(
        session,
        "tables.add",
        event_id=room.event_id,
        user_id=user_id,
        target=room,
        details={"labels": labels},
    )
    return tables


def delete_table(session: Session, table: Table, *, user_id: int | None = None) -> None:
    if session.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.table_id == table.id, Meeting.status != MeetingStatus.CANCELLED
        )
    ):
        raise Conflict(
            N_("Meetings are scheduled at %(table)s; it cannot be deleted."),
            params={"table": table.label},
        )
    event_id = table.event_id
    session.delete(table)
    session.flush()
    audit.record(
        session, "table.delete", event_id=event_id, user_id=user_id, details={"label": table.label}
    )


def set_table_host(
    session: Session, table: Table, participant_id: int | None, *, user_id: int | None = None
) -> Table:
    """Seat a participant at ``table`` (its own desk), or make the table pooled again.

    Refused once meetings of other companies have taken place at the table, or are about
    to (:data:`~scheduler.problem_builder.CHANGE_LEAD`): every plan of the day keeps
    those meetings where they are, and a table of its own holds only its host's
    meetings, so no plan could be made any more (QA review: a table given to a buyer
    who arrived at 11:00 made every re-optimisation of the day impossible). Meetings
    still to come are left to the next plan, which moves them elsewhere."""
    if participant_id is not None:
        participant = session.get(Participant, participant_id)
        if participant is None or participant.event_id != table.event_id:
            raise ValidationFailed(N_("Choose a participant of this event."), field="host")
        if participant_id != table.host_participant_id:
            _check_table_history(session, table, participant)
    table.host_participant_id = participant_id
    session.flush()
    audit.record(
        session,
        "table.host",
        event_id=table.event_id,
        user_id=user_id,
        target=table,
        details={"host_participant_id": participant_id},
    )
    return table


def _check_table_history(session: Session, table: Table, host: Participant) -> None:
    """Conflict when ``table`` holds a meeting without ``host`` that every plan keeps
    where it is (see :func:`set_table_host`): one that took place there, or starts within
    the lead time; or one still to come that staff placed there on the day or the
    organizer pinned there (review: a meeting staff added at a free table, which then
    became a buyer's own, made every plan impossible too)."""
    cutoff = changes_from(utcnow())
    others = list(
        session.scalars(
            select(Meeting)
            .join(Slot, Slot.id == Meeting.slot_id)
            .where(
                Meeting.table_id == table.id,
                Meeting.status != MeetingStatus.CANCELLED,
                Meeting.participant_a_id != host.id,
                Meeting.participant_b_id != host.id,
            )
            .order_by(Slot.starts_at)
        )
    )
    held = next(
        (m for m in others if m.slot.starts_at < cutoff or m.status == MeetingStatus.HELD),
        None,
    )
    if held is not None:
        raise Conflict(
            N_(
                "Meetings of other companies have already taken place at %(table)s (the "
                "first at %(time)s), and plans of the day keep them where they were, so it "
                "cannot become the own table of %(host)s now. Give %(host)s a table not used "
                "today, or add one."
            ),
            params={
                "table": table.label,
                "time": host.event.local(held.slot.starts_at).strftime("%H:%M"),
                "host": host.display_name,
            },
        )
    kept = staff_placements(session, host.event) if others else set()
    for meeting in others:
        if meeting.locked or meeting.id in kept:
            _refuse_kept(host, table, meeting.participant_a, meeting.participant_b, meeting.slot)
    pin = session.scalars(
        select(PairRule).where(
            PairRule.table_id == table.id,
            PairRule.kind == PairRuleKind.PIN,
            PairRule.participant_a_id != host.id,
            PairRule.participant_b_id != host.id,
        )
    ).first()
    if pin is not None:
        _refuse_kept(host, table, pin.participant_a, pin.participant_b, pin.slot)


def _refuse_kept(
    host: Participant, table: Table, a: Participant, b: Participant, slot: Slot | None
) -> None:
    params = {
        "a": a.display_name,
        "b": b.display_name,
        "table": table.label,
        "host": host.display_name,
    }
    if slot is None:
        raise Conflict(
            N_(
                "The meeting of %(a)s and %(b)s is pinned at %(table)s, and plans keep it "
                "there, so %(table)s cannot become the own table of %(host)s. Unpin that "
                "meeting first, or give %(host)s another table."
            ),
            params=params,
        )
    raise Conflict(
        N_(
            "The meeting of %(a)s and %(b)s at %(time)s was placed at %(table)s by staff or "
            "pinned there, and plans keep it where it is, so %(table)s cannot become the "
            "own table of %(host)s. Move or unpin that meeting first, or give %(host)s "
            "another table."
        ),
        params={**params, "time": host.event.local(slot.starts_at).strftime("%H:%M")},
    )


# --------------------------------------------------------------------------- phases


def set_phase_deadlines(
    session: Session,
    event: Event,
    deadlines: dict[str, tuple[datetime | None, datetime | None]],
    *,
    user_id: int | None = None,
) -> None:
    """Opening and closing times per phase; each phase must close after it opens and the
    phases must follow each other in order."""
    by_phase = {p.phase: p for p in event.phases}
    previous_close: datetime | None = None
    latest: datetime | None = None  # the last time given for any earlier phase
    for index, phase in enumerate(Phase):
        opens, closes = deadlines.get(phase.value, (None, None))
        if opens and closes and closes <= opens:
            raise ValidationFailed(
                N_("A phase must close after it opens."), field=f"{phase.value}_closes"
            )
        if previous_close and opens and opens < previous_close:
            # Shown next to this phase's row, so "the previous phase" needs no name.
            raise ValidationFailed(
                N_("This phase opens before the previous phase closes."),
                field=f"{phase.value}_opens",
            )
        if latest and closes and closes <= latest:
            # A phase with only a closing time must still close after the earlier ones.
            raise ValidationFailed(
                N_("This phase closes before an earlier phase opens or closes."),
                field=f"{phase.value}_closes",
            )
        previous_close = closes or previous_close
        latest = max((t for t in (latest, opens, closes) if t is not None), default=None)
        record = by_phase.get(phase.value)
        if record is None:
            record = PhaseDeadline(event=event, phase=phase.value, sort_order=index)
            session.add(record)
        record.opens_at, record.closes_at = opens, closes
    session.flush()
    audit.record(session, "phases.update", event_id=event.id, user_id=user_id, target=event)


# The phases that must be over before the fair: the schedule is made from the
# registrations and the meeting requests.
PHASES_BEFORE_THE_FAIR = frozenset({Phase.REGISTRATION, Phase.PREFERENCES})


@dataclass(frozen=True)
class DeadlineWarning:
    """A deadline that is saved but most likely wrong (an English msgid and its values).

    A warning, not a refusal: the fair's days may be moved after the deadlines were
    set, and refusing would then lock the phases page (and the change of phase on the
    day) until the organizer finds which of the two is wrong.
    """

    phase: str
    msgid: str
    params: dict[str, object] = field(default_factory=dict)


def first_fair_day(event: Event) -> date | None:
    """The fair's first day (local date): its first day, or its first slot's date when
    it has slots but no days."""
    dates = [d.date for d in event.days] or [event.local(s.starts_at).date() for s in event.slots]
    return min(dates, default=None)


def deadline_warnings(
    event: Event,
    deadlines: Mapping[str, tuple[datetime | None, datetime | None]] | None = None,
) -> list[DeadlineWarning]:
    """Phases that must be over before the fair but close on or after its first day.

    ``deadlines`` are opening and closing times as :func:`set_phase_deadlines` takes
    them (those typed on a form); without them, the event's saved ones.
    """
    first_day = first_fair_day(event)
    if first_day is None:
        return []
    if deadlines is None:
        deadlines = {p.phase: (p.opens_at, p.closes_at) for p in event.phases}
    fair_begins = datetime.combine(first_day, time(0), tzinfo=event.tz)
    return [
        DeadlineWarning(
            phase.value,
            N_(
                "This phase closes on %(closes)s, on or after the fair's first day "
                "(%(first_day)s). The schedule is made from the registrations and the "
                "meeting requests, so this phase must close before the fair: check this "
                "date, or the fair's days."
            ),
            {"closes": f"{event.local(closes):%Y-%m-%d %H:%M}", "first_day": first_day.isoformat()},
        )
        for phase in Phase
        if phase in PHASES_BEFORE_THE_FAIR
        and (closes := deadlines.get(phase.value, (None, None))[1]) is not None
        and closes > fair_begins
    ]


def set_phase(session: Session, event: Event, phase: str, *, user_id: int | None = None) -> None:
    """Move the event to ``phase`` (organizers may go back, e.g. to reopen preferences)."""
    if phase not in {p.value for p in Phase}:
        raise ValidationFailed(
            N_("Unknown phase '%(phase)s'."), field="phase", params={"phase": phase}
        )
    before = event.phase
    event.phase = phase
    session.flush()
    audit.record(
        session,
        "phase.change",
        event_id=event.id,
        user_id=user_id,
        target=event,
        details={"from": before, "to": phase},
    )


def phase_deadline(event: Event, phase: str) -> PhaseDeadline | None:
    return next((p for p in event.phases if p.phase == phase), None)


def reissue_staff_links(
    session: Session, event: Event, *, user_id: int | None, old_feed_token: str = ""
) -> None:
    """Stop the event's staff calendar and hall-board links given out so far (the web
    layer derives them from ``staff_links_version``); audited. The staff calendar's old
    address, ``old_feed_token``, is retired: it answers with an empty calendar."""
    if old_feed_token:
        retire_feeds(session, [old_feed_token], event=event, reason="reissued")
    event.staff_links_version += 1
    session.flush()
    audit.record(
        session,
        "event.reissue_staff_links",
        event_id=event.id,
        user_id=user_id,
        target=event,
        details={"version": event.staff_links_version},
    )

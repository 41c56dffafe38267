"""Copying an event for next year's fair: its set-up, moved to new dates, and nothing personal.

Chambers of commerce run the same fair every year. A copy takes the event's details and
settings (venue, address, description, time zone, contact e-mail, request and meeting
caps, screening), its days with their slot grid and breaks, every slot (also those added
or changed by hand, with their labels), its rooms and tables in their order, and its
phase deadlines. Every date moves by the same number of days, chosen by the new first
day; times keep their wall-clock value in the event's time zone, so a 10:00 meeting stays
at 10:00 even when the new date falls on the other side of a clock change.

Nothing personal is copied: no participants (so no table hosts: a table comes pooled),
contact people, needs, proposal sheets, requests, pair rules, meetings, solver runs,
reported results or audit entries. The copy starts in the first phase with no
published schedule and staff links of its own.

Services only flush; the caller commits.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db import utcnow
from scheduler.errors import ValidationFailed
from scheduler.event_setup import (
    EVENT_FIELDS,
    SLUG_PATTERN,
    _slug_taken,
    check_slug,
    flush_slug,
    one_line,
)
from scheduler.i18n import N_
from scheduler.models import (
    AuditEntry,
    Event,
    EventDay,
    FairFeedback,
    Interest,
    Meeting,
    MeetingOutcome,
    Need,
    PairRule,
    Participant,
    Phase,
    PhaseDeadline,
    Proposal,
    Room,
    ScheduleRun,
    Slot,
    Table,
)
from scheduler.names import fold_text, has_japanese
from scheduler.outcomes import fiscal_year

# Copies further ahead than this are typing mistakes (2208 for 2028), not plans.
MAX_YEARS_AHEAD = 10
# 52 weeks: the suggested new first day falls on the same weekday a year later.
SAME_WEEKDAY_NEXT_YEAR = timedelta(days=364)
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
# A year in an event's name, typed in either width ("2027", "２０２７").
_NAME_YEAR = re.compile(r"(?<![0-9０-９])(?:19|20|１９|２０)[0-9０-９]{2}(?![0-9０-９])")
# 令和N年 is the year 2018 + N (令和元年, its first, was 2019); the year 年 follows.
REIWA_YEAR_ZERO = 2018
_REIWA_YEAR = re.compile(r"(令和\s*)(元|[0-9０-９]{1,2})(?=\s*年)")
_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
# Kana, kanji and half-width katakana: a name in Japanese gets a Japanese "copy".
NAME_LENGTH = Event.__table__.c.name.type.length


@dataclass(frozen=True)
class ShiftedDay:
    """A day of the source event and the date it gets in the copy."""

    day: EventDay
    new_date: date | None  # None: no new first day chosen yet


@dataclass(frozen=True)
class ShiftedSlot:
    slot: Slot
    starts_at: datetime  # aware, UTC
    ends_at: datetime


@dataclass(frozen=True)
class ShiftedPhase:
    """A phase deadline of the source event and its times in the copy (None: not set)."""

    phase: str
    opens_at: datetime | None
    closes_at: datetime | None
    new_opens_at: datetime | None
    new_closes_at: datetime | None


@dataclass(frozen=True)
class LeftBehind:
    """What the source event holds that a copy never takes (all of it personal or of the
    source's fair only), counted so the form can say so."""

    participants: int = 0
    needs: int = 0
    proposals: int = 0
    interests: int = 0
    pair_rules: int = 0
    meetings: int = 0
    outcomes: int = 0
    survey_answers: int = 0
    runs: int = 0
    audit_entries: int = 0
    hosted_tables: int = 0


@dataclass
class CopyPlan:
    """Everything a copy of ``source`` with ``first_day`` as its first day would get."""

    source: Event
    first_day: date | None  # None: no new first day (yet): no new dates are planned
    shift_days: int
    days: list[ShiftedDay] = field(default_factory=list)
    slots: list[ShiftedSlot] = field(default_factory=list)  # with their new times
    slot_count: int = 0
    phases: list[ShiftedPhase] = field(default_factory=list)
    rooms: int = 0
    tables: int = 0
    left_behind: LeftBehind = field(default_factory=LeftBehind)


# --------------------------------------------------------------------------- suggestions


def source_first_day(event: Event) -> date | None:
    """The event's first day: its earliest day, else the local date of its first slot."""
    if event.days:
        return min(day.date for day in event.days)
    if event.slots:
        return min(event.local(slot.starts_at).date() for slot in event.slots)
    return None


def suggest_first_day(event: Event, *, today: date | None = None) -> date | None:
    """The same weekday 52 weeks on, repeated until it is no longer in the past."""
    first = source_first_day(event)
    if first is None:
        return None
    today = today or utcnow().astimezone(event.tz).date()
    candidate = first + SAME_WEEKDAY_NEXT_YEAR
    while candidate < today:
        candidate += SAME_WEEKDAY_NEXT_YEAR
    return candidate


def _replace_year(text: str, old_year: int | None, new_year: int) -> str | None:
    """``text`` with ``old_year`` (else its only year) changed to ``new_year``; None when
    it names no year."""
    years = list(_YEAR.finditer(text))
    target = [m for m in years if old_year is not None and int(m.group()) == old_year]
    if not target and len(years) == 1:
        target = years
    if not target:
        return None
    return _YEAR.sub(lambda m: str(new_year) if m.group() == target[0].group() else m.group(), text)


def _year_of(day: date, fiscal: bool) -> int:
    """The year ``day`` is in: its fiscal year (年度) or its calendar year."""
    return fiscal_year(day) if fiscal else day.year


def _move_years(
    text: str,
    pattern: re.Pattern[str],
    old: date | None,
    new: date,
    value: Callable[[re.Match[str]], int],
    write: Callable[[re.Match[str], int], str],
) -> str:
    """``text`` with the years ``pattern`` finds moved to ``new``'s: those naming
    ``old``'s year, else the only one found. A year followed by 年度 is a fiscal year and
    becomes ``new``'s fiscal year; any other becomes ``new``'s calendar year.

    ``value`` gives the Western year a match names, ``write`` a match's new text for a
    Western year.
    """
    found = [(m, text[m.end() :].lstrip().startswith("年度")) for m in pattern.finditer(text)]
    target = [(m, f) for m, f in found if old is not None and value(m) == _year_of(old, f)]
    if not target and len(found) == 1:
        target = found
    for match, fiscal in reversed(target):  # from the end: the earlier positions hold
        text = text[: match.start()] + write(match, _year_of(new, fiscal)) + text[match.end() :]
    return text


def _reiwa_value(match: re.Match[str]) -> int:
    number = match.group(2)
    return REIWA_YEAR_ZERO + (1 if number == "元" else int(unicodedata.normalize("NFKC", number)))


def _reiwa_text(match: re.Match[str], year: int) -> str:
    """令和 and the number of ``year``, in the width of digits the name used."""
    number = str(year - REIWA_YEAR_ZERO)
    if match.group(2).isascii() or match.group(2) == "元":
        return f"{match.group(1)}{number}"
    return f"{match.group(1)}{number.translate(_FULL_WIDTH_DIGITS)}"


def suggest_name(event: Event, first_day: date | None) -> str:
    """The source's name with its year moved to the new first day's: "… 2027" → "… 2028",
    "令和8年度…" → "令和9年度…" (a 年度 counts from April).

    When that leaves the name as it was (it names no year, the copy is in the same year,
    or the source has no days), "（コピー）" is added, or " (copy)" to a name without
    Japanese: two events of one name are two identical cards on the list.
    """
    name = event.name
    if first_day is not None:
        old = source_first_day(event)
        name = _move_years(
            name, _NAME_YEAR, old, first_day,
            lambda m: int(unicodedata.normalize("NFKC", m.group())),
            lambda m, y: str(y) if m.group().isascii() else str(y).translate(_FULL_WIDTH_DIGITS),
        )
        name = _move_years(name, _REIWA_YEAR, old, first_day, _reiwa_value, _reiwa_text)
    if name != event.name:
        return name
    suffix = "（コピー）" if has_japanese(event.name) else " (copy)"
    return event.name[: NAME_LENGTH - len(suffix)] + suffix


def _name_key(name: str) -> str:
    """A name as a reader tells names apart: width, case, kana and spacing aside (the
    one form searches compare text in, :func:`scheduler.names.fold_text`)."""
    return " ".join(fold_text(name).split())


def event_named(session: Session, name: str) -> Event | None:
    """An event already called ``name`` (width, case, kana and spacing aside), else None.

    Compared in Python: a site holds tens of events, and SQLite cannot fold widths.
    """
    key = _name_key(name)
    if not key:
        return None
    for event_id, other in session.execute(select(Event.id, Event.name).order_by(Event.id)):
        if _name_key(other) == key:
            return session.get(Event, event_id)
    return None


def suggest_slug(session: Session, event: Event, first_day: date | None) -> str:
    """A free slug for the copy: the source's with its year moved (``monozukuri-2028``),
    else the source's with the year added; a short suffix when that is taken too."""
    old = source_first_day(event)
    year = (first_day or old or utcnow().date()).year
    base = _replace_year(event.slug, old.year if old else None, year)
    if base is None:
        base = f"{event.slug[:44]}-{year}"
    base = base[:44].strip("-")
    if not SLUG_PATTERN.fullmatch(base) or "--" in base:
        base = f"fair-{year}"
    slug, number = base, 2
    while _slug_taken(session, slug):
        slug = f"{base}-{number}"
        number += 1
    return slug


# --------------------------------------------------------------------------- planning


def _on_new_date(moment: datetime, zone: ZoneInfo, shift: timedelta) -> datetime:
    """``moment`` (UTC) moved by ``shift`` days at the same wall-clock time in ``zone``.

    A wall-clock time the clocks skip on the new date cannot be kept: that is an error
    for the organizer (choose another first day), not a silently moved meeting.
    """
    local = moment.astimezone(zone)
    moved = datetime.combine(local.date() + shift, local.time(), tzinfo=zone)  # keeps fold
    if moved.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moved.replace(tzinfo=None):
        raise ValidationFailed(
            N_(
                "%(time)s does not exist on %(date)s in %(zone)s (the clocks change then): "
                "choose another first day."
            ),
            field="first_day",
            params={"time": f"{moved:%H:%M}", "date": moved.date().isoformat(), "zone": zone.key},
        )
    return moved.astimezone(UTC)


def _left_behind(session: Session, event: Event) -> LeftBehind:
    def count(model: type, *where: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return LeftBehind(
        participants=count(Participant, Participant.event_id == event.id),
        needs=count(
            Need,
            Need.participant_id.in_(select(Participant.id).where(Participant.event_id == event.id)),
        ),
        proposals=count(Proposal, Proposal.event_id == event.id),
        interests=count(Interest, Interest.event_id == event.id),
        pair_rules=count(PairRule, PairRule.event_id == event.id),
        meetings=count(Meeting, Meeting.event_id == event.id),
        outcomes=count(MeetingOutcome, MeetingOutcome.event_id == event.id),
        survey_answers=count(FairFeedback, FairFeedback.event_id == event.id),
        runs=count(ScheduleRun, ScheduleRun.event_id == event.id),
        audit_entries=count(AuditEntry, AuditEntry.event_id == event.id),
        hosted_tables=count(
            Table, Table.event_id == event.id, Table.host_participant_id.is_not(None)
        ),
    )


def check_first_day(event: Event, first_day: date | None, *, today: date | None = None) -> None:
    """The new first day is required (when the event has days), not past, not far off."""
    if source_first_day(event) is None:
        return
    if first_day is None:
        raise ValidationFailed(N_("Give the new first day."), field="first_day")
    today = today or utcnow().astimezone(event.tz).date()
    if first_day < today:
        raise ValidationFailed(
            N_("%(date)s is in the past: give the first day of the new fair."),
            field="first_day",
            params={"date": first_day.isoformat()},
        )
    if first_day.year > today.year + MAX_YEARS_AHEAD:
        raise ValidationFailed(
            N_("%(date)s is more than %(years)s years ahead: check the year."),
            field="first_day",
            params={"date": first_day.isoformat(), "years": MAX_YEARS_AHEAD},
        )


def plan_copy(session: Session, source: Event, first_day: date | None) -> CopyPlan:
    """What a copy of ``source`` whose first day is ``first_day`` gets.

    With ``first_day`` None (not chosen yet, or the source has no days) the plan lists
    what is copied without new dates. Raises :class:`ValidationFailed` when a slot's
    time does not exist on its new date or slots would overlap (a clock change); the
    date itself is checked by :func:`check_first_day`.
    """
    old_first = source_first_day(source)
    if old_first is None or first_day is None:
        plan = CopyPlan(source=source, first_day=None, shift_days=0)
        plan.days = [ShiftedDay(day, None) for day in source.days]
        plan.phases = [
            ShiftedPhase(p.phase, p.opens_at, p.closes_at, None, None)
            for p in sorted(source.phases, key=lambda p: p.sort_order)
        ]
    else:
        plan = _moved_plan(source, first_day, timedelta(days=(first_day - old_first).days))
    plan.slot_count = len(source.slots)
    plan.rooms = len(source.rooms)
    plan.tables = sum(len(room.tables) for room in source.rooms)
    plan.left_behind = _left_behind(session, source)
    return plan


def _moved_plan(source: Event, first_day: date, shift: timedelta) -> CopyPlan:
    zone = source.tz
    plan = CopyPlan(source=source, first_day=first_day, shift_days=shift.days)
    plan.days = [ShiftedDay(day, day.date + shift) for day in source.days]
    plan.slots = [
        ShiftedSlot(
            slot,
            _on_new_date(slot.starts_at, zone, shift),
            _on_new_date(slot.ends_at, zone, shift),
        )
        for slot in sorted(source.slots, key=lambda s: s.starts_at)
    ]
    for slot in plan.slots:
        if slot.ends_at <= slot.starts_at:  # only where the clocks change within a slot
            raise _clock_change_clash(source, slot)
    for first, second in itertools.pairwise(plan.slots):
        if second.starts_at < first.ends_at:
            raise _clock_change_clash(source, second)

    def moved(moment: datetime | None) -> datetime | None:
        return None if moment is None else _on_new_date(moment, zone, shift)

    plan.phases = [
        ShiftedPhase(p.phase, p.opens_at, p.closes_at, moved(p.opens_at), moved(p.closes_at))
        for p in sorted(source.phases, key=lambda p: p.sort_order)
    ]
    return plan


def _clock_change_clash(event: Event, slot: ShiftedSlot) -> ValidationFailed:
    return ValidationFailed(
        N_(
            "On the new dates the clocks change during the fair, and the slot at %(time)s "
            "on %(date)s would overlap another: choose another first day."
        ),
        field="first_day",
        params={
            "time": f"{event.local(slot.starts_at):%H:%M}",
            "date": event.local(slot.starts_at).date().isoformat(),
        },
    )


# --------------------------------------------------------------------------- copying


class CopiedBefore(Exception):
    """The copy form was sent again: ``event`` is the copy its first sending made."""

    def __init__(self, event: Event) -> None:
        super().__init__(f"already copied as event {event.id}")
        self.event = event


def _lock_source(session: Session, source: Event) -> None:
    """Take the source event's row until the transaction ends: copies of one event are
    made one at a time, so a form sent twice at once finds the copy of its first
    sending (:func:`copy_made_by`) instead of making a second one beside it.

    ``FOR NO KEY UPDATE``: rows that merely point at the event are not held up. On
    SQLite a no-op write takes the single write lock (waiting for another writer to
    finish), so the reads after it see what that writer committed.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE events SET id = id WHERE id = :id"), {"id": source.id})
    else:
        session.execute(
            select(Event.id).where(Event.id == source.id).with_for_update(key_share=True)
        )


def copy_made_by(session: Session, source: Event, attempt: str) -> Event | None:
    """The copy of ``source`` that the form whose one-time ``attempt`` value is given
    made (recorded in the copy's ``event.copy`` audit entry), else None."""
    if not attempt:
        return None
    event_id = session.scalar(
        select(AuditEntry.event_id)
        .where(
            AuditEntry.action == "event.copy",
            AuditEntry.details["source_event_id"].as_integer() == source.id,
            AuditEntry.details["attempt"].as_string() == attempt,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return session.get(Event, event_id) if event_id is not None else None


def copy_using_slug(session: Session, source: Event, slug: str) -> Event | None:
    """The event whose slug is ``slug`` if it is a copy of ``source`` (another tab's copy
    of the same form, made a moment before), else None."""
    return session.scalar(
        select(Event)
        .join(AuditEntry, AuditEntry.event_id == Event.id)
        .where(
            Event.slug == slug,
            AuditEntry.action == "event.copy",
            AuditEntry.details["source_event_id"].as_integer() == source.id,
        )
        .limit(1)
    )


def copy_event(
    session: Session,
    source: Event,
    *,
    name: str,
    slug: str | None,
    first_day: date | None,
    user_id: int | None = None,
    today: date | None = None,
    attempt: str = "",
    same_name_ok: bool = False,
) -> Event:
    """A new event set up like ``source``, every date moved to start on ``first_day``.

    ``slug`` is suggested (:func:`suggest_slug`) when empty. ``attempt`` is the copy
    form's one-time value, recorded with the copy: when a copy of ``source`` was already
    made with it, :class:`CopiedBefore` names that copy (the form sent twice) and no
    other is made. A name another event has is refused unless ``same_name_ok``. Raises
    :class:`ValidationFailed` naming the field at fault (name, slug, first_day).
    """
    _lock_source(session, source)
    earlier = copy_made_by(session, source, attempt)
    if earlier is not None:
        raise CopiedBefore(earlier)
    name = one_line(name)
    if not name:
        raise ValidationFailed(N_("The event needs a name."), field="name")
    # A taken slug before a taken name: the name can be kept (ticking a box), the slug
    # cannot, and a slug taken by this event's copy is the other tab's copy.
    slug = check_slug(session, slug) if slug and slug.strip() else None
    namesake = None if same_name_ok else event_named(session, name)
    if namesake is not None:
        raise ValidationFailed(
            N_(
                "Another event is already called %(name)s: give the copy a name of its own, "
                "so that the two are not mixed up."
            ),
            field="name",
            params={"name": namesake.name},
        )
    check_first_day(source, first_day, today=today)
    plan = plan_copy(session, source, first_day)
    if slug is None:
        slug = suggest_slug(session, source, plan.first_day)

    event = Event(name=name, slug=slug, phase=Phase.REGISTRATION)
    for key in EVENT_FIELDS:
        setattr(event, key, getattr(source, key))
    session.add(event)
    flush_slug(session, slug)

    days = {}
    for shifted in plan.days:
        old = shifted.day
        assert shifted.new_date is not None  # check_first_day: a source with days needs one
        days[old.id] = EventDay(
            event=event,
            date=shifted.new_date,
            start_time=old.start_time,
            end_time=old.end_time,
            meeting_minutes=old.meeting_minutes,
            changeover_minutes=old.changeover_minutes,
            breaks=[dict(b) for b in old.breaks],
        )
    session.add_all(days.values())
    session.add_all(
        Slot(
            event=event,
            day=days.get(s.slot.day_id) if s.slot.day_id is not None else None,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            label=s.slot.label,
        )
        for s in plan.slots
    )
    for old_room in source.rooms:
        room = Room(event=event, name=old_room.name, sort_order=old_room.sort_order)
        session.add(room)
        # Hosts are participants of the source's fair: the copy's tables are pooled.
        session.add_all(
            Table(event_id=event.id, room=room, label=t.label, sort_order=t.sort_order)
            for t in old_room.tables
        )
    shifted = {p.phase: p for p in plan.phases}
    session.add_all(  # all six phases in order, as create_event makes them
        PhaseDeadline(
            event=event,
            phase=phase.value,
            sort_order=index,
            opens_at=shifted[phase].new_opens_at if phase in shifted else None,
            closes_at=shifted[phase].new_closes_at if phase in shifted else None,
        )
        for index, phase in enumerate(Phase)
    )
    session.flush()
    session.refresh(event)
    audit.record(
        session,
        "event.copy",
        event_id=event.id,
        user_id=user_id,
        target=event,
        details={
            "source_event_id": source.id,
            "source_name": source.name,
            "shift_days": plan.shift_days,
            "days": len(plan.days),
            "slots": len(plan.slots),
            "rooms": plan.rooms,
            "tables": plan.tables,
            "attempt": attempt,
        },
    )
    return event

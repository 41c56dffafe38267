"""An event's history for its organizers: every audit entry (:mod:`scheduler.audit`),
newest first, a page at a time, by area and by company.

Entries are grouped into areas by their action's prefix (``participant.update`` is a
participant change): set-up, participants, requests, schedule, the fair day, after the
fair. An action no area knows (added later, or from an older version) is in
:data:`OTHER`, so the history never loses an entry. The companies, slots, rooms, tables,
needs and meetings that a page's entries name are loaded in one query per kind
(:class:`Related`), never one per entry; users by name only.

Read only: nothing here writes, so any session will do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, case, false, func, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    Need,
    Organization,
    Participant,
    ParticipantRole,
    Room,
    ScheduleRun,
    Slot,
    Table,
    User,
)
from scheduler.participant_import import code_sort_key

SETUP = "setup"
PARTICIPANTS = "participants"
REQUESTS = "requests"
SCHEDULE = "schedule"
DAY = "day"
AFTER = "after"
OTHER = "other"
#: The areas in the order the filter lists them (OTHER last).
AREAS: tuple[str, ...] = (SETUP, PARTICIPANTS, REQUESTS, SCHEDULE, DAY, AFTER, OTHER)

#: An action's area by the part of its name before the dot.
AREA_OF_PREFIX: dict[str, str] = {
    "event": SETUP,
    "slot": SETUP,
    "room": SETUP,
    "table": SETUP,
    "tables": SETUP,
    "phases": SETUP,
    "phase": SETUP,
    "participant": PARTICIPANTS,
    "participants": PARTICIPANTS,
    "profile": PARTICIPANTS,
    "need": PARTICIPANTS,
    "preference": REQUESTS,
    "proposal": REQUESTS,
    "pair_rule": REQUESTS,
    "availability": REQUESTS,
    "run": SCHEDULE,
    "schedule": SCHEDULE,
    "sheet": SCHEDULE,
    "sheets": SCHEDULE,
    "repair": DAY,  # the rest of the day re-optimised, in the staff log too
    "day": DAY,
    "outcome": AFTER,
    "feedback": AFTER,
}
#: Actions whose area is not their prefix's: a fair day's dates and slots are set up
#: before the fair (``day.save`` is recorded under the day's prefix for the staff log).
AREA_OF_ACTION: dict[str, str] = {
    "day.save": SETUP,
    "day.delete": SETUP,
}

DEFAULT_PER_PAGE = 50
#: Entries read at a time for the whole list (the CSV).
CHUNK = 500

_SLOT_KEY = re.compile(r"s(\d+)")


def area_of(action: str) -> str:
    """The area ``action`` belongs to; :data:`OTHER` for an action no area knows."""
    if action in AREA_OF_ACTION:
        return AREA_OF_ACTION[action]
    prefix, dot, _rest = action.partition(".")
    return AREA_OF_PREFIX.get(prefix, OTHER) if dot else OTHER


def _known_area(area: str) -> ColumnElement[bool]:
    """The entries of ``area`` (not OTHER) as SQL: :func:`area_of` as a condition."""
    prefixes = [p for p, a in AREA_OF_PREFIX.items() if a == area]
    by_prefix: ColumnElement[bool] = or_(
        false(), *(AuditEntry.action.startswith(f"{p}.", autoescape=True) for p in prefixes)
    )
    elsewhere = [
        action for action, a in AREA_OF_ACTION.items()
        if a != area and action.partition(".")[0] in prefixes
    ]
    if elsewhere:
        by_prefix = and_(by_prefix, AuditEntry.action.not_in(elsewhere))
    here = [action for action, a in AREA_OF_ACTION.items() if a == area]
    return or_(AuditEntry.action.in_(here), by_prefix) if here else by_prefix


def in_area(area: str) -> ColumnElement[bool]:
    """The entries of ``area`` as an SQL condition (OTHER: those of no known area)."""
    if area == OTHER:
        return not_(or_(*(_known_area(a) for a in AREAS if a != OTHER)))
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}")
    return _known_area(area)


class JsonListHas(FunctionElement[bool]):
    """``details[key]`` (a JSON list of ids) holds ``value``: an entry that names the
    company among those it concerns (a meeting moved on the day names both sides under
    ``affected``; a request, its counterpart under ``to``). ``key`` is one of ours,
    written into the SQL, never a user's."""

    type = Boolean()
    inherit_cache = True
    name = "json_list_has"


@compiles(JsonListHas, "sqlite")
def _json_list_has_sqlite(element: JsonListHas, compiler: SQLCompiler, **kw: Any) -> str:
    column, key, value = (compiler.process(c, **kw) for c in element.clauses)
    path = f"'$.' || {key}"
    # A list of ids, or a single id (a request's "to"); an object's values do not count.
    return (f"(json_type({column}, {path}) IN ('array', 'integer') AND EXISTS "
            f"(SELECT 1 FROM json_each({column}, {path}) "
            f"WHERE json_each.type = 'integer' AND json_each.value = {value}))")


@compiles(JsonListHas, "postgresql")
def _json_list_has_postgresql(element: JsonListHas, compiler: SQLCompiler, **kw: Any) -> str:
    column, key, value = (compiler.process(c, **kw) for c in element.clauses)
    # With json's own functions, not a cast to jsonb: the json column keeps text jsonb
    # refuses (a NUL), and one such entry would break the filter for the whole event.
    item = f"({column} -> CAST({key} AS text))"
    wanted = f"CAST(CAST({value} AS bigint) AS text)"
    return (f"((json_typeof({item}) = 'number' AND CAST({item} AS text) = {wanted}) OR "
            f"(json_typeof({item}) = 'array' AND EXISTS (SELECT 1 FROM "
            f"json_array_elements({item}) AS element WHERE json_typeof(element) = 'number' "
            f"AND CAST(element AS text) = {wanted})))")


#: The keys of an entry's details that list the companies it concerns, besides the one
#: that acted or was acted on (see :meth:`HistoryFilter.conditions`), and the actions
#: that write them: only their entries' details are read as JSON in SQL (PostgreSQL
#: refuses to read a json value with a NUL in it; these details are the code's own).
CONCERNED_KEYS = {
    "affected": ("day.%", "repair.%", "pair_rule.%", "run.move_meeting"),
    "to": ("preference.%",),
}


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which entries to show: one area (``""``: all) and one company (None: all)."""

    area: str = ""
    participant_id: int | None = None

    def conditions(self, event: Event) -> list[ColumnElement[bool]]:
        wanted: list[ColumnElement[bool]] = [AuditEntry.event_id == event.id]
        if self.area:
            wanted.append(in_area(self.area))
        if self.participant_id is not None:
            # The company acted or was acted on (a reissued link, an approval), or the
            # entry concerns it: a meeting of its moved on the day, a request made to it.
            wanted.append(or_(
                AuditEntry.participant_id == self.participant_id,
                and_(AuditEntry.target_type == Participant.__name__,
                     AuditEntry.target_id == self.participant_id),
                *(case((or_(*(AuditEntry.action.like(a) for a in actions)),
                        JsonListHas(AuditEntry.details, key, self.participant_id)),
                       else_=false())
                  for key, actions in CONCERNED_KEYS.items()),
            ))
        return wanted


@dataclass(slots=True)
class Related:
    """What a batch of entries names, each kind loaded in one query, by id.

    ``participants_by_code``: the companies that entries written with codes name (pair
    rules, meetings moved in a run), as the codes are now."""

    participants: dict[int, Participant] = field(default_factory=dict)
    participants_by_code: dict[str, Participant] = field(default_factory=dict)
    slots: dict[int, Slot] = field(default_factory=dict)
    rooms: dict[int, Room] = field(default_factory=dict)
    tables: dict[int, Table] = field(default_factory=dict)
    needs: dict[int, Need] = field(default_factory=dict)
    meetings: dict[int, Meeting] = field(default_factory=dict)
    runs: set[int] = field(default_factory=set)  # the runs that still exist

    def participant(self, value: object) -> Participant | None:
        """The company with id ``value`` (an int as details store it), if it still exists."""
        wanted = value if isinstance(value, int) and not isinstance(value, bool) else None
        return self.participants.get(wanted) if wanted is not None else None

    def slot(self, value: object) -> Slot | None:
        """The slot with id ``value``, or with the slot key ``value`` ("s12")."""
        if isinstance(value, str) and (match := _SLOT_KEY.fullmatch(value)):
            value = int(match.group(1))
        return self.slots.get(value) if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One entry with who made it and what it concerns, ready to describe."""

    entry: AuditEntry
    area: str
    #: The account's name; None when no account acted (the company itself, the system).
    user_name: str | None
    #: The company the entry concerns: the one that acted or was acted on.
    company: Participant | None
    related: Related
    #: Without such a company, the ones the entry's changes concern (both sides of a
    #: meeting moved on the day), for the Company column.
    concerned: list[Participant] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.entry.action

    @property
    def details(self) -> dict[str, Any]:
        return self.entry.details if isinstance(self.entry.details, dict) else {}

    @property
    def by_company(self) -> bool:
        """No account acted but a company did: through its own secret link."""
        return self.entry.user_id is None and self.entry.participant_id is not None

    def target(self, kind: type) -> Any:
        """The entry's target if it is a ``kind`` (Slot, Room, …) that still exists."""
        entry = self.entry
        if entry.target_type != kind.__name__ or entry.target_id is None:
            return None
        if kind is ScheduleRun:
            return entry.target_id if entry.target_id in self.related.runs else None
        store = {Participant: self.related.participants, Slot: self.related.slots,
                 Room: self.related.rooms, Table: self.related.tables, Need: self.related.needs}
        return store[kind].get(entry.target_id) if kind in store else None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of the history: its items, its number (1-based) and the whole count."""

    items: list[HistoryItem]
    number: int
    per_page: int
    total: int


def history_page(
    session: Session,
    event: Event,
    wanted: HistoryFilter = HistoryFilter(),
    *,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> HistoryPage:
    """Page ``page`` of ``event``'s entries that ``wanted`` selects, newest first.

    A page beyond the last gives the last page; below 1, the first (an old bookmark
    still opens a page)."""
    conditions = wanted.conditions(event)
    total = session.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(page, 1), pages)
    entries = session.scalars(
        select(AuditEntry).where(*conditions)
        .order_by(AuditEntry.id.desc())
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).all()
    return HistoryPage(_items(session, event, entries), number, per_page, total)


def all_history(
    session: Session, event: Event, wanted: HistoryFilter = HistoryFilter(), *, chunk: int = CHUNK
) -> Iterator[HistoryItem]:
    """Every entry ``wanted`` selects, newest first, read ``chunk`` entries at a time."""
    conditions = wanted.conditions(event)
    before: int | None = None
    while True:
        query = select(AuditEntry).where(*conditions)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        entries = session.scalars(query.order_by(AuditEntry.id.desc()).limit(chunk)).all()
        if not entries:
            return
        yield from _items(session, event, entries)
        if len(entries) < chunk:
            return
        before = entries[-1].id


def companies(session: Session, event: Event) -> list[tuple[int, str, str]]:
    """Every company registered in ``event`` as ``(id, code, name)``, buyers first, then
    by code (the company filter's choices; withdrawn and declined ones too)."""
    rows = session.execute(
        select(Participant.id, Participant.code, Organization.name, Participant.role)
        .join(Organization, Organization.id == Participant.organization_id)
        .where(Participant.event_id == event.id)
    ).all()
    rows.sort(key=lambda r: (r.role != ParticipantRole.BUYER, code_sort_key(r.code or ""), r.id))
    return [(r.id, r.code, r.name) for r in rows]


# --------------------------------------------------------------------------- loading


def _items(session: Session, event: Event, entries: Sequence[AuditEntry]) -> list[HistoryItem]:
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()
                 ) if user_ids else {}
    related = _related(session, event, entries)
    items = []
    for entry in entries:
        company = related.participants.get(entry.participant_id) if entry.participant_id else None
        if company is None and entry.target_type == Participant.__name__:
            company = related.participants.get(entry.target_id) if entry.target_id else None
        details = entry.details if isinstance(entry.details, dict) else {}
        affected = details.get("affected") if company is None else None
        concerned = [related.participants[i] for i in _ints(affected or [])
                     if i in related.participants] if isinstance(affected, list) else []
        items.append(HistoryItem(
            entry=entry,
            area=area_of(entry.action),
            user_name=names.get(entry.user_id) if entry.user_id is not None else None,
            company=company,
            related=related,
            concerned=sorted(concerned, key=lambda p: (code_sort_key(p.code or ""), p.id)),
        ))
    return items


def _ints(values: Iterable[object]) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def _related(session: Session, event: Event, entries: Sequence[AuditEntry]) -> Related:
    """Load, one query per kind, every row the entries name (see :class:`Related`)."""
    wanted: dict[str, set[Any]] = {
        "participants": set(), "codes": set(), "slots": set(), "rooms": set(), "tables": set(),
        "needs": set(), "meetings": set(), "runs": set(),
    }
    by_target = {Participant.__name__: "participants", Slot.__name__: "slots",
                 Room.__name__: "rooms", Table.__name__: "tables", Need.__name__: "needs",
                 ScheduleRun.__name__: "runs"}
    for entry in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        if entry.participant_id is not None:
            wanted["participants"].add(entry.participant_id)
        if entry.target_id is not None and entry.target_type in by_target:
            wanted[by_target[entry.target_type]].add(entry.target_id)
        _wanted_from_details(entry.action, details, wanted)
    related = Related()
    if wanted["meetings"]:
        related.meetings = {m.id: m for m in session.scalars(
            select(Meeting).where(Meeting.id.in_(_ints(wanted["meetings"])),
                                  Meeting.event_id == event.id))}
        for meeting in related.meetings.values():
            wanted["participants"] |= {meeting.participant_a_id, meeting.participant_b_id}
    in_event = Participant.event_id == event.id
    with_names = selectinload(Participant.organization)
    if wanted["participants"]:
        related.participants = {p.id: p for p in session.scalars(
            select(Participant).where(Participant.id.in_(_ints(wanted["participants"])), in_event)
            .options(with_names))}
    codes = {c for c in wanted["codes"] if isinstance(c, str) and c}
    if codes:
        related.participants_by_code = {p.code: p for p in session.scalars(
            select(Participant).where(Participant.code.in_(codes), in_event).options(with_names))}
    slot_ids = _ints(wanted["slots"]) | {
        int(m.group(1)) for key in wanted["slots"]
        if isinstance(key, str) and (m := _SLOT_KEY.fullmatch(key))
    }
    if slot_ids:
        related.slots = {s.id: s for s in session.scalars(
            select(Slot).where(Slot.id.in_(slot_ids), Slot.event_id == event.id))}
    if wanted["rooms"]:
        related.rooms = {r.id: r for r in session.scalars(
            select(Room).where(Room.id.in_(_ints(wanted["rooms"])), Room.event_id == event.id))}
    if wanted["tables"]:
        related.tables = {t.id: t for t in session.scalars(
            select(Table).where(Table.id.in_(_ints(wanted["tables"])),
                                Table.event_id == event.id))}
    if wanted["needs"]:
        related.needs = {n.id: n for n in session.scalars(
            select(Need).join(Participant, Participant.id == Need.participant_id)
            .where(Need.id.in_(_ints(wanted["needs"])), in_event))}
    if wanted["runs"]:
        related.runs = set(session.scalars(
            select(ScheduleRun.id).where(ScheduleRun.id.in_(_ints(wanted["runs"])),
                                         ScheduleRun.event_id == event.id)))
    return related


def _wanted_from_details(action: str, details: dict[str, Any], wanted: dict[str, set[Any]]) -> None:
    """What an entry's details name, by what its action stores (see each audit.record)."""
    if isinstance(details.get("affected"), list):  # the fair day's changes
        _add(wanted["participants"], *details["affected"])
    if action.startswith("preference.") and "to" in details:
        _add(wanted["participants"], details["to"])
    elif action in ("proposal.accept", "proposal.decline"):
        _add(wanted["participants"], details.get("supplier"))
        _add(wanted["needs"], details.get("need"))
    elif action in ("proposal.submit", "proposal.update"):
        _add(wanted["needs"], details.get("need"))
    elif action == "table.host":
        _add(wanted["participants"], details.get("host_participant_id"))
    elif action == "pair_rule.remove":
        _add(wanted["participants"], details.get("a"), details.get("b"))
    elif action.startswith("pair_rule."):
        _add(wanted["codes"], details.get("a"), details.get("b"))
        _add(wanted["slots"], details.get("slot"))
    elif action == "run.move_meeting":
        _add(wanted["codes"], details.get("a"), details.get("b"))
        for side in ("from", "to"):
            place = details.get(side)
            if isinstance(place, dict):
                _add(wanted["slots"], place.get("slot"))
    elif action == "outcome.report":
        _add(wanted["meetings"], details.get("meeting_id"))


def _add(wanted: set[Any], *values: object) -> None:
    """Add the ids and codes among ``values`` (details may hold anything: a list, None)."""
    wanted.update(v for v in values if isinstance(v, int | str) and not isinstance(v, bool))

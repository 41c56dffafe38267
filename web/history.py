"""The event's history for its organizers: every recorded change, who made it and when.

* ``/events/<id>/history`` — the audit trail of the event (:mod:`scheduler.history`),
  newest first, 50 to a page, filtered by area and by company (a GET form whose values
  the page links keep);
* ``/events/<id>/history.csv`` — the same filtered list, every page, for Excel (UTF-8
  with a BOM, CRLF, cells that could read as formulas kept as text).

Each entry is described here, in the reader's language, from what its ``audit.record``
call stores: a label for the action (an action this module does not know shows its
code), the company it concerns, and the useful parts of its details, picked field by
field — never the stored JSON, which could carry more than a reader should see.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, request, send_file, url_for
from flask_babel import get_locale, lazy_gettext, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from scheduler import event_setup
from scheduler import history as events_history
from scheduler.history import HistoryFilter, HistoryItem
from scheduler.models import (
    Event,
    MeetingStatus,
    Need,
    Participant,
    Room,
    ScheduleRun,
    Slot,
    Table,
)
from scheduler.names import has_japanese
from scheduler.schedule_export import BOM
from scheduler.spreadsheet import cell_text
from web.auth import organizer_required
from web.database import get_session
from web.filters import PHASE_LABELS, label_colon, list_separator, local_time
from web.ids import parse_id
from web.outcomes import (
    JOIN_AGAIN_LABELS,
    NEXT_STEP_LABELS,
    PROSPECT_LABELS,
    SATISFACTION_LABELS,
    in_parentheses,
    yen,
)
from web.pagination import Page, current_path, requested_page
from web.participant_access import ROLE_LABELS
from web.preferences import LEVEL_LABELS
from web.staff import ACTION_LABELS as DAY_ACTION_LABELS
from web.staff import MEETING_STATUS_LABELS, log_value

bp = Blueprint("history", __name__, url_prefix="/events/<int:event_id>")

PER_PAGE = 50
#: How the history writes a moment: the date too (an event's history spans months).
WHEN_FORMAT = "%Y-%m-%d %H:%M"

AREA_LABELS = {
    events_history.SETUP: lazy_gettext("Event set-up"),
    events_history.PARTICIPANTS: lazy_gettext("Participants"),
    events_history.REQUESTS: lazy_gettext("Requests"),
    events_history.SCHEDULE: lazy_gettext("Schedule"),
    events_history.DAY: lazy_gettext("On the day"),
    events_history.AFTER: lazy_gettext("After the fair"),
    events_history.OTHER: lazy_gettext("Other changes"),
}
assert tuple(AREA_LABELS) == events_history.AREAS

ACTION_LABELS = {
    # Set-up
    "event.create": lazy_gettext("Event created"),
    "event.copy": lazy_gettext("Event created as a copy"),
    "event.update": lazy_gettext("Event details changed"),
    "event.reissue_staff_links": lazy_gettext("Staff links reissued"),
    "slot.add": lazy_gettext("Slot added"),
    "slot.update": lazy_gettext("Slot changed"),
    "slot.delete": lazy_gettext("Slot deleted"),
    "room.add": lazy_gettext("Room added"),
    "room.rename": lazy_gettext("Room renamed"),
    "room.delete": lazy_gettext("Room deleted"),
    "tables.add": lazy_gettext("Tables added"),
    "table.delete": lazy_gettext("Table deleted"),
    "table.host": lazy_gettext("Table host changed"),
    "phases.update": lazy_gettext("Phase dates changed"),
    "phase.change": lazy_gettext("Phase changed"),
    # Participants
    "participant.create": lazy_gettext("Participant added"),
    "participant.update": lazy_gettext("Participant details changed"),
    "participants.import": lazy_gettext("Participants imported"),
    "participant.self_register": lazy_gettext("Registered on the registration form"),
    "participant.approve": lazy_gettext("Registration approved"),
    "participant.reject": lazy_gettext("Registration declined"),
    "participant.allow_company_edit": lazy_gettext("Allowed to change the company profile"),
    "participant.token_reissue": lazy_gettext("Secret link reissued"),
    "participant.withdraw": lazy_gettext("Withdrawal recorded"),
    "participant.reinstate": lazy_gettext("Withdrawal undone"),
    "profile.confirm": lazy_gettext("Company profile confirmed"),
    "profile.update": lazy_gettext("Company profile changed"),
    "need.create": lazy_gettext("Need added"),
    "need.update": lazy_gettext("Need changed"),
    "need.delete": lazy_gettext("Need deleted"),
    # Requests
    "preference.request": lazy_gettext("Meeting requested"),
    "preference.change": lazy_gettext("Meeting request changed"),
    "preference.withdraw": lazy_gettext("Meeting request withdrawn"),
    "preference.accept": lazy_gettext("Meeting request accepted"),
    "preference.decline": lazy_gettext("Meeting request declined"),
    "preference.settings": lazy_gettext("Request settings changed"),
    "preference.remind": lazy_gettext("Reminder to make requests sent"),
    "proposal.submit": lazy_gettext("Proposal sheet submitted"),
    "proposal.update": lazy_gettext("Proposal sheet changed"),
    "proposal.withdraw": lazy_gettext("Proposal sheet withdrawn"),
    "proposal.accept": lazy_gettext("Proposal sheet accepted"),
    "proposal.decline": lazy_gettext("Proposal sheet declined"),
    "pair_rule.forbid": lazy_gettext("Pair rule set: never meet"),
    "pair_rule.force": lazy_gettext("Pair rule set: always meet"),
    "pair_rule.pin": lazy_gettext("Pair rule set: meet at a fixed time"),
    "pair_rule.remove": lazy_gettext("Pair rule removed"),
    "availability.change": lazy_gettext("Availability changed"),
    # Schedule
    "run.start": lazy_gettext("Solver run started"),
    "run.cancel": lazy_gettext("Solver run stopped"),
    "run.move_meeting": lazy_gettext("Meeting moved in a run"),
    "schedule.publish": lazy_gettext("Schedule published"),
    "sheet.print": lazy_gettext("Schedule sheet printed"),
    "sheets.prepare": lazy_gettext("Schedule sheets prepared"),
    "repair.preview": lazy_gettext("Re-optimisation previewed"),
    # After the fair
    "outcome.report": lazy_gettext("Meeting result reported"),
    "outcome.remind": lazy_gettext("Reminder to report results sent"),
    "outcome.remind_survey": lazy_gettext("Reminder to answer the survey sent"),
    "feedback.answer": lazy_gettext("Survey answered"),
    # The fair day's own labels (the staff change log's), and re-optimisation applied.
    **DAY_ACTION_LABELS,
}

#: Fields of event.update, in the order the event form has them.
EVENT_FIELD_LABELS = {
    "slug": lazy_gettext("Short name for links and files"),
    "venue": lazy_gettext("Venue"),
    "address": lazy_gettext("Address"),
    "description": lazy_gettext("Description"),
    "timezone": lazy_gettext("Time zone"),
    "contact_email": lazy_gettext("Contact e-mail"),
    "max_requests": lazy_gettext("Requests per participant (cap)"),
    "default_max_meetings": lazy_gettext("Meetings per participant (default cap)"),
    "screening_enabled": lazy_gettext("The receiving side screens requests"),
}
#: Long texts: the history says that they changed, not what they say.
TEXT_FIELDS = frozenset({"description", "about", "strengths", "what_we_buy", "equipment",
                         "materials"})

#: Fields of participant.update (scheduler.participant_import._snapshot).
PARTICIPANT_FIELD_LABELS = {
    "name": lazy_gettext("Company name"),
    "code": lazy_gettext("Code"),
    "role": lazy_gettext("Role"),
    "department": lazy_gettext("Department"),
    "contact": lazy_gettext("Contact person"),
    "email": lazy_gettext("E-mail"),
    "max_meetings": lazy_gettext("Meetings at most"),
    "parallel_desks": lazy_gettext("Parallel desks"),
}

#: Fields of profile.update (scheduler.profiles.ProfileData), as the profile form names them.
PROFILE_FIELD_LABELS = {
    "name": lazy_gettext("Company name"),
    "name_kana": lazy_gettext("Company name (kana)"),
    "department": lazy_gettext("Department"),
    "prefecture": lazy_gettext("Prefecture"),
    "city": lazy_gettext("City"),
    "industry": lazy_gettext("Industry"),
    "employees": lazy_gettext("Employees"),
    "website": lazy_gettext("Website"),
    "description": lazy_gettext("About the company"),
    "what_we_buy": lazy_gettext("What we buy"),
    "technologies": lazy_gettext("Technologies"),
    "tags": lazy_gettext("Other keywords"),
    "equipment": lazy_gettext("Equipment"),
    "materials": lazy_gettext("Materials handled"),
    "certifications": lazy_gettext("Certifications"),
    "lot_sizes": lazy_gettext("Lot sizes"),
    "strengths": lazy_gettext("Strengths and differences from others"),
}

#: Fields of need.update (scheduler.profiles._need_values), as the need form names them.
NEED_FIELD_LABELS = {
    "title": lazy_gettext("Title"),
    "technologies": lazy_gettext("Technologies wanted"),
    "material": lazy_gettext("Material"),
    "lot_size": lazy_gettext("Lot size"),
    "timing": lazy_gettext("Timing"),
    "description": lazy_gettext("Description"),
    "published": lazy_gettext("Published (suppliers can see it)"),
}

RULE_LABELS = {
    "forbid": lazy_gettext("never"),
    "force": lazy_gettext("always"),
    "pin": lazy_gettext("pinned"),
}


# --------------------------------------------------------------------------- lines


def _page_is_japanese() -> bool:
    return str(get_locale() or "ja").startswith("ja")


def _marked(value: object) -> object:
    """A value in a line: Japanese data on a page in another language in ``<span
    lang="ja">`` (as the ``ja`` filter marks it), anything else as it is."""
    if isinstance(value, str) and has_japanese(value) and not _page_is_japanese():
        return Markup('<span lang="ja">%s</span>') % value
    return value


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an entry's details: a translated text with ``%(name)s`` placeholders
    for ``params`` (names, times, translated words), or finished text (``params`` None).

    In a template it is HTML (``__html__``: escaped, Japanese data marked); in the CSV,
    :meth:`plain` text."""

    text: str
    params: dict[str, object] | None = None

    def plain(self) -> str:
        return self.text % self.params if self.params is not None else self.text

    def __html__(self) -> str:
        if self.params is None:
            return str(escape(self.text))
        return str(escape(self.text) % {k: _marked(v) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.plain()


def labelled(label: object, value: object) -> Line:
    """"Label: value", the colon in the reader's language (：in Japanese)."""
    return Line(str(label).replace("%", "%%") + label_colon() + "%(value)s",
                {"value": _text(value)})


def _text(value: object) -> str:
    """A stored value as the history shows it: none as a dash, yes/no in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list | tuple):
        return list_separator().join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "—"  # never a stored structure as it is
    return str(value)


def _change(label: object, before: object, after: object) -> Line:
    """"Label: before → after"."""
    return labelled(label, f"{_text(before)} → {_text(after)}")


def _changed(names: Iterable[str], labels: dict[str, Any]) -> Line | None:
    """"Changed: Website, Technologies" for the fields ``names`` (in the form's order;
    a field the labels do not know shows its stored name)."""
    names = list(names)
    if not names:
        return None
    ordered = [n for n in labels if n in names] + sorted(n for n in names if n not in labels)
    return labelled(_("Changed"), [str(labels.get(n, n)) for n in ordered])


def company_name(participant: Participant | None, fallback: object = None) -> str:
    """"B001 発注重工株式会社"; ``fallback`` (a code, an id as stored) for a company
    no longer in the event."""
    if participant is None:
        return _text(fallback)
    return f"{participant.code} {participant.organization.name}".strip()


@dataclass(slots=True)
class Described:
    """An entry as the page and the CSV show it."""

    label: str
    known: bool  # False: an action this module does not know (its code is the label)
    lines: list[Line] = field(default_factory=list)
    run_id: int | None = None  # the run it concerns, if it still exists


class _Describer:
    """What each action's details say, line by line (see each ``audit.record`` call)."""

    def __init__(self, event: Event, item: HistoryItem) -> None:
        self.event = event
        self.item = item
        self.details = item.details
        self.related = item.related
        self.lines: list[Line] = []

    def add(self, line: Line | None) -> None:
        if line is not None:
            self.lines.append(line)

    def when(self, value: object, fmt: str = WHEN_FORMAT) -> str:
        """A stored ISO time (UTC) in the event's zone; "—" when it is not one."""
        if not isinstance(value, str):
            return "—"
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return local_time(moment, self.event, fmt)

    def span(self, starts: object, ends: object) -> str:
        return f"{self.when(starts)}–{self.when(ends, '%H:%M')}"

    def slot(self, value: object) -> str:
        slot = self.related.slot(value)
        if slot is None:
            return _text(value)
        return f"{local_time(slot.starts_at, self.event, WHEN_FORMAT)}–" \
               f"{local_time(slot.ends_at, self.event, '%H:%M')}"

    def by_code(self, code: object) -> str:
        return company_name(self.related.participants_by_code.get(code)
                            if isinstance(code, str) else None, code)

    def pair(self, a: str, b: str) -> Line:
        return labelled(_("Pair"), f"{a} – {b}")

    # ----------------------------------------------------------------- by area

    def describe(self) -> None:
        action = self.item.action
        method = _DESCRIBERS.get(action) or _DESCRIBERS.get(action.partition(".")[0] + ".*")
        if method is not None:
            method(self)

    def event_update(self) -> None:
        d = self.details
        for name, label in EVENT_FIELD_LABELS.items():
            pair = d.get(name)
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            if name in TEXT_FIELDS:
                self.add(_changed([name], EVENT_FIELD_LABELS))
            else:
                self.add(_change(label, *pair))

    def event_copy(self) -> None:
        if self.details.get("source_name"):
            self.add(labelled(_("Copied from"), self.details["source_name"]))

    def day_saved(self) -> None:
        d = self.details
        if d.get("date"):
            self.add(Line(ngettext("%(date)s: %(num)s slot", "%(date)s: %(num)s slots",
                                   _int(d.get("slots")), date=str(d["date"]))))

    def day_deleted(self) -> None:
        if self.details.get("date"):
            self.add(labelled(_("Date"), self.details["date"]))

    def slot_added(self) -> None:
        slot = self.item.target(Slot)
        if slot is not None:
            self.add(labelled(_("Slot"), self.slot(slot.id)))

    def slot_changed(self) -> None:
        d = self.details
        before, after = d.get("before"), d.get("after")
        if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) == 2:
            self.add(_change(_("Slot"), self.span(*before), self.span(*after)))
        moved = d.get("meetings")
        if isinstance(moved, list) and moved:
            self.add(Line(ngettext("%(num)d meeting moved with it",
                                   "%(num)d meetings moved with it", len(moved))))

    def slot_deleted(self) -> None:
        self.add(labelled(_("Slot"), self.when(self.details.get("starts_at"))))

    def room(self) -> None:
        d = self.details
        if self.item.action == "room.rename" and d.get("from") and d.get("to"):
            self.add(_change(_("Room"), d["from"], d["to"]))  # its names then, not now
            return
        room = self.item.target(Room)
        name = room.name if room is not None else d.get("name")
        if name:
            self.add(labelled(_("Room"), name))
        if self.item.action == "tables.add" and self.details.get("labels"):
            self.add(labelled(_("Tables"), self.details["labels"]))

    def table(self) -> None:
        table = self.item.target(Table)
        label = table.label if table is not None else self.details.get("label")
        if label:
            self.add(labelled(_("Table"), label))
        if self.item.action == "table.host":
            host = self.details.get("host_participant_id")
            self.add(labelled(_("Host"), company_name(self.related.participant(host), host)
                              if host is not None else _("No host")))

    def phase_changed(self) -> None:
        d = self.details
        self.add(_change(_("Current phase"), _phase(d.get("from")), _phase(d.get("to"))))

    def participant_updated(self) -> None:
        for name, label in PARTICIPANT_FIELD_LABELS.items():
            pair = self.details.get(name)
            if isinstance(pair, list) and len(pair) == 2:
                before, after = pair
                if name == "role":
                    before, after = _role(before), _role(after)
                self.add(_change(label, before, after))

    def participants_imported(self) -> None:
        d = self.details
        if d.get("filename"):
            self.add(labelled(_("File"), d["filename"]))
        self.add(Line(_("Imported: %(created)s new companies, %(reused)s from the directory, "
                        "%(updated)s updated, %(unchanged)s unchanged.",
                        created=_int(d.get("created")), reused=_int(d.get("reused")),
                        updated=_int(d.get("updated")), unchanged=_int(d.get("unchanged")))))

    def self_registered(self) -> None:
        d = self.details
        typed = d.get("company_as_typed")
        company = self.item.company
        if typed and (company is None or typed != company.organization.name):
            self.add(labelled(_("Company name as typed"), typed))
        if d.get("reused_organization"):
            self.add(Line(_("Matched a company already in the directory")))

    def withdrawn(self) -> None:
        cancelled = self.details.get("cancelled")
        if isinstance(cancelled, list):
            self.add(Line(ngettext("%(num)d planned meeting cancelled",
                                   "%(num)d planned meetings cancelled", len(cancelled))))

    def profile_updated(self) -> None:
        changed = self.details.get("changed")
        if isinstance(changed, list):
            self.add(_changed([str(n) for n in changed], PROFILE_FIELD_LABELS))

    def need(self) -> None:
        need = self.item.target(Need)
        title = need.title if need is not None else self.details.get("title")
        if title:
            self.add(labelled(_("Need"), title))
        changed = self.details.get("changed")
        if isinstance(changed, list):
            self.add(_changed([str(n) for n in changed], NEED_FIELD_LABELS))

    def preference(self) -> None:
        d = self.details
        if self.item.action == "preference.settings":
            before, after = d.get("before"), d.get("after")
            if isinstance(before, dict) and isinstance(after, dict):
                for name in ("screening_enabled", "max_requests"):
                    if before.get(name) != after.get(name):
                        self.add(_change(EVENT_FIELD_LABELS[name], before.get(name),
                                         after.get(name)))
            return
        if self.item.action == "preference.remind":
            self.reminder()
            return
        if "to" in d:
            self.add(labelled(_("Counterpart"),
                              company_name(self.related.participant(d["to"]), d["to"])))
        level = _label(LEVEL_LABELS, d.get("level"))
        if level is not None and self.item.action != "preference.decline":
            self.add(labelled(_("Level"), level))

    def proposal(self) -> None:
        d = self.details
        need = self.related.needs.get(d.get("need")) if isinstance(d.get("need"), int) else None
        if need is not None:
            self.add(labelled(_("Need"), need.title))
        if "supplier" in d:
            self.add(labelled(_("Counterpart"),
                              company_name(self.related.participant(d["supplier"]),
                                           d["supplier"])))
        level = _label(LEVEL_LABELS, d.get("level"))
        if level is not None and self.item.action == "proposal.accept":
            self.add(labelled(_("Level"), level))

    def pair_rule(self) -> None:
        d = self.details
        if self.item.action == "pair_rule.remove":
            a = company_name(self.related.participant(d.get("a")), d.get("a"))
            b = company_name(self.related.participant(d.get("b")), d.get("b"))
            self.add(self.pair(a, b))
            kind = _label(RULE_LABELS, d.get("kind"))
            if kind is not None:
                self.add(labelled(_("Rule"), kind))
            return
        self.add(self.pair(self.by_code(d.get("a")), self.by_code(d.get("b"))))
        if d.get("slot"):
            self.add(labelled(_("Slot"), self.slot(d["slot"])))
        if d.get("table"):
            self.add(labelled(_("Table"), d["table"]))
        overridden = d.get("overrides_decline_of")
        if isinstance(overridden, list) and overridden:
            self.add(labelled(_("Although declined by"), [self.by_code(c) for c in overridden]))

    def availability(self) -> None:
        before, after = self.details.get("before"), self.details.get("after")
        if not isinstance(before, dict) or not isinstance(after, dict):
            return
        for name, label in (("available_from", _("Arrive from")),
                            ("available_until", _("Leave by"))):
            if before.get(name) != after.get(name):
                self.add(_change(label, self.when(before.get(name), "%H:%M")
                                 if before.get(name) else None,
                                 self.when(after.get(name), "%H:%M")
                                 if after.get(name) else None))
        if before.get("unavailable") != after.get("unavailable"):
            self.add(_change(_("Single slots you cannot make"),
                             _count(before.get("unavailable")),
                             _count(after.get("unavailable"))))
        for name, label in (("max_meetings", _("Meetings at most")),
                            ("parallel_desks", _("Parallel desks"))):
            if before.get(name) != after.get(name):
                self.add(_change(label, before.get(name), after.get(name)))

    def run(self) -> None:
        d = self.details
        action = self.item.action
        if action == "run.start" and isinstance(d.get("pairs"), int):
            self.add(Line(ngettext("%(num)d pair", "%(num)d pairs", d["pairs"])))
        elif action == "run.move_meeting":
            self.add(self.pair(self.by_code(d.get("a")), self.by_code(d.get("b"))))
            before, after = d.get("from"), d.get("to")
            if isinstance(before, dict) and isinstance(after, dict):
                self.add(_change(_("Slot"), self._place(before), self._place(after)))
        elif action == "schedule.publish":
            self.add(Line(_("Version %(v)s: %(new)s new, %(moved)s moved, %(cancelled)s "
                            "cancelled meetings", v=_int(d.get("version")),
                            new=_int(d.get("inserted")), moved=_int(d.get("moved")),
                            cancelled=_int(d.get("cancelled")))))
        elif action == "sheets.prepare" and isinstance(d.get("sheets"), int):
            self.add(Line(ngettext("Sheets of %(num)d company", "Sheets of %(num)d companies",
                                   d["sheets"])))
        elif action == "repair.apply":
            self.add(Line(_("%(moved)s moved, %(cancelled)s cancelled, %(added)s added",
                            moved=_int(d.get("moved")), cancelled=_int(d.get("cancelled")),
                            added=_int(d.get("added")))))

    def _place(self, place: dict[str, Any]) -> str:
        where = self.slot(place.get("slot"))
        return f"{where} {place['table']}" if place.get("table") else where

    def day(self) -> None:
        """The fair day's changes, as the staff change log shows them."""
        d = self.details
        lines = d.get("lines")
        for line in lines if isinstance(lines, list) else []:
            if not isinstance(line, dict):
                continue
            pair, before, after = (str(line.get(k) or "") for k in ("pair", "before", "after"))
            if before or after:
                moved = f"{_day_value(before)} → {_day_value(after)}" if before \
                    else _day_value(after)
                self.add(Line("%(pair)s" + label_colon() + "%(value)s",
                              {"pair": pair, "value": moved}))
            else:
                self.add(Line("%(pair)s", {"pair": pair}))
        opened = d.get("opened_from")
        if isinstance(opened, dict):
            self.add(Line(_("Arrived before the time it was expected: can meet from %(after)s "
                            "(was %(before)s)"), {"after": _text(opened.get("after")),
                                                  "before": _text(opened.get("before"))}))
        reopened = d.get("reopened_until")
        if isinstance(reopened, dict):
            self.add(Line(_("Came back after leaving at %(before)s: can be given meetings "
                            "again"), {"before": _text(reopened.get("before"))}))

    def reminder(self) -> None:
        d = self.details
        if "sent" in d:
            self.add(Line(_("%(sent)s e-mailed, %(failed)s failed, %(without)s without an "
                            "e-mail address", sent=_int(d.get("sent")),
                            failed=_int(d.get("failed")), without=_int(d.get("without_email")))))

    def outcome(self) -> None:
        if self.item.action != "outcome.report":
            self.reminder()
            return
        d = self.details
        meeting = self.related.meetings.get(d.get("meeting_id")) \
            if isinstance(d.get("meeting_id"), int) else None
        company = self.item.company
        if meeting is not None and company is not None:
            other = meeting.participant_b_id if meeting.participant_a_id == company.id \
                else meeting.participant_a_id
            self.add(labelled(_("Counterpart"),
                              company_name(self.related.participant(other), other)))
        if d.get("took_place") is False:
            self.add(Line(_("Did not take place")))
            return
        if d.get("took_place") is True:
            self.add(Line(_("Took place")))
        prospect = _label(PROSPECT_LABELS, d.get("prospect"))
        if prospect is not None:
            self.add(labelled(_("Prospect"), prospect))
        stored = d.get("next_steps")
        steps = [label for label in (_label(NEXT_STEP_LABELS, s) for s in stored) if label] \
            if isinstance(stored, list) else []
        if steps:
            self.add(labelled(_("Next steps"), [str(s) for s in steps]))
        if isinstance(d.get("order_amount"), int):
            self.add(labelled(_("Ordered amount"), yen(d["order_amount"])))
        if isinstance(d.get("order_month"), str) and d["order_month"]:
            self.add(labelled(_("Month the order was placed"), d["order_month"]))

    def feedback(self) -> None:
        d = self.details
        satisfaction = _label(SATISFACTION_LABELS, d.get("satisfaction"))
        if satisfaction is not None:
            self.add(labelled(_("Satisfaction"), satisfaction))
        join_again = _label(JOIN_AGAIN_LABELS, d.get("join_again"))
        if join_again is not None:
            self.add(labelled(_("Take part in the next fair?"), join_again))


_DESCRIBERS: dict[str, Callable[[_Describer], None]] = {
    "event.update": _Describer.event_update,
    "event.copy": _Describer.event_copy,
    "day.save": _Describer.day_saved,
    "day.delete": _Describer.day_deleted,
    "slot.add": _Describer.slot_added,
    "slot.update": _Describer.slot_changed,
    "slot.delete": _Describer.slot_deleted,
    "room.*": _Describer.room,
    "tables.add": _Describer.room,
    "table.*": _Describer.table,
    "phase.change": _Describer.phase_changed,
    "participant.update": _Describer.participant_updated,
    "participants.import": _Describer.participants_imported,
    "participant.self_register": _Describer.self_registered,
    "participant.withdraw": _Describer.withdrawn,
    "profile.update": _Describer.profile_updated,
    "need.*": _Describer.need,
    "preference.*": _Describer.preference,
    "proposal.*": _Describer.proposal,
    "pair_rule.*": _Describer.pair_rule,
    "availability.change": _Describer.availability,
    "run.*": _Describer.run,
    "schedule.publish": _Describer.run,
    "sheets.prepare": _Describer.run,
    "repair.apply": _Describer.run,
    "day.*": _Describer.day,
    "outcome.*": _Describer.outcome,
    "feedback.answer": _Describer.feedback,
}


def _day_value(value: str) -> str:
    """A value of a fair day's change line (``log_value``), a meeting's status after its
    place in the reader's parentheses: 「10:00 A03（キャンセル）」."""
    place, _sep, status = value.rpartition(" (")
    if place and status.endswith(")") and status[:-1] in MEETING_STATUS_LABELS:
        return place + in_parentheses(MEETING_STATUS_LABELS[MeetingStatus(status[:-1])])
    return log_value(value)


def _label(labels: Mapping[Any, Any], value: object) -> str | None:
    """The label of a stored code (``"high"``, ``3``) in ``labels``; None for a value
    that is no code of theirs (a list, a dict, an unknown code)."""
    if isinstance(value, str | int) and not isinstance(value, bool) and value in labels:
        return str(labels[value])
    return None


def _count(value: object) -> int:
    return len(value) if isinstance(value, list) else 0


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _phase(value: object) -> object:
    return _label(PHASE_LABELS, value) or value


def _role(value: object) -> object:
    return _label(ROLE_LABELS, value) or value


def describe(event: Event, item: HistoryItem) -> Described:
    """``item`` in the reader's language: its action's label and its details' lines.

    An action this module does not know is labelled with its code and shows no details
    (what it stores is unknown, so nothing of it is shown)."""
    label = ACTION_LABELS.get(item.action)
    if label is None:
        return Described(label=item.action, known=False)
    describer = _Describer(event, item)
    describer.describe()
    run_id = item.target(ScheduleRun)
    return Described(label=str(label), known=True, lines=describer.lines, run_id=run_id)


def who(item: HistoryItem) -> str:
    """Who made the change: the account's name; the company itself through its secret
    link; else the system (a background job, the command line)."""
    if item.user_name is not None:
        return item.user_name
    if item.by_company:
        return _("the company itself")
    return _("system")


# --------------------------------------------------------------------------- views


def _wanted(event: Event) -> tuple[HistoryFilter, list[tuple[int, str, str]]]:
    """The filter the query string asks for (unknown values ignored), and the event's
    companies (the company filter's choices)."""
    area = request.args.get("area", "")
    companies = events_history.companies(get_session(), event)
    participant_id = parse_id(request.args.get("participant"))
    if participant_id not in {c[0] for c in companies}:
        participant_id = None
    return HistoryFilter(area if area in events_history.AREAS else "", participant_id), companies


def wanted_args(wanted: HistoryFilter) -> dict[str, str]:
    """The filter as the page's query string writes it (empty values left out)."""
    args = {"area": wanted.area, "participant": str(wanted.participant_id or "")}
    return {key: value for key, value in args.items() if value}


@bp.get("/history")
@organizer_required
def index(event_id: int):  # type: ignore[no-untyped-def]
    """The event's history, newest first, a page at a time, filtered by area and company."""
    session = get_session()
    event = event_setup.get_event(session, event_id)
    wanted, companies = _wanted(event)
    found = events_history.history_page(session, event, wanted, page=requested_page(),
                                        per_page=PER_PAGE)
    # The pager's links carry the filter as this page understood it (not whatever else
    # the address held).
    page = Page(found.items, found.number, found.per_page, found.total, current_path(),
                tuple(wanted_args(wanted).items()))
    return render_template(
        "events/history.html", event=event, page=page, wanted=wanted, companies=companies,
        rows=[(item, describe(event, item)) for item in found.items],
        area_labels=AREA_LABELS, who=who, company_name=company_name, when_format=WHEN_FORMAT,
        csv_url=url_for("history.export_csv", event_id=event.id, **wanted_args(wanted)),
    )


@bp.get("/history.csv")
@organizer_required
def export_csv(event_id: int):  # type: ignore[no-untyped-def]
    """The filtered history, every page, as CSV for Excel (UTF-8 with BOM, CRLF)."""
    session = get_session()
    event = event_setup.get_event(session, event_id)
    wanted, _companies = _wanted(event)
    headers = [_("When"), _("Who"), _("Area"), _("What"), _("Company"), _("Details"),
               _("Reason")]
    rows = _csv_rows(event, events_history.all_history(session, event, wanted))
    return send_file(
        io.BytesIO(history_csv(headers, rows)),
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to text/* itself
        as_attachment=True,
        download_name=f"history-{event.slug}.csv",
    )


def _csv_rows(event: Event, items: Iterable[HistoryItem]) -> Iterator[list[str]]:
    for item in items:
        described = describe(event, item)
        lines = [line.plain() for line in described.lines]
        if described.run_id is not None:
            lines.append(_("Run %(n)s", n=described.run_id))
        yield [
            local_time(item.entry.created_at, event, WHEN_FORMAT),
            who(item),
            str(AREA_LABELS[item.area]),
            described.label,
            list_separator().join(company_name(company) for company in (
                [item.company] if item.company is not None else item.concerned)),
            "\n".join(lines),
            item.entry.reason or "",
        ]


def history_csv(headers: list[str], rows: Iterable[list[str]]) -> bytes:
    """The CSV as Excel reads it: a BOM (so UTF-8 is read as UTF-8), CRLF line ends,
    every cell made safe to open (:func:`scheduler.spreadsheet.cell_text`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell_text(h) for h in headers])
    writer.writerows([cell_text(value) for value in row] for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")

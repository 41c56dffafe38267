"""iCalendar feeds (RFC 5545, RFC 7986): one per participant, and the whole event for staff.

Feeds are polled by thousands of calendar apps, so the same data must give the same
bytes: DTSTAMP and LAST-MODIFIED are the meeting's own ``updated_at`` (not "now"),
everything is ordered, and the ETag is a hash of the bytes.

What the ``icalendar`` library does by default and why it is corrected here:

- ``Calendar.new()`` adds a calendar-level UID and its own PRODID, and
  ``Event.new()`` a random UID and DTSTAMP = now: the components are built with
  the plain constructors and every property is set explicitly.
- NAME and X-WR-CALNAME are not in its type map, so a plain string is written
  unescaped (a comma or semicolon in an event name breaks strict parsers): they are
  added as ``vText``; X-PUBLISHED-TTL given a ``timedelta`` comes out as Python's
  ``1:00:00`` instead of ``PT1H``, so it is added as ``vDuration``.
- It adds no VTIMEZONE for the TZIDs it writes: one is generated for the event's
  zone, covering only the years of the event so the feed stays small.

The library itself writes CRLF line ends, UTF-8 without BOM and folds at 75
octets on character boundaries; the tests check those too.

Titles and descriptions are in the participant's language. A calendar app shows
the feed outside any web request, so the few phrases live here, in both languages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vDuration, vText
from icalendar import Event as VEvent
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduler.db import utcnow
from scheduler.models import (
    RETIRED_FEED_DAYS,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    RetiredFeed,
    Table,
)
from scheduler.schedule_view import (
    event_meetings,
    meeting_purpose,
    personal_schedule,
    profile_summary,
    stated_purposes,
)

PRODID = "-//matchfair//matchfair schedule 1.0//EN"
# A host-independent UID domain: moving the app to another host must not duplicate events.
UID_DOMAIN = "matchfair"
REFRESH_INTERVAL = timedelta(hours=1)

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "meeting": "商談：{name}",
        "pair": "商談：{a} × {b}",
        "table": "（{table}）",
        "cancelled": "【取消】",
        "location": "{room} テーブル{table}",
        "counterpart": "商談相手：{name}",
        "companies": "参加企業：{names}",
        "profile": "会社概要：{text}",
        "purpose": "商談の目的：{text}",
        "where": "場所：{text}",
        "address": "住所：{text}",
        "schedule": "スケジュール：{url}",
        "cancelled_note": "この商談は取り消されました。",
        "calendar": "{event} 商談スケジュール（{name}）",
        "staff_calendar": "{event} 全商談（スタッフ用）",
        "retired_deleted": "この商談会は主催者により削除されました。",
        "retired_reissued": "このカレンダーのアドレスは使われなくなりました。"
        "新しいアドレスはスケジュールのページから登録してください。",
        "ended": "この商談会への参加登録は有効ではなくなりました。",
    },
    "en": {
        "meeting": "Meeting: {name}",
        "pair": "Meeting: {a} × {b}",
        "table": " ({table})",
        "cancelled": "[Cancelled] ",
        "location": "{room}, table {table}",
        "counterpart": "With: {name}",
        "companies": "Companies: {names}",
        "profile": "Profile: {text}",
        "purpose": "Purpose: {text}",
        "where": "Where: {text}",
        "address": "Address: {text}",
        "schedule": "Schedule: {url}",
        "cancelled_note": "This meeting has been cancelled.",
        "calendar": "{event} meetings ({name})",
        "staff_calendar": "{event} all meetings (staff)",
        "retired_deleted": "The organizer deleted this fair.",
        "retired_reissued": "This calendar address is no longer in use. "
        "Subscribe to the new one from the schedule page.",
        "ended": "This registration for the fair is no longer active.",
    },
}


def texts(locale: str) -> dict[str, str]:
    """The phrases for ``locale`` (Japanese unless it is English)."""
    return TEXTS[feed_language(locale)]


def feed_language(locale: str | None) -> str:
    """The language a feed for ``locale`` is written in: ``"en"`` or ``"ja"``."""
    return "en" if (locale or "").lower().startswith("en") else "ja"


def requested_language(value: str | None) -> str | None:
    """A feed language asked for in its address (``?lang=``): ``"ja"`` or ``"en"`` exactly,
    anything else None (the participant's own language then)."""
    return value if value in TEXTS else None


@dataclass(frozen=True)
class CalendarFeed:
    """A serialised feed with what HTTP caching needs."""

    body: bytes
    etag: str  # hex digest of ``body`` (unquoted)
    last_modified: datetime  # the newest change to anything it shows (UTC, whole seconds)


def meeting_uid(meeting: Meeting) -> str:
    """The UID a meeting keeps for life, whatever moves or cancels it."""
    return f"{meeting.uid}@{UID_DOMAIN}"


def location_text(table: Table | None, locale: str) -> str:
    """Where in the venue the meeting is: room and table (empty when no table is assigned)."""
    if table is None:
        return ""
    return texts(locale)["location"].format(room=table.room.name, table=table.label)


def participant_feed(
    session: Session, participant: Participant, *, locale: str | None = None
) -> CalendarFeed:
    """The participant's meetings (cancelled ones kept, marked) in its own language, or
    in ``locale`` (a download from a page the reader switched to another language).

    Before publication the calendar is valid but has no events. The events carry no
    link to the participant's pages: those open with its access token, which must not
    travel with a calendar that is handed to a calendar service or shared with
    colleagues (the feed has a token of its own for that).
    """
    event = participant.event
    locale = locale or participant.locale
    words = texts(locale)
    schedule = personal_schedule(session, participant)
    calendar = _calendar(
        event, words["calendar"].format(event=event.name, name=participant.display_name)
    )
    for view in schedule.all_meetings:
        meeting = view.meeting
        name = view.counterpart.display_name
        summary = words["meeting"].format(name=name)
        description = [words["counterpart"].format(name=_name_with_code(view.counterpart))]
        summary_profile = profile_summary(view.counterpart.organization, locale)
        if summary_profile:
            description.append(words["profile"].format(text=summary_profile))
        if view.purpose:
            description.append(words["purpose"].format(text=view.purpose))
        calendar.add_component(_vevent(event, meeting, summary, description, locale, url=""))
    return _finish(calendar, event, [v.meeting for v in schedule.all_meetings], participant)


def event_feed(
    session: Session, event: Event, *, locale: str = "ja", url: str = ""
) -> CalendarFeed:
    """Every meeting of the event (cancelled ones kept), for staff calendars.

    Meeting rows exist once a schedule is published; on the day the feed follows every
    move and cancellation like the participants' feeds.
    """
    words = texts(locale)
    calendar = _calendar(event, words["staff_calendar"].format(event=event.name))
    meetings = event_meetings(session, event)
    purposes = stated_purposes(session, event)
    for meeting in meetings:
        a, b = meeting.participant_a, meeting.participant_b
        summary = words["pair"].format(a=a.display_name, b=b.display_name)
        description = [
            words["companies"].format(names=f"{_name_with_code(a)} × {_name_with_code(b)}")
        ]
        purpose = meeting_purpose(meeting, purposes)
        if purpose:
            description.append(words["purpose"].format(text=purpose))
        calendar.add_component(_vevent(event, meeting, summary, description, locale, url))
    return _finish(calendar, event, meetings)


# --------------------------------------------------------------------------- retired feeds


def feed_digest(token: str) -> str:
    """What is kept of a retired feed's secret: its SHA-256, never the secret itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def retire_feeds(
    session: Session, tokens: Iterable[str], *, event: Event, reason: str
) -> int:
    """Remember that the feeds with ``tokens`` no longer show a schedule (``reason``:
    ``"deleted"`` or ``"reissued"``), so they answer with an empty calendar; the number
    remembered. Retired feeds older than :data:`RETIRED_FEED_DAYS` are forgotten."""
    now = utcnow()
    session.execute(
        delete(RetiredFeed).where(
            RetiredFeed.retired_at < now - timedelta(days=RETIRED_FEED_DAYS)
        )
    )
    digests = {feed_digest(token) for token in tokens if token}
    known = set(
        session.scalars(select(RetiredFeed.digest).where(RetiredFeed.digest.in_(digests)))
    ) if digests else set()
    session.add_all(
        RetiredFeed(
            digest=digest,
            calendar_name=event.name[:300],
            reason=reason,
            timezone=event.timezone,
            retired_at=now,
        )
        for digest in sorted(digests - known)
    )
    session.flush()
    return len(digests)


def retired_feed(session: Session, token: str) -> CalendarFeed | None:
    """The empty calendar a retired feed answers with, or None when ``token`` is not
    one (or was retired longer ago than :data:`RETIRED_FEED_DAYS`).

    Calendar apps keep the events they have when a subscription answers with an error,
    but replace them with what a valid calendar holds: an empty one removes them. Its
    name is the event's and its description says why, in both languages (the feed no
    longer knows its reader's).
    """
    retired = session.get(RetiredFeed, feed_digest(token)) if token else None
    if retired is None:
        return None
    retired_at = _utc(retired.retired_at)
    if retired_at < utcnow() - timedelta(days=RETIRED_FEED_DAYS):
        return None
    why = "retired_deleted" if retired.reason == "deleted" else "retired_reissued"
    return _empty_feed(retired.calendar_name, retired.timezone, why, retired_at)


def ended_feed(participant: Participant) -> CalendarFeed:
    """The empty calendar the feed of a withdrawn or rejected participant answers with:
    its meetings leave the subscribed calendars, and nothing of the fair is shown."""
    event = participant.event
    return _empty_feed(event.name, event.timezone, "ended", _utc(participant.updated_at))


def _empty_feed(name: str, zone: str, why: str, stamp: datetime) -> CalendarFeed:
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    if name:
        calendar.add("name", vText(name))
        calendar.add("x-wr-calname", vText(name))
    description = f"{TEXTS['ja'][why]} / {TEXTS['en'][why]}"
    calendar.add("description", vText(description))
    calendar.add("x-wr-caldesc", vText(description))
    calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    # RFC 5545 wants at least one component; a time zone is the one that says nothing.
    calendar.add_component(
        Timezone.from_tzid(
            zone, first_date=date(stamp.year, 1, 1), last_date=date(stamp.year + 1, 1, 1)
        )
    )
    body = calendar.to_ical()
    return CalendarFeed(
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:32],
        last_modified=stamp.replace(microsecond=0),
    )


# --------------------------------------------------------------------------- building


def _name_with_code(participant: Participant) -> str:
    code = f" [{participant.code}]" if participant.code else ""
    return f"{participant.display_name}{code}"


def _calendar(event: Event, name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", event.timezone)
    calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    return calendar


def _vevent(
    event: Event,
    meeting: Meeting,
    summary: str,
    description_lines: list[str],
    locale: str,
    url: str,
) -> VEvent:
    words = texts(locale)
    zone = ZoneInfo(event.timezone)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    table = meeting.table
    if table is not None:
        summary += words["table"].format(table=table.label)
    if cancelled:
        summary = words["cancelled"] + summary
    location = location_text(table, locale)
    lines = list(description_lines)
    where = " ".join(part for part in (event.venue, location) if part)
    if where:
        lines.append(words["where"].format(text=where))
    if event.address:
        lines.append(words["address"].format(text=event.address))
    if url:
        lines.append(words["schedule"].format(url=url))
    if cancelled:
        lines.insert(0, words["cancelled_note"])
    changed = _utc(meeting.updated_at)

    vevent = VEvent()
    vevent.add("uid", meeting_uid(meeting))
    vevent.add("dtstamp", changed)
    vevent.add("last-modified", changed)
    vevent.add("sequence", meeting.version)
    vevent.add("dtstart", meeting.slot.starts_at.astimezone(zone))
    vevent.add("dtend", meeting.slot.ends_at.astimezone(zone))
    vevent.add("summary", vText(summary))
    vevent.add("description", vText("\n".join(lines)))
    if where or event.address:
        # The venue first, then its address: calendar apps look the location up on a map
        # (a venue's name alone is often not found; room and table stay readable).
        vevent.add("location", vText(", ".join(p for p in (where, event.address) if p)))
    if url:
        vevent.add("url", url)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # Some clients ignore STATUS: a transparent event at least does not block the time.
    vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return vevent


def _finish(
    calendar: Calendar, event: Event, meetings: Sequence[Meeting], *others: Participant
) -> CalendarFeed:
    """Serialise, hash, and date the feed by the newest change to anything it shows
    (the event, its meetings, the participants and companies named), so a client that
    sends only If-Modified-Since still sees every change."""
    calendar.subcomponents.insert(0, _vtimezone(event, meetings))
    body = calendar.to_ical()
    shown = {p.id: p for m in meetings for p in (m.participant_a, m.participant_b)}
    shown.update({p.id: p for p in others})
    changes = [_utc(event.updated_at), *(_utc(m.updated_at) for m in meetings)]
    for participant in shown.values():
        changes += [_utc(participant.updated_at), _utc(participant.organization.updated_at)]
    last_modified = max(changes).replace(microsecond=0)
    return CalendarFeed(
        body=body, etag=hashlib.sha256(body).hexdigest()[:32], last_modified=last_modified
    )


def _vtimezone(event: Event, meetings: Sequence[Meeting]) -> Timezone:
    """The event zone's rules for the years the meetings (or the event's slots) span."""
    zone = ZoneInfo(event.timezone)
    starts = [m.slot.starts_at for m in meetings] or [s.starts_at for s in event.slots]
    years = [moment.astimezone(zone).year for moment in starts] or [_utc(event.created_at).year]
    return Timezone.from_tzid(
        event.timezone, first_date=date(min(years), 1, 1), last_date=date(max(years) + 1, 1, 1)
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # SQLite round trips may drop the zone; stored values are UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

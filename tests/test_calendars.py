"""iCalendar feeds: every rule real calendar clients depend on, checked on the bytes and
through three parsers besides the one that wrote them (vobject, ics, Mozilla's ical.js)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendars import CalendarFeed, event_feed, participant_feed
from scheduler.models import Event, Meeting, MeetingStatus, Participant, Phase, Table
from scheduler.schedule_view import personal_schedule
from tests.published_fair import busiest_participant, published_fair

JS_DIR = Path(__file__).parent / "js"
TRICKY_NAME = "株式会社山田製作所, 大阪工場; 第二工場"


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def participant(db_session: Session, fair: Event) -> Participant:
    return busiest_participant(db_session, fair)


def _feed(session: Session, participant: Participant) -> CalendarFeed:
    return participant_feed(session, participant)


def _meetings_of(session: Session, participant: Participant) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(
                (Meeting.participant_a_id == participant.id)
                | (Meeting.participant_b_id == participant.id)
            )
            .order_by(Meeting.id)
        )
    )


def _unfold(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def _calendar_level_lines(body: bytes) -> list[str]:
    """The VCALENDAR's own properties (before its first component)."""
    lines = _unfold(body)
    first_component = next(i for i, line in enumerate(lines[1:], 1) if line.startswith("BEGIN:"))
    return lines[1:first_component]


# --------------------------------------------------------------------------- parsers


def _parse_icalendar(body: bytes) -> list[dict[str, Any]]:
    calendar = icalendar.Calendar.from_ical(body)
    return [
        {
            "uid": str(e["UID"]),
            "sequence": int(e["SEQUENCE"]),
            "summary": str(e["SUMMARY"]),
            "start": e.decoded("DTSTART").astimezone(UTC),
            "status": str(e["STATUS"]),
        }
        for e in calendar.walk("VEVENT")
    ]


def _parse_vobject(body: bytes) -> list[dict[str, Any]]:
    import vobject

    calendar = vobject.readOne(body.decode("utf-8"))
    return [
        {
            "uid": e.uid.value,
            "sequence": int(e.sequence.value),
            "summary": e.summary.value,
            "start": e.dtstart.value.astimezone(UTC),
            "status": e.status.value,
        }
        for e in getattr(calendar, "vevent_list", [])
    ]


def _parse_ics(body: bytes) -> list[dict[str, Any]]:
    import ics

    calendar = ics.Calendar(body.decode("utf-8"))
    parsed = []
    for e in calendar.events:
        # ics 0.7 keeps SEQUENCE among its unparsed "extra" lines.
        sequence = next(line.value for line in e.extra if line.name == "SEQUENCE")
        parsed.append(
            {
                "uid": e.uid,
                "sequence": int(sequence),
                "summary": e.name,
                "start": e.begin.datetime.astimezone(UTC),
                "status": e.status,
            }
        )
    return parsed


def _ical_js(body: bytes, tmp_path: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ical.js check needs Node.js (apt install nodejs)")
    if not (JS_DIR / "node_modules" / "ical.js").exists():
        pytest.skip("ical.js is not installed: run `npm ci --prefix tests/js` (make test does)")
    path = tmp_path / "feed.ics"
    path.write_bytes(body)
    done = subprocess.run(
        [node, str(JS_DIR / "parse_ics.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _parse_ical_js(body: bytes, tmp_path: Path) -> list[dict[str, Any]]:
    return [
        {
            "uid": e["uid"],
            "sequence": e["sequence"],
            "summary": e["summary"],
            "start": datetime.fromisoformat(e["start_utc"].replace("Z", "+00:00")),
            "status": e["status"],
        }
        for e in _ical_js(body, tmp_path)["events"]
    ]


PARSERS = {
    "icalendar": lambda body, _tmp: _parse_icalendar(body),
    "vobject": lambda body, _tmp: _parse_vobject(body),
    "ics": lambda body, _tmp: _parse_ics(body),
    "ical.js": _parse_ical_js,
}


def _by_uid(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["uid"]: e for e in events}


# --------------------------------------------------------------------------- calendar


def test_calendar_properties_and_no_calendar_uid(db_session, participant) -> None:
    body = _feed(db_session, participant).body
    own = _calendar_level_lines(body)
    names = [line.split(":", 1)[0] for line in own]
    assert names[:3] == ["VERSION", "PRODID", "CALSCALE"]
    assert "VERSION:2.0" in own and "CALSCALE:GREGORIAN" in own
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in own
    assert "X-PUBLISHED-TTL:PT1H" in own
    name = next(line for line in own if line.startswith("NAME:"))
    assert participant.display_name in name
    assert f"X-WR-CALNAME:{name[len('NAME:') :]}" in own
    assert not any(n == "UID" for n in names), "a calendar-level UID confuses clients"
    assert icalendar.Calendar.from_ical(body).get("UID") is None


def test_one_vevent_per_meeting_with_its_stable_uid(db_session, participant) -> None:
    body = _feed(db_session, participant).body
    meetings = _meetings_of(db_session, participant)
    assert len(meetings) >= 2
    events = _by_uid(_parse_icalendar(body))
    assert set(events) == {f"{m.uid}@matchfair" for m in meetings}
    for meeting in meetings:
        event = events[f"{meeting.uid}@matchfair"]
        assert event["start"] == meeting.slot.starts_at
        assert event["sequence"] == meeting.version
        assert event["status"] == "CONFIRMED"


def test_times_in_the_event_zone_with_its_vtimezone(db_session, participant) -> None:
    body = _feed(db_session, participant).body
    lines = _unfold(body)
    times = [line for line in lines if line.startswith(("DTSTART", "DTEND"))]
    event_times = [t for t in times if ";TZID=" in t]
    # The VTIMEZONE's own DTSTARTs are local by definition; every event time names its zone.
    assert len(event_times) == 2 * len(_meetings_of(db_session, participant))
    assert all(re.fullmatch(r"DT(START|END);TZID=Asia/Tokyo:\d{8}T\d{6}", t) for t in event_times)
    assert lines.index("BEGIN:VTIMEZONE") < lines.index("BEGIN:VEVENT")
    assert "TZID:Asia/Tokyo" in lines
    assert lines.count("BEGIN:VTIMEZONE") == 1


def test_a_zone_with_summer_time_converts_correctly_everywhere(
    db_session, fair, participant, tmp_path
) -> None:
    fair.timezone = "Europe/Berlin"
    db_session.commit()
    body = _feed(db_session, participant).body
    assert "TZID:Europe/Berlin" in _unfold(body)
    expected = {
        f"{m.uid}@matchfair": m.slot.starts_at for m in _meetings_of(db_session, participant)
    }
    for name, parse in PARSERS.items():
        starts = {e["uid"]: e["start"] for e in parse(body, tmp_path)}
        assert starts == expected, name


def test_summary_description_location_in_japanese(db_session, participant) -> None:
    meeting = _meetings_of(db_session, participant)[0]
    meeting.purpose = "試作品の相談、量産; 見積り"
    db_session.commit()
    body = _feed(db_session, participant).body
    vevent = next(
        e
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(e["UID"]) == f"{meeting.uid}@matchfair"
    )
    other = (
        meeting.participant_b
        if meeting.participant_a_id == participant.id
        else (meeting.participant_a)
    )
    assert str(vevent["SUMMARY"]) == f"商談：{other.display_name}（{meeting.table.label}）"
    description = str(vevent["DESCRIPTION"])
    assert f"商談相手：{other.display_name}" in description
    assert "商談の目的：試作品の相談、量産; 見積り" in description
    assert other.organization.prefecture in description  # the public profile summary
    # The venue first, then room and table, then the address (calendar apps look the
    # location up on a map: the address is what finds it).
    event = participant.event
    assert event.venue and event.address
    place = f"{meeting.table.room.name} テーブル{meeting.table.label}"
    assert str(vevent["LOCATION"]) == f"{event.venue} {place}, {event.address}"
    assert f"住所：{event.address}" in description
    # No link to the participant's pages: they open with its access token, which must
    # not travel with a calendar handed to a calendar service or shared with colleagues.
    assert "URL" not in vevent
    assert participant.access_token not in body.decode().replace("\r\n ", "")


def test_summary_in_english_for_an_english_participant(db_session, participant) -> None:
    participant.locale = "en"
    db_session.commit()
    summaries = [e["summary"] for e in _parse_icalendar(_feed(db_session, participant).body)]
    assert summaries and all(s.startswith("Meeting: ") for s in summaries)
    body = _feed(db_session, participant).body.decode()
    assert "With: " in body.replace("\r\n ", "") and "Schedule: " not in body


def test_no_organizer_or_attendee(db_session, participant, tmp_path) -> None:
    body = _feed(db_session, participant).body
    assert not any(line.startswith(("ORGANIZER", "ATTENDEE")) for line in _unfold(body))
    for event in _ical_js(body, tmp_path)["events"]:
        assert event["organizer"] is None and event["attendees"] == 0


def test_dtstamp_and_last_modified_are_the_meetings_change_time(db_session, participant) -> None:
    body = _feed(db_session, participant).body
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    for meeting in _meetings_of(db_session, participant):
        event = events[f"{meeting.uid}@matchfair"]
        changed = meeting.updated_at.astimezone(UTC).replace(microsecond=0)
        assert event.decoded("DTSTAMP") == changed
        assert event.decoded("LAST-MODIFIED") == changed


# --------------------------------------------------------------------------- bytes


def test_serialisation_crlf_utf8_folding_and_escaping(db_session, fair, participant) -> None:
    other = _meetings_of(db_session, participant)[0]
    counterpart = (
        other.participant_b if other.participant_a_id == participant.id else (other.participant_a)
    )
    counterpart.organization.name = TRICKY_NAME
    counterpart.organization.description = "精密板金と溶接、塗装まで一貫対応します。" * 6
    fair.name = "ものづくり商談会, 2027; 静岡"
    db_session.commit()
    body = _feed(db_session, participant).body

    assert not body.startswith(b"\xef\xbb\xbf"), "no byte order mark"
    body.decode("utf-8")  # valid UTF-8 as a whole
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b""), "every line ends in CRLF"
    physical = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    for line in physical:
        line.decode("utf-8")  # a fold never splits a multi-byte character
    assert any(line.startswith(b" ") for line in physical), "long Japanese lines are folded"

    unfolded = _unfold(body)
    assert "SUMMARY:商談：株式会社山田製作所\\, 大阪工場\\; 第二工場（" in "\n".join(unfolded)
    name = next(line for line in unfolded if line.startswith("NAME:"))
    assert name.startswith("NAME:ものづくり商談会\\, 2027\\; 静岡")
    calname = next(line for line in unfolded if line.startswith("X-WR-CALNAME:"))
    assert calname.startswith("X-WR-CALNAME:ものづくり商談会\\, 2027\\; 静岡")
    summaries = [e["summary"] for e in _parse_vobject(body)]
    assert any(s.startswith(f"商談：{TRICKY_NAME}（") for s in summaries)


def test_unchanged_feed_is_byte_identical_between_polls(db_session, participant) -> None:
    first = _feed(db_session, participant)
    db_session.expire_all()  # a new poll reads everything again
    second = _feed(db_session, participant)
    assert first.body == second.body
    assert first.etag == second.etag
    assert first.last_modified == second.last_modified


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_every_parser_reads_the_participant_feed(parser, db_session, participant, tmp_path) -> None:
    body = _feed(db_session, participant).body
    parsed = _by_uid(PARSERS[parser](body, tmp_path))
    meetings = _meetings_of(db_session, participant)
    assert set(parsed) == {f"{m.uid}@matchfair" for m in meetings}
    for meeting in meetings:
        event = parsed[f"{meeting.uid}@matchfair"]
        assert event["start"] == meeting.slot.starts_at
        assert event["sequence"] == meeting.version
        assert event["summary"].startswith("商談：")


def test_ical_js_sees_calendar_properties_and_zoned_times(
    db_session, participant, tmp_path
) -> None:
    parsed = _ical_js(_feed(db_session, participant).body, tmp_path)
    assert parsed["timezones"] == ["Asia/Tokyo"]
    assert parsed["props"]["refresh-interval"]["value"] == "PT1H"
    assert parsed["props"]["refresh-interval"]["type"] == "duration"
    assert parsed["props"]["x-published-ttl"]["value"] == "PT1H"
    assert "uid" not in parsed["props"]
    assert all(e["tzid"] == "Asia/Tokyo" and not e["floating"] for e in parsed["events"])


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_every_parser_reads_the_staff_feed(parser, db_session, fair, tmp_path) -> None:
    body = event_feed(db_session, fair, url="https://fair.example.jp/events/1").body
    meetings = db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id)).all()
    parsed = _by_uid(PARSERS[parser](body, tmp_path))
    assert set(parsed) == {f"{m.uid}@matchfair" for m in meetings}
    assert all(" × " in e["summary"] for e in parsed.values())
    assert not any(line.startswith("UID") for line in _calendar_level_lines(body))


def test_feed_is_empty_but_valid_before_publication(
    db_session, fair, participant, tmp_path
) -> None:
    fair.phase, fair.published_at = Phase.SCHEDULING, None
    db_session.commit()
    body = _feed(db_session, participant).body
    assert b"BEGIN:VEVENT" not in body
    assert b"BEGIN:VTIMEZONE" in body
    for parse in PARSERS.values():
        assert parse(body, tmp_path) == []


# --------------------------------------------------------------------------- changes


def _move_somewhere_free(session: Session, meeting: Meeting) -> bool:
    """Move ``meeting`` to another slot (and table, if its own is taken) both sides can make."""
    a, b = meeting.participant_a, meeting.participant_b
    taken = session.scalars(
        select(Meeting).where(
            Meeting.event_id == meeting.event_id, Meeting.status != MeetingStatus.CANCELLED
        )
    ).all()
    tables = session.scalars(select(Table).where(Table.event_id == meeting.event_id)).all()
    for slot in meeting.slot.event.slots:
        in_slot = [m for m in taken if m.slot_id == slot.id and m.id != meeting.id]
        people_busy = any({m.participant_a_id, m.participant_b_id} & {a.id, b.id} for m in in_slot)
        if slot.id == meeting.slot_id or people_busy:
            continue
        if not (a.is_available(slot) and b.is_available(slot)):
            continue
        used = {m.table_id for m in in_slot}
        table = next((t for t in tables if t.id not in used), None)
        if table is not None:
            meeting.slot_id, meeting.table_id = slot.id, table.id
            return True
    return False


def test_a_move_keeps_the_uid_with_a_higher_sequence_and_new_start(
    db_session, fair, tmp_path
) -> None:
    meetings = db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id)).all()
    feeds_before = {m.participant_b_id: _feed(db_session, m.participant_b) for m in meetings}
    starts_before = {m.id: m.slot.starts_at for m in meetings}
    # The first meeting whose supplier has a free slot both sides can make (buyers are full).
    meeting = next(m for m in meetings if _move_somewhere_free(db_session, m))
    participant = meeting.participant_b
    before = feeds_before[participant.id]
    uid = f"{meeting.uid}@matchfair"
    old_version, old_start = meeting.version, starts_before[meeting.id]
    meeting.version += 1
    db_session.commit()
    db_session.refresh(meeting)
    assert meeting.slot.starts_at != old_start
    after = _feed(db_session, participant)
    assert after.etag != before.etag
    assert after.last_modified >= before.last_modified
    for name, parse in PARSERS.items():
        old = _by_uid(parse(before.body, tmp_path))[uid]
        new = _by_uid(parse(after.body, tmp_path))[uid]
        assert new["sequence"] == old_version + 1 > old["sequence"], name
        assert new["start"] == meeting.slot.starts_at != old["start"], name
    stamp = icalendar.Calendar.from_ical(after.body)
    moved = next(e for e in stamp.walk("VEVENT") if str(e["UID"]) == uid)
    assert moved.decoded("DTSTAMP") >= meeting.created_at.astimezone(UTC).replace(microsecond=0)


def test_a_cancelled_meeting_stays_cancelled_and_transparent(
    db_session, participant, tmp_path
) -> None:
    meeting = _meetings_of(db_session, participant)[0]
    uid = f"{meeting.uid}@matchfair"
    meeting.status = MeetingStatus.CANCELLED
    meeting.version += 1
    db_session.commit()
    body = _feed(db_session, participant).body
    vevent = next(
        e for e in icalendar.Calendar.from_ical(body).walk("VEVENT") if str(e["UID"]) == uid
    )
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["TRANSP"]) == "TRANSPARENT"
    assert str(vevent["SUMMARY"]).startswith("【取消】商談：")
    assert int(vevent["SEQUENCE"]) == meeting.version == 1
    for name, parse in PARSERS.items():
        event = _by_uid(parse(body, tmp_path))[uid]
        assert event["status"] == "CANCELLED", name
        assert event["summary"].startswith("【取消】"), name
    js = next(e for e in _ical_js(body, tmp_path)["events"] if e["uid"] == uid)
    assert js["transp"] == "TRANSPARENT"
    others = [e for e in _parse_icalendar(body) if e["uid"] != uid]
    assert others and all(e["status"] == "CONFIRMED" for e in others)
    # The page lists it apart; the slot is free again.
    schedule = personal_schedule(db_session, participant)
    assert [v.meeting.id for v in schedule.cancelled] == [meeting.id]
    assert meeting.slot in schedule.free_slots or participant.parallel_desks > 1


# --------------------------------------------------------------------------- HTTP


def test_subscription_feed_served_with_etag_and_304(client, db_session, participant) -> None:
    url = f"/cal/{participant.feed_token}.ics"
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    assert first.data.startswith(b"BEGIN:VCALENDAR\r\n")

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    again = client.get(url)
    assert again.data == first.data and again.headers["ETag"] == etag

    meeting = _meetings_of(db_session, participant)[0]
    meeting.status = MeetingStatus.CANCELLED
    meeting.version += 1
    db_session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"STATUS:CANCELLED" in changed.data


def test_if_modified_since_in_the_past_gets_the_feed(client, participant) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=3650)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    response = client.get(
        f"/cal/{participant.feed_token}.ics", headers={"If-Modified-Since": long_ago}
    )
    assert response.status_code == 200


def test_unknown_or_page_token_is_not_a_feed(client, participant) -> None:
    assert client.get("/cal/not-a-token.ics").status_code == 404
    assert client.get(f"/cal/{participant.access_token}.ics").status_code == 404


def test_download_is_an_attachment_of_the_same_feed(client, participant) -> None:
    download = client.get(f"/p/{participant.access_token}/schedule.ics")
    feed = client.get(f"/cal/{participant.feed_token}.ics")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.data == feed.data


def test_a_download_from_a_page_switched_to_english_is_in_english(
    client, db_session, participant
) -> None:
    """The feed stays in the participant's language (calendar apps poll it without a
    reader); a download follows the language its reader chose on the page."""
    participant.locale = "ja"
    db_session.commit()
    assert "商談：" in client.get(f"/p/{participant.access_token}/schedule.ics").get_data(
        as_text=True
    )
    client.post("/language", data={"lang": "en"})
    download = client.get(f"/p/{participant.access_token}/schedule.ics").get_data(as_text=True)
    feed = client.get(f"/cal/{participant.feed_token}.ics").get_data(as_text=True)
    summaries = [line for line in download.splitlines() if line.startswith("SUMMARY:")]
    assert summaries and all(line.startswith("SUMMARY:Meeting: ") for line in summaries)
    assert "商談：" in feed and "Meeting: " not in feed


def test_subscription_links_of_a_page_switched_to_english_give_an_english_feed(
    client, db_session, participant
) -> None:
    """QA: the Google/Outlook/Apple buttons of a page read in English subscribed to the
    Japanese feed (the switch lives in the browser only; calendar apps poll without it)."""
    participant.locale = "ja"
    db_session.commit()
    plain = f"/cal/{participant.feed_token}.ics"
    page_url = f"/p/{participant.access_token}/schedule"
    own = client.get(page_url).get_data(as_text=True)
    assert f"{plain}?lang" not in own and f"{plain}</code>" in own  # its own language
    client.post("/language", data={"lang": "en"})
    page = client.get(page_url).get_data(as_text=True)
    english = f"{plain}?lang=en"
    assert f"{english}</code>" in page
    assert quote(f"{participant.feed_token}.ics?lang=en", safe="") in page  # Google, Outlook
    assert f"webcal://localhost{english}" in page

    feed = client.get(english)
    summaries = [line for line in feed.get_data(as_text=True).splitlines()
                 if line.startswith("SUMMARY:")]
    assert summaries and all(line.startswith("SUMMARY:Meeting: ") for line in summaries)
    # The token-only address keeps the participant's language; unknown languages are
    # ignored. Caching follows the language: one's ETag never answers for the other.
    japanese = client.get(plain)
    assert "商談：" in japanese.get_data(as_text=True)
    assert feed.headers["ETag"] != japanese.headers["ETag"]
    assert client.get(english, headers={"If-None-Match": feed.headers["ETag"]}).status_code == 304
    assert client.get(english, headers={"If-None-Match": japanese.headers["ETag"]}
                      ).status_code == 200
    assert client.get(plain, headers={"If-None-Match": feed.headers["ETag"]}).status_code == 200
    for ignored in ("fr", "EN", "en-US", ""):
        other = client.get(f"{plain}?lang={ignored}")
        assert other.data == japanese.data, ignored


def test_last_modified_follows_a_renamed_counterpart(client, db_session, participant) -> None:
    url = f"/cal/{participant.feed_token}.ics"
    first = client.get(url)
    meeting = _meetings_of(db_session, participant)[0]
    other = (
        meeting.participant_b
        if meeting.participant_a_id == participant.id
        else (meeting.participant_a)
    )
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    other.organization.name = "株式会社改名後"
    other.organization.updated_at = later
    db_session.commit()
    feed = _feed(db_session, participant)
    assert feed.last_modified == later
    response = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert response.status_code == 200
    assert "株式会社改名後".encode() in response.data.replace(b"\r\n ", b"")


def test_guessing_feed_tokens_is_rate_limited(client, participant) -> None:
    statuses = [client.get(f"/cal/guess-{n:04d}.ics").status_code for n in range(25)]
    assert statuses[0] == 404 and statuses[-1] == 429
    # The right token is still served at that address: guesses from a shared address
    # (a venue's, an office's) must not stop the calendars behind it from updating.
    assert client.get(f"/cal/{participant.feed_token}.ics").status_code == 200

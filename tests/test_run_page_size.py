"""A run's review page stays light on a large fair: one page of its list at a time, one
shared pin form and one move form instead of a form per meeting, no select of every
pair, and a fixed number of queries. Every meeting stays reachable (paging, search,
slot and table filters, the meeting's own page) and every edit still works, without
JavaScript too. (A fair of 1,372 meetings was 2.7 MB and 1.5–3 s a view.)"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import pair_rules, run_review, runs
from scheduler.demo import generate_demo
from scheduler.models import (
    Event,
    Interest,
    PairRule,
    Participant,
    RunStatus,
    ScheduleRun,
    User,
)
from scheduler.preferences import SCREENING_SOURCE, requested_pairs
from scheduler.problem_builder import participant_key
from solver.problem_io import problem_from_dict, schedule_from_dict
from tests.test_query_counts import counted
from web.runs import PAGE_SIZE


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _solved(session: Session, factory: sessionmaker, *, buyers: int, suppliers: int, slug: str):
    event = generate_demo(session, seed=9, buyers=buyers, suppliers=suppliers, slug=slug)
    session.commit()
    run = runs.create_run(session, event, parameters={"time_limit": 1})
    session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    session.expire_all()
    return event, session.get(ScheduleRun, run.id)


@pytest.fixture
def small(db_session: Session, factory: sessionmaker) -> tuple[Event, ScheduleRun]:
    return _solved(db_session, factory, buyers=4, suppliers=14, slug="small-fair")


@pytest.fixture
def large(db_session: Session, factory: sessionmaker) -> tuple[Event, ScheduleRun]:
    return _solved(db_session, factory, buyers=14, suppliers=70, slug="large-fair")


def _url(event: Event, run: ScheduleRun, tail: str = "") -> str:
    return f"/events/{event.id}/schedule/runs/{run.id}{tail}"


def _page(client: FlaskClient, url: str, **query: object) -> str:
    response = client.get(url, query_string=query or None)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _pairs_on(page: str) -> set[frozenset[str]]:
    return {frozenset(pair.split("|")) for pair in re.findall(r'data-move="([^"]+)"', page)}


def _links(page: str, rel: str) -> list[str]:
    links = re.findall(rf'<a [^>]*rel="{rel}"[^>]*>', page)
    return [unescape(re.search(r'href="([^"]+)"', link).group(1)) for link in links]


def _meeting_keys(run: ScheduleRun) -> set[frozenset[str]]:
    return {m.key for m in schedule_from_dict(run.result).meetings}


# --------------------------------------------------------------------------- size and queries


def test_the_page_and_its_queries_do_not_grow_with_the_meetings(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    db_session: Session,
    small: tuple[Event, ScheduleRun],
    large: tuple[Event, ScheduleRun],
) -> None:
    counts, forms = {}, {}
    for name, (event, run) in (("small", small), ("large", large)):
        # Pins on both fairs: the list marks them without a query per meeting.
        for meeting in schedule_from_dict(run.result).meetings[:3]:
            pair_rules.pin_meeting(db_session, event, run, meeting.a, meeting.b, user_id=None)
        db_session.commit()
        for view in ("participants", "meetings"):
            _page(client, _url(event, run), view=view)  # warm-up
            with counted(app) as statements:
                page = _page(client, _url(event, run), view=view)
            counts[name, view] = len(statements)
            forms[name, view] = page.count("<form")
            assert 'id="move-meeting"' not in page  # no select of every pair
            assert page.count('id="pin-form"') == 1 and page.count('class="move-form"') == 1
    for view in ("participants", "meetings"):
        assert counts["small", view] == counts["large", view] <= 15, counts
        assert forms["small", view] == forms["large", view] <= 8, forms
    event, run = large
    meetings = len(run.result["meetings"])
    assert meetings > PAGE_SIZE["meetings"]  # the large fair needs more than one page
    page = _page(client, _url(event, run), view="meetings")
    assert len(_pairs_on(page)) == PAGE_SIZE["meetings"]
    assert f"1–{PAGE_SIZE['meetings']} of {meetings}" in page
    participants = _page(client, _url(event, run))
    assert len(re.findall(r'<tr id="participant-', participants)) == PAGE_SIZE["participants"]


def test_the_rule_list_takes_a_fixed_number_of_queries(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    db_session: Session,
    large: tuple[Event, ScheduleRun],
) -> None:
    event, run = large
    meetings = schedule_from_dict(run.result).meetings
    counts = []
    for pins in (1, 8):
        for meeting in meetings[:pins]:
            pair_rules.pin_meeting(db_session, event, run, meeting.a, meeting.b, user_id=None)
        db_session.commit()
        client.get(f"/events/{event.id}/schedule/")
        with counted(app) as statements:
            page = _page(client, f"/events/{event.id}/schedule/")
        assert page.count("/delete") == pins
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# --------------------------------------------------------------------------- every meeting


def test_every_meeting_and_participant_is_reachable_page_by_page(
    client: FlaskClient, logged_in: User, large: tuple[Event, ScheduleRun]
) -> None:
    event, run = large
    seen: set[frozenset[str]] = set()
    url: str | None = _url(event, run) + "?view=meetings"
    while url:
        page = _page(client, url)
        seen |= _pairs_on(page)
        following = _links(page, "next")
        url = following[0].split("#")[0] if following else None
    assert seen == _meeting_keys(run)

    problem = problem_from_dict(run.problem)
    rows: set[str] = set()
    url = _url(event, run)
    while url:
        page = _page(client, url)
        rows |= set(re.findall(r'<tr id="participant-([^"]+)"', page))
        following = _links(page, "next")
        url = following[0].split("#")[0] if following else None
    assert rows == {p.id for p in problem.participants}


def test_search_and_filters_find_a_companys_meetings_and_a_slots_and_tables(
    client: FlaskClient, logged_in: User, db_session: Session, large: tuple[Event, ScheduleRun]
) -> None:
    event, run = large
    meetings = schedule_from_dict(run.result).meetings
    names = {p.id: p.name for p in problem_from_dict(run.problem).participants}
    company = meetings[0].a
    # Typed in lower case, or a part of the company's name: its meetings, and only those.
    for typed in (company.lower(), names[company][2:8]):
        page = _page(client, _url(event, run), view="meetings", q=typed)
        expected = {m.key for m in meetings if typed.lower() in f"{m.a} {names[m.a]}".lower()}
        expected |= {m.key for m in meetings if typed.lower() in f"{m.b} {names[m.b]}".lower()}
        assert _pairs_on(page) == expected and expected
    slot, table = meetings[0].slot, meetings[0].table
    page = _page(client, _url(event, run), view="meetings", slot=slot)
    assert _pairs_on(page) == {m.key for m in meetings if m.slot == slot}
    page = _page(client, _url(event, run), view="meetings", table=table)
    assert _pairs_on(page) == {m.key for m in meetings if m.table == table}
    # The slot and table cards link to the same lists.
    overview = _page(client, _url(event, run))
    assert f'href="?view=meetings&amp;slot={slot}#review-list"' in overview
    assert f'href="?view=meetings&amp;table={table}#review-list"' in overview

    review = run_review.review(db_session, event, run)
    assert review is not None
    without = [p.key for p in review.participants if not p.meetings]
    page = _page(client, _url(event, run), show="without")
    assert re.findall(r'<tr id="participant-([^"]+)"', page) == without[: PAGE_SIZE["participants"]]
    page = _page(client, _url(event, run), role="supplier", show="waits")
    keys = re.findall(r'<tr id="participant-([^"]+)"', page)
    waiting = [p.key for p in review.participants if p.role == "supplier" and p.waits]
    assert keys == waiting[: PAGE_SIZE["participants"]]


def test_the_pager_and_the_edits_keep_the_filter(
    client: FlaskClient, logged_in: User, db_session: Session, large: tuple[Event, ScheduleRun]
) -> None:
    event, run = large
    page = _page(client, _url(event, run), role="supplier", q="S0")
    following = _links(page, "next")
    assert following, "sixty suppliers are more than one page"
    query = parse_qs(urlsplit(following[0]).query)
    assert query == {"role": ["supplier"], "q": ["S0"], "page": ["2"]}
    second = _page(client, following[0].split("#")[0])
    assert re.search(r'<option value="supplier" selected>', second)
    assert 'value="S0"' in second
    previous = parse_qs(urlsplit(_links(second, "prev")[0]).query)
    assert previous == {"role": ["supplier"], "q": ["S0"]}

    # A pin from page 2 returns to page 2 of the same list, the meeting marked pinned.
    here = re.search(r'<input type="hidden" name="next" value="([^"]+)"', second).group(1)
    assert parse_qs(urlsplit(unescape(here)).query) == query
    pair = re.search(r'name="pair" value="([^"]+)"', second).group(1)
    response = client.post(_url(event, run, "/pin"), data={"pair": pair, "next": unescape(here)})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.location).query) == query
    assert response.location.endswith("#review-list")
    rule = db_session.scalar(select(PairRule))
    assert rule is not None and rule.kind == "pin"
    a, b = pair.split("|")
    placed = next(m for m in schedule_from_dict(run.result).meetings if m.key == {a, b})
    assert f"s{rule.slot_id}" == placed.slot and rule.table.label == placed.table
    again = _page(client, response.location.split("#")[0])
    assert f'name="pair" value="{pair}"' not in again and ">pinned</span>" in again

    # Another site's address, or another page, is never where an edit goes back to.
    for elsewhere in ("https://evil.example/", "//evil.example/x", f"/events/{event.id}/"):
        response = client.post(_url(event, run, "/pin"), data={"pair": pair, "next": elsewhere})
        assert response.location.endswith(_url(event, run, "#edit"))


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page": "99999"},
        {"page": "9" * 5000},
        {"page": "²"},
        {"page": "١٢"},
        {"view": "nonsense"},
        {"view": "meetings", "slot": "s999999", "table": "<script>"},
        {"role": "guest", "show": "everything"},
        {"q": "x" * 500},
    ],
)
def test_a_tampered_address_shows_a_page_not_an_error(
    client: FlaskClient, logged_in: User, small: tuple[Event, ScheduleRun], query: dict
) -> None:
    event, run = small
    page = _page(client, _url(event, run), **query)
    assert 'id="review-list"' in page  # the run's page, its list as if unfiltered
    assert 'value="<script>"' not in page and "&lt;script&gt;" not in page
    typed = re.search(r'id="list-q" name="q" value="([^"]*)"', page)
    assert typed is not None and len(typed.group(1)) <= 100


# ------------------------------------------------------------------ edits without JavaScript


def _free_place(run: ScheduleRun, a: str, b: str) -> tuple[str, str]:
    problem = problem_from_dict(run.problem)
    current = next(m for m in schedule_from_dict(run.result).meetings if m.key == {a, b})
    for slot in problem.slots:
        for table in problem.tables:
            if (slot.id, table.id) == (current.slot, current.table):
                continue
            if not pair_rules.move_conflicts(run, a, b, slot.id, table.id):
                return slot.id, table.id
    raise AssertionError("no free place")


def test_the_meeting_page_moves_a_meeting_without_javascript(
    client: FlaskClient, logged_in: User, db_session: Session, small: tuple[Event, ScheduleRun]
) -> None:
    event, run = small
    meetings = schedule_from_dict(run.result).meetings
    first = meetings[0]
    other = next(m for m in meetings if m.slot != first.slot and m.table)
    list_url = _url(event, run) + "?view=meetings&q=" + first.a
    # The run page's "move" link opens the meeting's page, which says where it could go.
    overview = _page(client, list_url)
    href = re.search(r'<a href="([^"]+/meetings/[^"]*)" data-move="[^"]*"', overview).group(1)
    page = client.get(href, headers={"Referer": "http://localhost" + list_url})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="choices"' in text and 'class="move-form"' in text
    assert f'name="next" value="{list_url.replace("&", "&amp;")}"' in text

    # Into a taken place: every reason, on the meeting's page, and nothing moves.
    refused = client.post(
        _url(event, run, "/move"),
        data={"a": first.a, "b": first.b, "slot": other.slot, "table": other.table},
    )
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert 'id="move-refused"' in body and "is taken by" in body
    assert re.search(rf'<option value="{other.slot}" selected>', body)
    db_session.expire_all()
    assert db_session.get(ScheduleRun, run.id).edited_at is None

    slot, table = _free_place(run, first.a, first.b)
    moved = client.post(
        _url(event, run, "/move"),
        data={"a": first.a, "b": first.b, "slot": slot, "table": table, "next": list_url},
    )
    assert moved.status_code == 302 and moved.location.endswith(list_url + "#review-list")
    db_session.expire_all()
    edited = db_session.get(ScheduleRun, run.id)
    placed = next(m for m in schedule_from_dict(edited.result).meetings if m.key == first.key)
    assert (placed.slot, placed.table) == (slot, table)
    # Pinned there: the page says so and offers no pin button for it.
    again = _page(client, _url(event, run, f"/meetings/{first.a}/{first.b}"))
    assert ">pinned</span>" in again and 'id="pin-here"' not in again


def test_a_meeting_is_opened_by_the_codes_of_both_companies(
    client: FlaskClient, logged_in: User, small: tuple[Event, ScheduleRun]
) -> None:
    event, run = small
    first = schedule_from_dict(run.result).meetings[0]
    response = client.get(
        _url(event, run, "/meeting"), query_string={"a": first.b.lower(), "b": f" {first.a} "}
    )
    assert response.status_code == 302 and "/meetings/" in response.location
    assert {*response.location.rsplit("/", 2)[1:]} == set(first.key)
    missing = client.get(
        _url(event, run, "/meeting"),
        query_string={"a": first.a, "b": "Z999"},
        follow_redirects=True,
    )
    assert f"This run has no meeting of {first.a} and Z999." in missing.get_data(as_text=True)
    empty = client.get(_url(event, run, "/meeting"), follow_redirects=True)
    assert "Enter the codes of both companies." in empty.get_data(as_text=True)
    assert client.get(_url(event, run, "/meetings/B001/Z999")).status_code == 404


def test_a_pin_without_a_meeting_says_so(
    client: FlaskClient, logged_in: User, db_session: Session, small: tuple[Event, ScheduleRun]
) -> None:
    event, run = small
    page = client.post(_url(event, run, "/pin"), data={}, follow_redirects=True)
    assert "Choose the meeting to pin." in page.get_data(as_text=True)
    assert db_session.scalar(select(PairRule)) is None


# --------------------------------------------------------------------------- the mutual count


def test_mutual_pairs_are_those_of_the_stated_interests(
    db_session: Session, small: tuple[Event, ScheduleRun]
) -> None:
    """The review counts mutual pairs in SQL; they must be requested_pairs' own."""
    event, _run = small

    def expected() -> set[frozenset[str]]:
        keys = {p.id: participant_key(p) for p in event.participants}
        return {
            frozenset((keys[p.a], keys[p.b]))
            for p in requested_pairs(db_session, event)
            if p.mutual
        }

    assert run_review._mutual_pairs(db_session, event) == expected() != set()
    interests = db_session.scalars(select(Interest).where(Interest.event_id == event.id)).all()
    mutual = next(
        i
        for i in interests
        if frozenset((participant_key(i.from_participant), participant_key(i.to_participant)))
        in expected()
    )
    mutual.declined = True  # a decline ends it
    back = next(
        i
        for i in interests
        if (i.from_participant_id, i.to_participant_id)
        != (mutual.from_participant_id, mutual.to_participant_id)
        and i.level > 0
    )
    back.source = SCREENING_SOURCE  # a screening answer counts only while screening is on
    db_session.flush()
    for screening in (False, True):
        event.screening_enabled = screening
        db_session.flush()
        assert run_review._mutual_pairs(db_session, event) == expected()
    withdrawn = db_session.get(Participant, back.to_participant_id)
    withdrawn.status = "withdrawn"
    db_session.flush()
    assert run_review._mutual_pairs(db_session, event) == expected()
    db_session.rollback()

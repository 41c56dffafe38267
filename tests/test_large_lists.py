"""The lists a large fair makes long: the organizer's participants list and the
directory come a page at a time, keep their search and filters from page to page, reach
every company, and take a fixed number of queries however many companies there are; a
request made on one page of the directory saves that company alone and comes back to
the same page; suggestions and directory searches, made fast, are what they were.

A 950-company fair (150 buyers, 800 suppliers) rendered the whole list on one page
(813 kB for the participants, 647 kB for a buyer's directory), and a buyer's
suggestions took about 1.2 s (docs/benchmarks-web.md, "The lists a large fair makes
long"). The pages here are shortened (``PER_PAGE`` patched) so small fairs span
several pages.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import directory, preferences, suggestions
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import (
    Event,
    Interest,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Phase,
)
from scheduler.names import search_key
from scheduler.vocabulary import (
    CERTIFICATIONS,
    TECHNOLOGIES,
    certification_label,
    field_of,
    lot_size_label,
    technology_label,
)
from tests.participant_fair import read_in_english
from tests.test_query_counts import counted
from web import directory as directory_web
from web import participants_admin
from web.pagination import paginate


@pytest.fixture(autouse=True)
def _short_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(participants_admin, "PER_PAGE", 7)
    monkeypatch.setattr(directory_web, "PER_PAGE", 5)


def _open_fair(session: Session, *, slug: str, buyers: int, suppliers: int, seed: int = 5
               ) -> Event:
    """A demo fair in the preferences phase with requests open for two weeks."""
    event = generate_demo(session, seed=seed, buyers=buyers, suppliers=suppliers, slug=slug,
                          phase=Phase.PREFERENCES)
    event.max_requests = None
    for deadline in event.phases:
        if deadline.phase == Phase.PREFERENCES:
            deadline.opens_at = utcnow() - timedelta(days=1)
            deadline.closes_at = utcnow() + timedelta(days=14)
    session.commit()
    return event


@pytest.fixture
def fair(db_session: Session) -> Event:
    return _open_fair(db_session, slug="large-lists", buyers=4, suppliers=24)


def _approved(session: Session, event: Event, role: str) -> list[Participant]:
    return list(session.scalars(
        select(Participant).where(Participant.event_id == event.id, Participant.role == role,
                                  Participant.status == ParticipantStatus.APPROVED)
        .order_by(Participant.code, Participant.id)
    ))


def _html(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _next_link(html: str) -> str | None:
    found = re.search(r'<a class="btn small" rel="next" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def _walk(client: FlaskClient, url: str, row_id: str) -> tuple[list[int], list[str]]:
    """Every row id over all pages, following the "next page" links from ``url``, and
    the addresses visited. No page holds more rows than a page's length."""
    per_page = participants_admin.PER_PAGE if row_id == "participant" else directory_web.PER_PAGE
    ids: list[int] = []
    visited: list[str] = []
    current: str | None = url
    while current is not None:
        assert current not in visited, "the pages link in a circle"
        visited.append(current)
        html = _html(client, current)
        rows = [int(i) for i in re.findall(rf'id="{row_id}-(\d+)"', html)]
        assert 0 < len(rows) <= per_page
        ids += rows
        current = _next_link(html)
    assert len(visited) == -(-len(ids) // per_page)
    return ids, visited


def _args(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _same_address(one: str, other: str) -> bool:
    """Whether two addresses are the same page and arguments (however they are encoded)."""
    return urlsplit(one).path == urlsplit(other).path and _args(one) == _args(other)


# --------------------------------------------------------------------------- page links


def test_page_links_keep_every_argument_and_leave_out_far_pages(app: Flask) -> None:
    url = "/events/1/participants?q=山田&role=&tag=a&tag=b&page=7"
    with app.test_request_context(url, base_url="http://localhost/fair"):
        page = paginate(list(range(100)), 7)
        assert (page.number, page.pages, page.first, page.last) == (7, 15, 43, 49)
        assert page.numbers() == [1, None, 5, 6, 7, 8, 9, None, 15]
        # Under the site's prefix, with every argument but the empty one and the page.
        assert _same_address(page.url(8), "/fair/events/1/participants?q=山田&tag=a&tag=b&page=8")
        assert "page=" not in page.url(1)  # the first page has one address
        assert paginate(list(range(100)), 7, 1).numbers() == [1, 2, 3, None, 15]
        empty = paginate([], 7)
        assert (empty.pages, empty.first, empty.last, empty.items) == (1, 0, 0, [])


# --------------------------------------------------------------------------- participants


def _expected_order(session: Session, event: Event) -> list[Participant]:
    everyone = session.scalars(select(Participant).where(Participant.event_id == event.id))
    return sorted(everyone, key=lambda p: (p.role != ParticipantRole.BUYER, p.code or "~", p.id))


def test_every_participant_is_on_exactly_one_page_in_order(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    expected = [p.id for p in _expected_order(db_session, fair)]
    assert len(expected) > 3 * 7  # several pages
    ids, visited = _walk(client, f"/events/{fair.id}/participants", "participant")
    assert ids == expected
    first = _html(client, visited[0])
    # Counted once for the whole event, not for the page shown.
    approved = sum(1 for p in fair.participants if p.status == ParticipantStatus.APPROVED)
    assert f'<span class="value">{approved}</span>' in first
    assert 'aria-current="page"' in first and 'rel="prev"' not in first


def test_participant_pages_keep_the_role_and_the_search(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    read_in_english(client)
    # Every supplier of the demo has a contact person named in its attendances; search
    # for a frequent family name so that the result spans pages.
    suppliers = [p for p in _expected_order(db_session, fair) if p.role == "supplier"]
    word = "株式会社"
    matching = [
        p.id for p in suppliers
        if search_key(word) in search_key(" ".join([
            p.code, p.organization.name, p.organization.name_kana,
            *(f"{person.name} {person.name_kana}" for person in p.people)]))
    ]
    assert len(matching) > 7, "the search should span pages"
    url = f"/events/{fair.id}/participants?q={word}&role=supplier"
    ids, visited = _walk(client, url, "participant")
    assert ids == matching
    for address in visited[1:]:
        assert _args(address)["q"] == [word] and _args(address)["role"] == ["supplier"]
    second = _html(client, visited[1])
    assert f'value="{word}"' in second  # the search box still shows the search
    assert '<option value="supplier" selected>' in second
    assert "Page 2 of" in second and 'rel="prev"' in second and "Previous page" in second


@pytest.mark.parametrize("page", ["999", "0", "-3", "abc", "２", ""])
def test_a_page_outside_the_list_shows_the_nearest_page(
    client: FlaskClient, logged_in, db_session: Session, fair: Event, page: str
) -> None:
    html = _html(client, f"/events/{fair.id}/participants?page={page}")
    ids = [int(i) for i in re.findall(r'id="participant-(\d+)"', html)]
    expected = [p.id for p in _expected_order(db_session, fair)]
    pages = [expected[i:i + 7] for i in range(0, len(expected), 7)]
    assert ids == (pages[-1] if page == "999" else pages[0])


def test_editing_from_a_page_returns_to_that_page(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    index = f"/events/{fair.id}/participants"
    second = f"{index}?role=supplier&page=2"
    html = _html(client, second)
    edit = unescape(re.search(r'href="([^"]+/edit\?back=[^"]+)"', html).group(1))
    assert _args(edit)["back"] == [second]
    form = _html(client, edit)
    assert f'href="{second.replace("&", "&amp;")}"' in form  # the breadcrumb leads back
    participant_id = int(re.search(r"/participants/(\d+)/edit", edit).group(1))
    participant = db_session.get(Participant, participant_id)
    data = {"company": participant.organization.name, "role": participant.role,
            "desks": "1", "contact_name": "新しい 担当", "email": "new@example.jp"}
    saved = client.post(edit, data=data)
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"{second}#participant-{participant_id}"
    # A back address that is not this list is ignored: the list's first page instead.
    for elsewhere in ("https://evil.example/x", "//evil.example/x",
                      f"/events/{fair.id}/directory", "/\\evil.example"):
        response = client.post(
            f"{index}/{participant_id}/edit", query_string={"back": elsewhere}, data=data)
        assert response.headers["Location"] == index


# --------------------------------------------------------------------------- directory


def test_each_side_reaches_every_counterpart_page_by_page(
    client: FlaskClient, db_session: Session, fair: Event
) -> None:
    buyer = _approved(db_session, fair, ParticipantRole.BUYER)[0]
    supplier = _approved(db_session, fair, ParticipantRole.SUPPLIER)[0]
    for viewer, others in ((buyer, ParticipantRole.SUPPLIER), (supplier, ParticipantRole.BUYER)):
        expected = [p.id for p in _approved(db_session, fair, others)]
        ids, _ = _walk(client, f"/p/{viewer.access_token}/directory", "entry")
        assert ids == expected


def test_directory_pages_keep_the_search_and_the_filters(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    args = "q=加工&location=region:chubu&role=supplier"
    expected = [e.participant.id for e in directory.search(
        db_session, fair, None, "加工",
        directory.DirectoryFilters(location="region:chubu", role="supplier"))]
    assert len(expected) > 5, "the search should span pages"
    ids, visited = _walk(client, f"/events/{fair.id}/directory?{args}", "entry")
    assert ids == expected
    for address in visited[1:]:
        assert _args(address) == {"q": ["加工"], "location": ["region:chubu"],
                                  "role": ["supplier"], "page": [address.rsplit("=", 1)[1]]}
    second = _html(client, visited[1])
    assert 'value="加工"' in second and '<option selected value="region:chubu">' in second


def test_a_profile_opened_from_a_page_leads_back_to_it(
    client: FlaskClient, db_session: Session, fair: Event
) -> None:
    buyer = _approved(db_session, fair, ParticipantRole.BUYER)[0]
    listing = f"/p/{buyer.access_token}/directory?q=加工&page=2"
    html = _html(client, listing)
    profile = unescape(re.search(r'<h2><a href="([^"]+)"', html).group(1))
    [back] = _args(profile)["back"]
    assert _same_address(back, listing)
    assert f'href="{back.replace("&", "&amp;")}"' in _html(client, profile)
    # Another address as `back` is not followed.
    plain = profile.split("?")[0]
    page = _html(client, plain + "?back=https://evil.example/")
    assert "evil.example" not in page.split("<main")[1]


def _quick_form(html: str, counterpart_id: int) -> str:
    found = re.search(
        rf'<form method="post" class="quick-request" action="([^"]*/directory/{counterpart_id}'
        rf'/request[^"]*)"', html)
    assert found, f"no one-click request for {counterpart_id}"
    return unescape(found.group(1))


def test_requests_made_on_different_pages_each_keep_their_own(
    client: FlaskClient, db_session: Session, fair: Event
) -> None:
    read_in_english(client)
    buyer = _approved(db_session, fair, ParticipantRole.BUYER)[0]
    db_session.execute(Interest.__table__.delete().where(
        Interest.from_participant_id == buyer.id))
    db_session.commit()
    base = f"/p/{buyer.access_token}/directory"
    first_page = f"{base}?{urlencode({'q': '株式会社'})}"  # as the pages write it
    second_page = f"{first_page}&page=2"
    one = re.findall(r'id="entry-(\d+)"', _html(client, first_page))[0]
    two = re.findall(r'id="entry-(\d+)"', _html(client, second_page))[0]
    one, two = int(one), int(two)

    # On page 1: a request with a note, through the full form opened from the entry.
    html = _html(client, first_page)
    form_link = unescape(re.search(
        rf'href="([^"]*/request/{one}\?back=[^"]+)"', html).group(1))
    saved = client.post(form_link, data={"level": "3", "note": "試作の相談"})
    assert saved.headers["Location"] == f"{first_page}#entry-{one}"

    # On page 2: one click, level low; back on page 2 at the entry.
    html = _html(client, second_page)
    saved = client.post(_quick_form(html, two), data={"level": "1"})
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"{second_page}#entry-{two}"

    mine = {i.to_participant_id: i for i in db_session.scalars(
        select(Interest).where(Interest.from_participant_id == buyer.id))}
    assert set(mine) == {one, two}
    assert (mine[one].level, mine[one].note) == (3, "試作の相談")
    assert (mine[two].level, mine[two].note) == (1, "")

    # Each page marks what was asked on it; nothing asked elsewhere is lost or offered again.
    for page, asked, level in ((first_page, one, "High"), (second_page, two, "Low")):
        html = _html(client, page)
        entry = html.split(f'id="entry-{asked}"')[1].split("</li>")[0]
        assert 'data-test="requested"' in entry and level in entry
        assert "quick-request" not in entry

    # A one-click level change keeps the note written earlier.
    client.post(f"/p/{buyer.access_token}/directory/{one}/request",
                query_string={"back": first_page}, data={"level": "2"})
    db_session.expire_all()
    kept = preferences.interest_between(db_session, buyer.id, one)
    assert (kept.level, kept.note) == (2, "試作の相談")
    # A request refused (a level nobody can choose) says why, on the same page.
    refused = client.post(f"/p/{buyer.access_token}/directory/{two}/request",
                          query_string={"back": second_page}, data={"level": "7"})
    assert refused.headers["Location"] == f"{second_page}#entry-{two}"
    assert '<p class="flash flash-error">Please choose high, medium or low.</p>' in _html(
        client, second_page)


def test_one_click_requests_wait_for_the_preferences_phase(
    client: FlaskClient, db_session: Session, fair: Event
) -> None:
    buyer = _approved(db_session, fair, ParticipantRole.BUYER)[0]
    supplier = _approved(db_session, fair, ParticipantRole.SUPPLIER)[-1]
    db_session.execute(Interest.__table__.delete().where(
        Interest.from_participant_id == buyer.id))
    fair.phase = Phase.REGISTRATION
    db_session.commit()
    html = _html(client, f"/p/{buyer.access_token}/directory")
    assert "quick-request" not in html
    response = client.post(f"/p/{buyer.access_token}/directory/{supplier.id}/request",
                           data={"level": "2"})
    assert response.status_code == 302  # back to the directory, with the reason flashed
    assert preferences.interest_between(db_session, buyer.id, supplier.id) is None


# --------------------------------------------------------------------------- queries


def _queries(app: Flask, client: FlaskClient, url: str) -> int:
    _html(client, url)  # warm-up: the session's own look-ups
    with counted(app) as statements:
        _html(client, url)
    return len(statements)


@pytest.mark.parametrize(
    "page",
    ["participants", "participants?q=株式会社&page=2", "directory?page=2",
     "directory?q=加工&page=2", "buyer directory", "supplier directory", "buyer suggestions",
     "supplier suggestions"],
)
def test_queries_do_not_grow_with_the_number_of_companies(
    app: Flask, client: FlaskClient, logged_in, db_session: Session, page: str
) -> None:
    def url(event: Event) -> str:
        side, _, what = page.partition(" ")
        if not what:
            return f"/events/{event.id}/{page}"
        # A viewer with something suggested (an empty page skips recording them).
        viewer = next(p for p in _approved(db_session, event, side)
                      if suggestions.suggestions_for(db_session, p))
        return f"/p/{viewer.access_token}/{what}"

    small = _open_fair(db_session, slug="small", buyers=4, suppliers=16, seed=5)
    large = _open_fair(db_session, slug="large", buyers=10, suppliers=50, seed=5)
    assert _queries(app, client, url(large)) == _queries(app, client, url(small))


# --------------------------------------------------------------------------- unchanged results
#
# The suggestions and the directory's search were made faster by working out each
# profile's facts once and by reading a document once. The functions below are the
# code as it was before, kept as the specification the fast code must match exactly.


def _old_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in folded)


def _old_runs(normalized: str) -> list[str]:
    runs: list[str] = []
    current: list[str] = []
    for ch in normalized:
        if ch.isalnum() or ch == "ー":
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _old_bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _old_runs(_old_fold(text)):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def _old_document_grams(texts: list[str]) -> set[str]:
    grams: set[str] = set()
    for text in texts:
        for run in _old_runs(_old_fold(text)):
            grams.update(run)
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def _old_score_fit(need, organization, locale: str) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    s = suggestions
    score, reasons = 0, []
    have = set(organization.technologies)
    exact = [code for code in need.technologies if code in have]
    score += min(2 * s.EXACT_TECHNOLOGY, s.EXACT_TECHNOLOGY * len(exact))
    reasons += [technology_label(code, locale) for code in exact]
    supplier_fields = {f.code for code in have if (f := field_of(code)) is not None}
    partial = [code for code in need.technologies
               if code not in have and (f := field_of(code)) is not None
               and f.code in supplier_fields]
    score += min(2 * s.SAME_FIELD, s.SAME_FIELD * len(partial))
    for code in partial:
        group = field_of(code)
        if group is not None and group.label(locale) not in reasons:
            reasons.append(group.label(locale))
    need_text = " ".join((need.title, need.material, need.description))
    texts = [organization.industry, organization.description, organization.strengths,
             organization.equipment, organization.materials, *organization.tags]
    for code in organization.technologies:
        term = TECHNOLOGIES.get(code)
        if term is not None:
            texts += [term.ja, term.en]
    profile_grams: set[str] = set()
    for text in texts:
        profile_grams |= _old_bigrams(text)
    for word in s._WORD_SEPARATORS.split(need.material):
        grams = _old_bigrams(word)
        if grams and grams <= profile_grams and word not in reasons:
            reasons.append(word)
    need_grams = _old_bigrams(need_text)
    for tag in organization.tags:
        grams = _old_bigrams(tag)
        if grams and grams <= need_grams and tag not in reasons:
            reasons.append(tag)
    folded = _old_fold(need_text).replace(" ", "")
    wanted = {term.code for term in CERTIFICATIONS
              for label in (term.ja, term.en.split(" (")[0])
              if _old_fold(label).replace(" ", "") in folded}
    held = [c for c in organization.certifications if c in wanted]
    score += min(2 * s.CERTIFICATION, s.CERTIFICATION * len(held))
    reasons += [certification_label(c, locale) for c in held]
    if need.lot_size and need.lot_size in organization.lot_sizes:
        score += s.LOT_SIZE
        label = lot_size_label(need.lot_size, locale)
        if label not in reasons:
            reasons.append(label)
    if need_grams:
        score += round(s.TEXT * len(need_grams & profile_grams) / len(need_grams))
    return min(score, 100), reasons


def _old_suggestions(session: Session, viewer: Participant, locale: str) -> list[tuple]:
    """What the viewer's suggestions page showed before: (need, [(counterpart, need,
    score, reasons)]) per need for a buyer, one flat group for a supplier."""
    asked = set(session.scalars(select(Interest.to_participant_id).where(
        Interest.from_participant_id == viewer.id)))
    other_role = "supplier" if viewer.role == "buyer" else "buyer"
    others = [p for p in _approved(session, viewer.event, other_role) if p.id not in asked]
    if viewer.role == "buyer":
        groups = []
        for need in viewer.needs:
            found = []
            for supplier in others:
                score, reasons = _old_score_fit(need, supplier.organization, locale)
                if score >= suggestions.MIN_SCORE and reasons:
                    found.append((supplier.id, need.id, score, reasons))
            found.sort(key=lambda s: -s[2])
            groups.append((need.id, found[:5]))
        return groups
    best: dict[int, tuple] = {}
    for buyer in others:
        for need in buyer.needs:
            if not need.published:
                continue
            score, reasons = _old_score_fit(need, viewer.organization, locale)
            if score >= suggestions.MIN_SCORE and reasons and (
                    buyer.id not in best or score > best[buyer.id][2]):
                best[buyer.id] = (buyer.id, need.id, score, reasons)
    return [(None, sorted(best.values(), key=lambda s: -s[2])[:10])]


def _new_suggestions(session: Session, viewer: Participant, locale: str) -> list[tuple]:
    if viewer.role == "buyer":
        return [(g.need.id, [(s.counterpart.id, s.need.id, s.score, s.reasons)
                             for s in g.suggestions])
                for g in suggestions.suggestions_by_need(session, viewer, locale=locale)]
    return [(None, [(s.counterpart.id, s.need.id, s.score, s.reasons)
                    for s in suggestions.suggestions_for(session, viewer, locale=locale)])]


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_suggestions_are_what_they_were_for_every_participant(
    db_session: Session, locale: str
) -> None:
    event = _open_fair(db_session, slug="same-suggestions", buyers=8, suppliers=60, seed=11)
    viewers = _approved(db_session, event, "buyer") + _approved(db_session, event, "supplier")
    shown = 0
    for viewer in viewers:
        expected = _old_suggestions(db_session, viewer, locale)
        assert _new_suggestions(db_session, viewer, locale) == expected, viewer.code
        shown += sum(len(found) for _, found in expected)
    assert shown > 100  # the comparison is about many suggestions, not empty lists


def test_scoring_a_profile_that_is_a_plain_object_matches_the_specification(
    db_session: Session, fair: Event
) -> None:
    needs = [n for b in _approved(db_session, fair, "buyer") for n in b.needs]
    for supplier in _approved(db_session, fair, "supplier"):
        for need in needs:
            assert suggestions.score_fit(need, supplier.organization, "ja") == _old_score_fit(
                need, supplier.organization, "ja")


@pytest.mark.parametrize("viewer_role", [None, "buyer", "supplier"])
def test_directory_search_finds_and_ranks_as_before(
    db_session: Session, fair: Event, viewer_role: str | None
) -> None:
    # Queries without a Latin word, which are looked for by bigrams as before (a Latin
    # word is looked for whole since; test_directory checks that).
    for query in ("加工", "切削 アルミ", "試作", "株式会社", "鋳", "ｱﾙﾐ", "やまだ",
                  "5軸", "精密、部品", "の"):
        query_grams = _old_bigrams(query)
        word_grams = [g for word in query.split() if (g := _old_bigrams(word))]
        expected = []
        for entry in directory.search(db_session, fair, viewer_role, ""):
            texts = directory._texts(entry.participant, entry.needs, entry.technologies)
            found = query_grams & _old_document_grams(texts)
            share = len(found) / len(query_grams)
            if share >= directory.MIN_SHARE or any(g <= found for g in word_grams):
                expected.append((entry.participant.id, share))
        expected.sort(key=lambda e: -e[1])
        got = [(e.participant.id, e.score)
               for e in directory.search(db_session, fair, viewer_role, query)]
        assert got == expected, query


def test_a_request_made_from_a_profile_returns_to_that_profile(
    client: FlaskClient, db_session: Session, fair: Event
) -> None:
    read_in_english(client)
    buyer = _approved(db_session, fair, ParticipantRole.BUYER)[0]
    db_session.execute(Interest.__table__.delete().where(
        Interest.from_participant_id == buyer.id))
    db_session.commit()
    listing = f"/p/{buyer.access_token}/directory?q=加工&page=2"
    profile = unescape(re.search(r'<h2><a href="([^"]+)"', _html(client, listing)).group(1))
    other = int(re.search(r"/directory/(\d+)", profile).group(1))
    form_link = unescape(re.search(
        rf'href="([^"]*/request/{other}\?back=[^"]+)"', _html(client, profile)).group(1))
    # The form leads back to the profile (which still leads back to page 2 of the list).
    form = _html(client, form_link)
    breadcrumb = form.split('class="breadcrumb"')[1].split("</p>")[0]
    assert f'href="{profile.replace("&", "&amp;")}"' in breadcrumb
    saved = client.post(form_link, data={"level": "2", "note": ""})
    assert _same_address(saved.headers["Location"], profile)
    assert preferences.interest_between(db_session, buyer.id, other).level == 2
    # A `back` that is neither the directory nor this company's profile is not followed.
    plain = form_link.split("?")[0]
    saved = client.post(plain + "?back=https://evil.example/", data={"level": "3", "note": ""})
    assert saved.headers["Location"].endswith("/requests")

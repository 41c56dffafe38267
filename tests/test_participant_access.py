"""Secret links: who gets in, who does not, and how guessing is slowed down."""

from __future__ import annotations

import os
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter, Rule

from scheduler.models import (
    Attendance,
    AuditEntry,
    Interest,
    Need,
    Participant,
    ParticipantStatus,
    Proposal,
)
from scheduler.printing import qr_svg_data_uri
from tests.participant_fair import make_fair, read_in_english
from web.participant_access import participant_limiter


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session)
    db_session.commit()
    return fair


def test_home_opens_with_the_secret_link(client: FlaskClient, fair) -> None:
    response = client.get(f"/p/{fair.supplier.access_token}/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "ＡＢＣ精工株式会社" in page
    assert "テスト商談会" in page


def test_unknown_token_is_404(client: FlaskClient, fair) -> None:
    assert client.get("/p/" + "x" * 43 + "/").status_code == 404
    assert client.get("/p/short/").status_code == 404


@pytest.mark.parametrize("status", [ParticipantStatus.REJECTED, ParticipantStatus.WITHDRAWN])
def test_rejected_or_withdrawn_participant_is_refused(
    client: FlaskClient, db_session: Session, fair, status: str
) -> None:
    fair.supplier.status = status
    db_session.commit()
    assert client.get(f"/p/{fair.supplier.access_token}/").status_code == 404


def test_many_bad_tokens_from_one_address_get_429(app: Flask, client: FlaskClient, fair) -> None:
    limit = int(app.config["PARTICIPANT_BAD_TOKEN_LIMIT"].split("/")[0])
    for i in range(limit):
        assert client.get(f"/p/guess{i:040d}/").status_code == 404
    assert client.get("/p/" + "y" * 43 + "/").status_code == 429
    # Guesses from a shared address (a venue's, an office's, a proxy's) do not lock out
    # the participants behind it: a valid link is served, its page, live state and feed.
    token, feed = fair.supplier.access_token, fair.supplier.feed_token
    assert client.get(f"/p/{token}/").status_code == 200
    assert client.get(f"/p/{token}/live.json").status_code == 200
    assert client.get(f"/cal/{feed}.ics").status_code == 200
    assert client.get("/p/" + "z" * 43 + "/live.json").status_code == 429
    assert client.get("/cal/" + "z" * 43 + ".ics").status_code == 429
    # Another address is not affected.
    other = client.get(
        f"/p/{fair.supplier.access_token}/", environ_overrides={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


def _links(page: str) -> list[str]:
    """Where a page's links and the stylesheet lead (not the skip link to its own
    content, which leads nowhere else)."""
    return [h for h in re.findall(r'href="([^"]*)"', page) if not h.startswith("#")]


@pytest.mark.parametrize(
    "cut", [1, 10, 30], ids=["last-character-lost", "line-wrapped", "half"]
)
def test_a_link_that_fails_says_what_to_do_and_not_where_staff_log_in(
    client: FlaskClient, fair, cut: int
) -> None:
    """A cut-off link (an e-mail program wrapped it) gets its own page: copy the whole
    link, or it was replaced, or ask the organizer; no way to the staff login."""
    read_in_english(client)
    response = client.get(f"/p/{fair.supplier.access_token[:-cut]}/schedule")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'data-test="participant-link-failed"' in page
    assert "incomplete" in page and "copy the whole link" in page
    assert "newer link" in page and "ask the organizer" in page
    assert [h for h in _links(page) if not h.startswith("/static/")] == []
    assert "テスト商談会" not in page and "ＡＢＣ精工" not in page  # tells nothing of the link


@pytest.mark.parametrize("status", [ParticipantStatus.REJECTED, ParticipantStatus.WITHDRAWN])
def test_a_link_that_no_longer_works_gets_the_same_page(
    client: FlaskClient, db_session: Session, fair, status: str
) -> None:
    fair.supplier.status = status
    db_session.commit()
    response = client.get(f"/p/{fair.supplier.access_token}/")
    assert response.status_code == 404
    assert 'data-test="participant-link-failed"' in response.get_data(as_text=True)


def test_too_many_wrong_links_are_refused_without_the_staff_login(
    app: Flask, client: FlaskClient, fair
) -> None:
    limit = int(app.config["PARTICIPANT_BAD_TOKEN_LIMIT"].split("/")[0])
    for i in range(limit):
        assert client.get(f"/p/guess{i:040d}/").status_code == 404
    response = client.get("/p/" + "y" * 43 + "/")
    assert response.status_code == 429
    assert [h for h in _links(response.get_data(as_text=True)) if not h.startswith("/static/")] \
        == []


def test_a_missing_page_behind_a_valid_link_leads_back_to_the_companys_pages(
    client: FlaskClient, fair
) -> None:
    token = fair.supplier.access_token
    response = client.get(f"/p/{token}/directory/{fair.other_supplier.id}")
    assert response.status_code == 404
    links = _links(response.get_data(as_text=True))
    assert f"/p/{token}/" in links and "/" not in links and "/auth/login" not in links


# --------------------------------------------------------------------------- secret links


def test_reissued_link_replaces_the_old_one_at_once(
    client: FlaskClient, db_session: Session, logged_in, fair
) -> None:
    old, old_feed = fair.supplier.access_token, fair.supplier.feed_token
    page = client.get(f"/events/{fair.event.id}/participants/{fair.supplier.id}/access")
    assert old in page.get_data(as_text=True)
    response = client.post(
        f"/events/{fair.event.id}/participants/{fair.supplier.id}/access/reissue"
    )
    assert response.status_code == 302
    db_session.expire_all()
    new = fair.supplier.access_token
    assert new != old and len(new) >= 43
    assert client.get(f"/p/{old}/").status_code == 404
    assert client.get(f"/p/{new}/").status_code == 200
    # The calendar feed's address (shown on the schedule page to whoever held the old
    # link) is revoked with it: QA found the old feed kept serving the schedule.
    assert fair.supplier.feed_token != old_feed
    emptied = client.get(f"/cal/{old_feed}.ics")  # shows nothing, and empties calendars
    assert emptied.status_code == 200 and b"BEGIN:VEVENT" not in emptied.data
    assert client.get(f"/cal/{fair.supplier.feed_token}.ics").status_code == 200
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "participant.token_reissue")
    ).one()
    assert old not in str(entry.details) and new not in str(entry.details)
    slip = client.get(f"/events/{fair.event.id}/participants/{fair.supplier.id}/access/slip")
    assert new in slip.get_data(as_text=True)
    # The printed slip carries a QR code of that very link (typing 43 characters from
    # paper is error-prone), and of no other.
    html = slip.get_data(as_text=True)
    qr = html.split('class="slip-qr" src="', 1)[1].split('"', 1)[0]
    assert qr == qr_svg_data_uri(f"http://localhost/p/{new}/")


def test_only_organizers_manage_links(client: FlaskClient, auth, staff, fair) -> None:
    auth.login(email="staff@example.jp")
    base = f"/events/{fair.event.id}/participants/{fair.supplier.id}/access"
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/reissue").status_code == 403
    assert client.get(f"/events/{fair.event.id}/access/slips").status_code == 403


def test_participant_page_follows_the_participants_language(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.supplier.locale = "en"
    db_session.commit()
    url = f"/p/{fair.supplier.access_token}/"
    # The language switch offers the other language: 日本語 on an English page.
    english_page = client.get(url, headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en">' in english_page
    client.post("/language", data={"lang": "ja", "next": url})
    assert '<html lang="ja">' in client.get(url).get_data(as_text=True)


def test_other_registrations_only_of_the_same_company_and_contact(
    client: FlaskClient, db_session: Session, fair
) -> None:
    second = make_fair(db_session, slug="second")
    # The same company in another fair with the same contact e-mail: linked.
    again = Participant(
        event=second.event, organization=fair.supplier.organization, role="supplier"
    )
    db_session.add(again)
    db_session.add(Attendance(participant=again, person=fair.supplier.people[0], is_contact=True))
    # Another company whose contact uses the same e-mail address: never linked.
    stranger = second.other_supplier
    stranger.attendances[0].person.email = "ABC@example.jp"
    db_session.commit()
    page = client.get(f"/p/{fair.supplier.access_token}/").get_data(as_text=True)
    assert again.access_token in page
    assert stranger.access_token not in page
    assert second.supplier.access_token not in page


# --------------------------------------------------------------------------- every route


def _snapshot(session: Session, victim: Participant) -> dict[str, object]:
    """Everything the victim owns, to compare before and after the intruder's requests."""
    session.expire_all()
    org = victim.organization
    columns = lambda row: {c.name: getattr(row, c.name) for c in row.__table__.columns}  # noqa: E731
    return {
        "participant": columns(victim),
        "organization": columns(org),
        "people": [columns(p) for p in victim.people],
        "needs": [columns(n) for n in victim.needs],
        "proposals": [
            columns(p)
            for p in session.scalars(select(Proposal).where(Proposal.supplier_id == victim.id))
        ],
        "interests": [
            columns(i)
            for i in session.scalars(
                select(Interest).where(Interest.from_participant_id == victim.id)
            )
        ],
    }


def _victim_ids(session: Session, victim: Participant) -> list[int]:
    ids = {victim.id, victim.organization_id, *(n.id for n in victim.needs)}
    ids |= {p.id for p in victim.people} | {a.id for a in victim.attendances}
    ids |= set(session.scalars(select(Proposal.id).where(Proposal.supplier_id == victim.id)))
    ids |= set(
        session.scalars(select(Interest.id).where(Interest.from_participant_id == victim.id))
    )
    return sorted(ids)


def _portal_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/p/<token>")]


def _urls(rule: Rule, token: str, ids: list[int]) -> list[str]:
    others = [name for name in rule.arguments if name != "token"]
    int_args = [n for n in others if isinstance(rule._converters[n], IntegerConverter)]
    base = {n: "x" for n in others if n not in int_args}
    if not int_args:
        return [rule.build({"token": token, **base})[1]]
    return [rule.build({"token": token, **base, **dict.fromkeys(int_args, i)})[1] for i in ids]


INTRUDER_FORM = {
    "name": "乗っ取り",
    "title": "乗っ取り",
    "level": "3",
    "note": "x",
    "decision": "accept",
    "status": "accepted",
    "published": "y",
    "technologies": "machining.turning",
    "max_meetings": "1",
    "offer": "x",
    "description": "乗っ取り",
}


@pytest.mark.parametrize(
    ("intruder", "victim"),
    [
        ("buyer", "other_buyer"),
        ("supplier", "other_supplier"),
        ("supplier", "buyer"),
        ("buyer", "supplier"),
    ],
)
def test_no_participant_route_reads_or_changes_another_participants_data(
    app: Flask, client: FlaskClient, db_session: Session, fair, intruder: str, victim: str
) -> None:
    app.config["PARTICIPANT_PAGE_LIMIT"] = "100000/minute"
    app.config["PARTICIPANT_BAD_TOKEN_LIMIT"] = "100000/minute"
    # The victim owns one of everything a participant can own.
    db_session.add(Need(participant=fair.other_buyer, title="非公開", published=False))
    db_session.add(
        Proposal(
            event_id=fair.event.id, need=fair.need, supplier=fair.other_supplier, offer="秘密の提案"
        )
    )
    db_session.add(
        Interest(
            event_id=fair.event.id,
            from_participant=fair.other_supplier,
            to_participant=fair.buyer,
            level=3,
            note="秘密のメモ",
        )
    )
    db_session.commit()
    me, them = getattr(fair, intruder), getattr(fair, victim)
    secrets_of_victim = [
        them.access_token,
        them.feed_token,
        *(p.email for p in them.people),
        *(p.phone for p in them.people if p.phone),
    ]
    before = _snapshot(db_session, them)
    ids = _victim_ids(db_session, them)
    rules = _portal_rules(app)
    assert len(rules) >= 8  # the portal's own pages at least
    for rule in rules:
        assert rule.endpoint in app.view_functions
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for url in _urls(rule, me.access_token, ids):
                response = client.open(url, method=method, data=INTRUDER_FORM)
                body = response.get_data(as_text=True)
                assert response.status_code < 500, (url, method)
                for secret in secrets_of_victim:
                    assert secret not in body, (url, method, secret)
            # Every participant route refuses a token that is not a participant's.
            bad = _urls(rule, "z" * 43, ids[:1])[0]
            assert client.open(bad, method=method).status_code == 404, (bad, method)
    assert _snapshot(db_session, them) == before


def test_pages_are_in_japanese_for_japanese_participants(client: FlaskClient, fair) -> None:
    page = client.get(f"/p/{fair.supplier.access_token}/profile").get_data(as_text=True)
    assert '<html lang="ja">' in page
    assert "5軸加工" in page and "5-axis machining" not in page


def test_embedded_limits_are_kept_in_memory(app: Flask) -> None:
    from limits.storage import MemoryStorage

    assert isinstance(participant_limiter(app).storage, MemoryStorage)


@pytest.mark.redis
def test_limits_are_shared_through_redis_when_configured(database_url: str) -> None:
    from limits.storage import RedisStorage

    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ["REDIS_URL"],
        }
    )
    assert isinstance(participant_limiter(app).storage, RedisStorage)


def test_participants_are_served_while_the_redis_of_the_limits_is_down(
    database_url: str, fair
) -> None:
    """Scaled out, the counts live in Redis; Redis down must not take schedules down."""
    from web import create_app
    from web.database import get_engine

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": database_url,
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )  # nothing listens on port 1
    try:
        client = app.test_client()
        assert client.get(f"/p/{fair.supplier.access_token}/").status_code == 200
        assert client.get(f"/p/{fair.supplier.access_token}/live.json").status_code == 200
        assert client.get(f"/cal/{fair.supplier.feed_token}.ics").status_code == 200
        assert client.get("/p/" + "z" * 43 + "/").status_code == 404
    finally:
        get_engine(app).dispose()


def test_an_error_page_with_the_database_gone_still_leads_home_and_logs_no_link(
    app: Flask, client: FlaskClient, db_session: Session, fair, monkeypatch, caplog
) -> None:
    """The error handler rolls back, which expires the participant's row: the link home
    is made from the token kept when the link opened, so a database that went away
    mid-request still gives the error page (not the server's bare 500 with the secret
    link in its log)."""
    import logging

    from sqlalchemy import event as sa_event
    from sqlalchemy.exc import OperationalError

    import web.portal
    from web.database import get_engine

    app.config["TEST_ERROR_PAGES"] = True
    token = fair.buyer.access_token
    engine = get_engine(app)
    down = {"now": False}

    def refuse(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if down["now"] and statement.strip().upper().startswith("SELECT"):
            raise OperationalError(statement, {}, Exception("database is down"))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        down["now"] = True
        raise OperationalError("select", {}, Exception("server closed the connection"))

    sa_event.listen(engine, "before_cursor_execute", refuse)
    monkeypatch.setattr(web.portal, "other_registrations", broken)
    caplog.set_level(logging.ERROR)
    try:
        response = client.get(f"/p/{token}/")
    finally:
        down["now"] = False
        sa_event.remove(engine, "before_cursor_execute", refuse)
    assert response.status_code == 500
    assert f'href="/p/{token}/"' in response.get_data(as_text=True)
    assert "OperationalError" in caplog.text and token not in caplog.text


def test_a_calendar_feed_link_that_does_not_open_leads_nowhere_near_the_staff_login(
    client: FlaskClient, fair
) -> None:
    response = client.get("/cal/not-a-feed-token.ics")
    assert response.status_code == 404
    links = re.findall(r'href="([^"]*)"', response.get_data(as_text=True).split("<body")[1])
    assert "/" not in links and not any("/auth/login" in link for link in links)

"""Requests made at the same moment (a double click, several tabs): the cap holds, and a
request that meets a row saved a moment before updates it instead of failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import preferences
from scheduler.errors import ValidationFailed
from scheduler.models import AuditEntry, Interest, Participant, ParticipantRole, Phase
from tests.participant_fair import add_company, make_fair
from tests.races import race


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


def _buyers(db_session: Session, fair, count: int) -> list[Participant]:
    """``count`` more approved buyers in the fair."""
    return [
        add_company(db_session, fair.event, f"買手{n}株式会社", ParticipantRole.BUYER,
                    email=f"buyer{n}@example.jp", code=f"B{n + 10:03d}")
        for n in range(count)
    ]


def _slow_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold every cap check a moment after it counted, so that requests sent together
    surely all count before any of them is saved, unless something makes them wait."""
    counted = preferences.requested_counterparts

    def slow(session: Session, participant: Participant) -> set[int]:
        ids = counted(session, participant)
        time.sleep(0.3)
        return ids

    monkeypatch.setattr(preferences, "requested_counterparts", slow)


def _requests_of(db_session: Session, participant: Participant) -> list[Interest]:
    db_session.expire_all()
    return list(db_session.scalars(
        select(Interest).where(Interest.from_participant_id == participant.id)
    ))


def test_requests_sent_together_stay_within_the_cap(
    db_session: Session, fair, factory: sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A supplier with 6 of 8 requests clicks six buyers at once, three times the same one:
    two more are saved, the rest are refused at the cap, none fails on the database."""
    fair.event.max_requests = 8
    buyers = [fair.buyer, fair.other_buyer, *_buyers(db_session, fair, 8)]
    for buyer in buyers[:6]:
        preferences.request_meeting(db_session, fair.supplier, buyer.id, level=2)
    db_session.commit()
    supplier_id = fair.supplier.id
    targets = [buyers[6].id] * 3 + [b.id for b in buyers[7:10]]
    _slow_count(monkeypatch)

    def click(buyer_id: int) -> Callable[[Session], object]:
        def job(session: Session) -> object:
            supplier = session.get(Participant, supplier_id)
            return preferences.request_meeting(session, supplier, buyer_id, level=3)

        return job

    failures = race(factory, [click(buyer_id) for buyer_id in targets])
    assert not [f for f in failures if not isinstance(f, ValidationFailed)], failures
    assert all(f.params == {"cap": 8} for f in failures)
    mine = _requests_of(db_session, fair.supplier)
    assert len(mine) == 8
    assert len({i.to_participant_id for i in mine}) == 8
    saved = {i.to_participant_id for i in mine if i.level == 3}
    assert len(saved) == 2 and saved <= set(targets)


def test_a_request_meeting_a_row_saved_a_moment_before_updates_it(
    db_session: Session, fair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer saved the pair's row after this request looked for it: the insert
    meets the unique row, and the request updates that row instead of failing."""
    earlier = preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1,
                                          note="前の依頼")
    db_session.commit()
    found = preferences.interest_between
    looks: list[bool] = []

    def not_yet_seen(session: Session, from_id: int, to_id: int, **kwargs: bool):
        looks.append(True)
        return None if len(looks) == 1 else found(session, from_id, to_id, **kwargs)

    monkeypatch.setattr(preferences, "interest_between", not_yet_seen)
    db_session.expunge_all()
    supplier = db_session.get(Participant, fair.supplier.id)
    interest = preferences.request_meeting(db_session, supplier, fair.buyer.id, level=3,
                                           note="新しい依頼")
    db_session.commit()
    assert interest.id == earlier.id
    mine = _requests_of(db_session, fair.supplier)
    assert [(i.id, i.level, i.note, i.source) for i in mine] == [
        (earlier.id, 3, "新しい依頼", "request")]
    assert db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("preference.%"))
        .order_by(AuditEntry.id)
    ).all() == ["preference.request", "preference.change"]


def test_the_savepoint_keeps_the_rest_of_the_transaction(
    db_session: Session, fair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Meeting the unique row rolls back the failed insert alone, not what the same
    transaction saved before it (an organizer's several changes, say)."""
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1)
    db_session.commit()
    preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    found = preferences.interest_between
    looks: list[bool] = []

    def not_yet_seen(session: Session, from_id: int, to_id: int, **kwargs: bool):
        looks.append(True)
        return None if len(looks) == 1 else found(session, from_id, to_id, **kwargs)

    monkeypatch.setattr(preferences, "interest_between", not_yet_seen)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    db_session.commit()
    levels = {i.to_participant_id: i.level for i in _requests_of(db_session, fair.supplier)}
    assert levels == {fair.buyer.id: 3, fair.other_buyer.id: 2}


def test_three_quick_clicks_in_the_directory_save_one_request_and_no_error(
    app: Flask, db_session: Session, fair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three one-click requests to the same buyer at the same moment: each goes back to
    the directory as a saved request does; one row, no 500."""
    fair.event.max_requests = 8  # the cap is counted, slowly
    db_session.commit()
    _slow_count(monkeypatch)
    url = f"/p/{fair.supplier.access_token}/directory/{fair.buyer.id}/request"
    clients = [app.test_client() for _ in range(3)]
    barrier = threading.Barrier(len(clients))
    answers: list[int] = []

    def click(one: FlaskClient) -> None:
        barrier.wait(timeout=10)
        answers.append(one.post(url, data={"level": "3"}).status_code)

    threads = [threading.Thread(target=click, args=(one,)) for one in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [302, 302, 302]
    assert [(i.level, i.source) for i in _requests_of(db_session, fair.supplier)] == [
        (3, "request")]

"""Meeting requests, screening, the request cap, the phase rule and the weight rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import preferences
from scheduler.db import utcnow
from scheduler.errors import DeadlinePassed, NotFound, PermissionDenied, ValidationFailed
from scheduler.models import AuditEntry, Interest, Phase, PhaseDeadline
from scheduler.preferences import PairPreference, pair_weight, requested_pairs
from tests.participant_fair import make_fair


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


def _pairs(db_session: Session, fair) -> dict[frozenset[int], PairPreference]:
    return {frozenset((p.a, p.b)): p for p in requested_pairs(db_session, fair.event)}


# --------------------------------------------------------------------------- the weight rule


@pytest.mark.parametrize(
    ("a", "b", "declined", "weight"),
    [
        (3, 0, False, 3), (0, 2, False, 2), (1, 0, False, 1),  # one side asked: its level
        (1, 1, False, 4), (2, 2, False, 7), (3, 1, False, 6), (3, 3, False, 10),  # mutual
        (3, 3, True, None), (0, 0, False, None),  # declined or nobody asked: no pair
    ],
)
def test_pair_weight_rule(a: int, b: int, declined: bool, weight: int | None) -> None:
    assert pair_weight(a, b, declined) == weight


def test_mutual_always_outweighs_one_sided() -> None:
    one_sided = max(pair_weight(level, 0, False) or 0 for level in preferences.LEVELS)
    mutual = min(pair_weight(a, b, False) or 0 for a in preferences.LEVELS
                 for b in preferences.LEVELS)
    assert mutual > one_sided


def test_pair_weight_refuses_levels_out_of_range() -> None:
    with pytest.raises(ValueError):
        pair_weight(4, 0, False)


# --------------------------------------------------------------------------- requests


def test_request_creates_a_one_sided_pair_and_mutual_scores_more(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3,
                                note="アルミ筐体の件")
    pair = _pairs(db_session, fair)[frozenset((fair.supplier.id, fair.buyer.id))]
    assert (pair.weight, pair.mutual, pair.must, pair.sources) == (3, False, False, ("request",))
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=2)
    pair = _pairs(db_session, fair)[frozenset((fair.supplier.id, fair.buyer.id))]
    assert (pair.weight, pair.mutual) == (pair_weight(3, 2, False), True)
    assert pair.a < pair.b


def test_change_and_withdraw(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3, note="変更")
    interest = preferences.interest_between(db_session, fair.supplier.id, fair.buyer.id)
    assert (interest.level, interest.note) == (3, "変更")
    assert len(preferences.my_requests(db_session, fair.supplier)) == 1
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    assert preferences.my_requests(db_session, fair.supplier) == []
    assert requested_pairs(db_session, fair.event) == []
    with pytest.raises(NotFound):
        preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    actions = db_session.scalars(select(AuditEntry.action)).all()
    assert [
        a for a in actions if a.startswith("preference.")
    ] == ["preference.request", "preference.change", "preference.withdraw"]


@pytest.mark.parametrize("level", [0, 4, -1])
def test_level_must_be_high_medium_or_low(db_session, fair, level: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=level)
    assert caught.value.field == "level"


def test_over_long_note_is_refused_and_control_characters_dropped(db_session, fair) -> None:
    with pytest.raises(ValidationFailed) as caught:
        preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2,
                                    note="あ" * 1001)
    assert caught.value.field == "note"
    interest = preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2,
                                           note=" 試作😀\x00の件 ")
    assert interest.note == "試作😀の件"


def test_same_role_and_other_events_are_not_counterparts(db_session, fair) -> None:
    with pytest.raises(NotFound):
        preferences.request_meeting(db_session, fair.supplier, fair.other_supplier.id, level=2)
    other = make_fair(db_session, phase=Phase.PREFERENCES, slug="other")
    with pytest.raises(NotFound):
        preferences.request_meeting(db_session, fair.supplier, other.buyer.id, level=2)


def test_cap_counts_active_requests_and_names_the_cap(db_session, fair) -> None:
    fair.event.max_requests = 1
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    assert preferences.remaining_requests(db_session, fair.supplier) == 0
    # Changing a request already made costs nothing more.
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    with pytest.raises(ValidationFailed) as caught:
        preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    assert caught.value.params == {"cap": 1}
    assert "1 meeting requests" in caught.value.message
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    assert preferences.remaining_requests(db_session, fair.supplier) == 0
    fair.event.max_requests = None
    assert preferences.remaining_requests(db_session, fair.supplier) is None


def test_a_declined_request_keeps_its_place_until_withdrawn(db_session, fair) -> None:
    """Review: had a decline freed its place, turning screening off (which ignores the
    decline) or the buyer taking it back would put the supplier over the cap, with its
    requests closed; and a new proposal sheet to that buyer went past the cap."""
    fair.event.max_requests = 1
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False)
    assert preferences.remaining_requests(db_session, fair.supplier) == 0
    with pytest.raises(ValidationFailed, match="limit of 1 meeting requests"):
        preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)  # a change
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    fair.event.screening_enabled = False
    assert preferences.remaining_requests(db_session, fair.supplier) == 0
    assert len([p for p in _pairs(db_session, fair) if fair.supplier.id in p]) == 1


# --------------------------------------------------------------------------- phases


@pytest.mark.parametrize(
    "phase", [Phase.REGISTRATION, Phase.SCHEDULING, Phase.PUBLISHED, Phase.CLOSED]
)
def test_requests_only_in_the_preferences_phase(db_session, fair, phase: str) -> None:
    fair.event.phase = phase
    with pytest.raises(DeadlinePassed):
        preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)


def test_deadline_edge_and_organizer_extension(db_session, fair, organizer) -> None:
    closes = utcnow().replace(microsecond=0) + timedelta(hours=1)
    db_session.add(PhaseDeadline(event=fair.event, phase=Phase.PREFERENCES, closes_at=closes))
    db_session.flush()
    db_session.refresh(fair.event)
    just_before = closes - timedelta(seconds=1)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2,
                                now=just_before)
    with pytest.raises(DeadlinePassed):
        preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3, now=closes)
    with pytest.raises(DeadlinePassed):
        preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id, now=closes)
    # The organizer may still act on someone's behalf, and the audit trail names them.
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3, now=closes,
                                user_id=organizer.id)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "preference.change")
    ).one()
    assert entry.user_id == organizer.id
    fair.event.phase = Phase.PUBLISHED
    with pytest.raises(DeadlinePassed):
        preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1,
                                    user_id=organizer.id)


# --------------------------------------------------------------------------- screening


def test_screening_accept_with_level_makes_the_pair_mutual(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    incoming = preferences.incoming_requests(db_session, fair.buyer)
    assert [row.counterpart.id for row in incoming] == [fair.supplier.id]
    assert incoming[0].answer is None  # unanswered: neutral
    assert _pairs(db_session, fair)[frozenset((fair.supplier.id, fair.buyer.id))].weight == 2
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=True, level=3)
    pair = _pairs(db_session, fair)[frozenset((fair.supplier.id, fair.buyer.id))]
    assert (pair.weight, pair.mutual) == (pair_weight(2, 3, False), True)
    assert preferences.my_requests(db_session, fair.supplier)[0].status == "accepted"


def test_screening_decline_removes_the_pair(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=1)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False,
                               note="現在は案件がありません")
    pairs = _pairs(db_session, fair)
    assert frozenset((fair.supplier.id, fair.buyer.id)) not in pairs
    assert frozenset((fair.other_supplier.id, fair.buyer.id)) in pairs
    assert preferences.my_requests(db_session, fair.supplier)[0].status == "declined"
    # A decline still stands when the request is made again.
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    assert frozenset((fair.supplier.id, fair.buyer.id)) not in _pairs(db_session, fair)
    overview = preferences.overview(db_session, fair.event)
    assert overview.declined_pairs == 1


def test_declining_after_asking_oneself_turns_the_request_into_a_decline(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=1)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False)
    assert preferences.my_requests(db_session, fair.buyer) == []
    assert requested_pairs(db_session, fair.event) == []


def test_only_received_requests_can_be_answered(db_session, fair) -> None:
    with pytest.raises(NotFound):
        preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=True)


def test_screening_off_hides_answers_and_refuses_new_ones(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False)
    fair.event.screening_enabled = False
    pair = _pairs(db_session, fair)[frozenset((fair.supplier.id, fair.buyer.id))]
    assert (pair.weight, pair.mutual) == (2, False)
    with pytest.raises(PermissionDenied):
        preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=True)
    fair.event.screening_enabled = True  # the answers apply again
    assert frozenset((fair.supplier.id, fair.buyer.id)) not in _pairs(db_session, fair)


def test_screening_off_shows_no_answer_on_the_requests(db_session, fair) -> None:
    """What pages show follows what the solver gets: with screening off, neither side's
    list says お断り or 受諾 for an answer that no longer counts."""
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=1)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False,
                               note="今回は見送ります")
    preferences.answer_request(db_session, fair.buyer, fair.other_supplier.id, accept=True,
                               level=3)
    fair.event.screening_enabled = False
    for supplier in (fair.supplier, fair.other_supplier):
        row = preferences.my_requests(db_session, supplier)[0]
        assert (row.answer, row.status) == (None, "waiting")
    assert [row.answer for row in preferences.incoming_requests(db_session, fair.buyer)] == [
        None, None]
    fair.event.screening_enabled = True  # kept: they show again
    assert preferences.my_requests(db_session, fair.supplier)[0].status == "declined"
    assert preferences.my_requests(db_session, fair.other_supplier)[0].status == "accepted"


def test_a_buyers_own_request_still_reads_mutual_with_screening_off(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=3)
    fair.event.screening_enabled = False
    assert preferences.my_requests(db_session, fair.supplier)[0].status == "mutual"


def test_a_screening_answer_alone_makes_no_pair(db_session, fair) -> None:
    db_session.add(Interest(event_id=fair.event.id, from_participant=fair.buyer,
                            to_participant=fair.supplier, level=3, source="screening"))
    db_session.flush()
    assert requested_pairs(db_session, fair.event) == []


def test_pending_participants_are_left_out(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    fair.buyer.status = "pending"
    assert requested_pairs(db_session, fair.event) == []


# --------------------------------------------------------------------------- organizer


def test_overview_counts_most_wanted_and_those_without_requests(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=2)
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=2)
    result = preferences.overview(db_session, fair.event)
    assert result.requests == 3
    assert result.mutual_pairs == 1
    assert result.pairs == 2
    assert result.most_requested[0].participant.id == fair.buyer.id
    assert result.most_requested[0].received == 2
    without = {c.participant.id for c in result.without_requests}
    assert without == {fair.other_buyer.id}
    # A buyer that screens the requests it received takes part, though it sends none.
    preferences.request_meeting(db_session, fair.other_supplier, fair.other_buyer.id, level=1)
    preferences.answer_request(
        db_session, fair.other_buyer, fair.other_supplier.id, accept=False
    )
    result = preferences.overview(db_session, fair.event)
    assert result.without_requests == []
    answered = next(c for c in result.participants if c.participant.id == fair.other_buyer.id)
    assert (answered.sent, answered.answered) == (0, 1)


def test_settings_are_validated_and_audited(db_session, fair, organizer) -> None:
    preferences.update_settings(db_session, fair.event, screening_enabled=False,
                                max_requests=5, user_id=organizer.id)
    assert (fair.event.screening_enabled, fair.event.max_requests) == (False, 5)
    with pytest.raises(ValidationFailed):
        preferences.update_settings(db_session, fair.event, screening_enabled=True,
                                    max_requests=-1, user_id=organizer.id)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "preference.settings")
    ).one()
    assert entry.details["after"] == {"screening_enabled": False, "max_requests": 5}

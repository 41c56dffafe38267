"""QA: a 必ず組む (force) rule overrode a decline with no word, and the run review then
called the pair 「どちらからも希望なし」 although one side had asked at 高.

Forcing or pinning a pair that one side declined is asked first (who declined, its
note, the other side's request); the rules' list says the rule overrides a decline;
the run review labels the meeting as forced despite a decline, naming who declined.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import pair_rules, run_review, runs
from scheduler.demo import generate_demo
from scheduler.models import (
    AuditEntry,
    Event,
    Interest,
    PairRule,
    Participant,
    RunStatus,
    ScheduleRun,
    User,
)
from scheduler.preferences import HIGH
from solver.problem_io import problem_from_dict, schedule_from_dict

NOTE = "今回は見送ります"


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=9, buyers=4, suppliers=14)
    db_session.commit()
    return event


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _base(event: Event) -> str:
    return f"/events/{event.id}/schedule"


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _who(session: Session, event: Event, code: str) -> Participant:
    return pair_rules.participant_by_code(session, event, code)


def _s004_asked_b002_declined(session: Session, event: Event) -> tuple[Participant, Participant]:
    """S004 requests B002 at high; B002 declines it in screening, with a note."""
    buyer, supplier = _who(session, event, "B002"), _who(session, event, "S004")
    session.execute(
        delete(Interest).where(
            or_(
                (Interest.from_participant_id == buyer.id)
                & (Interest.to_participant_id == supplier.id),
                (Interest.from_participant_id == supplier.id)
                & (Interest.to_participant_id == buyer.id),
            )
        )
    )
    session.add_all(
        [
            Interest(event_id=event.id, from_participant_id=supplier.id,
                     to_participant_id=buyer.id, level=HIGH, source="request"),
            Interest(event_id=event.id, from_participant_id=buyer.id,
                     to_participant_id=supplier.id, level=0, declined=True,
                     source="screening", note=NOTE),
        ]
    )
    event.screening_enabled = True
    session.commit()
    return buyer, supplier


def _solve(session: Session, event: Event, factory: sessionmaker) -> ScheduleRun:
    run = runs.create_run(session, event, parameters={"time_limit": 1})
    session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    session.expire_all()
    return session.get(ScheduleRun, run.id)


def _rules(session: Session) -> list[PairRule]:
    session.expire_all()
    return list(session.scalars(select(PairRule)))


# --------------------------------------------------------------------------- the service


def test_the_declines_of_a_pair_say_who_declined_its_note_and_the_request(
    db_session: Session, fair: Event
) -> None:
    buyer, supplier = _s004_asked_b002_declined(db_session, fair)
    found = pair_rules.declines_to_override(db_session, fair, supplier, buyer)
    assert [(d.by.code, d.other.code, d.note, d.asked) for d in found] == [
        ("B002", "S004", NOTE, HIGH)
    ]
    # With screening off, screening answers do not count (as for the pair's weight).
    fair.screening_enabled = False
    assert pair_rules.declines_to_override(db_session, fair, supplier, buyer) == []
    fair.screening_enabled = True
    # Once a rule makes the pair meet, that was confirmed: nothing left to ask.
    pair_rules.set_rule(db_session, fair, buyer, supplier, "force")
    assert pair_rules.declines_to_override(db_session, fair, buyer, supplier) == []
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "pair_rule.force"))
    assert entry.details["overrides_decline_of"] == ["B002"]


# --------------------------------------------------------------------------- the rules page


def test_forcing_a_declined_pair_asks_first_and_keeps_what_was_typed(
    client: FlaskClient, logged_in: User, db_session: Session, fair: Event
) -> None:
    buyer, supplier = _s004_asked_b002_declined(db_session, fair)
    asked = client.post(f"{_base(fair)}/rules", data={"a": "S004", "b": "b002", "kind": "force"})
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    box = _plain(page.split('id="decline-confirm"')[1].split("</div>")[0])
    assert (f"B002 {buyer.display_name} declined a meeting with S004 "
            f"{supplier.display_name}.") in box
    assert f"Note: “{NOTE}”" in box
    assert f"S004 {supplier.display_name} asked for this meeting (High)." in box
    assert "Force the meeting anyway?" in box
    assert "The rule applies to the next run." not in page
    assert _rules(db_session) == []  # nothing saved before the answer
    # The rule form keeps what was typed.
    assert re.search(r'<input[^>]*id="a"[^>]*value="S004"', page)
    assert re.search(r'<input[^>]*id="b"[^>]*value="b002"', page)
    assert re.search(r'<option selected value="force">|<option value="force" selected>', page)
    # Confirmed: saved, and the flash and the rules' list say what it overrides.
    done = client.post(
        f"{_base(fair)}/rules",
        data={"a": "S004", "b": "b002", "kind": "force", "override_decline": "yes"},
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "The rule applies to the next run." in page
    assert "S004 and B002 will meet although B002" in _plain(page)
    assert [r.kind for r in _rules(db_session)] == ["force"]
    rules = _plain(page.split('id="rules"')[1])
    assert "always overrides a decline" in rules
    assert f"declined a meeting with S004 {supplier.display_name}. Note: “{NOTE}”" in rules


def test_a_pair_nobody_declined_or_a_forbidden_one_is_not_asked_about(
    client: FlaskClient, logged_in: User, db_session: Session, fair: Event
) -> None:
    _s004_asked_b002_declined(db_session, fair)
    forbid = client.post(f"{_base(fair)}/rules", data={"a": "S004", "b": "B002", "kind": "forbid"})
    assert forbid.status_code == 302
    # While screening is off, the decline does not count: forced at once.
    fair.screening_enabled = False
    db_session.commit()
    force = client.post(f"{_base(fair)}/rules", data={"a": "S004", "b": "B002", "kind": "force"})
    assert force.status_code == 302
    assert [r.kind for r in _rules(db_session)] == ["force"]
    assert "overrides a decline" not in client.get(f"{_base(fair)}/").get_data(as_text=True)


# --------------------------------------------------------------------------- the run review


def test_the_review_labels_a_forced_declined_pair_as_forced_despite_the_decline(
    client: FlaskClient, logged_in: User, db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    buyer, supplier = _s004_asked_b002_declined(db_session, fair)
    pair_rules.set_rule(db_session, fair, supplier, buyer, "force")
    db_session.commit()
    run = _solve(db_session, fair, factory)
    pair = next(p for p in problem_from_dict(run.problem).pairs if p.key == {"B002", "S004"})
    assert pair.must and pair.weight == 0  # the decline takes the weight, as documented

    declined = run_review.declined_pairs(db_session, fair)
    summary = run_review.summarize(run, declined)
    assert summary.overridden == 1 and summary.unasked == summary.unrequested - 1
    review = run_review.review(db_session, fair, run)
    [forced] = review.overridden
    assert (forced.a, forced.b) == ("B002", "S004")
    assert [(d.by, d.note, d.asked) for d in forced.declines] == [("B002", NOTE, HIGH)]

    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    stat = _plain(re.search(r'id="stat-meetings">(.*?)</div>', page, re.S).group(1))
    assert "1 of them forced despite a decline" in stat
    assert "requested by neither side" not in stat  # the rule's only pair: S004 asked
    listed = _plain(page.split('id="overridden-pairs"')[1].split("</ul>")[0])
    assert (f"B002 {buyer.display_name} declined a meeting with S004 "
            f"{supplier.display_name}. Note: “{NOTE}” S004 {supplier.display_name} asked "
            "for this meeting (High).") in listed
    assert "that one side declined" in page
    assert "requested by neither side" not in _plain(page.split('id="problem-note"')[0])
    assert "1 of them forced despite a decline" in _plain(page.split('id="problem-note"')[0])
    row = _plain(re.search(r'id="participant-S004".*?</tr>', page, re.S).group(0))
    assert "B002" in row and "forced despite a decline" in row
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    run_row = _plain(re.search(rf'<tr id="run-{run.id}">(.*?)</tr>', history, re.S).group(1))
    assert "1 of them forced despite a decline" in run_row
    assert "requested by neither side" not in run_row


def test_pinning_or_moving_a_declined_pair_asks_first_on_the_meetings_page(
    client: FlaskClient, logged_in: User, db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    buyer, supplier = _s004_asked_b002_declined(db_session, fair)
    pair_rules.set_rule(db_session, fair, supplier, buyer, "force")
    db_session.commit()
    run = _solve(db_session, fair, factory)
    # The organizer drops the rule, then pins the meeting from the run's list.
    for rule in _rules(db_session):
        db_session.delete(rule)
    db_session.commit()
    url = f"{_base(fair)}/runs/{run.id}"
    asked = client.post(f"{url}/pin", data={"pair": "S004|B002", "next": url})
    assert asked.status_code == 409
    page = asked.get_data(as_text=True)
    card = _plain(page.split('id="declined-pair"')[1].split("</section>")[0])
    assert f"B002 {buyer.display_name} declined a meeting with S004" in card
    assert f"Note: “{NOTE}”" in card and "Pin it anyway?" in card
    assert "Pin it here anyway" in page and 'name="override_decline" value="yes"' in page
    assert _rules(db_session) == []
    pinned = client.post(f"{url}/pin", data={"a": "B002", "b": "S004", "override_decline": "yes"})
    assert pinned.status_code == 302
    assert [r.kind for r in _rules(db_session)] == ["pin"]

    # A move pins too: asked the same way, with the chosen place kept.
    for rule in _rules(db_session):
        db_session.delete(rule)
    db_session.commit()
    meeting = next(
        m for m in schedule_from_dict(run.result).meetings if m.key == {"B002", "S004"}
    )
    place = None
    for choice in run_review.move_choices(fair, run, "B002", "S004")[1]:
        for table in choice.free_tables:
            if not choice.current and not pair_rules.move_conflicts(
                run, meeting.a, meeting.b, choice.key, table
            ):
                place = (choice.key, table)
                break
        if place:
            break
    assert place is not None
    data = {"a": meeting.a, "b": meeting.b, "slot": place[0], "table": place[1]}
    asked = client.post(f"{url}/move", data=data)
    assert asked.status_code == 409
    page = asked.get_data(as_text=True)
    assert "Move and pin it anyway?" in _plain(page) and "Move and pin anyway" in page
    assert re.search(rf'<option value="{place[0]}" selected>', page)
    assert _rules(db_session) == []
    db_session.expire_all()
    assert db_session.get(ScheduleRun, run.id).edited_at is None
    moved = client.post(f"{url}/move", data={**data, "override_decline": "yes"})
    assert moved.status_code == 302
    assert [r.kind for r in _rules(db_session)] == ["pin"]
    assert db_session.scalar(select(func.count(PairRule.id))) == 1

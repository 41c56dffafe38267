"""Waits between meetings on the run review: how many, and whose.

An organizer who sets a cost for waits (``break_penalty``) or a cap (``max_breaks``)
judges a run by them; the review counts them by the format's rule (an idle run
between two meetings of a day; a lunch gap between two slots is not a slot, so
no wait).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import run_review
from scheduler.db import utcnow
from scheduler.models import Event, ScheduleRun, User
from solver.engine import solve
from solver.problem import Meeting
from solver.problem_io import (
    problem_from_dict,
    problem_to_dict,
    schedule_from_dict,
)
from solver.validation import objective
from tests.stored_runs import fixed_schedule, review_event, run_page, stored_run

# 10:00, 10:30, 11:00, then lunch, 13:00.
SLOTS = [
    ("s1", "10:00", "10:25"),
    ("s2", "10:30", "10:55"),
    ("s3", "11:00", "11:25"),
    ("s4", "13:00", "13:25"),
]
NAMES = {
    "B1": "東海精工株式会社",
    "B2": "駿河電機株式会社",
    "B3": "富士化成株式会社",
    "S1": "株式会社アルファ精密",
    "S2": "有限会社ベータ製作所",
}
MEETINGS = [
    # S1 meets at 10:00 and 11:00: one wait (10:30).
    Meeting("B1", "S1", "s1", "T1"),
    Meeting("B2", "S1", "s3", "T2"),
    # S2 meets at 11:00 and 13:00: consecutive slots across lunch, no wait.
    Meeting("B3", "S2", "s3", "T3"),
    # B1 meets at 10:00 and 13:00: two idle slots in a row are one wait.
    Meeting("B1", "S2", "s4", "T1"),
]


def _problem() -> dict:
    return {
        "format": "matchfair-problem/1",
        "event": {"name": "テスト商談会", "timezone": "Asia/Tokyo"},
        "slots": [
            {
                "id": key,
                "start": f"2027-02-17T{start}:00+09:00",
                "end": f"2027-02-17T{end}:00+09:00",
            }
            for key, start, end in SLOTS
        ],
        "tables": [{"id": f"T{i}", "host": f"B{i}"} for i in range(1, 4)],
        "participants": [
            {"id": key, "name": name, "role": "buyer" if key[0] == "B" else "supplier"}
            for key, name in NAMES.items()
        ],
        "pairs": [{"a": m.a, "b": m.b, "weight": 3} for m in MEETINGS],
        "break_penalty": 1,
    }


@pytest.fixture
def event(db_session: Session) -> Event:
    return review_event(db_session)


@pytest.fixture
def run(db_session: Session, event: Event) -> ScheduleRun:
    problem = _problem()
    return stored_run(
        db_session, event, problem, fixed_schedule(problem, MEETINGS, objective=10, bound=12)
    )


def test_the_review_counts_waits_per_participant_and_in_all(
    db_session: Session, event: Event, run: ScheduleRun
) -> None:
    review = run_review.review(db_session, event, run)
    assert review is not None
    waits = {p.key: p.waits for p in review.participants}
    assert waits == {"B1": 1, "B2": 0, "B3": 0, "S1": 1, "S2": 0}
    assert (review.summary.waits, review.waiting) == (2, 2)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row_waits(page: str, key: str) -> str:
    row = re.search(rf'<tr id="participant-{key}".*?</tr>', page, re.S)
    assert row is not None, key
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(0))
    return cells[-1]  # meetings, requests, waits


@pytest.mark.parametrize(
    ("lang", "stat"),
    [
        ("en", "2 waits between meetings · 2 participants wait"),
        ("ja", "2 商談間の待ち時間（回） · 待ち時間のある参加企業 2 社"),
    ],
)
def test_the_page_shows_the_waits(
    client: FlaskClient, logged_in: User, event: Event, run: ScheduleRun, lang: str, stat: str
) -> None:
    page = run_page(client, event, run, lang)
    glance = re.search(r'<div class="stat" id="waits">.*?</div>', page, re.S)
    assert glance is not None
    assert _text(glance.group(0)).strip() == stat
    assert {key: _row_waits(page, key) for key in NAMES} == {
        "B1": "1",
        "B2": "0",
        "B3": "0",
        "S1": "1",
        "S2": "0",
    }


def test_the_run_history_compares_runs_by_their_waits(
    client: FlaskClient, logged_in: User, event: Event, run: ScheduleRun
) -> None:
    client.post("/language", data={"lang": "en"})
    page = client.get(f"/events/{event.id}/schedule/").get_data(as_text=True)
    head = re.search(r'<table class="data runs-history">.*?</thead>', page, re.S)
    row = re.search(rf'<tr id="run-{run.id}">.*?</tr>', page, re.S)
    assert head is not None and row is not None
    headers = [_text(th).strip() for th in re.findall(r"<th[^>]*>.*?</th>", head.group(0), re.S)]
    cells = [_text(td).strip() for td in re.findall(r"<td[^>]*>.*?</td>", row.group(0), re.S)]
    assert cells[headers.index("Waits")] == "2"


def _compact_run(db_session: Session, event: Event, *, must: bool) -> ScheduleRun:
    """S1 must meet B1 at 10:00 and B2 at 11:00 (each pair's only slot): one wait it
    cannot avoid, which the solver proves."""
    problem = _problem()
    problem["pairs"] = [
        {"a": "B1", "b": "S1", "weight": 3, "must": must, "slots": ["s1"]},
        {"a": "B2", "b": "S1", "weight": 3, "must": must, "slots": ["s3"]},
        {"a": "B3", "b": "S2", "weight": 3, "must": must},
    ]
    schedule = solve(problem_from_dict(problem), time_limit=5, workers=1)
    assert schedule.status == "OPTIMAL" and len(schedule.meetings) == 3
    return stored_run(db_session, event, problem, schedule)


def test_a_compact_run_shows_the_fewest_waits_any_schedule_can_have(
    client: FlaskClient, logged_in: User, db_session: Session, event: Event
) -> None:
    compact = _compact_run(db_session, event, must=True)
    review = run_review.review(db_session, event, compact)
    assert review is not None
    assert (review.summary.waits, review.fewest_waits) == (1, 1)
    for lang, proven in (
        ("en", "no schedule has fewer than 1 (proven)"),
        ("ja", "待ち時間はどのスケジュールでも 1 回以上（証明済み）"),
    ):
        page = run_page(client, event, compact, lang)
        glance = re.search(r'<div class="stat" id="waits">.*?</div>', page, re.S)
        assert glance is not None and proven in _text(glance.group(0))

    # Where pairs may be left out, the score bound says nothing about waits alone.
    free = _compact_run(db_session, event, must=False)
    review = run_review.review(db_session, event, free)
    assert review is not None and review.fewest_waits is None
    assert "(proven)" not in run_page(client, event, free, "en")


def test_the_fewest_waits_follow_from_the_bound_rounded_up(
    db_session: Session, event: Event
) -> None:
    """Score = (score without waits) − cost × waits; a bound above the score proves less."""
    run = _compact_run(db_session, event, must=True)
    problem = problem_from_dict(run.problem)
    problem = replace(problem, break_penalty=3)
    run.problem = problem_to_dict(problem)
    schedule = schedule_from_dict(run.result)
    without_waits = objective(problem, schedule.meetings) + 3 * 1  # one wait in the schedule
    expected = {0: 1, 1: 1, 2: 1, 3: 0, 5: 0}  # bound − (without_waits − 3) → fewest waits
    for above, fewest in expected.items():
        run.bound = without_waits - 3 + above
        review = run_review.review(db_session, event, run)
        assert review is not None and review.fewest_waits == fewest, above


def test_an_edited_run_has_its_waits_recounted(db_session: Session, event: Event, run) -> None:
    run.result = {**run.result, "stats": {**run.result.get("stats", {}), "breaks_total": 99}}
    assert run_review.summarize(run).waits == 99  # the solver's own count, as it stored it
    run.edited_at = utcnow()  # an organizer moved a meeting: the stored count is stale
    assert run_review.summarize(run).waits == 2
